"""A real local lab for the end-to-end tests: up once per session, down at the end, host compared."""

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from e2ehelpers import HA_LAB, HA_SUBNET, LAB, SUBNET, E2ELab, host_snapshot, lab_unavailable, stale_labs


@pytest.fixture(scope="session", autouse=True)
def _no_stale_labs(tmp_path_factory: pytest.TempPathFactory) -> None:
    # A session killed before its teardown (a CI timeout, ^C twice) leaves its labs running under
    # an older pytest temp dir; remove them first, or this session's labs cannot take the same
    # bridges and the host comparison at the end would see the old labs' remains.
    for name, stale_home in stale_labs(tmp_path_factory.getbasetemp().parent):
        E2ELab(name, stale_home, {}).run("down", timeout=300)


@pytest.fixture(scope="session")
def host_before(_no_stale_labs: None) -> dict[str, Any]:
    return host_snapshot()


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory, host_before: dict[str, Any]) -> Iterator[E2ELab]:
    with running_lab(tmp_path_factory, LAB, SUBNET) as the_lab:
        yield the_lab


@pytest.fixture(scope="module")
def ha_lab(tmp_path_factory: pytest.TempPathFactory, _no_stale_labs: None) -> Iterator[E2ELab]:
    with running_lab(tmp_path_factory, HA_LAB, HA_SUBNET, "--controllers", "3") as the_lab:
        yield the_lab


@contextmanager
def running_lab(tmp_path_factory: pytest.TempPathFactory, name: str, subnet: str, *flags: str) -> Iterator[E2ELab]:
    """`labctl up` a lab of its own (with classroom failover timings), removed when done."""
    reason = lab_unavailable()
    if reason:
        pytest.skip(reason)
    home = tmp_path_factory.mktemp("labctl-home")
    config = home / "labctl.yaml"
    config.write_text(f"local:\n  subnet: {subnet}\n")
    placeholder = E2ELab(name, home, {})
    started = time.monotonic()
    done = placeholder.run("up", "--config", str(config), "--fast-failover", *flags, "--output", "json", timeout=2400)
    if done.returncode != 0:
        placeholder.run("down", timeout=300)
        pytest.fail(f"labctl up {' '.join(flags)} failed (exit {done.returncode}): {done.stderr[-3000:]}")
    summary = json.loads(done.stdout)
    summary["wall_s"] = round(time.monotonic() - started, 1)
    the_lab = E2ELab(name, home, summary)
    yield the_lab
    if (home / "labs" / name).exists():
        # The last test normally removes the lab; this is the safety net when a test failed first.
        the_lab.run("recover", timeout=600)
        the_lab.run("down", timeout=300)


@pytest.fixture(scope="session")
def fresh_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("labctl-home-other")
