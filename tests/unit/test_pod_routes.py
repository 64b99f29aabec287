"""roles/cni's pod route script, rendered from the role's template and run by sh in a network namespace of its own
(`unshare --net`): a route whose next hop the node can reach is added; one it cannot reach fails the script with a
line that names the route and the node's addresses (what the role's error shows from the unit's journal)."""

import os
import shutil
import subprocess
from pathlib import Path

import jinja2
import pytest

REPO = Path(__file__).resolve().parents[2]
NODES = {
    "controller-1": {"node_ip": "10.77.0.10", "node_pod_subnet": "10.244.0.0/24"},
    "worker-1": {"node_ip": "10.77.0.11", "node_pod_subnet": "10.244.1.0/24"},
    "worker-2": {"node_ip": "10.78.0.12", "node_pod_subnet": "10.244.2.0/24"},  # outside controller-1's subnet
}

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or not (shutil.which("unshare") and shutil.which("ip")),
                                reason="needs root, unshare and ip for a network namespace")


def _script(tmp_path: Path, node: str, nodes: dict[str, dict[str, str]]) -> Path:
    template = jinja2.Template((REPO / "roles/cni/templates/labctl-pod-routes.j2").read_text(), keep_trailing_newline=True)
    path = tmp_path / "labctl-pod-routes"
    path.write_text(template.render(groups={"k8s_cluster": list(nodes)}, hostvars=nodes, inventory_hostname=node,
                                    cni_routes_interface="lab0"))
    return path


def _run_in_a_namespace(script: Path, address: str) -> subprocess.CompletedProcess[str]:
    setup = f"ip link add lab0 type veth peer name lab1 && ip link set lab1 up && ip link set lab0 up && ip addr add {address}/24 dev lab0"
    return subprocess.run(["unshare", "--net", "sh", "-c", f"{setup} && sh {script} && ip -4 route show"],
                          capture_output=True, text=True, timeout=30)


def test_every_other_node_s_pod_subnet_is_routed_through_it(tmp_path: Path) -> None:
    nodes = {**NODES, "worker-2": {**NODES["worker-2"], "node_ip": "10.77.0.12"}}
    done = _run_in_a_namespace(_script(tmp_path, "controller-1", nodes), "10.77.0.10")
    assert done.returncode == 0, done.stderr
    assert "10.244.1.0/24 via 10.77.0.11 dev lab0" in done.stdout
    assert "10.244.2.0/24 via 10.77.0.12 dev lab0" in done.stdout
    assert "10.244.0.0/24" not in done.stdout  # not its own


def test_a_route_the_node_cannot_add_is_named_with_the_node_s_addresses(tmp_path: Path) -> None:
    done = _run_in_a_namespace(_script(tmp_path, "controller-1", NODES), "10.77.0.10")
    assert done.returncode != 0
    assert "ip route replace 10.244.2.0/24 via 10.78.0.12 dev lab0 failed; this node's IPv4 addresses:" in done.stderr
    assert "addresses: lab0@lab1 UP 10.77.0.10/24;" in done.stderr, done.stderr
