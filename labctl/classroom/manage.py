"""What each `labctl class` command does across the class's labs."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

from labctl import results
from labctl.classroom import fanout
from labctl.classroom.board import Board
from labctl.classroom.record import ClassRecord, exists, load
from labctl.classroom.roster import read_roster, validate_class_name
from labctl.errors import UsageError
from labctl.lab import Lab
from labctl.ui import Ui


def _fan(record: ClassRecord, students: list[str], args: list[str] | Callable[[str], list[str]], parallel: int, ui: Ui,
         title: str) -> list[fanout.Outcome]:
    """ARGS (or ARGS(student)) as a labctl command on each student's lab."""
    labs = {s: record.lab_of(s) for s in students}
    jobs = [fanout.Job(s, lab, (*(args(s) if callable(args) else args), "--lab", lab)) for s, lab in labs.items()]
    return fanout.run(jobs, parallel, record.logs_dir, Board(ui.err, title, labs))


def _rows(outcomes: list[fanout.Outcome]) -> list[dict[str, Any]]:
    return [{"student": o.student, "lab": o.lab, "ok": o.exit_code == 0, "exit_code": o.exit_code,
             "seconds": round(o.seconds, 1), "error": o.error, "log": str(o.log)} for o in outcomes]


def up(name: str, roster: Path, provider: str | None, up_args: list[str], parallel: int, prune: bool, ui: Ui) -> dict[str, Any]:
    """Make (or keep) one lab per roster student; report students no longer on the roster, remove them with PRUNE."""
    validate_class_name(name)
    students = read_roster(roster, name)
    if exists(name):
        record = load(name)
        if provider and provider != record.provider:
            raise UsageError(
                f"class {name} runs on {record.provider}, not {provider}: leave the provider out or `labctl class down {name}` first"
            )
        if up_args and up_args != record.up_args:
            raise UsageError(
                f"class {name} was made with `{' '.join(record.up_args) or 'the defaults'}`: "
                f"leave the options out (or `labctl class down {name}` and make it anew)"
            )
    else:
        record = ClassRecord(name, provider or "local", up_args)
    on_roster = {s.id for s in students}
    gone = [s.id for s in record.students if s.id not in on_roster]
    # Recorded before any lab is made: `class down` then finds every lab a killed `class up` started.
    record.students = students + [s for s in record.students if s.id in gone]
    record.save()
    outcomes = _fan(record, [s.id for s in students], ["up", record.provider, "--yes", *record.up_args], parallel, ui, f"class {name}: up")
    # Each student's own identity in their lab: a certificate RBAC binds, a kubeconfig, an SSH key.
    ready = [o.student for o in outcomes if o.exit_code == 0]
    refused = {o.student: o for o in _fan(record, ready, lambda s: ["user", "add", s], parallel, ui, f"class {name}: access")
               if o.exit_code != 0}
    outcomes = [refused.get(o.student, o) for o in outcomes]
    pruned: list[fanout.Outcome] = []
    if prune and gone:
        pruned = _fan(record, gone, ["down", "--yes"], parallel, ui, f"class {name}: prune")
        removed = {o.student for o in pruned if o.exit_code == 0}
        record.students = [s for s in record.students if s.id not in removed]
        record.save()
    changed = {o.student: (o.data or {}).get("changed") for o in outcomes if isinstance(o.data, dict)}
    labs = [{**row, "changed": changed.get(row["student"])} for row in _rows(outcomes)]
    return {"class": name, "provider": record.provider, "labs": labs, "not_on_roster": [] if prune else gone,
            "pruned": _rows(pruned), "exit_code": fanout.worst_exit(outcomes + pruned)}


def _selected(record: ClassRecord, students: list[str] | None) -> list[str]:
    if not students:
        return [s.id for s in record.students]
    return [record.student(s).id for s in students]


def drill(name: str, drill_id: str, students: list[str] | None, parallel: int, ui: Ui) -> dict[str, Any]:
    """The same drill on every (or the named) student's lab at once."""
    from labctl import drills

    drills.resolve([drill_id])
    record = load(name)
    outcomes = _fan(record, _selected(record, students), ["drill", drill_id], parallel, ui, f"class {name}: drill {drill_id}")
    labs = []
    for row, outcome in zip(_rows(outcomes), outcomes, strict=True):
        result = outcome.data if isinstance(outcome.data, dict) and "verdict" in outcome.data else {}
        labs.append({**row, "verdict": result.get("verdict", "error"), "result_id": result.get("id"),
                     "availability": results.availability_ratio(result), "score": (result.get("score") or {}).get("value")})
    return {"class": name, "drill": drill_id, "labs": labs, "exit_code": fanout.worst_exit(outcomes)}


