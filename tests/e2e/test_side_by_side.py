"""Two local labs at once, neither given a subnet: both `up`s start at the same moment, each lab gets a range
of its own, serves its apps at its own node addresses, a drill on one leaves the other serving, and both
`down`s leave the host as it was.

Tests run in file order against the two labs (module fixture); the last removes them and compares the host.
"""

import ipaddress
import json
import os
import shlex
import shutil
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from e2ehelpers import PAIR, E2ELab, host_snapshot, lab_unavailable

from labctl.config import LabConfig

pytestmark = [pytest.mark.e2e, pytest.mark.full]


@pytest.fixture(scope="module")
def pair_host_before(_no_stale_labs: None) -> dict[str, Any]:
    return host_snapshot(PAIR)


@pytest.fixture(scope="module")
def routed_before(_no_stale_labs: None) -> list[ipaddress.IPv4Network]:
    """Every range the host had an address or route in before the labs, other labs' bridges included."""
    routes = json.loads(subprocess.run(["ip", "-j", "-4", "route", "show"], capture_output=True, text=True, check=True).stdout)
    return [ipaddress.IPv4Network(r["dst"], strict=False) for r in routes if r.get("dst", "default") != "default"]


@pytest.fixture(scope="module")
def labs(tmp_path_factory: pytest.TempPathFactory, pair_host_before: dict[str, Any],
         routed_before: list[ipaddress.IPv4Network]) -> Iterator[dict[str, E2ELab]]:
    reason = lab_unavailable()
    if reason:
        pytest.skip(reason)
    # One LABCTL_HOME for both and no labctl.yaml: the labs' only way apart is the subnet each picks.
    home = tmp_path_factory.mktemp("labctl-home-pair")
    handles = {name: E2ELab(name, home, {}) for name in PAIR}
    results: dict[str, subprocess.CompletedProcess[str]] = {}

    def up(name: str) -> None:
        results[name] = handles[name].run("up", "--fast-failover", "--output", "json", timeout=2400)

    threads = [threading.Thread(target=up, args=(name,)) for name in PAIR]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    failed = {name: done for name, done in results.items() if done.returncode != 0}
    if failed:
        # `down` removes the nodes' console logs: keep them beside the test's other files first.
        kept = tmp_path_factory.mktemp("pair-consoles")
        for log in home.glob("labs/*/nodes/*/console.log"):
            shutil.copy(log, kept / f"{log.parents[2].name}-{log.parent.name}.log")
        for handle in handles.values():
            handle.run("down", timeout=300)
        pytest.fail("; ".join(f"labctl up --lab {name} exited {done.returncode}: {done.stderr[-2000:]}" for name, done in failed.items())
                    + f" (the nodes' console logs: {kept})")
    for name, done in results.items():
        handles[name].up_summary = json.loads(done.stdout)
    yield handles
    for handle in handles.values():
        if (home / "labs" / handle.name).exists():
            # The last test normally removes the labs; this is the safety net when a test failed first.
            handle.run("recover", timeout=600)
            handle.run("down", timeout=300)


def subnet_of(lab: E2ELab) -> ipaddress.IPv4Network:
    state = json.loads((lab.home / "labs" / lab.name / "state.json").read_text())
    return ipaddress.IPv4Network(state["local"]["subnet"])


def get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:
        assert response.status == 200
        return response.read().decode()


def post(url: str, data: dict[str, Any]) -> int:
    request = urllib.request.Request(url, data=json.dumps(data).encode(), method="POST", headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=5) as response:
        return response.status


def test_each_lab_picked_a_free_subnet_of_its_own(labs: dict[str, E2ELab], routed_before: list[ipaddress.IPv4Network]) -> None:
    a, b = (subnet_of(labs[name]) for name in PAIR)
    assert not a.overlaps(b), (a, b)
    defaults = LabConfig().network
    cluster = [ipaddress.IPv4Network(defaults.pod_cidr), ipaddress.IPv4Network(defaults.service_cidr)]
    # Every interface address has its route: a range the host routed before was in use.
    for subnet in (a, b):
        assert not any(subnet.overlaps(net) for net in cluster + routed_before), subnet


