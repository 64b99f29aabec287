"""End to end on this host: up → every check → second up changes nothing → drills → crash + recover → down → host clean.

Tests run in file order against one lab (session fixture); the last test removes it and compares the host.
"""

import ipaddress
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import yaml
from e2ehelpers import REPO, E2ELab, host_snapshot

from labctl.config import Network

pytestmark = pytest.mark.e2e

# The catalog's must-run drills and the other fast ones; the benchmark runs the whole suite
# (apiserver-ha runs on the HA lab of test_ha_lab.py).
CI_DRILLS = ["pki-check", "pod-kill", "scheduler-down", "worker-failure", "node-partition", "etcd-backup-restore", "etcd-outage"]
# The rest of the catalog, to a pass, in the full suite.
FULL_DRILLS = ["apiserver-kill", "apiserver-down", "controller-manager-down", "worker-drain", "kubelet-version", "scale-up"]
# Drills whose checks were seen to fail (verdict fail) without their fault: the quick ones in CI,
# the slow ones (minutes each: drains, a new node, graceful API shutdown) in the full suite.
# (apiserver-ha's is in test_ha_lab.py.)
FULL = pytest.mark.full
NO_INJECT_DRILLS = [
    "pki-check",
    "pod-kill",
    "scheduler-down",
    "worker-failure",
    "etcd-outage",
    pytest.param("apiserver-kill", marks=FULL),
    pytest.param("apiserver-down", marks=FULL),
    pytest.param("controller-manager-down", marks=FULL),
    pytest.param("worker-drain", marks=FULL),
    pytest.param("node-partition", marks=FULL),
    pytest.param("etcd-backup-restore", marks=FULL),
    pytest.param("kubelet-version", marks=FULL),
    pytest.param("scale-up", marks=FULL),
]
# Drills that break something a crash could leave broken, and how to see the fault is in place.
CRASH_CASES = {
    "worker-failure": ("kubelet", "worker"),
    "node-partition": ("kubelet", "worker"),
    "scheduler-down": ("kube-scheduler", "controller"),
    "etcd-outage": ("etcd", "controller"),
}


def http(url: str, data: dict[str, Any] | None = None) -> tuple[int, str]:
    body = json.dumps(data).encode() if data is not None else None
    request = urllib.request.Request(url, data=body, method="POST" if body else "GET", headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=5) as response:
        return response.status, response.read().decode()


def test_up_reaches_every_check(lab: E2ELab) -> None:
    summary = lab.up_summary
    assert summary["phase"] == "ready"
    checks = summary["checks"]
    assert set(checks) == {"apps_available", "nginx_nodeport", "guestbook_roundtrip", "cluster_dns"}
    assert "redis-master.default.svc.cluster.local -> 10.96." in checks["cluster_dns"]
    status = lab.json("status")
    assert status["lab"] == lab.name and status["provider"] == "local"
    assert len(status["nodes"]) == 3 and all(n["ready"] for n in status["nodes"])
    assert {n["role"] for n in status["nodes"]} == {"controller", "worker"}
    assert all(n["kubelet_version"] == "v1.36.3" for n in status["nodes"])
    apps = {a["name"]: a for a in status["apps"]}
    assert apps["nginx"] == {"name": "nginx", "desired": 3, "available": 3}
    assert apps["guestbook-frontend"]["available"] == 3 and apps["redis-replica"]["available"] == 2
    for node in status["nodes"]:
        code, body = http(f"http://{node['ip']}:31000/")
        assert code == 200 and "nginx" in body
    marker = f"e2e-{time.time()}"
    worker_ips = [n["ip"] for n in status["nodes"] if n["role"] == "worker"]
    assert http(f"http://{worker_ips[0]}:31080/entries", {"entry": marker})[0] in (200, 201)
    deadline = time.monotonic() + 20
    while marker not in http(f"http://{worker_ips[-1]}:31080/entries")[1]:
        assert time.monotonic() < deadline, "entry written through the frontend was never read back"
        time.sleep(0.5)


# The handlers that restart a service when its files change.
RESTART_HANDLERS = {"Restart etcd", "Restart control plane", "Apply pod routes", "Restart containerd", "Restart kubelet",
                    "Restart kube-proxy"}


