"""`up`, `deploy` and `down`: providers make machines, playbooks make the cluster and apps."""

import hashlib
import json
import shutil
import time
from pathlib import Path
from typing import Any

import yaml

from labctl.atomic_file import write_atomic
from labctl.bundle import bundle_dir
from labctl.bundle.versions import IMAGES, KUBERNETES_VERSION
from labctl.config import LabConfig, apply_overrides, load_config
from labctl.errors import InfraError, UsageError
from labctl.inventory import Inventory, load_inventory
from labctl.kube import KubeClient, KubeUnavailable
from labctl.lab import Lab
from labctl.paths import PLAYBOOKS_DIR, PROJECT_ROOT, ROLES_DIR
from labctl.profile import PlaybookTimer, Profile
from labctl.providers import ProviderContext, ProviderOptions, get_provider
from labctl.runner import RunResult, run_playbook
from labctl.ui import Ui


def resolve_config(lab: Lab, provider: str | None, config_file: Path | None, overrides: dict[str, Any]) -> LabConfig:
    """labctl.yaml given > the lab's saved one > defaults; then flags; then the provider."""
    if config_file is not None:
        if not config_file.exists():
            raise UsageError(f"config file {config_file} does not exist: pass an existing labctl.yaml")
        config = load_config(config_file)
    else:
        config = lab.load_config()
    saved_provider = lab.read_state().get("provider")
    if provider and saved_provider and provider != saved_provider:
        raise UsageError(
            f"lab {lab.name} already runs on {saved_provider}: `labctl down --lab {lab.name}` first, or use another --lab"
        )
    merged = dict(overrides)
    merged["provider"] = provider or saved_provider or config.provider
    return apply_overrides(config, merged)


def cluster_vars(lab: Lab, config: LabConfig) -> dict[str, Any]:
    """Extra vars every cluster playbook gets: the config, flattened for roles."""
    return {
        "lab_dir": str(lab.dir),
        "lab_pki_dir": str(lab.pki_dir),
        "lab_kubeconfig": str(lab.kubeconfig_path),
        "kube_version": config.kubernetes_version,
        "pod_cidr": config.network.pod_cidr,
        "service_cidr": config.network.service_cidr,
        "cluster_dns": config.network.cluster_dns,
        "node_monitor_grace_period_s": config.node_failure.node_monitor_grace_period_s,
        "not_ready_toleration_s": config.node_failure.not_ready_toleration_s,
        "unreachable_toleration_s": config.node_failure.unreachable_toleration_s,
        "apps": config.apps.model_dump(),
        "images": dict(IMAGES),
        # Where `--offline` cloud labs push the bundle from (artifacts_source: push).
        "lab_bundle_dir": str(bundle_dir(config.kubernetes_version)),
    }


def run_step(
    lab: Lab,
    ui: Ui,
    playbook: str,
    title: str,
    extravars: dict[str, Any],
    limit: str | None = None,
    profile: Profile | None = None,
) -> RunResult:
    with ui.playbook(title) as progress:
        timer = PlaybookTimer(progress)
        result = run_playbook(
            playbook,
            logs_dir=lab.logs_dir,
            inventory=lab.inventory_path,
            extravars=extravars,
            sink=timer if profile is not None else progress,
            verbose=ui.verbose,
            limit=limit,
        )
    if profile is not None:
        profile.add_playbook(timer, result.seconds)
    if not result.succeeded:
        detail = result.failures[0].line() if result.failures else f"ansible exited {result.rc} ({result.status})"
        raise InfraError(
            f"{title} failed: {detail} — logs in {result.artifacts_dir}; fix and re-run `labctl up`, or `labctl down`"
        )
    ui.info(f"[green]✓[/] {title} ({result.seconds:.0f}s, {result.total_changed} changed)")
    return result