def test_both_labs_ready_and_serving_at_their_own_addresses(labs: dict[str, E2ELab]) -> None:
    for name, lab in labs.items():
        summary = lab.up_summary
        assert summary["phase"] == "ready", summary
        assert set(summary["checks"]) == {"apps_available", "nginx_nodeport", "guestbook_roundtrip", "cluster_dns"}
        status = lab.json("status")
        assert status["lab"] == name and len(status["nodes"]) == 3 and all(n["ready"] for n in status["nodes"]), status
        apps = {a["name"]: a for a in status["apps"]}
        assert apps["nginx"]["available"] == 3 and apps["guestbook-frontend"]["available"] == 3, apps
        subnet = subnet_of(lab)
        for node in status["nodes"]:
            assert ipaddress.IPv4Address(node["ip"]) in subnet, (name, node, subnet)
            assert "nginx" in get(f"http://{node['ip']}:31000/")
    # Each guestbook is its own: an entry written to one lab is read back there and never seen in the other.
    marker = f"pair-{time.time()}"
    first, second = (next(n["ip"] for n in labs[name].json("status")["nodes"] if n["role"] == "worker") for name in PAIR)
    assert post(f"http://{first}:31080/entries", {"entry": marker}) in (200, 201)
    deadline = time.monotonic() + 20
    while marker not in get(f"http://{first}:31080/entries"):
        assert time.monotonic() < deadline, "entry written through lab a's frontend was never read back"
        time.sleep(0.5)
    assert marker not in get(f"http://{second}:31080/entries")


def test_kubeconfigs_of_both_labs_merge(labs: dict[str, E2ELab]) -> None:
    """KUBECONFIG=a:b, as a user with two labs sets it: each context reaches its own lab with its own certificate."""
    exports = dict(line.removeprefix("export ").split("=", 1) for line in labs[PAIR[0]].run("env", check=True).stdout.splitlines()
                   if line.startswith("export "))
    kubectl = Path(shlex.split(exports["PATH"])[0].split(":")[0]) / "kubectl"
    merged = ":".join(str(lab.home / "labs" / lab.name / "kubeconfig") for lab in labs.values())
    for name, lab in labs.items():
        done = subprocess.run([str(kubectl), "--context", f"admin@{name}", "get", "nodes", "-o",
                               'jsonpath={.items[*].status.addresses[?(@.type=="InternalIP")].address}'],
                              capture_output=True, text=True, timeout=60, env={**os.environ, "KUBECONFIG": merged})
        assert done.returncode == 0, f"context admin@{name}: {done.stderr}"
        addresses = done.stdout.split()
        assert len(addresses) == 3 and all(ipaddress.IPv4Address(a) in subnet_of(lab) for a in addresses), (name, addresses)


def test_a_second_up_keeps_the_subnet(labs: dict[str, E2ELab]) -> None:
    lab = labs[PAIR[0]]
    before = subnet_of(lab)
    again = lab.json("up")
    assert again["phase"] == "ready" and again.get("cluster_skipped") is True, again
    assert subnet_of(lab) == before


def test_a_drill_on_one_lab_leaves_the_other_serving(labs: dict[str, E2ELab]) -> None:
    drilled, other = labs[PAIR[0]], labs[PAIR[1]]
    urls = [f"http://{n['ip']}:31000/" for n in other.json("status")["nodes"]]
    outcomes: list[bool] = []
    stop = threading.Event()

    def probe() -> None:
        while not stop.is_set():
            for url in urls:
                try:
                    outcomes.append("nginx" in get(url))
                except OSError:
                    outcomes.append(False)
            time.sleep(0.2)

    prober = threading.Thread(target=probe)
    prober.start()
    try:
        result = drilled.drill("pod-kill")
    finally:
        stop.set()
        prober.join()
    unmet = [f"{e['description']}: {e['observed']}" for e in result["expectations"] if not e["met"]]
    assert result["verdict"] == "pass", f"error={result.get('error')} unmet={unmet}"
    assert outcomes and all(outcomes), f"{outcomes.count(False)} of {len(outcomes)} requests to {other.name} failed"
    assert other.json("status")["lab"] == other.name


def test_both_down_leave_the_host_as_before(labs: dict[str, E2ELab], pair_host_before: dict[str, Any]) -> None:
    for lab in labs.values():
        down = lab.run("down", timeout=300)
        assert down.returncode == 0, down.stderr
        assert not (lab.home / "labs" / lab.name).exists()
    assert host_snapshot(PAIR) == pair_host_before
