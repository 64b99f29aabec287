"""The class: its roster, its record, running one labctl command on many labs, and its bad input."""

import io
import json
from pathlib import Path

import pytest
from clihelp import run_cli
from rich.console import Console

from labctl.classroom import cards, fanout
from labctl.classroom.board import Board
from labctl.classroom.record import ClassRecord, load
from labctl.classroom.roster import Student, read_roster
from labctl.errors import UsageError


def roster(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "roster.csv"
    path.write_text(text)
    return path


def test_a_roster_with_names_and_emails(tmp_path: Path) -> None:
    path = roster(tmp_path, "\ufeffStudent,Name,E-mail,email\nAnn,Ann Lee,x,ann@example.org\n\nbob-2,,,\n")
    assert read_roster(path, "k8s") == [Student("ann", "Ann Lee", "ann@example.org"), Student("bob-2")]


def test_an_id_column_named_id(tmp_path: Path) -> None:
    assert [s.id for s in read_roster(roster(tmp_path, "id\ncarl\n"), "k8s")] == ["carl"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name\nAnn\n", "no student id column: name one column 'student'"),
        ("student\nann\nANN\n", "line 3: student 'ann' is listed twice"),
        ("student\nann lee\n", "line 2: student id 'ann lee' cannot name a lab"),
        ("student\nabcdefghijklmnopq\n", "lab name 'k8s-abcdefghijklmnopq' is longer than 20 characters"),
        ("student\n\n", "lists no students"),
    ],
)
def test_roster_problems_are_one_line_naming_the_fix(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(UsageError, match=message) as caught:
        read_roster(roster(tmp_path, text), "k8s")
    assert "\n" not in str(caught.value)


def test_a_roster_that_is_not_a_file(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="does not exist"):
        read_roster(tmp_path / "nope.csv", "k8s")
    with pytest.raises(UsageError, match="is a directory"):
        read_roster(tmp_path, "k8s")
    (tmp_path / "bin.csv").write_bytes(b"\xff\xfe\x00student")
    with pytest.raises(UsageError, match="not a UTF-8 text file"):
        read_roster(tmp_path / "bin.csv", "k8s")


def test_the_record_keeps_how_labs_are_made_and_who_is_in_the_class(labctl_home: Path) -> None:
    ClassRecord("k8s", "local", ["--workers", "1"], [Student("ann", "Ann"), Student("bob")]).save()
    record = load("k8s")
    assert (record.provider, record.up_args, record.lab_of("ann")) == ("local", ["--workers", "1"], "k8s-ann")
    assert record.student("bob") == Student("bob")
    assert oct(record.path.stat().st_mode & 0o777) == "0o600"
    with pytest.raises(UsageError, match="class k8s has no student 'eve'"):
        record.student("eve")
    with pytest.raises(UsageError, match="no class named other: run `labctl class up other --roster FILE`"):
        load("other")


def test_deleting_a_class_leaves_nothing_a_new_class_of_that_name_would_inherit(labctl_home: Path) -> None:
    record = ClassRecord("k8s", "local", [], [Student("ann")])
    record.save()
    for leftover in ("predictions.json", "logs/k8s-ann-up.log", "report/scoreboard.html"):
        path = record.path.parent / leftover
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("from the class before\n")
    record.delete()
    assert not record.path.parent.exists()
    record.delete()  # a second time: nothing left to remove, no error


def test_fanout_runs_real_labctl_processes_and_keeps_each_outcome(labctl_home: Path, tmp_path: Path) -> None:
    jobs = [fanout.Job("ann", "k8s-ann", ("status", "--lab", "k8s-ann")), fanout.Job("bob", "k8s-bob", ("drill", "--list"))]
    out = io.StringIO()
    board = Board(Console(file=out, width=200), "class k8s: test", {"ann": "k8s-ann", "bob": "k8s-bob"})
    outcomes = fanout.run(jobs, 2, tmp_path / "logs", board)
    missing, listed = outcomes
    assert missing.exit_code == 2 and missing.error is not None and missing.error.startswith("no lab named k8s-ann")
    assert listed.exit_code == 0 and listed.error is None and "pod-kill" in [d["id"] for d in listed.data]
    assert missing.log.read_text().startswith("error: no lab named k8s-ann")
    assert fanout.worst_exit(outcomes) == 3
    lines = out.getvalue().splitlines()
    assert lines[0] == "class k8s: test: 2 lab(s)"
    assert any(line.startswith("  k8s-bob: ok in") for line in lines), lines


@pytest.mark.parametrize(("codes", "worst"), [((0, 0), 0), ((0, 1), 1), ((1, 2), 3), ((3, 0), 3)])
def test_an_error_outranks_a_fail_verdict(codes: tuple[int, ...], worst: int, tmp_path: Path) -> None:
    outcomes = [fanout.Outcome(str(i), f"c-{i}", code, 1.0, None, tmp_path) for i, code in enumerate(codes)]
    assert fanout.worst_exit(outcomes) == worst


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("class", "up", "K8S", "--roster", "r.csv"), "invalid class name 'K8S'"),
        (("class", "up", "k8s", "--roster", "/nonexistent/r.csv"), "roster /nonexistent/r.csv does not exist"),
        (("class", "status", "k8s"), "no class named k8s"),
        (("class", "drill", "k8s", "pod-kill"), "no class named k8s"),
        (("class", "reset", "k8s", "ann"), "no class named k8s"),
        (("class", "up", "k8s", "--roster", "r.csv", "--small", "--workers", "2"), "pass --small or --workers, not both"),
    ],
)
def test_class_bad_input_is_one_line_exit_2_and_nothing_made(labctl_home: Path, args: tuple[str, ...], needle: str) -> None:
    done = run_cli(*args, "--output", "json", home=labctl_home)
    assert done.returncode == 2, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and needle in done.stderr, done.stderr
    assert json.loads(done.stdout)["exit_code"] == 2
    assert not (labctl_home / "classes").exists()


