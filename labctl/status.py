"""`labctl status`: the lab as its state files and, when reachable, its cluster see it.

The JSON contract: {"lab", "provider", "phase", "nodes": [{"name", "role", "ip", "ready",
"kubelet_version"}], "apps": [{"name", "desired", "available"}]}, plus "nodes_running",
"nodes_total" where the provider sees its machines, and a "hint" when some are not
running (phase "stopped" or "degraded"). Works from the state alone when the cluster is
down (ready false, versions as last seen). In the HA topology, "api_lb": {"stats", "backends":
[{"name", "address", "state", "check"}]} from the load balancer's stats, or {"stats", "error"}.
"""

from typing import Any

from labctl import api_lb_stats
from labctl.inventory import Inventory, load_inventory
from labctl.kube import KubeClient, KubeUnavailable
from labctl.lab import Lab

APP_DEPLOYMENTS = ("nginx", "guestbook-frontend", "redis-master", "redis-replica")


def collect(lab: Lab) -> dict[str, Any]:
    lab.require()
    state = lab.read_state()
    config = lab.load_config()
    status: dict[str, Any] = {
        "lab": lab.name,
        "provider": state.get("provider") or config.provider,
        "phase": state.get("phase", "unknown"),
        "kubernetes_version": config.kubernetes_version,
        "api_reachable": False,
        "nodes": [],
        "apps": [],
    }
    try:
        inventory = load_inventory(lab.inventory_path)
    except Exception:  # noqa: BLE001 - no inventory yet is a normal state for status
        inventory = None
    seen_versions: dict[str, str] = state.get("kubelet_versions", {})
    live_nodes: dict[str, dict[str, Any]] = {}
    deployments: dict[str, dict[str, int]] = {}
    if lab.kubeconfig_path.exists():
        try:
            client = KubeClient(lab.kubeconfig_path, timeout=3)
            live_nodes = client.nodes()
            deployments = client.deployments("default")
            status["api_reachable"] = True
        except KubeUnavailable as error:
            status["api_error"] = str(error)
    if status["api_reachable"]:
        seen_versions = {name: n["kubelet_version"] for name, n in live_nodes.items()}
        lab.update_state(kubelet_versions=seen_versions)
    names = [n.name for n in inventory.nodes if n.role != "api_lb"] if inventory else sorted(live_nodes)
    for name in names:
        node = inventory.node(name) if inventory else None
        live = live_nodes.get(name, {})
        status["nodes"].append(
            {
                "name": name,
                "role": node.role if node else live.get("role", "worker"),
                "ip": node.node_ip if node else live.get("ip", ""),
                "ready": bool(live.get("ready", False)),
                "kubelet_version": live.get("kubelet_version") or seen_versions.get(name, ""),
            }
        )
    for name in sorted(set(live_nodes) - set(names)):
        live = live_nodes[name]
        status["nodes"].append(
            {"name": name, "role": live.get("role", "worker"), "ip": live.get("ip", ""),
             "ready": bool(live.get("ready")), "kubelet_version": live.get("kubelet_version", "")}
        )
    if inventory and inventory.by_role("api_lb"):
        status["api_lb"] = api_lb_backends(inventory)
    status["machines"] = provider_machines(lab)
    status.update(machines_summary(lab.name, status["provider"], status["phase"], status["machines"]))
    for name in APP_DEPLOYMENTS:
        found = deployments.get(name)
        status["apps"].append(
            {
                "name": name,
                "desired": found["desired"] if found else 0,
                "available": found["available"] if found else 0,
            }
        )
    return status


def api_lb_backends(inventory: Inventory) -> dict[str, Any]:
    """Each API server's state in the load balancer, from its stats listener on the node's lab address."""
    node = inventory.by_role("api_lb")[0]
    port = int(inventory.vars.get("api_lb_stats_port", api_lb_stats.STATS_PORT))
    found = api_lb_stats.backends(node.node_ip, port)
    # HAProxy's stats hide server addresses; the inventory knows them (server name = node name).
    addresses = {n.name: n.node_ip for n in inventory.nodes}
    for backend in found.get("backends", []):
        backend["address"] = addresses.get(backend["name"], "")
    return found


# Machine states that mean up: the local provider's and EC2's "running", OpenStack's "active".
RUNNING_STATES = ("running", "active")


def machines_summary(lab: str, provider: str, phase: str, machines: list[dict[str, Any]]) -> dict[str, Any]:
    """What the machines say about the recorded phase: a lab whose nodes are not running is not ready.

    After a power loss (every node's process gone) the state still says ready and only
    the API looks unreachable; the provider's view of each machine tells the real story.
    """
    known = [m for m in machines if "state" in m]
    if not known:
        return {}
    running = [m for m in known if m["state"] in RUNNING_STATES]
    summary: dict[str, Any] = {"nodes_running": len(running), "nodes_total": len(known)}
    # Local nodes are started again by `labctl up`; a cloud's machines are the cloud's to start.
    if provider == "local" and len(running) < len(known) and phase not in ("provisioning", "down"):
        stopped = sorted(m["name"] for m in known if m["state"] not in RUNNING_STATES)
        summary["phase"] = "stopped" if not running else "degraded"
        summary["hint"] = (
            f"nodes not running ({len(running)} of {len(known)}: {', '.join(stopped)} stopped) — "
            f"`labctl up --lab {lab}` starts them again"
        )
    return summary


def provider_machines(lab: Lab) -> list[dict[str, Any]]:
    """The machines as the provider sees them (instances and their state on a cloud)."""
    from labctl.errors import LabctlError
    from labctl.providers import ProviderContext, get_provider
    from labctl.ui import Ui

    config = lab.load_config()
    try:
        provider = get_provider(lab.read_state().get("provider") or config.provider)
        return provider.machines(ProviderContext(lab=lab, config=config, ui=Ui()))
    except LabctlError as error:
        return [{"error": str(error)}]
