import jsonschema
import pytest

from labctl import drill_record, results
from labctl.timestamps import iso


def reported(met: bool = True, verified: bool = True) -> dict:
    return {
        "expectations": [{"description": "d", "expected": 1, "observed": 1, "met": met, "at": iso(1.7e9)}],
        "restore": {"performed": True, "verified": verified},
    }


def assemble(**kwargs) -> dict:
    base = dict(lab="l", provider="local", kubernetes_version="v1.36.3", drill="pod-kill", started=1.7e9, ended=1.7e9 + 9,
                reported=reported(), availability=results.empty_availability(), outage_forbidden=False)
    base.update(kwargs)
    return results.assemble(**base)


def test_pass_result_validates() -> None:
    result = assemble()
    results.validate(result)
    assert result["verdict"] == "pass"
    assert result["schema"] == "labctl.drill-result/v1"


@pytest.mark.parametrize(
    ("kwargs", "verdict"),
    [
        ({"reported": reported(met=False)}, "fail"),
        ({"reported": reported(verified=False)}, "fail"),
        ({"error": "boom"}, "error"),
        ({"reported": {"expectations": [], "restore": {}}}, "error"),
    ],
)
def test_verdicts(kwargs: dict, verdict: str) -> None:
    assert assemble(**kwargs)["verdict"] == verdict


def test_outage_fails_drills_that_must_keep_apps_up() -> None:
    availability = {"interval_s": 1.0, "samples": 10, "success_ratio": 0.8, "longest_outage_s": 2.0, "targets": []}
    result = assemble(availability=availability, outage_forbidden=True)
    assert result["verdict"] == "fail"
    assert result["expectations"][-1]["met"] is False
    assert assemble(availability=availability, outage_forbidden=False)["verdict"] == "pass"


def test_schema_rejects_unknown_verdict() -> None:
    result = assemble()
    result["verdict"] = "maybe"
    with pytest.raises(jsonschema.ValidationError):
        results.validate(result)


def test_a_drill_record_becomes_iso_times_and_measured_spans() -> None:
    record = {
        "phases": [{"name": "inject", "started": 1.7e9, "ended": 1.7e9 + 1, "status": "ok"}, {"name": "done", "started": 1, "ended": 2}],
        "instants": {"injected": 1.7e9, "detected": 1.7e9 + 12.34},
        "expected_s": {"time_to_detect": 40},
        "events": [{"at": 1.7e9, "kind": "action", "message": "stopped"}],
        "expectations": [{"description": "x", "expected": "y", "observed": "z", "met": True, "at": None}],
        "restore": {"performed": True, "verified": True},
    }
    out = drill_record.reported(record, [("time_to_detect", "injected", "detected"), ("never", "injected", "missing")])
    assert [p["name"] for p in out["phases"]] == ["inject"]
    assert out["phases"][0]["started"] == "2023-11-14T22:13:20.000Z"
    assert out["timings"]["instants"]["detected"] == "2023-11-14T22:13:32.340Z"
    assert out["timings"]["durations_s"] == {"time_to_detect": 12.3, "never": None}
    assert out["timings"]["expected_s"] == {"time_to_detect": 40.0}
    result = assemble(reported=out)
    results.validate(result)
