"""The HTML report: one self-contained file (inline CSS and SVG, no script, nothing fetched).

Labs run offline and reports get mailed around, so the page must render from
the file alone. Results hold user-controlled text (drill output, error
messages): the template autoescapes, and the SVG built here escapes every
string it writes.
"""

import statistics
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from html import escape
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from labctl.report import (
    NONE,
    VERDICTS,
    duration_rows,
    duration_s,
    expectation_counts,
    fmt_clock,
    fmt_offset,
    fmt_ratio,
    fmt_score,
    fmt_seconds,
    fmt_value,
    humanize,
    instant_rows,
    offset_s,
    score_rows,
    targets,
    verdict_reason,
)
from labctl.score import of as score_of
from labctl.score import suite as suite_score
from labctl.timestamps import iso

TEMPLATES = Path(__file__).parent / "templates"

# Chart geometry, in SVG user units (the SVG scales to the page width).
WIDTH = 1120
LEFT = 170
RIGHT = 28
LABEL_ROW = 15
PHASE_H = 16
LANE_H = 26
LANE_GAP = 8
AXIS_H = 26
CHAR_W = 6.1  # average glyph width of the 11px label font, to keep marker labels from overlapping
TICK_STEPS = (1, 2, 5, 10, 15, 20, 30, 60, 120, 300, 600, 1200, 1800, 3600)

PHASE_COLOURS = {"preflight": "#adb5bd", "inject": "#f08c00", "observe": "#9775fa", "restore": "#22b8cf", "verify": "#74c0fc"}
MARKER_COLOURS = (
    ("inject", "#c92a2a"),
    ("detect", "#e67700"),
    ("evict", "#7048e8"),
    ("restor", "#0c8599"),
    ("recover", "#2b8a3e"),
    ("ready", "#1971c2"),
    ("schedul", "#1971c2"),
)
UP, DOWN = "#40c057", "#e03131"


@cache
@cache
def template(name: str) -> jinja2.Template:
    """One of labctl's page templates: HTML-escaped, strict about undefined names."""
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return environment.get_template(name)


def to_html(results: list[dict[str, Any]], generated: float | None = None) -> str:
    """The whole report page for RESULTS, in their order."""
    drills = [_drill_view(index, result) for index, result in enumerate(results)]
    counts = {verdict: sum(1 for r in results if r.get("verdict") == verdict) for verdict in VERDICTS}
    context = {
        "generated": iso(generated if generated is not None else time.time()),
        "drills": drills,
        "counts": counts,
        "total_duration": fmt_seconds(sum(duration_s(r) or 0.0 for r in results)),
        "labs": _distinct(results, "lab"),
        "providers": _distinct(results, "provider"),
        "versions": _distinct(results, "kubernetes_version"),
        "suite": {**suite_score(results), "shown": fmt_score(suite_score(results)["value"])},
    }
    return template("report.html.j2").render(context)


def _distinct(results: list[dict[str, Any]], key: str) -> str:
    return ", ".join(sorted({str(r[key]) for r in results if r.get(key) is not None})) or NONE


def _anchor(index: int, result: dict[str, Any]) -> str:
    slug = "".join(c if c.isalnum() or c == "-" else "-" for c in str(result.get("drill", "drill")).lower())
    return f"d{index}-{slug}"