def install_digest(lab: Lab, extravars: dict[str, Any]) -> str:
    """What cluster.yml's outcome depends on: the inventory, the variables, and the playbooks and roles."""
    digest = hashlib.sha256()
    digest.update(lab.inventory_path.read_bytes())
    digest.update(json.dumps(extravars, sort_keys=True, default=str).encode())
    play = yaml.safe_load((PLAYBOOKS_DIR / "cluster.yml").read_text())
    roles = sorted({r["role"] if isinstance(r, dict) else r for p in play for r in p.get("roles", [])})
    trees = [PLAYBOOKS_DIR / "cluster.yml", PLAYBOOKS_DIR / "group_vars", PROJECT_ROOT / "collections", *(ROLES_DIR / r for r in roles)]
    for tree in trees:
        for path in sorted([tree] if tree.is_file() else tree.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(str(path.relative_to(PROJECT_ROOT)).encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()


def cluster_is_healthy(lab: Lab, expected_nodes: int) -> bool:
    try:
        nodes = KubeClient(lab.kubeconfig_path, timeout=3).nodes()
    except KubeUnavailable:
        return False
    return len(nodes) == expected_nodes and all(n["ready"] for n in nodes.values())


def up(lab: Lab, config: LabConfig, ui: Ui, options: ProviderOptions) -> dict[str, Any]:
    provider = get_provider(config.provider)
    if config.kubernetes_version != KUBERNETES_VERSION:
        # Refused before any machine exists: on a cloud a lab that cannot install still bills.
        raise UsageError(
            f"Kubernetes {config.kubernetes_version} is not a version labctl installs (its roles and bundle are pinned to "
            f"{KUBERNETES_VERSION}): set kubernetes_version to {KUBERNETES_VERSION}"
        )
    if options.offline and not provider.supports_offline:
        raise UsageError(f"--offline is for cloud providers: the {provider.name} provider always runs from the bundle, drop --offline")
    started = time.monotonic()
    profile = Profile()
    fresh = not lab.exists()
    with lab.lock("up"):
        lab.create()
        # What a refused `up` of an existing lab puts back: its settings and state, as they were.
        kept = {path: path.read_text() if path.exists() else None for path in (lab.config_path, lab.state_path)}
        lab.save_config(config)
        # Recorded before any machine exists, so `down` can always find what to remove.
        lab.update_state(provider=config.provider, phase="provisioning", kubernetes_version=config.kubernetes_version)
        ctx = ProviderContext(lab=lab, config=config, ui=ui, options=options, verbose=ui.verbose)
        try:
            inventory = provider.provision(ctx)
        except UsageError:
            # Providers refuse bad input before they boot or create anything: leave no lab behind, or the lab as it was.
            if fresh:
                lab.discard()
            else:
                for path, text in kept.items():
                    if text is None:
                        path.unlink(missing_ok=True)
                    else:
                        write_atomic(path, text)
            raise
        lab.update_state(phase="provisioned", nodes=[n.name for n in inventory.nodes])
        # Wall seconds of each step, so a user (and the benchmarks) see where the time goes.
        phases = {"provision": round(time.monotonic() - started, 1)}
        profile.add_labctl("node boot", time.monotonic() - started)
        summary: dict[str, Any] = {"lab": lab.name, "provider": config.provider, "changed": {}, "phases": phases}
        if options.provision_only:
            summary["phase"] = "provisioned"
            return finish(summary, profile, started)
        deciding = time.monotonic()
        extravars = cluster_vars(lab, config)
        digest = install_digest(lab, extravars)
        node_count = len([n for n in inventory.nodes if n.role != "api_lb"])
        # Nothing cluster.yml depends on changed since it last succeeded and the cluster is
        # healthy: skip it (--reconcile runs it anyway, and it then reports no changes).
        unchanged = lab.read_state().get("install_digest") == digest and not options.reconcile
        skip = unchanged and cluster_is_healthy(lab, node_count)
        profile.add_labctl("install check", time.monotonic() - deciding)
        if skip:
            ui.info("[green]✓[/] install Kubernetes (unchanged since the last up, cluster healthy: skipped; --reconcile re-runs it)")
            cluster_changed = 0
            summary["cluster_skipped"] = True
        else:
            cluster = run_step(lab, ui, "cluster.yml", "install Kubernetes", extravars, profile=profile)
            cluster_changed = cluster.total_changed
            phases["install"] = round(cluster.seconds, 1)
            lab.update_state(phase="cluster", install_digest=digest)
        apps = run_step(lab, ui, "apps.yml", "deploy and check apps", extravars, profile=profile)
        phases["apps_and_proofs"] = round(apps.seconds, 1)
        summary["changed"] = {"cluster": cluster_changed, "apps": apps.total_changed}
        summary["checks"] = apps.stats.get("checks", {})
        summary["phase"] = "ready"
        lab.update_state(phase="ready", last_up={**summary, "seconds": round(time.monotonic() - started, 1)})
    return finish(summary, profile, started)


def finish(summary: dict[str, Any], profile: Profile, started: float) -> dict[str, Any]:
    """Stamp the summary with the total time and the profile that adds up to it."""
    seconds = time.monotonic() - started
    profile.close(seconds)
    return {**summary, "seconds": round(seconds, 1), "profile": profile.to_dict()}


def deploy(lab: Lab, ui: Ui) -> dict[str, Any]:
    lab.require()
    config = lab.load_config()
    with lab.lock("deploy"):
        load_inventory(lab.inventory_path)
        result = run_step(lab, ui, "apps.yml", "deploy and check apps", cluster_vars(lab, config))
    return {"lab": lab.name, "changed": result.total_changed, "checks": result.stats.get("checks", {})}


def down(lab: Lab, ui: Ui, options: ProviderOptions) -> dict[str, Any]:
    # No such lab is the end state `down` asks for (as `kind delete cluster` sees it).
    if not lab.exists():
        return {"lab": lab.name, "removed": False, "seconds": 0.0}
    config = lab.load_config()
    state = lab.read_state()
    provider = get_provider(state.get("provider") or config.provider)
    started = time.monotonic()
    with lab.lock("down"):
        ctx = ProviderContext(lab=lab, config=config, ui=ui, options=options, verbose=ui.verbose)
        provider.destroy(ctx)
        lab.update_state(phase="down")
    shutil.rmtree(lab.dir, ignore_errors=True)
    return {"lab": lab.name, "removed": True, "seconds": round(time.monotonic() - started, 1)}


def sweep(lab: Lab, provider_name: str, ui: Ui, overrides: dict[str, Any]) -> dict[str, Any]:
    """`down PROVIDER` of a lab with no local state: find what the provider holds of it by its tags and remove it."""
    provider = get_provider(provider_name)
    config = apply_overrides(LabConfig(), {**overrides, "provider": provider_name})
    started = time.monotonic()
    with lab.lock("down"):
        lab.create()
        try:
            lab.save_config(config)
            ctx = ProviderContext(lab=lab, config=config, ui=ui, verbose=ui.verbose)
            lab.update_state(provider=provider_name, **provider.sweep_state(ctx))
            found = provider.describe_leftovers(ctx)
            if found:
                ui.info(f"lab {lab.name} has no local state; found on {provider_name} by its tags: {found}")
                provider.destroy(ctx)
        finally:
            lab.discard()
    return {"lab": lab.name, "removed": bool(found), "found": found, "seconds": round(time.monotonic() - started, 1)}


def current_inventory(lab: Lab) -> Inventory | None:
    try:
        return load_inventory(lab.inventory_path)
    except UsageError:
        return None
