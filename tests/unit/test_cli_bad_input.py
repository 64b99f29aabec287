"""Bad input: one line naming the problem and its fix on stderr, exit 2, nothing left behind."""

import json
from pathlib import Path

import pytest
import yaml
from clihelp import run_cli as run_labctl


def run_cli(*args: str, home: Path) -> object:
    # An empty bundle cache: were a bad config ever accepted, `up` would stop at the bundle check
    # instead of building a lab.
    return run_labctl(*args, home=home, env={"LABCTL_CACHE": str(home.parent / "empty-cache")})


def one_error_line(done: object, *needles: str) -> str:
    stderr = done.stderr.strip()  # type: ignore[attr-defined]
    assert done.returncode == 2, stderr  # type: ignore[attr-defined]
    assert len(stderr.splitlines()) == 1, stderr
    assert stderr.startswith("error: ") and " — " in stderr, stderr
    for needle in needles:
        assert needle in stderr, stderr
    return stderr


def test_config_that_is_a_directory(labctl_home: Path, tmp_path: Path) -> None:
    done = run_cli("up", "--config", str(tmp_path), home=labctl_home)
    one_error_line(done, "is a directory")
    assert not labctl_home.exists()


def test_config_that_is_binary(labctl_home: Path, tmp_path: Path) -> None:
    binary = tmp_path / "labctl.yaml"
    binary.write_bytes(bytes(range(256)) * 4)
    done = run_cli("up", "--config", str(binary), home=labctl_home)
    one_error_line(done, "not a text file")
    assert not labctl_home.exists()


def test_labctl_home_that_is_a_file(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.write_text("")
    for command in (["up"], ["status"], ["drill", "pod-kill"]):
        done = run_cli(*command, home=home)
        one_error_line(done, f"LABCTL_HOME {home} is a file")
    assert home.read_text() == ""


def test_labctl_home_not_writable(tmp_path: Path) -> None:
    # Root may write anywhere permissions say no: /sys refuses even root.
    home = Path("/sys/labctl-home-test")
    done = run_cli("up", home=home)
    one_error_line(done, f"LABCTL_HOME {home} is not writable")


@pytest.mark.parametrize(
    ("local", "network", "needles"),
    [
        ({"subnet": "10.244.7.0/24"}, {}, ("local.subnet 10.244.7.0/24 overlaps network.pod_cidr",)),
        ({"subnet": "10.96.0.0/24"}, {}, ("local.subnet 10.96.0.0/24 overlaps network.service_cidr",)),
        ({"subnet": "fd00:1::/64"}, {}, ("local.subnet", "IPv4")),
        ({}, {"pod_cidr": "fd00:2::/48"}, ("network.pod_cidr", "IPv4")),
    ],
)
def test_subnets_that_cannot_work(labctl_home: Path, tmp_path: Path, local: dict, network: dict, needles: tuple[str, ...]) -> None:
    config = tmp_path / "labctl.yaml"
    config.write_text(yaml.safe_dump({"local": local, "network": network}))
    one_error_line(run_cli("up", "--config", str(config), home=labctl_home), *needles)
    assert not labctl_home.exists()


@pytest.mark.parametrize(
    ("data", "needles"),
    [
        ({"topology": {"workers": "3"}}, ("topology.workers", "'3'", "not an integer")),
        ({"apps": {"nginx": {"node_port": True}}}, ("apps.nginx.node_port", "true", "not an integer")),
        ({"apps": {"nginx": {"enabled": "yes"}}}, ("apps.nginx.enabled", "true or false")),
    ],
)
def test_config_types_are_strict(labctl_home: Path, tmp_path: Path, data: dict, needles: tuple[str, ...]) -> None:
    config = tmp_path / "labctl.yaml"
    config.write_text(yaml.safe_dump(data))
    one_error_line(run_cli("up", "--config", str(config), home=labctl_home), *needles)


def test_no_arguments_prints_help(labctl_home: Path) -> None:
    done = run_cli(home=labctl_home)
    assert done.returncode == 0, done.stderr
    assert "Usage:" in done.stdout and "drill" in done.stdout


def test_json_errors_are_json_on_stdout(labctl_home: Path) -> None:
    done = run_cli("status", "--lab", "ghost", "--output", "json", home=labctl_home)
    assert done.returncode == 2
    error = json.loads(done.stdout)
    assert error == {"error": "no lab named ghost: run `labctl up` (or pass --lab NAME of an existing lab)", "exit_code": 2}
    assert done.stderr.strip().startswith("error: no lab named ghost")


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (("up", "--bogus"), ("--bogus", "labctl up -h")),
        (("nosuch",), ("nosuch", "labctl -h")),
        (("up", "--controllers", "x"), ("--controllers", "labctl up -h")),
        (("drill", "pod-kill", "--lab"), ("--lab", "requires an argument")),
    ],
)
def test_usage_errors_are_one_line(labctl_home: Path, args: tuple[str, ...], needles: tuple[str, ...]) -> None:
    one_error_line(run_cli(*args, home=labctl_home), *needles)
    assert not labctl_home.exists()


@pytest.mark.parametrize("output", [("--output", "json"), ("-o", "json"), ("--output=json",)])
def test_usage_errors_are_json_on_stdout_when_json_is_asked(labctl_home: Path, output: tuple[str, ...]) -> None:
    done = run_cli("status", *output, "--bogus", home=labctl_home)
    line = one_error_line(done, "--bogus")
    assert json.loads(done.stdout) == {"error": line.removeprefix("error: "), "exit_code": 2}
