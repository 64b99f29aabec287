"""`labctl drill`: run drill roles with the availability probe beside them, store results.

Per drill: pick the target, journal the undo, start the probe, run
playbooks/drill.yml (in stages around labctl's own change for a drill whose fault
the provider makes, see labctl.drill_stages), stop the probe, merge the role's
record and the probe's measurements into one labctl.drill-result/v1 document, store it.
"""

import time
from typing import TYPE_CHECKING, Any

from labctl import drill_record, drill_stages, journal, results
from labctl.drill_record import PHASES, Record
from labctl.drills import BY_ID, Drill
from labctl.errors import UsageError
from labctl.inventory import Inventory, load_inventory
from labctl.kube import KubeClient
from labctl.lab import Lab
from labctl.lifecycle import cluster_vars
from labctl.probe import AvailabilityProbe, app_targets
from labctl.runner import EventSink, run_playbook
from labctl.ui import Ui

if TYPE_CHECKING:
    from labctl.watch import LiveWatch


def build_what_the_drill_needs(drill: Drill, kube_version: str, ui: Ui) -> None:
    """Local labs mount the bundle: a drill's own artifacts (the kubelet-version drill's older kubelet), left out
    of the first build so the first lab comes sooner, are built when the drill first runs."""
    from labctl import bundle

    missing = bundle.missing_for(bundle.status(kube_version), drill.id)
    if not missing:
        return
    ui.info(f"drill {drill.id} needs {', '.join(missing)}, not in the bundle yet: building now "
            f"(about 10 minutes on 2 cores, once; `labctl bundle build --for {drill.id}` does it ahead)")
    with ui.status(f"bundle: building what drill {drill.id} needs"):
        summary = bundle.build(kube_version, needed_by=drill.id)
    ui.info(f"bundle: built {', '.join(summary['built'])} in {summary['seconds']:.0f} s")


def pick_target(lab: Lab, drill: Drill, inventory: Inventory) -> str:
    """Worker drills take the worker running most nginx pods (so evictions show), but not the one
    running the single redis master when there is a choice: losing the guestbook's only master is
    an outage by design, not something a worker drill sets out to show. Others take a controller."""
    if drill.target != "worker":
        return inventory.by_role("controller")[0].name
    workers = [n.name for n in inventory.by_role("worker")]
    if not workers:
        raise UsageError(f"drill {drill.id} needs a worker node: `labctl up --workers 2`")
    try:
        api = KubeClient(lab.kubeconfig_path, timeout=5)
        pods = [(p.get("spec", {}).get("nodeName"), p["metadata"].get("labels") or {}) for p in api.list_pods("default")["items"]]
    except Exception:  # noqa: BLE001 - without the API, fall back to a fixed choice
        return workers[-1]
    nginx = {w: sum(1 for node, labels in pods if node == w and labels.get("app") == "nginx") for w in workers}
    master = {node for node, labels in pods if labels.get("role") == "master"}
    candidates = [w for w in workers if w not in master] or workers
    return max(candidates, key=lambda w: (nginx[w], w))


def nodes_reached(drill: Drill, inventory: Inventory, target: str) -> list[str]:
    """The hosts the drill's spec says its tasks run on, in inventory order (playbooks/drill.yml starts Python on them at once)."""
    controllers = [n.name for n in inventory.by_role("controller")]
    workers = [n.name for n in inventory.by_role("worker")]
    named = {
        "target": [target],
        "first_controller": controllers[:1],
        "first_worker": workers[:1],
        "controllers": controllers,
        "workers": workers,
        "all": controllers + workers,
    }
    wanted = {name for group in drill.nodes for name in named[group]}
    return [name for name in controllers + workers if name in wanted]


def tee(*sinks: EventSink) -> EventSink:
    def each(event: dict[str, Any]) -> None:
        for sink in sinks:
            sink(event)

    return each


