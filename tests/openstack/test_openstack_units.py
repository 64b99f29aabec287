"""The OpenStack provider's small pieces, without a cloud: naming, plans, access, cloud choice, error lines."""

import stat
from pathlib import Path

import pytest
import yaml

from labctl.config import LabConfig, parse_config
from labctl.errors import UsageError
from labctl.lab import Lab
from labctl.providers import ProviderContext
from labctl.providers.exposure import parse_allow_from
from labctl.providers.openstack.access import ensure_key_pair, local_address_towards, resolve_allow_from
from labctl.providers.openstack.cloud import choose_cloud
from labctl.providers.openstack.names import LabNames, check_subnet, marker, planned_nodes
from labctl.providers.openstack.provider import PROVIDER, ItemFailures, failure_line
from labctl.runner import RunResult, TaskFailure
from labctl.ui import Ui


def test_names_share_the_lab_prefix_and_marker() -> None:
    names = LabNames("t1")
    assert [names.network, names.subnet, names.router, names.security_group, names.keypair] == [
        "labctl-t1-net",
        "labctl-t1-subnet",
        "labctl-t1-router",
        "labctl-t1-sg",
        "labctl-t1-key",
    ]
    assert names.server("worker-3") == "labctl-t1-worker-3"
    assert names.port("worker-3") == "labctl-t1-worker-3-port"
    assert names.node_of("labctl-t1-worker-3") == "worker-3"
    assert marker("t1") == "labctl-lab=t1"


def test_planned_nodes_follow_the_topology() -> None:
    assert [(n.name, n.role) for n in planned_nodes(LabConfig())] == [
        ("controller-1", "controller"),
        ("worker-1", "worker"),
        ("worker-2", "worker"),
    ]
    ha = parse_config({"topology": {"controllers": 3, "workers": 1}})
    assert [n.name for n in planned_nodes(ha)] == ["controller-1", "controller-2", "controller-3", "worker-1", "api-lb"]


def test_lab_subnet_must_not_overlap_cluster_ranges() -> None:
    assert check_subnet(LabConfig()) == "10.42.0.0/24"
    clash = parse_config({"network": {"pod_cidr": "10.40.0.0/14"}})
    with pytest.raises(UsageError, match=r"network.pod_cidr 10.40.0.0/14 overlaps the OpenStack lab subnet 10.42.0.0/24"):
        check_subnet(clash)


@pytest.mark.parametrize(
    ("given", "expected"),
    [("203.0.113.7", "203.0.113.7/32"), ("203.0.113.7/24", "203.0.113.0/24"), (" 198.51.100.0/25 ", "198.51.100.0/25")],
)
def test_allow_from_is_normalised(given: str, expected: str) -> None:
    assert parse_allow_from(given) == expected
    assert resolve_allow_from(given, None) == expected


@pytest.mark.parametrize(("given", "problem"), [("banana", "not an address or CIDR"), ("2001:db8::/64", "IPv4")])
def test_allow_from_rejects_nonsense(given: str, problem: str) -> None:
    with pytest.raises(UsageError, match=problem):
        parse_allow_from(given)


def test_private_source_address_is_not_guessed() -> None:
    assert local_address_towards("127.0.0.1", 5000) == "127.0.0.1"
    with pytest.raises(UsageError, match=r"this machine is 127\.0\.0\.1.*pass --allow-from"):
        resolve_allow_from("", ("127.0.0.1", 5000))
    with pytest.raises(UsageError, match="pass --allow-from"):
        resolve_allow_from("", None)


