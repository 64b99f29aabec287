"""The resilience score (labctl/score.py) on the report fixtures and on results built to isolate one rule."""

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from labctl import results as results_mod
from labctl import score

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "results"


def load(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text())


def components(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in score.compute(result)["components"]}


def test_a_clean_pass_scores_100() -> None:
    card = score.compute(load("pod-kill-pass.json"))
    assert card["formula"] == score.FORMULA
    assert card["value"] == 100.0
    assert card["gate"] is None


def test_weights_come_from_the_catalog_and_sum_to_one() -> None:
    # pod-kill: the apps must stay up, no expected timings → expectations 0.7, availability 0.3.
    pod_kill = components(load("pod-kill-pass.json"))
    assert {n: c["weight"] for n, c in pod_kill.items()} == {"expectations": 0.7, "availability": 0.3, "timing": 0.0}
    # worker-failure: apps must stay up and the catalog names expected timings.
    worker = components(load("worker-failure-fail.json"))
    assert {n: c["weight"] for n, c in worker.items()} == {"expectations": 0.5, "availability": 0.3, "timing": 0.2}
    # scheduler-down: the catalog does not demand the apps stay up: availability is shown, not scored.
    scheduler = components(load("scheduler-down-pass.json"))
    assert {n: c["weight"] for n, c in scheduler.items()} == {"expectations": 1.0, "availability": 0.0, "timing": 0.0}
    for drill in ("pod-kill", "worker-failure", "scheduler-down", "node-partition", "apiserver-kill", "pki-check", "nope"):
        assert sum(score.weights(drill).values()) == pytest.approx(1.0)


def test_the_failing_fixture_scores_what_the_formula_says() -> None:
    result = load("worker-failure-fail.json")
    parts = components(result)
    # 5 of 7 expectations met, plus the cluster verified healthy after restore: 6 of 8.
    assert parts["expectations"]["value"] == pytest.approx(6 / 8)
    # guestbook-write was down 3.0 s of the 30 s budget; the other two targets never.
    assert parts["availability"]["value"] == pytest.approx((1 + 1 + 0.9) / 3, abs=1e-4)
    # detect 28.4 s ≤ 20·1.25+5 and evict 62.7 s ≤ 50·1.25+5 are on time; time_to_replacement was never observed.
    assert parts["timing"]["value"] == pytest.approx(2 / 3, abs=1e-4)
    assert "time_to_replacement" in parts["timing"]["detail"]
    expected = 100 * (0.5 * 6 / 8 + 0.3 * 2.9 / 3 + 0.2 * 2 / 3)
    assert score.compute(result)["value"] == pytest.approx(expected, abs=0.05)


def test_an_error_earns_nothing_but_shows_what_was_measured() -> None:
    card = score.compute(load("etcd-backup-restore-error.json"))
    assert card["value"] == 0.0
    assert card["gate"] and "error" in card["gate"]
    assert {c["name"] for c in card["components"]} == {"expectations", "availability", "timing"}


def test_no_expectations_recorded_counts_as_none_met() -> None:
    result = load("pod-kill-pass.json")
    result["expectations"] = []
    assert components(result)["expectations"]["value"] == 0.0


def test_restore_not_verified_costs_like_an_unmet_expectation() -> None:
    result = load("pod-kill-pass.json")
    result["restore"]["verified"] = False
    result["verdict"] = "fail"
    assert components(result)["expectations"]["value"] == pytest.approx(4 / 5)


def test_no_samples_counts_as_unavailable() -> None:
    result = load("pod-kill-pass.json")
    result["availability"] = results_mod.empty_availability()
    assert components(result)["availability"]["value"] == 0.0


def _timeline(interval: float, length_s: float, down: tuple[float, float]) -> list[list[Any]]:
    samples = []
    for k in range(round(length_s / interval)):
        t = round(k * interval, 3)
        ok = not (down[0] <= t < down[1])
        samples.append([t, ok, 5.0 if ok else None, None if ok else "refused"])
    return samples


@pytest.mark.parametrize("interval", [0.2, 0.5, 1.0])
def test_downtime_does_not_depend_on_the_probe_interval(interval: float) -> None:
    # The same 6 s outage, sampled at 0.2 s or 1 s, costs the same.
    timeline = _timeline(interval, 40.0, (10.0, 16.0))
    assert score.downtime_s(timeline, interval) == pytest.approx(6.0, abs=1e-6)


