"""`labctl class`: one lab per student of a roster, driven together (labctl/classroom)."""

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from labctl.cli_common import EPILOG, PLAIN, OutputOpt, YesOpt, bare_help, emit, fail, make_ui, new_table
from labctl.errors import LabctlError, UsageError

if TYPE_CHECKING:
    from labctl.ui import Ui

class_app = typer.Typer(
    help="A class: one lab per student of a roster, built, drilled and watched together.",
    epilog=EPILOG, invoke_without_command=True, callback=bare_help, **PLAIN,
)

ClassArg = Annotated[str, typer.Argument(help="Class name (1-10 lowercase letters or digits); labs are <class>-<student>.")]
ParallelOpt = Annotated[int, typer.Option("--parallel", "-p", min=1, help="Labs worked on at once.")]
StudentsOpt = Annotated[str | None, typer.Option("--students", help="Only these students (comma-separated ids).", show_default=False)]


def _students(value: str | None) -> list[str] | None:
    return [s.strip() for s in value.split(",") if s.strip()] if value else None


def _finish(ui: "Ui", summary: dict[str, Any], table: Any) -> None:
    if ui.json:
        ui.emit_json(summary)
    else:
        ui.out.print(table)
    if summary["exit_code"]:
        raise typer.Exit(summary["exit_code"])


def _state(row: dict[str, Any]) -> str:
    return "[green]ok[/]" if row["ok"] else f"[red]failed[/] {row['error']}"


def changed_text(changed: dict[str, int] | None) -> str:
    """What a lab's `up` changed, per playbook, as a person reads it ("nothing" on a lab already up)."""
    if changed is None:
        return ""
    return ", ".join(f"{playbook} {count}" for playbook, count in changed.items() if count) or "nothing"


@class_app.command("up")
def class_up(
    name: ClassArg,
    roster: Annotated[Path, typer.Option("--roster", "-r", help="CSV with a 'student' (or 'id') column; 'name', 'email' optional.")],
    provider: Annotated[str | None, typer.Argument(help="local (default), aws or openstack.", show_default=False)] = None,
    config: Annotated[Path | None, typer.Option("--config", "-c", help="A labctl.yaml for every lab.")] = None,
    workers: Annotated[int | None, typer.Option(help="Workers per lab.")] = None,
    small: Annotated[bool, typer.Option("--small", help="1 controller + 1 worker per lab: more labs per host.")] = False,
    fast_failover: Annotated[bool, typer.Option("--fast-failover", help="Classroom pace for node failures.")] = False,
    offline: Annotated[bool, typer.Option("--offline", help="Cloud: push the offline bundle.")] = False,
    parallel: ParallelOpt = 2,
    prune: Annotated[bool, typer.Option("--prune", help="Remove the labs of students no longer on the roster.")] = False,
    output: OutputOpt = "text",
) -> None:
    """Make one lab per student (a second run changes nothing; new roster lines add labs)."""
    from labctl.classroom import manage

    up_args: list[str] = []
    if config is not None:
        up_args += ["--config", str(config.resolve())]
    if small and workers is not None:
        fail(UsageError("--small means 1 worker per lab: pass --small or --workers, not both"), output)
    if small or workers is not None:
        up_args += ["--workers", str(1 if small else workers)]
    if fast_failover:
        up_args.append("--fast-failover")
    if offline:
        up_args.append("--offline")
    try:
        ui = make_ui(output, yes=True)
        summary = manage.up(name, roster, provider, up_args, parallel, prune, ui)
    except LabctlError as error:
        fail(error, output)
        return
    table = new_table("student", "lab", "up", "s", "changed")
    for row in summary["labs"]:
        table.add_row(row["student"], row["lab"], _state(row), f"{row['seconds']:.0f}", changed_text(row.get("changed")))
    for student in summary["not_on_roster"]:
        table.add_row(student, f"{name}-{student}", "[yellow]not on the roster[/] (kept; --prune removes it)", "", "")
    for row in summary["pruned"]:
        table.add_row(row["student"], row["lab"], "removed" if row["ok"] else f"[red]not removed[/] {row['error']}", "", "")
    _finish(ui, summary, table)


@class_app.command("status")
def class_status(name: ClassArg, parallel: ParallelOpt = 4, output: OutputOpt = "text") -> None:
    """Per student: nodes Ready, apps available, the last drill and its verdict."""
    from labctl.classroom import manage

    try:
        ui = make_ui(output)
        summary = manage.status(name, parallel, ui)
    except LabctlError as error:
        fail(error, output)
        return
    table = new_table("student", "name", "lab", "phase", "nodes ready", "apps", "last drill", "verdict")
    for row in summary["labs"]:
        colour = {"pass": "green", "fail": "red"}.get(row["last_verdict"] or "", "yellow")
        table.add_row(row["student"], row["name"], row["lab"], row["phase"], f"{row['nodes_ready']}/{row['nodes']}",
                      f"{row['apps_available']}/{row['apps']}", row["last_drill"] or "",
                      f"[{colour}]{row['last_verdict']}[/]" if row["last_verdict"] else "")
    _finish(ui, summary, table)


