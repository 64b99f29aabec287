"""The class scoreboard: students × drills, from each lab's latest result of each drill.

A cell holds the verdict, score and availability of the student's latest run of the drill, its key
durations, and what the student predicted for them before that run (with the error). Students are ranked
by how well they predicted: the mean of |observed − predicted| / observed over every predicted duration
(observed under a second counts as one second, so a near-zero observation cannot blow the error up).
"""

import time
from dataclasses import dataclass, field
from typing import Any

from labctl import drills, results, score
from labctl.classroom import predictions
from labctl.classroom.record import ClassRecord
from labctl.lab import Lab
from labctl.timestamps import parse_iso


@dataclass
class Timing:
    name: str
    observed: float | None
    predicted: float | None

    @property
    def error(self) -> float | None:
        """observed − predicted: positive when it took longer than the student thought."""
        if self.observed is None or self.predicted is None:
            return None
        return self.observed - self.predicted

    @property
    def relative_error(self) -> float | None:
        if self.error is None or self.observed is None:
            return None
        return abs(self.error) / max(self.observed, 1.0)


@dataclass
class Cell:
    drill: str
    verdict: str
    score: float | None
    availability: float | None
    result_id: str
    started: str
    seconds: float | None
    timings: list[Timing]


@dataclass
class Row:
    student: str
    name: str
    lab: str
    cells: dict[str, Cell] = field(default_factory=dict)
    rank: int | None = None
    results: list[dict[str, Any]] = field(default_factory=list)  # the latest result behind each cell, whole

    @property
    def mean_score(self) -> float | None:
        scores = [c.score for c in self.cells.values() if c.score is not None]
        return sum(scores) / len(scores) if scores else None

    @property
    def passed(self) -> int:
        return sum(1 for c in self.cells.values() if c.verdict == "pass")

    @property
    def prediction_error(self) -> float | None:
        errors = [t.relative_error for c in self.cells.values() for t in c.timings if t.relative_error is not None]
        return sum(errors) / len(errors) if errors else None


@dataclass
class Scoreboard:
    class_name: str
    generated: float
    drills: list[str]
    rows: list[Row]


def key_durations(drill: drills.Drill, predicted: set[str]) -> list[str]:
    """What a cell shows: the durations the catalog times, or the drill's last one, plus any predicted."""
    shown = list(drill.timed) or list(drill.durations[-1:])
    return shown + [d for d in drill.durations if d in predicted and d not in shown]


def _latest(lab: str) -> dict[str, dict[str, Any]]:
    """The lab's latest result of each drill (results sort by id, which starts with the start time)."""
    latest: dict[str, dict[str, Any]] = {}
    for result in results.load_all(Lab(lab).results_dir):
        if result.get("drill") in drills.BY_ID:
            latest[result["drill"]] = result
    return latest


def _cell(result: dict[str, Any], prediction: predictions.Prediction | None) -> Cell:
    drill = drills.BY_ID[result["drill"]]
    observed = (result.get("timings") or {}).get("durations_s") or {}
    guessed = prediction.durations if prediction else {}
    timings = [Timing(name, observed.get(name), guessed.get(name)) for name in key_durations(drill, set(guessed))]
    verdict = result.get("verdict") if result.get("verdict") in ("pass", "fail") else "error"
    return Cell(
        drill=drill.id,
        verdict=verdict,
        score=score.of(result)["value"],
        availability=results.availability_ratio(result),
        result_id=str(result.get("id", "")),
        started=str(result.get("started", "")),
        seconds=result.get("duration_s"),
        timings=timings,
    )


def build(record: ClassRecord, now: float | None = None) -> Scoreboard:
    guesses = predictions.load(record.name)
    rows: list[Row] = []
    seen: set[str] = set()
    for student in record.students:
        row = Row(student.id, student.name, record.lab_of(student.id))
        for drill_id, result in _latest(row.lab).items():
            started = parse_iso(result.get("started")) or 0.0
            row.cells[drill_id] = _cell(result, predictions.before(guesses, student.id, drill_id, started))
            row.results.append(result)
            seen.add(drill_id)
        rows.append(row)
    ranked = sorted((r for r in rows if r.prediction_error is not None), key=lambda r: r.prediction_error or 0.0)
    for place, row in enumerate(ranked, start=1):
        row.rank = place
    return Scoreboard(record.name, time.time() if now is None else now, [d for d in drills.SUITE_ORDER if d in seen], rows)
