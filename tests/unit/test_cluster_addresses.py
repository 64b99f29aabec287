"""Each node's pod /24 and the API's service IP, as the playbooks compute them from the configured ranges."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
ANSIBLE = Path(sys.executable).parent / "ansible"


def rendered(tmp_path: Path, expression: str, extra: dict) -> dict[str, str]:
    """EXPRESSION on each host of a three-node inventory, with the playbooks' group_vars and the pki role's vars."""
    inventory = {"all": {"children": {"k8s_cluster": {"hosts": {h: {"ansible_connection": "local"} for h in ("c1", "w1", "w2")}}}}}
    (tmp_path / "inventory.yml").write_text(yaml.safe_dump(inventory))
    cmd = [str(ANSIBLE), "-i", str(tmp_path / "inventory.yml"), "all", "-o", "-m", "ansible.builtin.debug",
           "-a", f"msg={expression}", "-e", f"@{REPO / 'playbooks/group_vars/all.yml'}",
           "-e", f"@{REPO / 'roles/pki/vars/main.yml'}", "-e", json.dumps(extra)]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, check=True)
    return {line.split(" | ")[0]: json.loads(line.split(" => ", 1)[1])["msg"] for line in done.stdout.splitlines()}


@pytest.mark.parametrize(
    ("pod_cidr", "expected"),
    [
        ("10.244.0.0/16", {"c1": "10.244.1.0/24", "w1": "10.244.2.0/24", "w2": "10.244.3.0/24"}),
        # A range that does not start at x.y.0.0: every node's /24 still lies inside it.
        ("10.244.128.0/17", {"c1": "10.244.129.0/24", "w1": "10.244.130.0/24", "w2": "10.244.131.0/24"}),
        ("172.20.16.0/20", {"c1": "172.20.17.0/24", "w1": "172.20.18.0/24", "w2": "172.20.19.0/24"}),
    ],
)
def test_each_node_gets_a_24_inside_pod_cidr(tmp_path: Path, pod_cidr: str, expected: dict) -> None:
    assert rendered(tmp_path, "{{ node_pod_subnet }}", {"pod_cidr": pod_cidr}) == expected


@pytest.mark.parametrize(("service_cidr", "expected"), [("10.96.0.0/16", "10.96.0.1"), ("10.96.0.128/25", "10.96.0.129")])
def test_the_api_service_ip_is_the_first_of_service_cidr(tmp_path: Path, service_cidr: str, expected: str) -> None:
    assert set(rendered(tmp_path, "{{ pki_api_service_ip }}", {"service_cidr": service_cidr}).values()) == {expected}
