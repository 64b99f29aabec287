"""Predict, then observe: what each student guessed a drill's durations would be, before it ran.

Predictions are kept with the time they were made. The scoreboard compares a drill's result only with
the prediction the student made before that drill started: a guess written after the fact never counts.
"""

import csv
import io
import json
import re
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from labctl import drills
from labctl.atomic_file import write_atomic
from labctl.classroom.record import ClassRecord, class_dir
from labctl.errors import UsageError

VALUE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*s?\s*$")


@dataclass(frozen=True)
class Prediction:
    student: str
    drill: str
    durations: dict[str, float]
    at: float


def _path(class_name: str) -> Path:
    return class_dir(class_name) / "predictions.json"


def _seconds(text: str, where: str) -> float:
    match = VALUE.match(text)
    if not match:
        raise UsageError(f"{where}: '{text}' is not a number of seconds: write e.g. 40 or 40s")
    return float(match.group(1))


def _check_duration(drill: drills.Drill, name: str, where: str) -> None:
    if name not in drill.durations:
        known = ", ".join(drill.durations) or "none"
        raise UsageError(f"{where}: drill {drill.id} reports no duration '{name}': it reports {known}")


def parse_pairs(drill_id: str, pairs: list[str]) -> dict[str, float]:
    """NAME=SECONDS pairs of the command line, checked against what DRILL reports."""
    drill = drills.get(drill_id)
    if not drill.durations:
        raise UsageError(f"drill {drill.id} reports no duration to predict: pick a drill `labctl drill --list` shows timings for")
    if not pairs:
        raise UsageError(f"give at least one prediction NAME=SECONDS: drill {drill.id} reports {', '.join(drill.durations)}")
    values: dict[str, float] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep:
            raise UsageError(f"prediction '{pair}' is not NAME=SECONDS: write e.g. {drill.durations[0]}=40")
        name = name.strip()
        _check_duration(drill, name, f"prediction '{pair}'")
        values[name] = _seconds(value, f"prediction '{pair}'")
    return values


def read_csv(path: Path, record: ClassRecord, drill_id: str) -> dict[str, dict[str, float]]:
    """A predictions CSV: a 'student' column, then one column per duration of DRILL; empty cells are no guess."""
    drill = drills.get(drill_id)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (FileNotFoundError, IsADirectoryError):
        raise UsageError(f"predictions file {path} is not a file: pass --file with a CSV of predictions") from None
    reader = csv.DictReader(io.StringIO(text))
    columns = [c.strip() for c in reader.fieldnames or []]
    if "student" not in columns:
        raise UsageError(f"predictions file {path} has no 'student' column: name it in the first line, then one column per duration")
    for column in columns:
        if column != "student":
            _check_duration(drill, column, f"predictions file {path} column '{column}'")
    known = {s.id for s in record.students}
    found: dict[str, dict[str, float]] = {}
    for line, row in enumerate(reader, start=2):
        clean = {(k or "").strip(): (v or "").strip() for k, v in row.items()}
        student = clean.get("student", "").lower()
        if not student:
            continue
        if student not in known:
            raise UsageError(f"predictions file {path} line {line}: class {record.name} has no student '{student}'")
        if student in found:
            raise UsageError(f"predictions file {path} line {line}: student '{student}' is listed twice: keep one line per student")
        values = {name: _seconds(value, f"predictions file {path} line {line}") for name, value in clean.items()
                  if name != "student" and value}
        if values:
            found[student] = values
    if not found:
        raise UsageError(f"predictions file {path} holds no prediction: one line per student, seconds under each duration")
    return found


def load(class_name: str) -> list[Prediction]:
    try:
        data: list[dict[str, Any]] = json.loads(_path(class_name).read_text())
    except FileNotFoundError:
        return []
    return [Prediction(d["student"], d["drill"], {k: float(v) for k, v in d["durations"].items()}, float(d["at"])) for d in data]


def add(record: ClassRecord, drill_id: str, by_student: dict[str, dict[str, float]], at: float | None = None) -> list[Prediction]:
    """Record BY_STUDENT's predictions for DRILL, made now; earlier ones are kept (they belong to earlier runs)."""
    for student in by_student:
        record.student(student)
    made = time.time() if at is None else at
    new = [Prediction(student, drill_id, values, made) for student, values in by_student.items()]
    everything = load(record.name) + new
    write_atomic(_path(record.name), json.dumps([asdict(p) for p in everything], indent=2) + "\n", mode=0o600)
    return new


def before(predictions: list[Prediction], student: str, drill_id: str, started: float) -> Prediction | None:
    """The student's last prediction for the drill made before STARTED."""
    earlier = [p for p in predictions if p.student == student and p.drill == drill_id and p.at <= started]
    return max(earlier, key=lambda p: p.at) if earlier else None
