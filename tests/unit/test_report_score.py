"""The resilience score where a user sees it: terminal view, `labctl results`/`report`, JUnit, HTML."""

import json
import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from clihelp import run_cli
from rich.console import Console

from labctl import score
from labctl.report.html import to_html
from labctl.report.junit import to_junit
from labctl.report.text import render_results

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "results"
ORDER = ("pod-kill-pass.json", "worker-failure-fail.json", "scheduler-down-pass.json", "etcd-backup-restore-error.json")


def load(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text())


def render(results: list[dict[str, Any]]) -> str:
    console = Console(record=True, width=160, force_terminal=False, highlight=False)
    render_results(console, results)
    return console.export_text()


def test_text_shows_the_score_and_its_components() -> None:
    worker = load("worker-failure-fail.json")
    value = score.compute(worker)["value"]
    text = render([worker])
    assert f"FAIL  141 s  score {value:.1f} " in text.splitlines()[0]
    assert f"score {value:.1f}/100" in text
    rows = {line.split()[0]: line for line in text.splitlines() if line.split()[:1] in (["expectations"], ["availability"], ["timing"])}
    assert "0.50" in rows["expectations"] and "6 of 8 met" in rows["expectations"]
    assert "guestbook-write" in rows["availability"]
    assert "time_to_replacement not observed" in rows["timing"]


def test_text_shows_why_an_error_scores_zero() -> None:
    text = render([load("etcd-backup-restore-error.json")])
    assert "score 0.0/100" in text and "ended in error" in text


def test_suite_tally_carries_the_suite_score() -> None:
    results = [load(n) for n in ORDER]
    suite = score.suite(results)["value"]
    tally = render(results).strip().splitlines()[-1]
    assert tally.startswith("4 drills:") and f"suite score {suite:.1f}/100" in tally


def test_junit_carries_suite_and_per_drill_scores_as_properties() -> None:
    results = [load(n) for n in ORDER]
    suite = ET.fromstring(to_junit(results, hostname="ci"))
    props = {p.get("name"): p.get("value") for p in suite.find("properties").iter("property")}  # type: ignore[union-attr]
    assert props["score"] == f"{score.suite(results)['value']:.1f}"
    assert props["score.pod-kill"] == "100.0" and props["score.etcd-backup-restore"] == "0.0"
    worker = next(c for c in suite.iter("testcase") if c.get("name") == "worker-failure")
    assert f"score {score.compute(results[1])['value']:.1f}/100" in (worker.findtext("system-out") or "")


def test_html_shows_the_scores() -> None:
    results = [load(n) for n in ORDER]
    html = to_html(results, generated=0)
    suite = score.suite(results)["value"]
    assert f'<b>{suite:.1f}</b><span>suite score</span>' in html
    for result in results:
        # In the summary row and in the drill's own card.
        shown = re.findall(rf'class="[^"]*score-value[^"]*">{score.compute(result)["value"]:.1f}<', html)
        assert len(shown) >= 2
    assert "time_to_replacement not observed" in html
    assert "ended in error" in html


def test_results_list_and_report_json_show_scores(labctl_home: Path, tmp_path: Path) -> None:
    stored = labctl_home / "results" / "default"
    stored.mkdir(parents=True)
    for name in ORDER:
        shutil.copy(FIXTURES / name, stored / f"{load(name)['id']}.json")
    listing = run_cli("results", "--output", "json", home=labctl_home)
    assert listing.returncode == 0, listing.stderr
    by_drill = {r["drill"]: r["score"] for r in json.loads(listing.stdout)}
    assert by_drill["pod-kill"] == 100.0 and by_drill["etcd-backup-restore"] == 0.0
    table = run_cli("results", home=labctl_home)
    assert "score" in table.stdout.splitlines()[1] or "score" in table.stdout
    text = run_cli("report", "--out", str(tmp_path / "out"), home=labctl_home)
    assert "suite score: 70.0/100 over 4 drills (4 results, labctl.score/v1)" in text.stdout, text.stdout
    report = run_cli("report", "--out", str(tmp_path / "out"), "--output", "json", home=labctl_home)
    assert report.returncode == 0, report.stderr
    assert json.loads(report.stdout)["score"]["value"] == score.suite([load(n) for n in ORDER])["value"]
