"""The terminal view after `labctl drill` and `labctl results ID`."""

import json
from pathlib import Path
from typing import Any

from rich.console import Console

from labctl.report.text import render_results

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "results"


def load(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text())


def render(results: list[dict[str, Any]], width: int = 140) -> str:
    console = Console(record=True, width=width, force_terminal=False, highlight=False)
    render_results(console, results)
    return console.export_text()


def test_passing_drill() -> None:
    text = render([load("pod-kill-pass.json")])
    header = text.splitlines()[0]
    assert header.startswith("pod-kill  PASS  61.9 s")
    assert "expectations 4/4 met" in text
    assert text.count("✓ ") >= 4 and "✗" not in text.split("restore")[0]
    assert "time to replacement ready" in text and "4.5 s" in text
    assert "injected +12.4 s" in text and "recovered +17.4 s" in text
    assert "guestbook-write   100.0 %" in text
    assert "restore performed no (nothing to undo) · cluster verified healthy ✓" in text
    assert "stored in" not in text
    assert "drills:" not in text  # no tally for a single result


def test_failing_drill_shows_what_was_missed() -> None:
    result = load("worker-failure-fail.json")
    result["path"] = "/var/lib/labctl/labs/default/results/20250614T091410Z-worker-failure.json"
    text = render([result])
    assert text.splitlines()[0].startswith("worker-failure  FAIL  141 s")
    assert "why it failed: 2 of 7 expectations unmet" in text
    assert "expectations 5/7 met" in text
    rows = [line for line in text.splitlines() if line.startswith("✗")]
    assert len(rows) == 2
    evict = next(line for line in text.splitlines() if line.startswith("time to evict"))
    assert evict.split()[-4:] == ["62.7", "s", "50.0", "s"]
    outage = next(line for line in text.splitlines() if line.startswith("guestbook-write"))
    assert "97.9 %" in outage and "3.0 s" in outage and "137/140" in outage
    assert f"stored in {result['path']}" in text


def test_error_drill_shows_the_error_and_failed_phase() -> None:
    text = render([load("etcd-backup-restore-error.json")])
    assert text.splitlines()[0].startswith("etcd-backup-restore  ERROR")
    assert "error: preflight failed on lab-cp-1" in text
    assert "phases preflight failed: etcdctl snapshot save: context deadline exceeded · inject skipped" in text
    assert "expectations 0/0" not in text and "description" not in text  # no expectations table


def test_several_results_end_with_a_tally() -> None:
    names = ("pod-kill-pass.json", "worker-failure-fail.json", "scheduler-down-pass.json", "etcd-backup-restore-error.json")
    text = render([load(n) for n in names])
    for verdict, drill in (("PASS", "pod-kill"), ("FAIL", "worker-failure"), ("PASS", "scheduler-down"), ("ERROR", "etcd-backup-restore")):
        assert f"{drill}  {verdict}" in text
    assert text.rstrip().splitlines()[-1] == "4 drills: 2 PASS, 1 FAIL, 1 ERROR in 257 s · suite score 70.0/100"


def test_verdicts_are_coloured() -> None:
    console = Console(record=True, width=140, force_terminal=True, color_system="truecolor")
    render_results(console, [load("pod-kill-pass.json"), load("worker-failure-fail.json")])
    styled = console.export_html(inline_styles=True)
    assert "PASS" in styled and "FAIL" in styled
    assert "color: #008000" in styled and "color: #800000" in styled  # green and red


def test_rich_markup_in_results_prints_literally() -> None:
    result = load("pod-kill-pass.json")
    result["expectations"][0]["description"] = "[bold red]not markup[/] in a pod name"
    result["error"] = None
    result["drill"] = "pod-kill[x]"
    text = render([result])
    assert "[bold red]not markup[/] in a pod name" in text
    assert text.splitlines()[0].startswith("pod-kill[x]  PASS")