@class_app.command("drill")
def class_drill(
    name: ClassArg,
    drill_id: Annotated[str, typer.Argument(metavar="DRILL", help="Drill id (see `labctl drill --list`).")],
    students: StudentsOpt = None,
    parallel: ParallelOpt = 8,
    output: OutputOpt = "text",
) -> None:
    """The same drill on every student's lab at once; exit 1 if any lab's verdict is fail."""
    from labctl.classroom import manage

    try:
        ui = make_ui(output)
        summary = manage.drill(name, drill_id, _students(students), parallel, ui)
    except LabctlError as error:
        fail(error, output)
        return
    _finish(ui, summary, drill_table(summary))


def drill_table(summary: dict[str, Any]) -> Any:
    """One row per lab of a class drill."""
    table = new_table("student", "lab", "verdict", "availability", "score", "s", "result")
    for row in summary["labs"]:
        colour = {"pass": "green", "fail": "red"}.get(row["verdict"], "yellow")
        ratio = f"{row['availability'] * 100:.1f} %" if row["availability"] is not None else ""
        score = f"{row['score']:.1f}" if row["score"] is not None else ""
        table.add_row(row["student"], row["lab"], f"[{colour}]{row['verdict']}[/]", ratio, score, f"{row['seconds']:.0f}",
                      row["result_id"] or (row["error"] or ""))
    return table


def _each(name: str, command: list[str], students: list[str] | None, parallel: int, output: str) -> None:
    from labctl.classroom import manage

    try:
        ui = make_ui(output)
        summary = manage.down(name, parallel, ui) if command[0] == "down" else manage.each(name, command, students, parallel, ui)
    except LabctlError as error:
        fail(error, output)
        return
    summary.pop("data", None)
    table = new_table("student", "lab", command[0], "s")
    for row in summary["labs"]:
        table.add_row(row["student"], row["lab"], _state(row), f"{row['seconds']:.0f}")
    _finish(ui, summary, table)


@class_app.command("recover")
def class_recover(name: ClassArg, students: StudentsOpt = None, parallel: ParallelOpt = 8, output: OutputOpt = "text") -> None:
    """Undo any fault a killed class drill left in a student's lab."""
    _each(name, ["recover"], _students(students), parallel, output)


@class_app.command("reset")
def class_reset(
    name: ClassArg,
    student: Annotated[str, typer.Argument(metavar="STUDENT", help="Student id (the roster's student column).")],
    rebuild: Annotated[bool, typer.Option("--rebuild", help="Remove the student's lab and make it anew.")] = False,
    yes: YesOpt = False,
    output: OutputOpt = "text",
) -> None:
    """One student's lab back to the start: undo any drill's fault and redeploy the apps (--rebuild: a new lab)."""
    from labctl.classroom import manage
    from labctl.classroom.record import load

    try:
        ui = make_ui(output, yes=yes)
        record = load(name)
        lab = record.lab_of(record.student(student).id)
        if rebuild and not ui.confirm(f"remove lab {lab} of {student} and make it anew?"):
            raise typer.Exit(1)
        summary = manage.reset(record, student, rebuild, ui)
    except LabctlError as error:
        fail(error, output)
        return
    table = new_table("step", "lab", "state", "s")
    for row in summary["steps"]:
        table.add_row(row["step"], row["lab"], _state(row), f"{row['seconds']:.0f}")
    _finish(ui, summary, table)


@class_app.command("down")
def class_down(name: ClassArg, yes: YesOpt = False, parallel: ParallelOpt = 2, output: OutputOpt = "text") -> None:
    """Remove every lab of the class (their results are kept), then the class."""
    from labctl.classroom.record import load

    try:
        record = load(name)
        if not make_ui(output, yes=yes).confirm(f"remove the {len(record.students)} lab(s) of class {name}?"):
            raise typer.Exit(1)
    except LabctlError as error:
        fail(error, output)
        return
    _each(name, ["down"], None, parallel, output)


@class_app.command("access")
def class_access(
    name: ClassArg,
    student: Annotated[str, typer.Argument(help="Student id.")],
    output: OutputOpt = "text",
) -> None:
    """Where a student's lab is and their own credentials (kubeconfig, SSH key) for it."""
    from labctl.classroom import manage

    try:
        ui = make_ui(output)
        data = manage.access(name, student)
    except LabctlError as error:
        fail(error, output)
        return
    if ui.json:
        ui.emit_json(data)
        return
    ui.out.print(f"student [bold]{student}[/] {data['name']} · lab [bold]{data['lab']}[/]")
    ui.out.print(f"  export KUBECONFIG={data['kubeconfig']}")
    for node in data["nodes"]:
        ui.out.print(f"  {node['ssh']}   # {node['name']}")
    for app, url in data["apps"].items():
        ui.out.print(f"  {app}: {url}")