def test_login_cards_have_a_page_per_student_with_access_and_a_sheet_for_all(tmp_path: Path) -> None:
    ann = {"class": "k8s", "student": "ann", "name": "Ann <Lee>", "lab": "k8s-ann", "user": "ann", "dir": "/h/labs/k8s-ann/users/ann",
           "kubeconfig": "/h/labs/k8s-ann/users/ann/kubeconfig", "ssh_key": "/h/k", "known_hosts": "/h/kh",
           "nodes": [{"name": "controller-1", "address": "10.213.0.2", "ssh": "ssh -i /h/k root@10.213.0.2"}],
           "apps": {"nginx": "http://10.213.0.2:31000/"}}
    bob = {"class": "k8s", "student": "bob", "name": "", "error": "lab k8s-bob has no user 'bob': run `labctl user add bob`"}
    html = cards.write("k8s", [ann, bob], tmp_path).read_text()
    assert html.count('class="card"') == 1
    assert "export KUBECONFIG=/h/labs/k8s-ann/users/ann/kubeconfig" in html
    assert "ssh -i /h/k root@10.213.0.2   # controller-1" in html
    assert "Ann &lt;Lee&gt;" in html and "<Lee>" not in html
    assert "lab k8s-bob has no user" in html


@pytest.mark.parametrize(("name", "role", "needle"), [("ADMIN", "view", "invalid user name 'ADMIN'"), ("admin", "view", "not one of admin"),
                                                     ("ann", "root", "unknown role 'root'")])
def test_a_user_with_a_bad_name_or_role_is_refused_before_the_lab_is_read(labctl_home: Path, name: str, role: str, needle: str) -> None:
    done = run_cli("user", "add", name, "--role", role, "--lab", "nolab", home=labctl_home)
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1 and needle in done.stderr, done.stderr


def test_a_reset_names_a_student_of_the_class_and_stops_at_its_first_failed_step(labctl_home: Path) -> None:
    ClassRecord("k8s", "local", [], [Student("ann")]).save()
    stranger = run_cli("class", "reset", "k8s", "eve", "--output", "json", home=labctl_home)
    assert stranger.returncode == 2 and stranger.stderr.strip() == "error: class k8s has no student 'eve': see `labctl class status k8s`"
    # Ann's lab was never made: recover fails, so nothing is redeployed.
    done = run_cli("class", "reset", "k8s", "ann", "--output", "json", home=labctl_home)
    summary = json.loads(done.stdout)
    assert done.returncode == summary["exit_code"] == 3, done.stderr
    assert [(step["step"], step["ok"]) for step in summary["steps"]] == [("recover", False)], summary
    assert summary["steps"][0]["error"].startswith("no lab named k8s-ann")
    refused = run_cli("class", "reset", "k8s", "ann", "--rebuild", "--output", "json", home=labctl_home)
    assert refused.returncode == 2 and "pass --yes to confirm" in refused.stderr, refused.stderr
    assert not (labctl_home / "labs" / "k8s-ann").exists()


@pytest.mark.parametrize(
    ("changed", "shown"),
    [
        ({"cluster": 0, "apps": 0}, "nothing"),
        ({"cluster": 74, "apps": 2}, "cluster 74, apps 2"),
        ({"cluster": 0, "apps": 3}, "apps 3"),
        (None, ""),
    ],
)
def test_class_up_says_what_changed_in_words(changed: dict[str, int] | None, shown: str) -> None:
    from labctl.cli_class import changed_text

    assert changed_text(changed) == shown


def test_a_class_drill_row_keeps_the_whole_result_id_on_a_narrow_terminal() -> None:
    from rich.console import Console

    from labctl.cli_class import drill_table

    result_id = "20261206T150839Z-controller-manager-down"
    summary = {"labs": [{"student": "annabelle", "lab": "workshop-annabelle", "verdict": "pass", "availability": 0.9987,
                         "score": 97.5, "seconds": 46.2, "result_id": result_id, "error": None}]}
    console = Console(width=80, record=True, color_system=None)
    console.print(drill_table(summary))
    rows = [line.split("│")[1:-1] for line in console.export_text().splitlines() if line.startswith("│")]
    columns = ["".join(cell.strip() for cell in column) for column in zip(*rows, strict=True)]
    assert columns[1] == "workshop-annabelle"
    assert columns[-1] == result_id