def test_the_first_up_restarts_no_service_it_just_started(lab: E2ELab) -> None:
    """Every unit reads its final files at its first start: a restart right after would only cost time."""
    artifacts = lab.home / "labs" / lab.name / "logs" / "runner" / "artifacts"
    first_install = sorted(artifacts.glob("*-cluster-*"))[0]
    ran = set()
    for path in (first_install / "job_events").glob("*.json"):
        event = json.loads(path.read_text())
        if event.get("event") == "runner_on_ok" and event["event_data"].get("task") in RESTART_HANDLERS:
            ran.add(f"{event['event_data']['task']} on {event['event_data']['host']}")
    assert not ran, sorted(ran)


CLUSTER_PHASES = ["node boot", "install check", "PKI", "bundle push", "etcd", "control plane", "CNI", "runtime + images",
                  "kubelet", "proxy", "nodes Ready", "CoreDNS", "apps", "proofs", "Ansible start-up"]


def test_second_up_reports_no_changes(lab: E2ELab) -> None:
    full = lab.json("up", "--reconcile", "--timings")
    assert full["phase"] == "ready"
    assert full["changed"] == {"cluster": 0, "apps": 0}, full
    assert "cluster_skipped" not in full
    # The profile names every phase of the install, in order, and adds up to the whole up.
    profile = full["profile"]
    assert [p["phase"] for p in profile["phases"] if p["phase"] != "labctl other"] == CLUSTER_PHASES, profile["phases"]
    assert profile["total_s"] == pytest.approx(full["seconds"], abs=0.5)
    python_side = ("node boot", "install check", "Ansible start-up", "labctl other")
    assert all(p["tasks"] > 0 for p in profile["phases"] if p["phase"] not in python_side)
    fast = lab.json("up", "--timings")
    assert fast["changed"] == {"cluster": 0, "apps": 0} and fast["cluster_skipped"] is True, fast
    assert "PKI" not in {p["phase"] for p in fast["profile"]["phases"]}, "a skipped install is no phase"
    assert "profile" not in lab.json("up"), "the profile only with --timings"


def test_up_refuses_to_move_booted_nodes_and_keeps_the_lab(lab: E2ELab, tmp_path: Path) -> None:
    """A labctl.yaml naming another range for a running lab: one line, exit 2, and the lab keeps its settings."""
    state = json.loads((lab.home / "labs" / lab.name / "state.json").read_text())
    subnet = state["local"]["subnet"]
    other = tmp_path / "labctl.yaml"
    other.write_text("local:\n  subnet: 10.213.231.0/24\n")
    done = lab.run("up", "--config", str(other))
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip() == (
        f"error: lab {lab.name}'s nodes run on {subnet} and local.subnet asks for 10.213.231.0/24; booted nodes cannot "
        f"move: set local.subnet back to {subnet}, or run `labctl down --lab {lab.name}` first"
    )
    after = json.loads((lab.home / "labs" / lab.name / "state.json").read_text())
    assert (after["phase"], after["local"]["subnet"]) == ("ready", subnet)
    assert lab.json("up")["cluster_skipped"] is True, "the lab's own settings still hold"


def test_access_commands(lab: E2ELab) -> None:
    nodes = lab.run("kubectl", "get", "nodes", "-o", "name", check=True).stdout.split()
    assert sorted(nodes) == ["node/controller-1", "node/worker-1", "node/worker-2"]
    assert lab.run("ssh", "worker-1", "--", "hostname", check=True).stdout.strip() == "worker-1"
    env = lab.run("env", check=True).stdout
    assert "export KUBECONFIG=" in env and str(lab.home) in env


def test_node_host_keys_are_pinned_and_checked(lab: E2ELab) -> None:
    """Each node's own host key is pinned; a key that does not match is refused by `labctl ssh` and Ansible alike."""
    known = lab.home / "labs" / lab.name / "ssh" / "known_hosts"
    pinned = {line.split()[0]: line.split(" ", 1)[1] for line in known.read_text().splitlines()}
    inventory = yaml.safe_load((lab.home / "labs" / lab.name / "inventory.yml").read_text())
    hosts = {name: hv["ansible_host"] for group in inventory["all"]["children"].values() for name, hv in (group.get("hosts") or {}).items()}
    assert sorted(pinned) == sorted(hosts.values())
    served = lab.run("ssh", "worker-1", "--", "cat", "/etc/ssh/ssh_host_ed25519_key.pub", check=True).stdout.split()
    assert pinned[hosts["worker-1"]] == " ".join(served[:2])
    original = known.read_text()
    try:
        # Another node's key at worker-1's address: what a machine answering in its place would show.
        known.write_text(original.replace(pinned[hosts["worker-1"]], pinned[hosts["worker-2"]]))
        refused = lab.run("ssh", "worker-1", "--", "true")
        assert refused.returncode != 0 and "host key" in refused.stderr.lower(), refused.stderr
        # Ansible as labctl runs it (ansible.cfg, the inventory), minus a control connection still open from before.
        env = {**os.environ, "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"), "ANSIBLE_SSH_ARGS": "-o ControlMaster=no"}
        ansible = subprocess.run(
            [str(Path(sys.executable).parent / "ansible"), "worker-1", "-i", str(lab.home / "labs" / lab.name / "inventory.yml"),
             "-m", "ansible.builtin.ping"], env=env, capture_output=True, text=True, timeout=120,
        )
        assert ansible.returncode != 0 and "host key verification failed" in ansible.stdout.lower(), ansible.stdout[-2000:]
    finally:
        known.write_text(original)
    assert lab.run("ssh", "worker-1", "--", "true").returncode == 0


