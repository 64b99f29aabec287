"""The report fixtures are real v1 results, and write_reports turns any set of them into both files."""

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from labctl import results as results_mod
from labctl.report import write_reports

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "results"


def load(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text())


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("*.json")), ids=lambda p: p.name)
def test_fixture_is_a_valid_v1_result(path: Path) -> None:
    result = json.loads(path.read_text())
    results_mod.validate(result)
    assert result["schema"] == results_mod.SCHEMA_ID


@pytest.mark.parametrize(
    ("name", "outage_forbidden"),
    [
        ("pod-kill-pass.json", True),
        ("worker-failure-fail.json", True),
        ("scheduler-down-pass.json", False),
        ("etcd-backup-restore-error.json", False),
    ],
)
def test_fixture_verdict_is_the_one_the_results_model_derives(name: str, outage_forbidden: bool) -> None:
    # A fixture whose verdict the model would not produce would test the reports against impossible input.
    result = load(name)
    derived = results_mod.decide_verdict(
        result["expectations"], result["restore"], result["error"], outage_forbidden, result["availability"]
    )
    assert derived == result["verdict"]


def test_fixtures_cover_what_the_reports_must_show() -> None:
    pod_kill = load("pod-kill-pass.json")
    assert pod_kill["verdict"] == "pass"
    assert [t["samples"] for t in pod_kill["availability"]["targets"]] == [60, 60, 60]
    assert all(len(t["timeline"]) == 60 for t in pod_kill["availability"]["targets"])

    worker = load("worker-failure-fail.json")
    assert worker["verdict"] == "fail"
    assert [e["description"] for e in worker["expectations"] if not e["met"]]
    assert worker["availability"]["longest_outage_s"] == 3.0
    assert "time_to_evict" in worker["timings"]["durations_s"]
    assert "time_to_evict" in worker["timings"]["expected_s"]

    error = load("etcd-backup-restore-error.json")
    assert error["verdict"] == "error"
    assert error["error"]
    assert any(p["status"] == "failed" for p in error["phases"])


def test_a_broken_fixture_would_be_caught() -> None:
    # The schema check above is only worth something if it rejects a result that breaks the contract.
    result = load("pod-kill-pass.json")
    result["verdict"] = "maybe"
    with pytest.raises(jsonschema.ValidationError):
        results_mod.validate(result)


def test_write_reports_writes_both_files(tmp_path: Path) -> None:
    results = [json.loads(p.read_text()) for p in sorted(FIXTURES.glob("*.json"))]
    out = tmp_path / "deep" / "reports"
    paths = write_reports(results, out)
    assert paths == {"junit": out / "junit.xml", "html": out / "report.html"}
    suite = ET.parse(paths["junit"]).getroot()
    assert suite.get("tests") == str(len(results))
    html = paths["html"].read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>")
    for result in results:
        assert f">{result['drill']}</a>" in html
