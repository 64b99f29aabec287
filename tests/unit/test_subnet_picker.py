"""The local provider picks each lab's subnet: free on the host, clear of the cluster's ranges and of
every other lab's, kept for the lab's next `up`, never the same for two labs racing to pick."""

import ipaddress
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from labctl.config import parse_config
from labctl.errors import UsageError
from labctl.lab import Lab
from labctl.providers import ProviderContext
from labctl.providers.local import hostnet
from labctl.providers.local.provider import PROVIDER
from labctl.ui import Ui

REPO = Path(__file__).resolve().parents[2]
Net = ipaddress.IPv4Network


@pytest.fixture
def host(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Net]]:
    """What the host pretends to have (interface addresses and routes); no bridge is made."""
    networks: list[tuple[str, Net]] = []
    monkeypatch.setattr(hostnet, "host_networks", lambda exclude_dev: [n for n in networks if n[0] != exclude_dev])
    monkeypatch.setattr(hostnet, "ensure_bridge", lambda net: networks.append((net.bridge, net.subnet)))
    monkeypatch.setattr(hostnet, "remove_orphan_veths", lambda lab: None)
    return networks


def claim(name: str, config: dict | None = None) -> Net:
    lab = Lab(name)
    lab.create()
    ctx = ProviderContext(lab=lab, config=parse_config(config or {}), ui=Ui("json"))
    return PROVIDER.claim_network(ctx).subnet


def recorded(name: str) -> str:
    return json.loads(Lab(name).state_path.read_text())["local"]["subnet"]


def test_a_lab_without_subnet_gets_a_free_one_and_records_it(labctl_home: Path, host: list) -> None:
    assert claim("first") == Net("10.213.0.0/24")
    assert recorded("first") == "10.213.0.0/24"


def test_never_a_range_in_use_on_the_host(labctl_home: Path, host: list) -> None:
    host += [("eth0", Net("10.213.0.0/23")), ("tun0", Net("10.213.2.128/25"))]
    assert claim("lab") == Net("10.213.3.0/24")


def test_never_a_range_overlapping_the_pod_or_service_cidr(labctl_home: Path, host: list) -> None:
    network = {"pod_cidr": "10.213.0.0/21", "service_cidr": "10.213.8.0/24", "cluster_dns": "10.213.8.10"}
    assert claim("lab", {"network": network}) == Net("10.213.9.0/24")


def test_never_a_range_another_lab_recorded_even_stopped(labctl_home: Path, host: list) -> None:
    assert claim("one") == Net("10.213.0.0/24")
    host.clear()  # `one` stopped: its bridge is gone, its state stays
    assert claim("two") == Net("10.213.1.0/24")
    # A lab whose saved labctl.yaml names a subnet, before its first `up` recorded it.
    Lab("three").create()
    Lab("three").save_config(parse_config({"local": {"subnet": "10.213.2.0/24"}}))
    assert claim("four") == Net("10.213.3.0/24")


def test_a_second_up_keeps_the_recorded_subnet(labctl_home: Path, host: list) -> None:
    host.append(("eth0", Net("10.213.0.0/24")))
    assert claim("lab") == Net("10.213.1.0/24")
    host.remove(("eth0", Net("10.213.0.0/24")))  # the lower range is free again: the lab still keeps its own
    assert claim("lab") == Net("10.213.1.0/24")
    assert recorded("lab") == "10.213.1.0/24"


def test_an_explicit_subnet_wins(labctl_home: Path, host: list) -> None:
    assert claim("lab") == Net("10.213.0.0/24")
    assert claim("lab", {"local": {"subnet": "10.50.0.0/24"}}) == Net("10.50.0.0/24")
    assert recorded("lab") == "10.50.0.0/24"
    # Even a range another (stopped) lab recorded: the user chose it, only the host can refuse it.
    host.clear()
    assert claim("other", {"local": {"subnet": "10.50.0.0/24"}}) == Net("10.50.0.0/24")


def test_a_lab_whose_nodes_booted_keeps_its_range_and_bridge(labctl_home: Path, host: list) -> None:
    assert claim("lab") == Net("10.213.0.0/24")
    Lab("lab").update_state(local={**Lab("lab").read_state()["local"], "nodes": ["controller-1", "worker-1"]})
    with pytest.raises(UsageError) as error:
        claim("lab", {"local": {"subnet": "10.213.78.0/24"}})
    assert str(error.value) == (
        "lab lab's nodes run on 10.213.0.0/24 and local.subnet asks for 10.213.78.0/24; booted nodes cannot move: "
        "set local.subnet back to 10.213.0.0/24, or run `labctl down --lab lab` first"
    )
    with pytest.raises(UsageError, match=r"local.bridge asks for br-other; booted nodes cannot move"):
        claim("lab", {"local": {"bridge": "br-other"}})
    assert recorded("lab") == "10.213.0.0/24"
    assert claim("lab", {"local": {"subnet": "10.213.0.0/255.255.255.0"}}) == Net("10.213.0.0/24")  # the same range


