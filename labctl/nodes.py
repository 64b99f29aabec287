"""`labctl node add|remove`: grow or shrink a running lab by one worker (and the scale-up drill).

add: the provider makes the machine and writes the new inventory; playbooks/cluster.yml,
limited to the controller and the new node, issues its certificates (PKI role), installs
binaries, containerd, CNI, kubelet and kube-proxy, and waits for it to join; then the cni
role runs on every node so the others route to the new node's pod subnet.
remove: drain, delete the Node object, the provider removes the machine.

`join_worker` and `remove_added_workers` do the work under a lock their caller holds: the
CLI's commands take the lab lock for one change, the scale-up drill holds it for the drill.
"""

import subprocess
import time
from collections.abc import Collection
from pathlib import Path
from typing import Any

from labctl.atomic_file import write_atomic
from labctl.errors import InfraError, UsageError
from labctl.inventory import Inventory, load_inventory
from labctl.lab import Lab
from labctl.lifecycle import cluster_vars, run_step
from labctl.paths import PLAYBOOKS_DIR
from labctl.providers import Provider, ProviderContext, get_provider
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


def _context(lab: Lab, ui: Ui) -> tuple[Provider, ProviderContext]:
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
    """`labctl node add`: one more worker under the lab lock."""
    lab.require()
    with lab.lock("node add"):
        return join_worker(lab, ui)


def join_worker(lab: Lab, ui: Ui) -> dict[str, Any]:
    """One more worker: machine, certificates, node agents; it joins and is Ready. The caller holds the lab lock."""
    provider, ctx = _context(lab, ui)
    started = time.monotonic()
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
    """`labctl node remove NAME` under the lab lock.

    Only the last worker added beyond the configured topology: pod subnets follow each
    node's place in the inventory, so removing another would renumber the nodes after it.
    """
    lab.require()
    provider, ctx = _context(lab, ui)
    started = time.monotonic()
    with lab.lock("node remove"):
        inventory = load_inventory(lab.inventory_path)
        node = inventory.node(name)
        if node.role != "worker":
            raise UsageError(f"{name} is a {node.role}, not a worker: only workers added with `labctl node add` can be removed")
        added = _added_workers(inventory, ctx.config.topology.workers)
        if not added or added[-1] != name:
            hint = f"remove {added[-1]}" if added else "no worker was added with `labctl node add`"
            raise UsageError(f"{name} is not the last worker added with `labctl node add`: {hint}")
        _drain_and_remove(lab, provider, ctx, name, ui, drain_timeout_s)
    return {"lab": lab.name, "node": name, "removed": True, "seconds": round(time.monotonic() - started, 1)}


def remove_added_workers(lab: Lab, ui: Ui, since: Collection[str] | None = None, drain_timeout_s: int = 120) -> list[str]:
    """The workers not among the nodes SINCE or, without it, every worker beyond the configured topology; the last
    added first. The caller holds the lab lock."""
    provider, ctx = _context(lab, ui)
    inventory = load_inventory(lab.inventory_path)
    if since is None:
        added = _added_workers(inventory, ctx.config.topology.workers)
    else:
        added = [n.name for n in inventory.by_role("worker") if n.name not in since]
    for name in reversed(added):
        _drain_and_remove(lab, provider, ctx, name, ui, drain_timeout_s)
    return added


def _added_workers(inventory: Inventory, configured: int) -> list[str]:
    return [n.name for n in inventory.by_role("worker")][configured:]


def _drain_and_remove(lab: Lab, provider: Provider, ctx: ProviderContext, name: str, ui: Ui, drain_timeout_s: int) -> None:
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
