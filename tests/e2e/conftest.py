"""A real local lab for the end-to-end tests: up once per session, down at the end, host compared."""

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from e2ehelpers import LAB, SUBNET, E2ELab, host_snapshot, lab_unavailable, stale_lab_homes


@pytest.fixture(scope="session")
def host_before(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    # A session killed before its teardown (a CI timeout, ^C twice) leaves its lab running under
    # an older pytest temp dir; remove it first, or this session's lab cannot take the same
    # bridge and the host comparison at the end would see the old lab's remains.
    for stale_home in stale_lab_homes(tmp_path_factory.getbasetemp().parent):
        E2ELab(LAB, stale_home, {}).run("down", timeout=300)
    return host_snapshot()


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory, host_before: dict[str, Any]) -> Iterator[E2ELab]:
    reason = lab_unavailable()
    if reason:
        pytest.skip(reason)
    home = tmp_path_factory.mktemp("labctl-home")
    config = home / "labctl.yaml"
    config.write_text(f"local:\n  subnet: {SUBNET}\n")
    placeholder = E2ELab(LAB, home, {})
    started = time.monotonic()
    done = placeholder.run("up", "--config", str(config), "--fast-failover", "--output", "json", timeout=1500)
    if done.returncode != 0:
        placeholder.run("down", timeout=300)
        pytest.fail(f"labctl up failed (exit {done.returncode}): {done.stderr[-3000:]}")
    summary = json.loads(done.stdout)
    summary["wall_s"] = round(time.monotonic() - started, 1)
    the_lab = E2ELab(LAB, home, summary)
    yield the_lab
    if (home / "labs" / LAB).exists():
        # The last test normally removes the lab; this is the safety net when a test failed first.
        the_lab.run("recover", timeout=600)
        the_lab.run("down", timeout=300)


@pytest.fixture(scope="session")
def fresh_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("labctl-home-other")