def test_an_explicit_subnet_in_use_fails_in_one_line(labctl_home: Path, host: list) -> None:
    host.append(("eth0", Net("10.50.0.0/16")))
    with pytest.raises(UsageError) as error:
        claim("lab", {"local": {"subnet": "10.50.1.0/24"}})
    assert str(error.value) == (
        "address range 10.50.1.0/24 is already in use on this host (eth0: 10.50.0.0/16): "
        "set local.subnet in labctl.yaml to a free private range"
    )


def test_no_free_range_left_fails_in_one_line_and_records_nothing(labctl_home: Path, host: list) -> None:
    host.append(("tun0", Net("10.213.0.0/16")))
    with pytest.raises(UsageError) as error:
        claim("lab")
    assert str(error.value) == (
        "no free /24 left in 10.213.0.0/16 for the lab's bridge: set local.subnet in labctl.yaml to a free private range"
    )
    assert "local" not in Lab("lab").read_state()


def test_bridge_names_of_long_lab_names_differ() -> None:
    names = {hostnet.bridge_name(lab) for lab in ("classroom-student1", "classroom-student2", "classroom-stu")}
    assert len(names) == 3
    assert all(len(name) <= 15 for name in names)
    assert hostnet.bridge_name("short") == "lc-short"


RACER = r"""
import sys, time
from labctl.config import LabConfig
from labctl.lab import Lab
from labctl.providers import ProviderContext
from labctl.providers.local import hostnet
from labctl.providers.local.provider import PROVIDER
from labctl.ui import Ui

name, go = sys.argv[1], float(sys.argv[2])
hostnet.host_networks = lambda exclude_dev: []
# Creating the bridge takes a moment on a real host: the window in which a racer could pick the same range.
hostnet.ensure_bridge = lambda net: time.sleep(0.3)
hostnet.remove_orphan_veths = lambda lab: None
lab = Lab(name)
lab.create()
while time.time() < go:
    time.sleep(0.001)
print(PROVIDER.claim_network(ProviderContext(lab=lab, config=LabConfig(), ui=Ui("json"))).subnet)
"""


def test_labs_racing_to_pick_never_get_the_same_subnet(labctl_home: Path, tmp_path: Path) -> None:
    import time

    script = tmp_path / "racer.py"
    script.write_text(RACER)
    env = {**os.environ, "LABCTL_HOME": str(labctl_home),
           "PYTHONPATH": os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH")) if p)}
    go = str(time.time() + 2)
    racers = [subprocess.Popen([sys.executable, str(script), f"racer{i}", go], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True) for i in range(4)]
    picked = []
    for racer in racers:
        out, err = racer.communicate(timeout=60)
        assert racer.returncode == 0, err
        picked.append(out.strip())
    assert len(set(picked)) == 4, picked
    assert sorted(recorded(f"racer{i}") for i in range(4)) == sorted(picked)


class RefusingProvider:
    name = "local"
    supports_offline = False

    def provision(self, ctx: ProviderContext) -> None:
        raise UsageError("refused")


def test_a_refused_up_of_an_existing_lab_leaves_its_files_as_they_were(labctl_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from labctl import lifecycle
    from labctl.providers import ProviderOptions

    monkeypatch.setattr(lifecycle, "get_provider", lambda name: RefusingProvider())
    lab = Lab("kept")
    lab.create()
    lab.save_config(parse_config({"local": {"subnet": "10.213.5.0/24"}}))
    lab.update_state(phase="ready", local={"subnet": "10.213.5.0/24", "nodes": ["controller-1"]})
    before = {path: path.read_text() for path in (lab.config_path, lab.state_path)}
    with pytest.raises(UsageError):
        lifecycle.up(lab, parse_config({"local": {"subnet": "10.213.6.0/24"}}), Ui("json"), ProviderOptions())
    assert {path: path.read_text() for path in before} == before
    # A lab with settings and no state yet keeps no state.
    lab.state_path.unlink()
    with pytest.raises(UsageError):
        lifecycle.up(lab, parse_config({}), Ui("json"), ProviderOptions())
    assert not lab.state_path.exists() and lab.config_path.read_text() == before[lab.config_path]
