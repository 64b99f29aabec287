"""`labctl node add|remove`: grow or shrink a running lab by one worker (and the scale-up drill).

add: the provider makes the machine and writes the new inventory; playbooks/cluster.yml,
limited to the controller and the new node, issues its certificates (PKI role), installs
binaries, containerd, CNI, kubelet and kube-proxy, and waits for it to join; then the cni
role runs on every node so the others route to the new node's pod subnet.
remove: drain, delete the Node object, the provider removes the machine.

The scale-up drill runs `labctl node add` from inside `labctl drill`, which already holds
the lab lock: a process started under the lock's holder works under it (labctl.lock).
"""

import os
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from labctl.errors import InfraError, UsageError
from labctl.inventory import Inventory, load_inventory
from labctl.lab import Lab, write_atomic
from labctl.lifecycle import cluster_vars, run_step
from labctl.paths import PLAYBOOKS_DIR
from labctl.providers import ProviderContext, get_provider
from labctl.runner import RUNNER_ENV
from labctl.ui import Ui

# The cni role on every node: routes to all nodes' pod subnets, the new one's included.
# Generated into the lab directory beside a link to playbooks/group_vars: Ansible reads
# group_vars (node_pod_subnet, which the route template takes from every host's
# hostvars) only next to the playbook or the inventory.
ROUTES_PLAYBOOK = """---
# Written by labctl (labctl/nodes.py): routes to every node's pod subnet after a node joined.
- name: Route to every node's pod subnet
  hosts: k8s_cluster
  gather_facts: false
  roles:
    - role: cni
"""


# What an outer ansible-runner put in the environment of the drill playbook that runs
# `labctl node add`: inherited by our own runs, they would make awx_display load itself
# as its "original" stdout callback and ansible-playbook crash.
@contextmanager
def outer_runner_env_removed() -> Iterator[None]:
    saved = {name: os.environ.pop(name) for name in RUNNER_ENV if name in os.environ}
    try:
        yield
    finally:
        os.environ.update(saved)


def _context(lab: Lab, ui: Ui) -> tuple[Any, ProviderContext]:
    config = lab.load_config()
    provider = get_provider(lab.read_state().get("provider") or config.provider)
    return provider, ProviderContext(lab=lab, config=config, ui=ui, verbose=ui.verbose)


def _routes_playbook(lab: Lab) -> Path:
    folder = lab.dir / "playbooks"
    folder.mkdir(parents=True, exist_ok=True)
    link = folder / "group_vars"
    if not link.is_symlink():
        link.symlink_to(PLAYBOOKS_DIR / "group_vars", target_is_directory=True)
    path = folder / "node-routes.yml"
    write_atomic(path, ROUTES_PLAYBOOK)
    return path


def add_worker(lab: Lab, ui: Ui) -> dict[str, Any]:
    """One more worker: machine, certificates, node agents; it joins and is Ready."""
    lab.require()
    provider, ctx = _context(lab, ui)
    started = time.monotonic()
    with lab.lock("node add"), outer_runner_env_removed():
        before = {n.name for n in load_inventory(lab.inventory_path).by_role("worker")}
        inventory: Inventory = provider.add_worker(ctx)
        new = [n for n in inventory.by_role("worker") if n.name not in before]
        if len(new) != 1:
            raise InfraError(
                f"the {ctx.config.provider} provider was asked for one more worker and added {len(new)}:"
                f" check `labctl status --lab {lab.name}`"
            )
        node = new[0]
        lab.update_state(nodes=[n.name for n in inventory.nodes])
        extravars = cluster_vars(lab, ctx.config)
        # localhost: the PKI play issues the new kubelet's certificate, and the last plays wait for it.
        joined = run_step(lab, ui, "cluster.yml", f"join {node.name}", extravars, limit=f"localhost,{node.name}")
        routes = run_step(lab, ui, str(_routes_playbook(lab)), f"routes to {node.name}'s pods", extravars)
    return {
        "lab": lab.name,
        "node": node.name,
        "ip": node.node_ip,
        "role": "worker",
        "changed": {"join": joined.total_changed, "routes": routes.total_changed},
        "seconds": round(time.monotonic() - started, 1),
    }


def _kubectl(lab: Lab, args: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    from labctl.access import kubectl_binary

    command = [kubectl_binary(lab), "--kubeconfig", str(lab.kubeconfig_path), *args]
    try:
        return subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise InfraError(f"`kubectl {' '.join(args)}` did not finish within {timeout:.0f}s") from None


def remove_worker(lab: Lab, name: str, ui: Ui, drain_timeout_s: int = 120) -> dict[str, Any]:
    """Drain worker NAME, delete its Node, let the provider remove the machine.

    Only the last worker added beyond the configured topology: pod subnets follow each
    node's place in the inventory, so removing another would renumber the nodes after it.
    """
    lab.require()
    provider, ctx = _context(lab, ui)
    started = time.monotonic()
    with lab.lock("node remove"):
        inventory = load_inventory(lab.inventory_path)
        node = inventory.node(name)
        workers = [n.name for n in inventory.by_role("worker")]
        if node.role != "worker":
            raise UsageError(f"{name} is a {node.role}, not a worker: only workers added with `labctl node add` can be removed")
        if len(workers) <= ctx.config.topology.workers or workers[-1] != name:
            added = workers[ctx.config.topology.workers:]
            hint = f"remove {added[-1]}" if added else "no worker was added with `labctl node add`"
            raise UsageError(f"{name} is not the last worker added with `labctl node add`: {hint}")
        with ui.status(f"draining {name}"):
            drained = _kubectl(
                lab,
                ["drain", name, "--ignore-daemonsets", "--delete-emptydir-data", "--force", f"--timeout={drain_timeout_s}s"],
                timeout=drain_timeout_s + 30,
            )
        if drained.returncode != 0 and "not found" not in drained.stderr:
            raise InfraError(f"could not drain {name}: {(drained.stderr or drained.stdout).strip().splitlines()[-1:]}")
        deleted = _kubectl(lab, ["delete", "node", name, "--ignore-not-found", "--wait=true"], timeout=60)
        if deleted.returncode != 0:
            raise InfraError(f"could not delete node {name}: {deleted.stderr.strip()}")
        remaining = provider.remove_worker(ctx, name)
        lab.update_state(nodes=[n.name for n in remaining.nodes])
    ui.info(f"[green]✓[/] {name} drained, deleted and its machine removed")
    return {"lab": lab.name, "node": name, "removed": True, "seconds": round(time.monotonic() - started, 1)}