def test_kubeconfig_and_keys_are_private(lab: E2ELab) -> None:
    lab_dir = lab.home / "labs" / lab.name
    private = [lab_dir / "kubeconfig", lab_dir / "ssh" / "id_ed25519", lab_dir / "ssh" / "known_hosts"]
    for path in [*private, *sorted((lab_dir / "pki").rglob("*.key"))]:
        assert oct(path.stat().st_mode & 0o777) == "0o600", path


def test_anonymous_api_access_is_refused(lab: E2ELab) -> None:
    import ssl

    status = lab.json("status")
    controller = next(n["ip"] for n in status["nodes"] if n["role"] == "controller")
    context = ssl.create_default_context(cafile=str(lab.home / "labs" / lab.name / "pki" / "ca.crt"))
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(f"https://{controller}:6443/api/v1/namespaces", context=context, timeout=5)
    assert caught.value.code in (401, 403)


def test_a_service_address_no_rule_serves_is_refused_at_once(lab: E2ELab) -> None:
    """A ClusterIP kube-proxy has no rule for is refused, from a pod and from a node, instead of left unanswered: a
    client that connects a moment before its Service's rule exists fails at once and tries again (roles/kube_proxy)."""
    taken = set(lab.run("kubectl", "get", "services", "-A", "-o", "jsonpath={.items[*].spec.clusterIP}", check=True).stdout.split())
    free = next(str(ip) for ip in reversed(list(ipaddress.IPv4Network(Network().service_cidr).hosts())) if str(ip) not in taken)
    probe = f"timeout 5 bash -c 'exec 3<>/dev/tcp/{free}/6379' 2>&1; echo exit=$?"
    # The first `--` ends labctl's options; kubectl needs its own before the command.
    from_pod = lab.run("kubectl", "--", "exec", "deploy/redis-replica", "--", "bash", "-c", probe, check=True).stdout
    from_node = lab.run("ssh", "worker-1", "--", probe, check=True).stdout
    for seen in (from_pod, from_node):
        assert "Connection refused" in seen and seen.rstrip().endswith("exit=1"), seen


@pytest.mark.parametrize("drill_id", CI_DRILLS + [pytest.param(d, marks=pytest.mark.full) for d in FULL_DRILLS])
def test_drill_passes(lab: E2ELab, drill_id: str) -> None:
    result = lab.drill(drill_id)
    unmet = [f"{e['description']}: {e['observed']}" for e in result["expectations"] if not e["met"]]
    assert result["verdict"] == "pass", f"{drill_id}: error={result.get('error')} unmet={unmet}"
    assert result["restore"] == {"performed": True, "verified": True}
    assert result["availability"]["samples"] > 0
    assert {p["name"] for p in result["phases"]} >= {"preflight", "inject", "observe", "restore", "verify"}


@pytest.mark.parametrize("drill_id", NO_INJECT_DRILLS)
def test_checks_can_fail_without_the_fault(lab: E2ELab, drill_id: str) -> None:
    result = lab.drill(drill_id, "--no-inject")
    assert result["verdict"] == "fail", f"{drill_id} without its fault: verdict {result['verdict']} error={result.get('error')}"
    assert any(not e["met"] for e in result["expectations"])