def test_key_pair_is_private_and_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LABCTL_HOME", str(tmp_path))
    lab = Lab("keys")
    public = ensure_key_pair(lab)
    assert stat.S_IMODE(lab.ssh_key_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(lab.ssh_dir.stat().st_mode) == 0o700
    assert lab.ssh_key_path.read_text().startswith("-----BEGIN OPENSSH PRIVATE KEY-----")
    line = public.read_text()
    assert line.startswith("ssh-ed25519 ") and line.rstrip().endswith(" labctl-keys")
    private = lab.ssh_key_path.read_bytes()
    public.unlink()
    # A second `up` keeps the key (servers already trust it) and rebuilds a lost public half from it.
    assert ensure_key_pair(lab).read_text() == line
    assert lab.ssh_key_path.read_bytes() == private


def write_clouds(path: Path, *names: str) -> Path:
    path.write_text(yaml.safe_dump({"clouds": {n: {"auth": {"auth_url": "http://127.0.0.1:9/v3", "password": "s3cret"}} for n in names}}))
    return path


def test_cloud_choice_passes_paths_not_secrets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OS_CLOUD", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    clouds = write_clouds(tmp_path / "clouds.yaml", "campus")
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(clouds))
    choice = choose_cloud("")  # the only cloud in the file
    assert choice.name == "campus"
    assert choice.ansible_env() == {"OS_CLIENT_CONFIG_FILE": str(clouds), "OS_CLOUD": "campus"}
    assert "s3cret" not in str(choice.ansible_env())


def test_a_lab_keeps_the_clouds_yaml_it_was_made_with(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    remembered = write_clouds(tmp_path / "made-with.yaml", "campus", "other")
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(write_clouds(tmp_path / "now.yaml", "elsewhere")))
    monkeypatch.setenv("OS_CLOUD", "campus")
    choice = choose_cloud("", str(remembered))
    assert (choice.name, choice.config_file) == ("campus", str(remembered))
    with pytest.raises(UsageError, match=r"cloud 'gone' is not in .*made-with.yaml \(clouds there: campus, other\)"):
        choose_cloud("gone", str(remembered))


def test_failure_line_keeps_the_clouds_words_without_url_clutter() -> None:
    failure = TaskFailure("localhost", "Create a server per node", "One or more items failed")
    result = RunResult(playbook="up-openstack.yml", status="failed", rc=2, failures=[failure])
    sdk_message = "ForbiddenException: 403: Client Error for url: http://127.0.0.1:5000/compute/v2.1/servers, Quota exceeded for cores"
    assert failure_line(result, sdk_message) == "task 'Create a server per node': ForbiddenException: 403: Quota exceeded for cores"
    assert failure_line(result) == "task 'Create a server per node': One or more items failed"
    assert failure_line(RunResult(playbook="x", status="failed", rc=4)) == "ansible exited 4 (failed)"


def test_item_failures_keep_the_first_item_message_and_forward_everything() -> None:
    seen: list[str] = []
    items = ItemFailures(lambda event: seen.append(event["event"]))
    items({"event": "runner_item_on_ok", "event_data": {"res": {}}})
    items({"event": "runner_item_on_failed", "event_data": {"res": {"msg": "Quota exceeded\n for instances"}}})
    items({"event": "runner_item_on_failed", "event_data": {"res": {"msg": "second"}}})
    assert items.first == "Quota exceeded for instances"
    assert seen == ["runner_item_on_ok", "runner_item_on_failed", "runner_item_on_failed"]


def test_one_lab_lives_on_one_cloud(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LABCTL_HOME", str(tmp_path / "labs"))
    monkeypatch.setenv("HOME", str(tmp_path))
    clouds = write_clouds(tmp_path / "clouds.yaml", "campus", "other")
    lab = Lab("moved")
    lab.update_state(openstack={"cloud": "campus", "config_file": str(clouds), "touched": True})
    config = parse_config({"provider": "openstack", "openstack": {"cloud": "other"}})
    ctx = ProviderContext(lab=lab, config=config, ui=Ui(assume_yes=True))
    with pytest.raises(UsageError, match=r"lab moved already lives on cloud 'campus': `labctl down --lab moved` first"):
        PROVIDER.provision(ctx)