def each(name: str, command: list[str], students: list[str] | None, parallel: int, ui: Ui) -> dict[str, Any]:
    """COMMAND (`recover`, `down --yes`, `status`...) on every (or the named) student's lab."""
    record = load(name)
    outcomes = _fan(record, _selected(record, students), command, parallel, ui, f"class {name}: {command[0]}")
    return {"class": name, "command": command[0], "labs": _rows(outcomes), "data": {o.student: o.data for o in outcomes},
            "exit_code": fanout.worst_exit(outcomes)}


def reset(record: ClassRecord, student: str, rebuild: bool, ui: Ui) -> dict[str, Any]:
    """STUDENT's lab back to the class's starting point: any fault undone and the apps as deployed; with REBUILD,
    the lab removed and made anew (with the student's identity), as `class up` makes it. Stops at the first failed step."""
    name = record.name
    sid = record.student(student).id
    if rebuild:
        steps = [["down", "--yes"], ["up", record.provider, "--yes", *record.up_args], ["user", "add", sid]]
    else:
        steps = [["recover"], ["deploy"]]
    outcomes: list[fanout.Outcome] = []
    for step in steps:
        outcomes += _fan(record, [sid], step, 1, ui, f"class {name}: reset {sid}: {step[0]}")
        if outcomes[-1].exit_code != 0:
            break
    return {"class": name, "student": sid, "lab": record.lab_of(sid), "rebuild": rebuild,
            "steps": [{"step": step[0], **row} for step, row in zip(steps, _rows(outcomes), strict=False)],
            "exit_code": fanout.worst_exit(outcomes)}


def down(name: str, parallel: int, ui: Ui) -> dict[str, Any]:
    summary = each(name, ["down", "--yes"], None, parallel, ui)
    if summary["exit_code"] == 0:
        load(name).delete()
    return summary


def status(name: str, parallel: int, ui: Ui) -> dict[str, Any]:
    """Per student: nodes Ready, apps available, the last drill and its verdict."""
    record = load(name)
    checked = each(name, ["status"], None, parallel, ui)
    rows = []
    for row in checked["labs"]:
        data = checked["data"].get(row["student"]) or {}
        nodes = data.get("nodes") or []
        apps = data.get("apps") or []
        lab = Lab(row["lab"])
        last = results.load_all(lab.results_dir)[-1:] if lab.exists() else []
        rows.append({
            "student": row["student"], "name": record.student(row["student"]).name, "lab": row["lab"],
            "phase": data.get("phase", "missing" if not lab.exists() else "unknown"),
            "nodes_ready": sum(1 for n in nodes if n.get("ready")), "nodes": len(nodes),
            "apps_available": sum(1 for a in apps if a.get("available", 0) >= a.get("desired", 1) > 0), "apps": len(apps),
            "last_drill": last[0].get("drill") if last else None, "last_verdict": last[0].get("verdict") if last else None,
            "error": row["error"],
        })
    return {"class": name, "provider": record.provider, "labs": rows, "exit_code": 0}


def access(name: str, student: str) -> dict[str, Any]:
    """Where STUDENT's lab is and their own credentials for it."""
    from labctl import users
    from labctl.inventory import load_inventory

    record = load(name)
    lab = Lab(record.lab_of(record.student(student).id)).require()
    config = lab.load_config()
    inventory = load_inventory(lab.inventory_path)
    first = inventory.nodes[0].ansible_host if inventory.nodes else ""
    apps = {app: f"http://{first}:{getattr(config.apps, app).node_port}/" for app in ("nginx", "guestbook")
            if getattr(config.apps, app).enabled}
    return {"class": name, "student": student, "name": record.student(student).name, **users.access(lab, student), "apps": apps}


def accesses(name: str) -> list[dict[str, Any]]:
    """Every student's access whose lab and credentials exist; the others with the reason."""
    rows = []
    for student in load(name).students:
        try:
            rows.append(access(name, student.id))
        except UsageError as error:
            rows.append({"class": name, "student": student.id, "name": student.name, "error": str(error)})
    return rows
