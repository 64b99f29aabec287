"""The scoreboard as files: a self-contained HTML page for the projector, CSV for a spreadsheet, JUnit for CI."""

import csv
import io
from pathlib import Path
from typing import Any

from labctl.atomic_file import write_atomic
from labctl.classroom.scoreboard import Cell, Scoreboard, Timing
from labctl.report import fmt_ratio, fmt_score, fmt_seconds, humanize
from labctl.report.html import template
from labctl.report.junit import to_junit_suites
from labctl.timestamps import iso

CSV_COLUMNS = ("class", "student", "name", "lab", "drill", "verdict", "score", "availability_pct", "result_id", "started",
               "duration", "observed_s", "predicted_s", "error_s")


def _number(value: float | None, digits: int = 1) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def to_csv(board: Scoreboard) -> str:
    """One line per student, drill and shown duration (a drill without one still gets its line)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in board.rows:
        for drill in board.drills:
            cell = row.cells.get(drill)
            if cell is None:
                continue
            head = [board.class_name, row.student, row.name, row.lab, drill, cell.verdict, _number(cell.score),
                    _number(None if cell.availability is None else cell.availability * 100, 2), cell.result_id, cell.started]
            for timing in cell.timings or [Timing("", None, None)]:
                writer.writerow([*head, timing.name, _number(timing.observed), _number(timing.predicted), _number(timing.error)])
    return out.getvalue()


def _error_text(timing: Timing) -> str:
    if timing.error is None:
        return ""
    return f"{timing.error:+.1f} s"


def _accuracy_class(timing: Timing) -> str:
    """Colour of a prediction: within 25 % of the observation, within 100 %, or further off."""
    if timing.relative_error is None:
        return ""
    return "near" if timing.relative_error <= 0.25 else "off" if timing.relative_error <= 1.0 else "far"


def _cell_view(cell: Cell | None) -> dict[str, Any] | None:
    if cell is None:
        return None
    return {
        "verdict": cell.verdict,
        "score": fmt_score(cell.score),
        "availability": fmt_ratio(cell.availability),
        "result_id": cell.result_id,
        "timings": [{"name": humanize(t.name), "observed": fmt_seconds(t.observed),
                     "predicted": fmt_seconds(t.predicted) if t.predicted is not None else "",
                     "error": _error_text(t), "accuracy": _accuracy_class(t)} for t in cell.timings],
    }


def to_html(board: Scoreboard, refresh_s: int | None = None) -> str:
    """The page; REFRESH_S makes the browser reload it (the served scoreboard)."""
    rows = [{"student": r.student, "name": r.name, "lab": r.lab, "rank": r.rank, "passed": r.passed,
             "drills": len(r.cells), "mean_score": fmt_score(r.mean_score),
             "prediction_error": "" if r.prediction_error is None else f"{r.prediction_error * 100:.0f} %",
             "cells": [_cell_view(r.cells.get(d)) for d in board.drills]}
            for r in sorted(board.rows, key=lambda r: (r.rank is None, r.rank or 0, r.student))]
    verdicts = [c.verdict for r in board.rows for c in r.cells.values()]
    return template("scoreboard.html.j2").render(
        class_name=board.class_name, generated=iso(board.generated), drills=board.drills, rows=rows, refresh_s=refresh_s,
        counts={v: verdicts.count(v) for v in ("pass", "fail", "error")},
        ranked=any(r.rank is not None for r in board.rows),
    )


def to_junit(board: Scoreboard) -> str:
    order = {drill: index for index, drill in enumerate(board.drills)}
    return to_junit_suites({f"labctl class {board.class_name}: {row.student}": sorted(row.results, key=lambda r: order[r["drill"]])
                            for row in board.rows})


def write(board: Scoreboard, out_dir: Path) -> dict[str, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"html": out_dir / "scoreboard.html", "csv": out_dir / "scoreboard.csv", "junit": out_dir / "junit.xml"}
    write_atomic(paths["html"], to_html(board))
    write_atomic(paths["csv"], to_csv(board))
    write_atomic(paths["junit"], to_junit(board))
    return paths