@class_app.command("cards")
def class_cards(
    name: ClassArg,
    out: Annotated[Path | None, typer.Option("--out", help="Directory for cards.html (default: the class's directory).")] = None,
    output: OutputOpt = "text",
) -> None:
    """Printable login cards: one page per student and a sheet for the whole class (HTML)."""
    from labctl.classroom import cards, manage
    from labctl.classroom.record import class_dir

    try:
        ui = make_ui(output)
        rows = manage.accesses(name)
        path = cards.write(name, rows, out or class_dir(name))
    except LabctlError as error:
        fail(error, output)
        return
    missing = [row["student"] for row in rows if "error" in row]
    summary = {"class": name, "cards": str(path), "students": len(rows), "without_access": missing}
    note = f" ({len(missing)} without access yet: {', '.join(missing)})" if missing else ""
    emit(ui, summary, f"login cards for class {name}: {path}{note}")


@class_app.command("predict")
def class_predict(
    name: ClassArg,
    drill_id: Annotated[str, typer.Argument(metavar="DRILL", help="The drill the guesses are for.")],
    values: Annotated[list[str] | None, typer.Argument(metavar="[NAME=SECONDS]...", help="e.g. time_to_detect=40.",
                                                       show_default=False)] = None,
    student: Annotated[str | None, typer.Option("--student", "-s", help="Whose guesses the NAME=SECONDS are.",
                                                show_default=False)] = None,
    file: Annotated[Path | None, typer.Option("--file", "-f", help="CSV: a 'student' column, then one column per duration.",
                                              show_default=False)] = None,
    output: OutputOpt = "text",
) -> None:
    """Record guesses of a drill's durations before it runs; the scoreboard sets them against what happens."""
    from labctl.classroom import predictions, record

    try:
        ui = make_ui(output)
        if (file is None) == (student is None):
            raise UsageError("give either --student ID with NAME=SECONDS guesses, or --file CSV for the whole class")
        if file is not None and values:
            raise UsageError("NAME=SECONDS guesses go with --student; a --file holds every student's own")
        the_class = record.load(name)
        if file is not None:
            by_student = predictions.read_csv(file, the_class, drill_id)
        else:
            assert student is not None
            by_student = {student: predictions.parse_pairs(drill_id, values or [])}
        made = predictions.add(the_class, drill_id, by_student)
    except LabctlError as error:
        fail(error, output)
        return
    summary = {"class": name, "drill": drill_id, "predictions": [{"student": p.student, "durations": p.durations} for p in made]}
    lines = [f"{p.student}: " + ", ".join(f"{k}={v:g}s" for k, v in p.durations.items()) for p in made]
    emit(ui, summary, f"class {name}, drill {drill_id}: recorded the guesses of {len(made)} student(s)\n  " + "\n  ".join(lines))


@class_app.command("report")
def class_report(
    name: ClassArg,
    out: Annotated[Path | None, typer.Option("--out", help="Directory for the files (default: the class's report/).",
                                             show_default=False)] = None,
    serve: Annotated[bool, typer.Option("--serve", help="Serve the scoreboard on localhost, fresh on every load, until Ctrl-C.")] = False,
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="Port for --serve (0: any free one).")] = 8480,
    output: OutputOpt = "text",
) -> None:
    """The class scoreboard, students × drills, with their guesses: HTML, CSV and JUnit (one testsuite per student)."""
    from labctl.classroom import record, scoreboard, scoreboard_files

    try:
        ui = make_ui(output)
        if serve:
            from labctl.classroom.serve import serve as serve_board

            serve_board(name, port, lambda url: ui.out.print(f"class {name} scoreboard at {url} (Ctrl-C stops)"))
            return
        board = scoreboard.build(record.load(name))
        paths = scoreboard_files.write(board, out or record.class_dir(name) / "report")
    except OSError as error:
        fail(UsageError(f"cannot serve on port {port}: {error.strerror}: pick another with --port"), output)
        return
    except LabctlError as error:
        fail(error, output)
        return
    rows = [{"student": r.student, "lab": r.lab, "rank": r.rank, "passed": r.passed, "drills": len(r.cells),
             "mean_score": r.mean_score, "prediction_error": r.prediction_error} for r in board.rows]
    summary = {"class": name, "files": {k: str(v) for k, v in paths.items()}, "drills": board.drills, "students": rows}
    emit(ui, summary, f"scoreboard of class {name} ({len(rows)} students, {len(board.drills)} drills):\n  "
         + "\n  ".join(str(p) for p in paths.values()))