def _drill_view(index: int, result: dict[str, Any]) -> dict[str, Any]:
    met, total = expectation_counts(result)
    availability = result.get("availability") or {}
    restore = result.get("restore") or {}
    return {
        "anchor": _anchor(index, result),
        "id": str(result.get("id", "")),
        "drill": str(result.get("drill", "?")),
        "verdict": str(result.get("verdict", "error")),
        "reason": verdict_reason(result),
        "error": result.get("error"),
        "lab": result.get("lab", NONE),
        "provider": result.get("provider", NONE),
        "kubernetes_version": result.get("kubernetes_version", NONE),
        "started": result.get("started") or NONE,
        "started_clock": fmt_clock(result.get("started")),
        "duration": fmt_seconds(duration_s(result)),
        "met": met,
        "total": total,
        "availability": fmt_ratio(availability.get("success_ratio")) if availability.get("samples") else NONE,
        "longest_outage": fmt_seconds(availability.get("longest_outage_s")) if availability.get("samples") else NONE,
        "outage": bool(availability.get("longest_outage_s")),
        "restore_performed": bool(restore.get("performed")),
        "restore_verified": bool(restore.get("verified")),
        "expectations": [_expectation_view(result, e) for e in result.get("expectations") or []],
        "instants": [{"name": humanize(n), "clock": fmt_clock(at), "offset": fmt_offset(off)} for n, at, off in instant_rows(result)],
        "durations": [_duration_view(n, o, e) for n, o, e in duration_rows(result)],
        "phases": [_phase_view(result, p) for p in result.get("phases") or []],
        "targets": [_target_view(t) for t in targets(result)],
        "events": [
            {"offset": fmt_offset(offset_s(result, e.get("at"))), "kind": e.get("kind", ""), "message": e.get("message", "")}
            for e in result.get("events") or []
        ],
        "chart": timeline_svg(result),
        "score": _score_view(result),
    }


def _score_view(result: dict[str, Any]) -> dict[str, Any]:
    card = score_of(result)
    value = card["value"]
    return {
        "value": fmt_score(value),
        "band": "good" if value >= 90 else ("fair" if value >= 60 else "poor"),
        "gate": card.get("gate") or "",
        "formula": card["formula"],
        "rows": score_rows(result),
    }


def _expectation_view(result: dict[str, Any], expectation: dict[str, Any]) -> dict[str, Any]:
    return {
        "met": bool(expectation.get("met")),
        "description": str(expectation.get("description", "")),
        "phase": expectation.get("phase") or "",
        "expected": fmt_value(expectation.get("expected")),
        "observed": fmt_value(expectation.get("observed")),
        "offset": fmt_offset(offset_s(result, expectation.get("at"))),
        "clock": fmt_clock(expectation.get("at")),
    }


def _duration_view(name: str, observed: float | None, expected: float | None) -> dict[str, Any]:
    delta = observed - expected if observed is not None and expected is not None else None
    return {
        "name": humanize(name),
        "observed": fmt_seconds(observed),
        "expected": fmt_seconds(expected),
        "delta": (f"+{delta:.1f} s" if delta >= 0 else f"{delta:.1f} s") if delta is not None else "",
        "late": delta is not None and delta > 0,
    }


def _phase_view(result: dict[str, Any], phase: dict[str, Any]) -> dict[str, Any]:
    start, end = offset_s(result, phase.get("started")), offset_s(result, phase.get("ended"))
    return {
        "name": phase.get("name", "?"),
        "status": phase.get("status", "?"),
        "start": fmt_offset(start),
        "duration": fmt_seconds(end - start) if start is not None and end is not None else NONE,
        "message": phase.get("message") or "",
    }


def _target_view(target: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": str(target.get("name", "?")),
        "url": str(target.get("url", "")),
        "samples": target.get("samples", 0),
        "successes": target.get("successes", 0),
        "ratio": fmt_ratio(target.get("success_ratio")),
        "longest_outage": fmt_seconds(target.get("longest_outage_s")),
        "outage": bool(target.get("longest_outage_s")),
    }


# --- the availability timeline chart --------------------------------------------------


@dataclass
class _Run:
    """Consecutive samples of one target with the same outcome, drawn as one cell."""

    ok: bool
    start: float
    end: float
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    count: int = 0


