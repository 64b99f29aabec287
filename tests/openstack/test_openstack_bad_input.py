"""Bad input fails before anything is created, in one line, with the right exit code; `down` still works after."""

import socket
from pathlib import Path

import pytest
from fake_openstack import FakeOpenStack
from openstack_testenv import Labctl, write_clouds_yaml

NOTHING = {
    "servers": [],
    "keypairs": [],
    "floating_ips": [],
    "ports": [],
    "routers": [],
    "subnets": [],
    "networks": [],
    "security_groups": [],
}


def up(labctl: Labctl, *args: str) -> tuple[int, str]:
    result = labctl.run("up", "openstack", "--provision-only", "--yes", "--lab", "bad", *args)
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.stderr
    return result.returncode, errors[0]


def assert_down_cleans(labctl: Labctl, fake: FakeOpenStack) -> None:
    down = labctl.run("down", "--lab", "bad", "--yes")
    assert down.returncode == 0, down.stderr
    assert fake.leftovers() == NOTHING


CLOUD = ("--cloud", "fake", "--allow-from", "203.0.113.7")


@pytest.mark.parametrize(
    ("args", "code", "expected"),
    [
        (("--cloud", "nowhere", "--allow-from", "203.0.113.7"), 2, ["cloud 'nowhere' is not in", "clouds there: fake"]),
        ((*CLOUD, "--image", "gentoo"), 2, ["image 'gentoo' not found on cloud 'fake'", "cirros-0.6, debian-12, ubuntu-24.04", "--image"]),
        ((*CLOUD, "--flavor", "m1.huge"), 2, ["flavor 'm1.huge' not found", "m1.large, m1.medium, m1.small", "--flavor"]),
        ((*CLOUD, "--external-network", "internet"), 2, ["external network 'internet' not found", "provider-ext, public"]),
        ((*CLOUD, "--workers", "12"), 3, ["quota on cloud 'fake' too small", "13 instances", "10 of 10 are free"]),
        (("--cloud", "fake"), 2, ["cannot tell which address the cloud will see you come from", "127.0.0.1", "--allow-from"]),
        (("--cloud", "fake", "--allow-from", "banana"), 2, ["--allow-from 'banana' is not an address or CIDR"]),
    ],
    ids=["unknown-cloud", "image", "flavor", "external-network", "quota", "no-allow-from", "bad-allow-from"],
)
def test_bad_input_one_line_nothing_created(
    labctl_env: Labctl, fake_cloud: FakeOpenStack, args: tuple[str, ...], code: int, expected: list[str]
) -> None:
    returncode, line = up(labctl_env, *args)
    assert returncode == code, line
    for fragment in expected:
        assert fragment in line
    assert fake_cloud.leftovers() == NOTHING
    assert_down_cleans(labctl_env, fake_cloud)


def test_no_clouds_yaml(labctl_env: Labctl, fake_cloud: FakeOpenStack) -> None:
    del labctl_env.env["OS_CLIENT_CONFIG_FILE"]
    returncode, line = up(labctl_env, *CLOUD)
    assert returncode == 2
    assert "no clouds.yaml found" in line
    assert "~/.config/openstack/clouds.yaml" in line


def test_bad_credentials(labctl_env: Labctl, fake_cloud: FakeOpenStack, tmp_path: Path) -> None:
    write_clouds_yaml(Path(labctl_env.env["OS_CLIENT_CONFIG_FILE"]), fake_cloud, password="not-the-password")
    returncode, line = up(labctl_env, *CLOUD)
    assert returncode == 3
    assert "cloud 'fake' rejected the credentials" in line
    assert "HTTP 401" in line
    assert "not-the-password" not in line
    assert fake_cloud.leftovers() == NOTHING


def test_unreachable_cloud(labctl_env: Labctl, fake_cloud: FakeOpenStack, tmp_path: Path) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    clouds = Path(labctl_env.env["OS_CLIENT_CONFIG_FILE"])
    clouds.write_text(clouds.read_text().replace(fake_cloud.base_url, f"http://127.0.0.1:{port}"))
    returncode, line = up(labctl_env, *CLOUD)
    assert returncode == 3
    assert "cannot reach cloud 'fake'" in line


def test_several_clouds_and_none_chosen(labctl_env: Labctl, fake_cloud: FakeOpenStack) -> None:
    clouds = Path(labctl_env.env["OS_CLIENT_CONFIG_FILE"])
    clouds.write_text(clouds.read_text().replace("clouds:\n", "clouds:\n  other:\n    auth: {auth_url: 'http://127.0.0.1:9/v3'}\n", 1))
    returncode, line = up(labctl_env, "--allow-from", "203.0.113.7")
    assert returncode == 2
    assert "defines 2 clouds (fake, other)" in line
    assert "--cloud NAME" in line
    # OS_CLOUD is the OpenStack way to choose one.
    labctl_env.env["OS_CLOUD"] = "fake"
    returncode, line = up(labctl_env, "--allow-from", "203.0.113.7", "--image", "gentoo")
    assert returncode == 2
    assert "not found on cloud 'fake'" in line