def run_one(
    lab: Lab,
    drill: Drill,
    inventory: Inventory,
    ui: Ui,
    skip_inject: bool = False,
    probe_interval_s: float | None = None,
    watch: "LiveWatch | None" = None,
) -> dict[str, Any]:
    config = lab.load_config()
    if drill.needs_ha and config.topology.controllers < 3:
        raise UsageError(f"drill {drill.id} needs the HA topology: `labctl up --controllers 3 --lab NAME`")
    if inventory.provider == "local":
        build_what_the_drill_needs(drill, config.kubernetes_version, ui)
    target = pick_target(lab, drill, inventory)
    entry = journal.add(lab, drill.id, drill.role, target, drill.undo) if drill.undo else None
    probe_host = inventory.by_role("controller")[0].ansible_host
    probe = AvailabilityProbe(
        app_targets(probe_host, config.apps.nginx.node_port, config.apps.guestbook.node_port, lab.name),
        interval_s=probe_interval_s or config.drills.probe_interval_s,
    ).start()
    started = time.time()
    feed = watch.follow(drill.id, target, probe, started) if watch else None
    extravars = {
        **cluster_vars(lab, config),
        "drill_id": drill.id,
        "drill_role": drill.role,
        "drill_target": target,
        "drill_probe_host": probe_host,
        "drill_skip_inject": skip_inject,
        "drill_nodes": nodes_reached(drill, inventory, target),
    }

    def play(phases: list[str], resume: Record, more: dict[str, Any]) -> tuple[Record, str | None]:
        staged = list(phases) != list(PHASES)
        title = f"drill {drill.id} on {target}" + (f": {', '.join(phases)}" if staged else "")
        with ui.playbook(title) as progress:
            run = run_playbook(
                "drill.yml",
                logs_dir=lab.logs_dir,
                inventory=lab.inventory_path,
                extravars={**extravars, "drill_phases": phases, "drill_record_resume": resume, **more},
                sink=progress if feed is None else tee(progress, feed),
                verbose=ui.verbose,
            )
        if not run.succeeded:
            failure = run.failures[0].line() if run.failures else f"drill playbook ended {run.status} (rc {run.rc})"
            return run.stats.get("drill") or resume, failure
        if not run.stats.get("drill"):
            return resume, "the drill role reported nothing (see the logs)"
        return run.stats["drill"], None

    try:
        if drill.provider_change:
            record, error = drill_stages.run(drill, lab, ui, play, skip_inject, feed.show if feed else lambda *_: None)
        else:
            record, error = play(list(PHASES), {}, {})
    finally:
        availability = probe.stop()
    ended = time.time()
    reported = drill_record.reported(record, drill.spans)
    recorded_error = reported.pop("error", None)
    error = error or recorded_error
    if entry and reported["restore"].get("verified"):
        journal.remove(lab, [entry["id"]])
    result = results.assemble(
        lab=lab.name,
        provider=inventory.provider,
        kubernetes_version=config.kubernetes_version,
        drill=drill.id,
        started=started,
        ended=ended,
        reported=reported,
        availability=availability,
        outage_forbidden=drill.apps_must_stay_up,
        error=error,
    )
    path = results.save(lab.results_dir, result)
    if entry and not reported["restore"].get("verified"):
        ui.warn(f"drill {drill.id} did not verify its restore: run `labctl recover --lab {lab.name}`")
    return {**result, "path": str(path)}


def run_drills(
    lab: Lab, ids: list[str], ui: Ui, skip_inject: bool = False, probe_interval_s: float | None = None,
    watch: "LiveWatch | None" = None,
) -> list[dict[str, Any]]:
    inventory = load_inventory(lab.inventory_path)
    outcomes = []
    with lab.lock("drill " + " ".join(ids)):
        pending = journal.entries(lab)
        if pending:
            names = ", ".join(f"{e['drill']} on {e['target']}" for e in pending)
            raise UsageError(f"lab {lab.name} still has a fault from an interrupted drill ({names}): run `labctl recover` first")
        controllers = lab.load_config().topology.controllers
        for drill_id in ids:
            drill = BY_ID[drill_id]
            if len(ids) > 1 and drill.needs_ha and controllers < 3:
                ui.warn(f"skipping {drill_id}: it needs the HA topology (`labctl up --controllers 3`)")
                continue
            outcomes.append(run_one(lab, drill, inventory, ui, skip_inject, probe_interval_s, watch))
    return outcomes