def _runs(timeline: Iterable[list[Any]], interval: float) -> list[_Run]:
    runs: list[_Run] = []
    for sample in sorted(timeline, key=lambda s: s[0]):
        t, ok, latency, error = float(sample[0]), bool(sample[1]), sample[2], sample[3]
        last = runs[-1] if runs else None
        # A gap longer than half an interval is a missing sample: start a new cell so the gap shows.
        if last is None or last.ok != ok or t > last.end + interval / 2:
            last = _Run(ok, t, t)
            runs.append(last)
        # A sample lasts its interval, or until its answer came when that took longer (the probe starts
        # the next one then): at 0.2 s a slow healthy answer must not read as a missing sample.
        last.end = t + max(interval, (latency or 0.0) / 1000)
        last.count += 1
        if latency is not None:
            last.latencies.append(float(latency))
        if error and error not in last.errors:
            last.errors.append(str(error))
    return runs


def _run_title(name: str, run: _Run) -> str:
    span = f"{run.start:.0f}–{run.end:.0f} s, {run.count} sample{'s' if run.count != 1 else ''}"
    if run.ok:
        latency = f", median {statistics.median(run.latencies):.0f} ms" if run.latencies else ""
        return f"{name}: up {span}{latency}"
    errors = "; ".join(run.errors[:3]) + (" …" if len(run.errors) > 3 else "")
    return f"{name}: DOWN {span}" + (f" — {errors}" if errors else "")


def _tick_step(end: float) -> int:
    return next((step for step in TICK_STEPS if end / step <= 12), TICK_STEPS[-1])


def _marker_colour(name: str) -> str:
    return next((colour for key, colour in MARKER_COLOURS if key in name), "#495057")


def _attr(value: object) -> str:
    return escape(str(value), quote=True)


def _stagger(labels: list[tuple[float, float]]) -> list[int]:
    """Row for each (x, width) label so that labels in a row never overlap; labels sorted by x."""
    row_ends: list[float] = []
    rows = []
    for x, width in labels:
        row = next((i for i, end in enumerate(row_ends) if x > end + 6), len(row_ends))
        if row == len(row_ends):
            row_ends.append(x + width)
        else:
            row_ends[row] = x + width
        rows.append(row)
    return rows


