"""Reports of drill results: JUnit XML for CI, a self-contained HTML page for people, and the terminal view.

The helpers here are the one place that decides how a value, a duration or a
verdict reason reads, so the three renderings never disagree. The renderers
are imported lazily: the CLI imports this package on every `labctl report`
and the terminal view must not pay for Jinja2.
"""

import json
from pathlib import Path
from typing import Any

from labctl import score
from labctl.atomic_file import write_atomic
from labctl.timestamps import parse_iso

VERDICTS = ("pass", "fail", "error")
NONE = "—"


def write_reports(results: list[dict[str, Any]], out_dir: Path) -> dict[str, Path]:
    """Write junit.xml and report.html for RESULTS into OUT_DIR; return their paths."""
    from labctl.report.html import to_html
    from labctl.report.junit import to_junit

    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"junit": out_dir / "junit.xml", "html": out_dir / "report.html"}
    write_atomic(paths["junit"], to_junit(results))
    write_atomic(paths["html"], to_html(results))
    return paths


def fmt_value(value: Any) -> str:
    """An expectation's expected/observed value as one readable line (they may be any JSON)."""
    if value is None:
        return NONE
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.3f}".rstrip("0").rstrip(".")
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "), sort_keys=False)


def fmt_seconds(seconds: float | None) -> str:
    if seconds is None:
        return NONE
    if abs(seconds) >= 100:
        return f"{seconds:.0f} s"
    return f"{seconds:.1f} s"


def fmt_offset(seconds: float | None) -> str:
    """Seconds since the drill started, signed so an instant reads as +12.4 s."""
    if seconds is None:
        return NONE
    return f"+{seconds:.1f} s" if seconds >= 0 else f"{seconds:.1f} s"


def fmt_ratio(ratio: float | None) -> str:
    if ratio is None:
        return NONE
    # 99.95 % must not read as 100 %: an outage that happened has to show.
    text = f"{ratio * 100:.1f}"
    if text == "100.0" and ratio < 1:
        text = "99.9"
    return f"{text} %"


def fmt_clock(instant: str | None) -> str:
    """The time of day (UTC) of an ISO instant, to the millisecond."""
    if not instant:
        return NONE
    return instant.split("T", 1)[-1].rstrip("Z")


def humanize(key: str) -> str:
    return key.replace("_", " ").strip()


def offset_s(result: dict[str, Any], instant: str | None) -> float | None:
    """Seconds from the drill's start to INSTANT (None when either is unknown or unparsable)."""
    try:
        start = parse_iso(result.get("started"))
        at = parse_iso(instant)
    except ValueError:
        return None
    if start is None or at is None:
        return None
    return at - start


def duration_s(result: dict[str, Any]) -> float | None:
    if isinstance(result.get("duration_s"), int | float):
        return float(result["duration_s"])
    return offset_s(result, result.get("ended"))


def unmet(result: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for e in result.get("expectations") or [] if not e.get("met")]


def expectation_counts(result: dict[str, Any]) -> tuple[int, int]:
    """(met, total)."""
    expectations = result.get("expectations") or []
    return sum(1 for e in expectations if e.get("met")), len(expectations)


def verdict_reason(result: dict[str, Any]) -> str:
    """Why a drill did not pass, in one line ('' when it passed)."""
    verdict = result.get("verdict")
    if verdict == "pass":
        return ""
    if verdict != "fail":  # error, or a result too broken to say
        if result.get("error"):
            return str(result["error"])
        if not result.get("expectations"):
            return "the drill recorded no expectations"
        return "the drill could not complete"
    reasons = []
    missed = unmet(result)
    if missed:
        total = len(result.get("expectations") or [])
        reasons.append(f"{len(missed)} of {total} expectations unmet: " + "; ".join(e.get("description", "?") for e in missed))
    if not (result.get("restore") or {}).get("verified"):
        reasons.append("the cluster was not verified healthy after restore")
    return "; ".join(reasons) or "verdict fail"


def duration_rows(result: dict[str, Any]) -> list[tuple[str, float | None, float | None]]:
    """(name, observed, expected) for every duration observed or expected, observed ones first."""
    timings = result.get("timings") or {}
    observed = timings.get("durations_s") or {}
    expected = timings.get("expected_s") or {}
    keys = list(observed) + [k for k in expected if k not in observed]
    return [(k, observed.get(k), expected.get(k)) for k in keys]


def instant_rows(result: dict[str, Any]) -> list[tuple[str, str | None, float | None]]:
    """(name, ISO instant, seconds since start), in time order; unknown instants last."""
    instants = (result.get("timings") or {}).get("instants") or {}
    rows = [(name, at, offset_s(result, at)) for name, at in instants.items()]
    return sorted(rows, key=lambda row: (row[2] is None, row[2] or 0.0))


def targets(result: dict[str, Any]) -> list[dict[str, Any]]:
    return list((result.get("availability") or {}).get("targets") or [])


def fmt_score(value: float | None) -> str:
    return NONE if value is None else f"{value:.1f}"


def score_rows(result: dict[str, Any]) -> list[dict[str, Any]]:
    """The score's components as rows: name, weight, value, the points they add (of 100), detail."""
    return [
        {
            "name": c["name"],
            "weight": f"{c['weight']:.2f}",
            "value": f"{c['value']:.2f}",
            "points": f"{100 * c['weight'] * c['value']:.1f}",
            "detail": c["detail"],
            "scored": c["weight"] > 0,
        }
        for c in score.of(result)["components"]
    ]
