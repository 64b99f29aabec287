"""The class scoreboard and predict-then-observe, on results written as class drills leave them."""

import csv
import io
import json
import threading
import urllib.request
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from clihelp import run_cli

from labctl.classroom import predictions, scoreboard, scoreboard_files, serve
from labctl.classroom.record import ClassRecord
from labctl.classroom.roster import Student
from labctl.errors import UsageError
from labctl.lab import Lab
from labctl.timestamps import iso, parse_iso

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "results"
T0 = parse_iso("2026-12-05T10:00:00Z") or 0.0


def a_class() -> ClassRecord:
    record = ClassRecord("k8s", students=[Student("ann", "Ann Lee"), Student("bob"), Student("cat")])
    record.save()
    return record


def ran(student: str, fixture: str, started: float, **durations: float) -> dict[str, Any]:
    """FIXTURE's result, as if run on STUDENT's lab at STARTED with DURATIONS observed."""
    result = json.loads((FIXTURES / fixture).read_text())
    result.update(lab=f"k8s-{student}", started=iso(started), id=f"{iso(started)}-{result['drill']}")
    result["timings"]["durations_s"].update(durations)
    directory = Lab(f"k8s-{student}").results_dir
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{result['id']}.json").write_text(json.dumps(result))
    return result


def test_a_guess_made_before_the_run_is_set_against_it(labctl_home: Path) -> None:
    record = a_class()
    predictions.add(record, "pod-kill", {"ann": {"time_to_recover": 10.0}, "bob": {"time_to_recover": 30.0}}, at=T0 - 60)
    ran("ann", "pod-kill-pass.json", T0, time_to_recover=12.0)
    ran("bob", "pod-kill-pass.json", T0, time_to_recover=12.0)
    board = scoreboard.build(record)
    ann, bob, cat = board.rows
    (timing,) = ann.cells["pod-kill"].timings
    assert (timing.name, timing.observed, timing.predicted, timing.error) == ("time_to_recover", 12.0, 10.0, 2.0)
    assert bob.cells["pod-kill"].timings[0].error == -18.0
    assert (ann.rank, bob.rank, cat.rank) == (1, 2, None)
    assert ann.prediction_error == pytest.approx(2 / 12) and bob.prediction_error == pytest.approx(18 / 12)
    assert cat.cells == {} and board.drills == ["pod-kill"]


def test_a_guess_made_after_the_run_does_not_count(labctl_home: Path) -> None:
    record = a_class()
    ran("ann", "pod-kill-pass.json", T0, time_to_recover=12.0)
    predictions.add(record, "pod-kill", {"ann": {"time_to_recover": 12.0}}, at=T0 + 5)
    (row, *_) = scoreboard.build(record).rows
    assert row.cells["pod-kill"].timings[0].predicted is None and row.rank is None


def test_the_latest_run_of_each_drill_counts(labctl_home: Path) -> None:
    record = a_class()
    ran("ann", "worker-failure-fail.json", T0)
    ran("ann", "worker-failure-fail.json", T0 + 600, time_to_detect=20.0)
    ran("ann", "pod-kill-pass.json", T0 + 300)
    board = scoreboard.build(record)
    cells = board.rows[0].cells
    assert board.drills == ["pod-kill", "worker-failure"]  # the catalog's order
    assert cells["worker-failure"].started.startswith("2026-12-05T10:10:00")
    assert cells["worker-failure"].timings[0].observed == 20.0
    assert (cells["worker-failure"].verdict, cells["pod-kill"].verdict) == ("fail", "pass")


def test_the_files_name_every_student_and_drill(labctl_home: Path, tmp_path: Path) -> None:
    record = a_class()
    predictions.add(record, "pod-kill", {"ann": {"time_to_replacement": 3.0}}, at=T0 - 1)
    for student in ("ann", "bob", "cat"):
        ran(student, "pod-kill-pass.json", T0, time_to_replacement=4.0)
    ran("bob", "worker-failure-fail.json", T0 + 60)
    paths = scoreboard_files.write(scoreboard.build(record), tmp_path / "out")

    page = paths["html"].read_text()
    assert all(f'id="student-{s}"' in page for s in ("ann", "bob", "cat"))
    assert "<th>pod-kill</th>" in page and "<th>worker-failure</th>" in page and "not run" in page
    assert "guess 3.0 s" in page and "Ann Lee" in page

    rows = list(csv.DictReader(io.StringIO(paths["csv"].read_text())))
    assert {(r["student"], r["drill"]) for r in rows} == {("ann", "pod-kill"), ("bob", "pod-kill"), ("cat", "pod-kill"),
                                                         ("bob", "worker-failure")}
    guessed = [r for r in rows if r["student"] == "ann" and r["duration"] == "time_to_replacement"]
    assert guessed and (guessed[0]["observed_s"], guessed[0]["predicted_s"], guessed[0]["error_s"]) == ("4.0", "3.0", "1.0")

    suites = ET.fromstring(paths["junit"].read_text()).findall("testsuite")
    assert [s.get("name") for s in suites] == [f"labctl class k8s: {s}" for s in ("ann", "bob", "cat")]
    bob = suites[1]
    assert (bob.get("tests"), bob.get("failures")) == ("2", "1")