def _target_and_fault_in_place(lab: E2ELab, drill_id: str, deadline_s: float = 240) -> str:
    journal = lab.home / "labs" / lab.name / "undo-journal.json"
    unit, _ = CRASH_CASES[drill_id]
    end = time.monotonic() + deadline_s
    target = ""
    while time.monotonic() < end:
        if journal.exists():
            entries = json.loads(journal.read_text())["entries"]
            target = entries[0]["target"] if entries else ""
        if target:
            state = lab.run("ssh", target, "--", "systemctl", "is-active", unit, timeout=30).stdout.strip()
            if state in ("inactive", "failed"):
                return target
        time.sleep(1)
    raise AssertionError(f"{drill_id}: the fault never appeared (journal target {target!r})")


@pytest.mark.parametrize("drill_id", list(CRASH_CASES))
def test_recover_after_labctl_is_killed_mid_drill(lab: E2ELab, drill_id: str) -> None:
    env = {**os.environ, "LABCTL_HOME": str(lab.home)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "labctl", "drill", drill_id, "--lab", lab.name],
        env=env,
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        target = _target_and_fault_in_place(lab, drill_id)
    finally:
        # A crash of the whole run: labctl and the ansible-playbook it started.
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    unit, _ = CRASH_CASES[drill_id]
    assert lab.run("ssh", target, "--", "systemctl", "is-active", unit).stdout.strip() != "active", "fault vanished before recover"
    refused = lab.run("drill", "pod-kill")
    assert refused.returncode == 2 and "labctl recover" in refused.stderr
    summary = lab.json("recover", timeout=900)
    assert summary["healthy"] is True, summary
    assert len(summary["undone"]) == 1 and drill_id in summary["undone"][0]
    assert lab.run("ssh", target, "--", "systemctl", "is-active", unit).stdout.strip() == "active"
    if drill_id == "node-partition":
        rules = lab.run("ssh", target, "--", "iptables", "-S", "OUTPUT").stdout
        assert "labctl-drill" not in rules
    status = lab.json("status")
    assert all(n["ready"] for n in status["nodes"])
    assert not (lab.home / "labs" / lab.name / "undo-journal.json").exists()
    assert lab.json("recover")["undone"] == []


@pytest.mark.full
def test_recover_removes_the_worker_a_killed_scale_up_added(lab: E2ELab) -> None:
    """labctl adds scale-up's worker itself: killed once the provider made the machine, `recover` removes it."""
    inventory = lab.home / "labs" / lab.name / "inventory.yml"

    def workers() -> list[str]:
        hosts = yaml.safe_load(inventory.read_text())["all"]["children"]["workers"]["hosts"] or {}
        return sorted(hosts)

    before = workers()
    env = {**os.environ, "LABCTL_HOME": str(lab.home)}
    proc = subprocess.Popen([sys.executable, "-m", "labctl", "drill", "scale-up", "--lab", lab.name], env=env, cwd=REPO,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 300
        while len(workers()) == len(before):
            assert time.monotonic() < deadline, "the drill never added a worker"
            assert proc.poll() is None, "the drill ended before it added a worker"
            time.sleep(0.5)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    added = sorted(set(workers()) - set(before))
    assert len(added) == 1
    refused = lab.run("drill", "pod-kill")
    assert refused.returncode == 2 and "labctl recover" in refused.stderr
    summary = lab.json("recover", timeout=900)
    assert summary["healthy"] is True, summary
    assert workers() == before
    status = lab.json("status")
    assert sorted(n["name"] for n in status["nodes"] if n["role"] == "worker") == before
    assert all(n["ready"] for n in status["nodes"])


def test_deploy_takes_back_what_a_user_changed(lab: E2ELab) -> None:
    """A user scales nginx down with kubectl; `labctl deploy` restores the lab's replicas instead of failing on the
    field kubectl now manages."""
    lab.run("kubectl", "scale", "deployment/nginx", "--replicas", "1", check=True)
    lab.run("deploy", check=True)
    apps = {a["name"]: a for a in lab.json("status")["apps"]}
    assert apps["nginx"] == {"name": "nginx", "desired": 3, "available": 3}, apps


def test_down_leaves_the_host_as_before(lab: E2ELab, host_before: dict[str, Any]) -> None:
    lab.run("recover", timeout=600)
    down = lab.run("down", timeout=300)
    assert down.returncode == 0, down.stderr
    assert not (lab.home / "labs" / lab.name).exists()
    assert host_snapshot() == host_before
    # A second down finds nothing to remove and succeeds, as `kind delete cluster` does.
    again = lab.run("down")
    assert again.returncode == 0 and "nothing to remove" in again.stdout, again.stderr