def test_downtime_does_not_depend_on_the_drill_length() -> None:
    # A slower run of the same drill (more healthy seconds) must not dilute the same outage.
    short = _timeline(1.0, 20.0, (5.0, 8.0))
    long = _timeline(1.0, 200.0, (5.0, 8.0))
    assert score.downtime_s(short, 1.0) == score.downtime_s(long, 1.0) == 3.0


def test_downtime_adds_every_outage_and_runs_an_open_one_to_the_end() -> None:
    timeline = [[0.0, True, 1, None], [0.2, False, None, "x"], [0.4, True, 1, None], [0.6, False, None, "x"], [0.8, False, None, "x"]]
    # 0.2–0.4, then 0.6 to the last sample plus one interval.
    assert score.downtime_s(timeline, 0.2) == pytest.approx(0.2 + 0.4)


def test_downtime_beyond_the_budget_earns_nothing() -> None:
    result = load("pod-kill-pass.json")
    for target in result["availability"]["targets"]:
        target["timeline"] = _timeline(1.0, 60.0, (5.0, 5.0 + 2 * score.OUTAGE_BUDGET_S))
    assert components(result)["availability"]["value"] == 0.0


@pytest.mark.parametrize(
    ("observed", "expected", "credit"),
    [
        (10.0, 20.0, 1.0),  # early earns no bonus
        (30.0, 20.0, 1.0),  # 20·1.25 + 5 = 30: the allowance
        (45.0, 20.0, 0.5),  # halfway to twice the allowance
        (60.0, 20.0, 0.0),  # twice the allowance
        (600.0, 20.0, 0.0),  # capped: a hung recovery is no worse than zero
        (None, 20.0, 0.0),  # never observed
        (5.0, None, 0.0),  # nothing to compare with
    ],
)
def test_timing_credit(observed: float | None, expected: float | None, credit: float) -> None:
    assert score.timing_credit(observed, expected) == pytest.approx(credit)


def test_wall_clock_noise_outside_the_timed_durations_does_not_move_the_score() -> None:
    base = load("worker-failure-fail.json")
    slower = copy.deepcopy(base)
    slower["duration_s"] = base["duration_s"] * 3
    slower["timings"]["durations_s"]["time_to_recover"] = 99.0  # not a duration the catalog times
    assert score.compute(slower)["value"] == score.compute(base)["value"]


def test_suite_weighs_each_drill_once() -> None:
    pod = load("pod-kill-pass.json")
    worker = load("worker-failure-fail.json")
    error = load("etcd-backup-restore-error.json")
    one_each = score.suite([pod, worker, error])
    assert one_each["drills"] == 3 and one_each["results"] == 3
    assert one_each["value"] == pytest.approx((100 + score.compute(worker)["value"] + 0) / 3, abs=0.05)
    # Five more pod-kill runs do not outweigh the other drills: pod-kill's own mean stays 100.
    many = score.suite([pod] * 6 + [worker, error])
    assert many["value"] == one_each["value"]
    assert many["per_drill"]["pod-kill"] == 100.0
    assert score.suite([])["value"] is None


def test_a_stored_score_of_this_formula_is_used_as_is() -> None:
    result = load("pod-kill-pass.json")
    result["score"] = {**score.compute(result), "value": 42.0}
    assert score.of(result)["value"] == 42.0
    result["score"]["formula"] = "labctl.score/v0"
    assert score.of(result)["value"] == 100.0


def test_assembled_results_carry_a_valid_score() -> None:
    fixture = load("worker-failure-fail.json")
    reported = {k: fixture[k] for k in ("phases", "expectations", "timings", "events", "restore")}
    reported["expectations"] = [e for e in reported["expectations"] if not e["description"].startswith("the apps stay")]
    result = results_mod.assemble(
        lab="default", provider="local", kubernetes_version="v1.36.3", drill="worker-failure",
        started=1_750_000_000.0, ended=1_750_000_141.0, reported=reported,
        availability=fixture["availability"], outage_forbidden=True,
    )
    results_mod.validate(result)
    assert result["score"] == score.compute(result)
    assert 0 < result["score"]["value"] < 100


def test_the_schema_rejects_a_score_out_of_range() -> None:
    import jsonschema

    result = load("pod-kill-pass.json")
    result["score"] = score.compute(result)
    results_mod.validate(result)  # a score the formula gives is accepted
    result["score"] = {**score.compute(result), "value": 101.0}
    with pytest.raises(jsonschema.ValidationError):
        results_mod.validate(result)
