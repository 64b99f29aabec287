"""The probe interval: a config key (drills.probe_interval_s) and `labctl drill --probe-interval`, 0.2–10 s, default 1 s."""

import math
from pathlib import Path

import pytest
import yaml
from clihelp import run_cli

from labctl import results
from labctl.config import LabConfig, parse_config
from labctl.errors import UsageError
from labctl.probe import PROBE_INTERVAL_MAX_S, PROBE_INTERVAL_MIN_S, Target, TargetSeries, parse_interval


def test_default_stays_one_second() -> None:
    assert LabConfig().drills.probe_interval_s == 1.0
    assert (PROBE_INTERVAL_MIN_S, PROBE_INTERVAL_MAX_S) == (0.2, 10.0)


@pytest.mark.parametrize("value", [0.2, 1, 2.5, 10])
def test_config_accepts_the_range(value: float) -> None:
    assert parse_config({"drills": {"probe_interval_s": value}}).drills.probe_interval_s == value


@pytest.mark.parametrize(("value", "needle"), [(0.1, "0.2"), (10.5, "10"), ("1", "not a number"), (True, "not a number")])
def test_config_rejects_outside_the_range(value: object, needle: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse_config({"drills": {"probe_interval_s": value}})
    assert "drills.probe_interval_s" in str(caught.value) and needle in str(caught.value)


@pytest.mark.parametrize(("text", "value"), [("0.2", 0.2), ("1", 1.0), ("10", 10.0), (" 0.5 ", 0.5)])
def test_flag_values(text: str, value: float) -> None:
    assert parse_interval(text) == value


@pytest.mark.parametrize("text", ["0.19", "0", "-1", "11", "abc", "nan", "inf", ""])
def test_flag_rejects(text: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse_interval(text)
    message = str(caught.value)
    assert "--probe-interval" in message and "0.2" in message and "10" in message and "\n" not in message


@pytest.mark.parametrize("text", ["0.1", "abc", "11"])
def test_cli_bad_flag_is_one_line_exit_2(text: str, labctl_home: Path) -> None:
    done = run_cli("drill", "pod-kill", "--probe-interval", text, home=labctl_home)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: --probe-interval") and " — " in lines[0], done.stderr
    assert not labctl_home.exists()


def test_cli_bad_config_value_is_one_line_exit_2(labctl_home: Path, tmp_path: Path) -> None:
    config = tmp_path / "labctl.yaml"
    config.write_text(yaml.safe_dump({"drills": {"probe_interval_s": 0.05}}))
    done = run_cli("up", "--config", str(config), home=labctl_home, env={"LABCTL_CACHE": str(tmp_path / "empty-cache")})
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "drills.probe_interval_s" in done.stderr


def _series(interval: float, oks: list[bool]) -> TargetSeries:
    samples = [[round(i * interval, 3), ok, 3.0 if ok else None, None] for i, ok in enumerate(oks)]
    return TargetSeries(Target("x", "http://x/"), samples=samples)


def test_availability_math_at_a_fifth_of_a_second() -> None:
    # 0.0 up, 0.2 down, 0.4 down, 0.6 up, …: two failed samples are a 0.4 s outage, not 0 or 1 s.
    summary = _series(0.2, [True, False, False, True, True, True, False, True, True, True]).summary(0.2)
    assert summary["samples"] == 10 and summary["successes"] == 7
    assert summary["success_ratio"] == 0.7
    assert summary["longest_outage_s"] == 0.4
    # An outage still open at the end lasts to the last sample plus one interval of 0.2 s.
    assert _series(0.2, [True, True, False]).summary(0.2)["longest_outage_s"] == 0.2


def test_the_availability_expectation_names_the_interval_and_a_sub_second_outage() -> None:
    availability = {"interval_s": 0.2, "samples": 30, "success_ratio": 0.9, "longest_outage_s": 0.4, "targets": []}
    result = results.assemble(
        lab="l", provider="local", kubernetes_version="v1.36.3", drill="pod-kill", started=1.7e9, ended=1.7e9 + 6,
        reported={"expectations": [{"description": "d", "expected": 1, "observed": 1, "met": True, "at": None}],
                  "restore": {"performed": False, "verified": True}},
        availability=availability, outage_forbidden=True,
    )
    last = result["expectations"][-1]
    assert "every 0.2 s" in last["description"]
    assert "longest outage 0.4 s" in last["observed"] and not last["met"]
    assert result["verdict"] == "fail"
    assert not math.isnan(result["score"]["value"])


def test_a_failed_availability_expectation_names_the_first_failed_sample() -> None:
    # What CI printed for a flaky etcd-outage was "longest outage 2.0 s": not which app, when, or why.
    started = 1_765_046_214.0  # 2025-12-06T18:36:54Z
    read = TargetSeries(Target("guestbook-read", "http://h/entries"),
                        samples=[[0.0, True, 3.1, None], [3.0, False, None, "timed out"], [5.0, True, 4.0, None]])
    nginx = _series(1.0, [True] * 6)
    availability = {"interval_s": 1.0, "samples": 9, "success_ratio": 0.89, "longest_outage_s": 2.0,
                    "targets": [nginx.summary(1.0), read.summary(1.0)]}
    result = results.assemble(
        lab="l", provider="local", kubernetes_version="v1.36.3", drill="etcd-outage", started=started, ended=started + 21,
        reported={"expectations": [], "restore": {"performed": True, "verified": True}},
        availability=availability, outage_forbidden=True,
    )
    observed = result["expectations"][-1]["observed"]
    assert "first failure: guestbook-read at 18:36:57.0 (timed out)" in observed, observed
