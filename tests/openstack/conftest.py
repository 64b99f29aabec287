"""Fixtures: a fake OpenStack cloud on 127.0.0.1 and a labctl that talks to it through a clouds.yaml."""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from fake_openstack import FakeOpenStack
from openstack_testenv import PASSWORD, USERNAME, VENV_BIN, Labctl, write_clouds_yaml


@pytest.fixture
def fake_cloud() -> Iterator[FakeOpenStack]:
    fake = FakeOpenStack(USERNAME, PASSWORD)
    fake.start()
    try:
        yield fake
    finally:
        fake.stop()
    # An honest fake answers only calls the product makes: anything else fails the test.
    assert fake.unexpected == [], f"calls the fake does not model: {fake.unexpected}"


@pytest.fixture
def labctl_env(tmp_path: Path, fake_cloud: FakeOpenStack, monkeypatch: pytest.MonkeyPatch) -> Labctl:
    home = tmp_path / "home"
    home.mkdir()
    clouds = write_clouds_yaml(tmp_path / "clouds.yaml", fake_cloud)
    env = {
        "PATH": f"{VENV_BIN}:{os.environ.get('PATH', '/usr/bin:/bin')}",
        "HOME": str(home),
        "LABCTL_HOME": str(tmp_path / "labctl"),
        "OS_CLIENT_CONFIG_FILE": str(clouds),
        "LANG": "C.UTF-8",
        "NO_COLOR": "1",
        "COLUMNS": "400",
    }
    # The same settings for calls made in this process (add_worker, destroy, machines).
    for key in ("HOME", "LABCTL_HOME", "OS_CLIENT_CONFIG_FILE"):
        monkeypatch.setenv(key, env[key])
    monkeypatch.delenv("OS_CLOUD", raising=False)
    return Labctl(home=home, env=env)
