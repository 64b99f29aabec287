"""The HA topology on this host: three controllers, a three-member etcd cluster, the API load balancer (HAProxy;
`labctl status` shows each API server in it; a second up changes nothing), pki-check (each etcd member refuses
a kubelet's certificate) and the apiserver-ha drill (pass with its fault, fail without). Its own lab, removed
at the module's end."""

import json
import time
from urllib.parse import urlparse

import pytest
from e2ehelpers import HA_LAB, E2ELab

pytestmark = pytest.mark.e2e


def test_three_controllers_three_etcd_members_one_load_balancer(ha_lab: E2ELab) -> None:
    assert ha_lab.up_summary["phase"] == "ready"
    status = ha_lab.json("status")
    roles = sorted(n["role"] for n in status["nodes"])
    assert roles == ["controller"] * 3 + ["worker"] * 2, status["nodes"]
    assert all(n["ready"] for n in status["nodes"])
    # etcdctl with its own client certificate, of etcd's CA (etcd trusts no other).
    members = ha_lab.run(
        "ssh", "controller-1", "--", "etcdctl", "--endpoints=https://127.0.0.1:2379", "--cacert=/etc/etcd/pki/ca.crt",
        "--cert=/etc/etcd/pki/etcdctl-client.crt", "--key=/etc/etcd/pki/etcdctl-client.key", "member", "list", "-w", "json",
        check=True,
    ).stdout
    assert len(json.loads(members)["members"]) == 3
    # Users and kubelets reach the API through the load balancer, not through one controller.
    inventory = (ha_lab.home / "labs" / HA_LAB / "inventory.yml").read_text()
    kubeconfig = (ha_lab.home / "labs" / HA_LAB / "kubeconfig").read_text()
    server = next(line.split("server:", 1)[1].strip() for line in kubeconfig.splitlines() if "server:" in line)
    lb_host = urlparse(server).hostname
    controller_ips = {n["ip"] for n in status["nodes"] if n["role"] == "controller"}
    assert lb_host not in controller_ips and lb_host in inventory
    assert "api-lb" in inventory
    # HAProxy's stats, read by status from the host: every controller a backend, every one UP.
    backends = status["api_lb"]["backends"]
    assert sorted(b["name"] for b in backends) == sorted(n["name"] for n in status["nodes"] if n["role"] == "controller")
    assert {b["state"] for b in backends} == {"UP"}, backends
    assert {b["address"] for b in backends} == controller_ips


def test_second_up_changes_nothing(ha_lab: E2ELab) -> None:
    again = ha_lab.json("up", "--reconcile")
    assert again["phase"] == "ready"
    assert again["changed"] == {"cluster": 0, "apps": 0}, again


def _backends_up(ha_lab: E2ELab, timeout: float = 30) -> dict[str, str]:
    deadline = time.monotonic() + timeout
    while True:
        states = {b["name"]: b["state"] for b in ha_lab.json("status")["api_lb"].get("backends", [])}
        if set(states.values()) == {"UP"} or time.monotonic() > deadline:
            return states
        time.sleep(1)


def test_pki_check_passes_every_etcd_member_refusing_a_kubelet(ha_lab: E2ELab) -> None:
    result = ha_lab.drill("pki-check")
    unmet = [(e["description"], e["observed"]) for e in result["expectations"] if not e["met"]]
    assert result["verdict"] == "pass", f"error={result.get('error')} unmet={unmet}"
    refused = next(e for e in result["expectations"] if "refused by etcd" in e["description"])
    assert refused["observed"].count("refused at the TLS handshake") == 3, refused


def test_apiserver_ha_passes(ha_lab: E2ELab) -> None:
    result = ha_lab.drill("apiserver-ha")
    unmet = [(e["description"], e["observed"]) for e in result["expectations"] if not e["met"]]
    assert result["verdict"] == "pass", f"error={result.get('error')} unmet={unmet}"
    assert result["restore"] == {"performed": True, "verified": True}
    assert result["timings"]["durations_s"]["time_to_recover"] is not None
    # The restarted API server is back in the load balancer (after rise good checks).
    states = _backends_up(ha_lab)
    assert len(states) == 3 and set(states.values()) == {"UP"}, states


def test_apiserver_ha_fails_without_the_fault(ha_lab: E2ELab) -> None:
    result = ha_lab.drill("apiserver-ha", "--no-inject")
    assert result["verdict"] == "fail", f"verdict {result['verdict']} error={result.get('error')}"
    unmet = {e["description"] for e in result["expectations"] if not e["met"]}
    assert any("stops answering" in d for d in unmet) and any("supervisor" in d for d in unmet), unmet


def test_ha_lab_down(ha_lab: E2ELab) -> None:
    down = ha_lab.run("down", timeout=300)
    assert down.returncode == 0, down.stderr
    assert not (ha_lab.home / "labs" / HA_LAB).exists()
