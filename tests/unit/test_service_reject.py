"""roles/kube_proxy's refusal of unprogrammed ClusterIPs, rendered from the role's template and run by sh in a network
namespace of its own (`unshare --net`) whose default route leads nowhere, as a node's leads off the node: a connect to
a service address kube-proxy has no rule for is refused at once instead of left unanswered."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import jinja2
import pytest

REPO = Path(__file__).resolve().parents[2]
SERVICE_CIDR = "10.96.0.0/16"
# A next hop on a veth whose peer answers nothing: a SYN sent there is lost, as on a node without kube-proxy's rule.
NOWHERE = ("ip link set lo up && ip link add lab0 type veth peer name lab1 && ip link set lab1 up && ip link set lab0 up"
           " && ip addr add 10.77.0.10/24 dev lab0 && ip route add default via 10.77.0.1 dev lab0"
           " && ip neigh add 10.77.0.1 lladdr 02:00:00:00:00:01 dev lab0")
# Exit 0: refused; exit 3: no answer within 3 s; exit 1: connected.
CONNECT = ("import socket, sys\naddress = sys.argv[1] if len(sys.argv) > 1 else '10.96.0.250'\n"
           "try:\n    socket.create_connection((address, 6379), timeout=3)\n"
           "except ConnectionRefusedError:\n    sys.exit(0)\nexcept TimeoutError:\n    sys.exit(3)\nsys.exit(1)\n")
# A Service kube-proxy has programmed: its ClusterIP DNATed to a backend listening in the namespace.
PROGRAMMED = ("iptables -t nat -A OUTPUT -d 10.96.0.251/32 -p tcp --dport 6379 -j DNAT --to-destination 10.77.0.10:6380"
              " && {python} -c 'import socket, time; s = socket.create_server((\"10.77.0.10\", 6380)); time.sleep(10)' &"
              " sleep 0.5")

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or not all(shutil.which(t) for t in ("unshare", "ip", "iptables")),
                                reason="needs root, unshare, ip and iptables for a network namespace")


def _script(tmp_path: Path) -> Path:
    template = jinja2.Template((REPO / "roles/kube_proxy/templates/labctl-service-reject.j2").read_text(), keep_trailing_newline=True)
    path = tmp_path / "labctl-service-reject"
    path.write_text(template.render(service_cidr=SERVICE_CIDR))
    (tmp_path / "connect.py").write_text(CONNECT)
    return path


def _in_a_namespace(commands: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["unshare", "--net", "sh", "-c", f"{NOWHERE} && {commands}"], capture_output=True, text=True, timeout=60)


def test_without_the_refusal_a_connect_to_an_unprogrammed_service_address_goes_unanswered(tmp_path: Path) -> None:
    _script(tmp_path)
    done = _in_a_namespace(f"{sys.executable} {tmp_path / 'connect.py'}")
    assert done.returncode == 3, done.stderr


def test_a_connect_to_an_unprogrammed_service_address_is_refused_at_once(tmp_path: Path) -> None:
    script = _script(tmp_path)
    done = _in_a_namespace(f"sh {script} && {sys.executable} {tmp_path / 'connect.py'}")
    assert done.returncode == 0, done.stderr


def test_a_second_run_adds_no_second_rule(tmp_path: Path) -> None:
    script = _script(tmp_path)
    done = _in_a_namespace(f"sh {script} && sh {script} && iptables -S")
    assert done.returncode == 0, done.stderr
    rules = [line for line in done.stdout.splitlines() if SERVICE_CIDR in line]
    assert sorted(rule.split()[1] for rule in rules) == ["FORWARD", "OUTPUT"], done.stdout
    assert all("-j REJECT" in rule for rule in rules), rules


def test_a_programmed_service_address_still_connects(tmp_path: Path) -> None:
    script = _script(tmp_path)
    connect = f"{sys.executable} {tmp_path / 'connect.py'} 10.96.0.251"
    done = _in_a_namespace(f"{PROGRAMMED.format(python=sys.executable)} && sh {script} && {connect}")
    assert done.returncode == 1, done.stderr