def test_an_empty_class_gets_a_board_that_says_so(labctl_home: Path) -> None:
    page = scoreboard_files.to_html(scoreboard.build(a_class()))
    assert "No drill has run in this class yet" in page


@pytest.mark.parametrize(
    ("pairs", "message"),
    [
        (["time_to_detct=4"], "drill worker-failure reports no duration 'time_to_detct': it reports time_to_detect"),
        (["time_to_detect"], "is not NAME=SECONDS"),
        (["time_to_detect=soon"], "'soon' is not a number of seconds"),
        ([], "give at least one prediction"),
    ],
)
def test_bad_guesses_are_refused(pairs: list[str], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        predictions.parse_pairs("worker-failure", pairs)


def test_guesses_read_from_a_csv(labctl_home: Path, tmp_path: Path) -> None:
    path = tmp_path / "guesses.csv"
    path.write_text("student,time_to_detect,time_to_evict\nann,40,300s\nbob,,90\ncat,,\n")
    assert predictions.read_csv(path, a_class(), "worker-failure") == {"ann": {"time_to_detect": 40.0, "time_to_evict": 300.0},
                                                                        "bob": {"time_to_evict": 90.0}}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("who,time_to_detect\nann,4\n", "no 'student' column"),
        ("student,time_to_deploy\nann,4\n", "column 'time_to_deploy': drill worker-failure reports no duration"),
        ("student,time_to_detect\ndan,4\n", "line 2: class k8s has no student 'dan'"),
        ("student,time_to_detect\nann,4\nann,5\n", "line 3: student 'ann' is listed twice"),
        ("student,time_to_detect\nann,\n", "holds no prediction"),
    ],
)
def test_a_bad_guesses_csv_is_refused(labctl_home: Path, tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "guesses.csv"
    path.write_text(text)
    with pytest.raises(UsageError, match=message):
        predictions.read_csv(path, a_class(), "worker-failure")


def test_predict_and_report_from_the_cli(labctl_home: Path) -> None:
    a_class()
    done = run_cli("class", "predict", "k8s", "pod-kill", "--student", "ann", "time_to_recover=9", home=labctl_home)
    assert done.returncode == 0, done.stderr
    assert "ann: time_to_recover=9s" in done.stdout
    done = run_cli("class", "report", "k8s", "--output", "json", home=labctl_home)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert [s["student"] for s in summary["students"]] == ["ann", "bob", "cat"]
    assert all(Path(p).is_file() for p in summary["files"].values())


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("predict", "nope", "pod-kill", "-s", "ann", "time_to_recover=9"), "no class named nope"),
        (("predict", "k8s", "pod-kill", "time_to_recover=9"), "give either --student ID"),
        (("predict", "k8s", "pod-kill", "-s", "dan", "time_to_recover=9"), "class k8s has no student 'dan'"),
        (("predict", "k8s", "pki-check", "-s", "ann", "x=1"), "drill pki-check reports no duration to predict"),
        (("predict", "k8s", "pod-kil", "-s", "ann", "x=1"), "unknown drill 'pod-kil'"),
        (("report", "nope"), "no class named nope"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(labctl_home: Path, args: tuple[str, ...], message: str) -> None:
    a_class()
    done = run_cli("class", *args, home=labctl_home)
    assert done.returncode == 2
    assert message in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert not (labctl_home / "classes" / "k8s" / "predictions.json").exists()


def test_the_served_board_is_rebuilt_on_every_load(labctl_home: Path) -> None:
    record = a_class()
    server = serve.http.server.ThreadingHTTPServer(("127.0.0.1", 0), serve.handler_for("k8s"))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        before = urllib.request.urlopen(f"{url}/", timeout=5).read().decode()
        ran("bob", "pod-kill-pass.json", T0)
        after = urllib.request.urlopen(f"{url}/", timeout=5).read().decode()
        csv_text = urllib.request.urlopen(f"{url}/scoreboard.csv", timeout=5).read().decode()
    finally:
        server.shutdown()
        server.server_close()
    assert "No drill has run" in before and '<meta http-equiv="refresh"' in before
    assert "<th>pod-kill</th>" in after and "k8s,bob," in csv_text
    assert record.name == "k8s"