def timeline_svg(result: dict[str, Any]) -> Markup:
    """Availability per target over seconds since the drill started, with phases and instant markers."""
    availability = result.get("availability") or {}
    interval = float(availability.get("interval_s") or 1.0)
    lanes = targets(result)
    instants = [(name, off) for name, _at, off in instant_rows(result) if off is not None]
    phases = [
        (p.get("name", "?"), p.get("status", "?"), offset_s(result, p.get("started")), offset_s(result, p.get("ended")))
        for p in result.get("phases") or []
    ]
    ends = [duration_s(result) or 0.0, *(off for _n, off in instants), *(e for *_x, e in phases if e is not None)]
    ends += [float(s[0]) + interval for t in lanes for s in t.get("timeline") or []]
    end = max(max(ends), 1.0)
    plot_w = WIDTH - LEFT - RIGHT

    def x(t: float) -> float:
        return LEFT + max(0.0, min(t, end)) / end * plot_w

    # Marker labels sit above the plot, staggered into rows; a label near the right edge is right-aligned.
    labels = [f"{humanize(name)} {fmt_offset(off)}" for name, off in instants]
    widths = [len(label) * CHAR_W for label in labels]
    anchors_end = [x(off) + w > WIDTH - 4 for (_n, off), w in zip(instants, widths, strict=True)]
    rows = _stagger([(x(off) - (w if right else 0), w) for (_n, off), w, right in zip(instants, widths, anchors_end, strict=True)])
    label_rows = (max(rows) + 1) if rows else 0
    phase_y = 6 + label_rows * LABEL_ROW + 4
    lanes_y = phase_y + PHASE_H + 8
    plot_bottom = lanes_y + max(len(lanes), 1) * (LANE_H + LANE_GAP) - LANE_GAP
    height = plot_bottom + AXIS_H
    parts = [
        f'<svg class="timeline" viewBox="0 0 {WIDTH} {height}" width="100%" role="img" '
        f'aria-label="{_attr("availability timeline of " + str(result.get("drill", "")))}">'
    ]
    # Grid and axis first, so cells and markers draw over them.
    step = _tick_step(end)
    tick = 0
    while tick <= end + 1e-9:
        parts.append(f'<line class="grid" x1="{x(tick):.1f}" y1="{phase_y}" x2="{x(tick):.1f}" y2="{plot_bottom}"/>')
        parts.append(f'<text class="tick" x="{x(tick):.1f}" y="{plot_bottom + 16}" text-anchor="middle">{tick} s</text>')
        tick += step
    parts.append(f'<text class="axis-label" x="{LEFT - 10}" y="{plot_bottom + 16}" text-anchor="end">since start</text>')
    # Phases band.
    parts.append(f'<text class="lane-label" x="{LEFT - 10}" y="{phase_y + PHASE_H - 4}" text-anchor="end">phases</text>')
    for name, status, start, stop in phases:
        if start is None or stop is None:
            continue
        width = max(x(stop) - x(start), 1.0)
        colour = PHASE_COLOURS.get(name, "#ced4da")
        outline = ' stroke="#c92a2a" stroke-width="2"' if status == "failed" else ""
        parts.append(
            f'<rect class="phase" x="{x(start):.1f}" y="{phase_y}" width="{width:.1f}" height="{PHASE_H}" rx="2" fill="{colour}"{outline}>'
            f"<title>{_attr(f'{name}: {status}, {fmt_offset(start)} to {fmt_offset(stop)}')}</title></rect>"
        )
        if width > len(name) * CHAR_W + 6:
            parts.append(
                f'<text class="phase-label" x="{x(start) + width / 2:.1f}" y="{phase_y + PHASE_H - 4}" text-anchor="middle">'
                f"{_attr(name)}</text>"
            )
    # One lane per target.
    if not lanes:
        parts.append(
            f'<text class="empty" x="{LEFT + plot_w / 2}" y="{lanes_y + LANE_H - 6}" text-anchor="middle">no availability samples</text>'
        )
    for index, target in enumerate(lanes):
        y = lanes_y + index * (LANE_H + LANE_GAP)
        name = str(target.get("name", "?"))
        short = name if len(name) <= 24 else name[:23] + "…"
        parts.append(
            f'<text class="lane-label" x="{LEFT - 10}" y="{y + 11}" text-anchor="end">{_attr(short)}<title>{_attr(name)}</title></text>'
        )
        parts.append(
            f'<text class="lane-ratio" x="{LEFT - 10}" y="{y + 23}" text-anchor="end">'
            f"{_attr(fmt_ratio(target.get('success_ratio')))} up</text>"
        )
        parts.append(f'<rect class="lane" x="{LEFT}" y="{y}" width="{plot_w}" height="{LANE_H}"/>')
        for run in _runs(target.get("timeline") or [], interval):
            # A one-second outage must stay visible on a long drill.
            width = max(x(run.end) - x(run.start), 1.0 if run.ok else 2.5)
            parts.append(
                f'<rect class="cell {"up" if run.ok else "down"}" x="{x(run.start):.1f}" y="{y}" width="{width:.1f}" height="{LANE_H}" '
                f'fill="{UP if run.ok else DOWN}"><title>{_attr(_run_title(name, run))}</title></rect>'
            )
    # Instant markers over everything, labels above the plot.
    for (name, off), label, row, right in zip(instants, labels, rows, anchors_end, strict=True):
        colour = _marker_colour(name)
        mx = x(off)
        label_y = 6 + row * LABEL_ROW + 11
        parts.append(
            f'<g class="marker" data-instant="{_attr(name)}"><title>{_attr(f"{humanize(name)} at {fmt_offset(off)}")}</title>'
            f'<line x1="{mx:.1f}" y1="{label_y + 3}" x2="{mx:.1f}" y2="{plot_bottom}" stroke="{colour}"/>'
            f'<text x="{mx + (-3 if right else 3):.1f}" y="{label_y}" style="fill:{colour}" text-anchor="{"end" if right else "start"}">'
            f"{_attr(label)}</text></g>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))
