"""JUnit XML of drill results, in the Ant/Jenkins shape every CI system reads.

One <testsuite> ("labctl drills"; a class: one per student), one <testcase> per result. A failed drill
carries a <failure> listing each unmet expectation; an errored one an <error>
with the result's error. The timings and availability go to the testcase's
<system-out>, where CI systems show them beside the verdict.
"""

import re
import socket
import time
import xml.etree.ElementTree as ET
from typing import Any

from labctl.report import (
    NONE,
    duration_rows,
    duration_s,
    fmt_clock,
    fmt_offset,
    fmt_ratio,
    fmt_score,
    fmt_seconds,
    fmt_value,
    instant_rows,
    targets,
    unmet,
    verdict_reason,
)
from labctl.score import of as score_of
from labctl.score import suite as suite_score
from labctl.timestamps import parse_iso

SUITE_NAME = "labctl drills"
# Characters XML 1.0 cannot carry at all (escaping does not help): drill output may hold ANSI escapes.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _clean(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)


def _seconds(value: float | None) -> str:
    return f"{value or 0.0:.3f}"


def _suite_timestamp(results: list[dict[str, Any]]) -> str:
    # The JUnit XSD wants a date-time without zone: results are UTC, so the earliest start in UTC.
    starts = [t for t in (_parse(r.get("started")) for r in results) if t is not None]
    when = min(starts) if starts else time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(when))


def _yes(flag: object) -> str:
    return "yes" if flag else "no"


def _parse(instant: str | None) -> float | None:
    try:
        return parse_iso(instant)
    except ValueError:
        return None


def _failure_text(result: dict[str, Any]) -> str:
    lines = []
    for expectation in unmet(result):
        lines += [
            f"✗ {expectation.get('description', '?')}",
            f"    expected: {fmt_value(expectation.get('expected'))}",
            f"    observed: {fmt_value(expectation.get('observed'))}",
            f"    at:       {expectation.get('at') or NONE}",
        ]
    restore = result.get("restore") or {}
    if not restore.get("verified"):
        lines.append(f"✗ cluster verified healthy after restore (restore performed: {_yes(restore.get('performed'))})")
    return "\n".join(lines)


def _error_text(result: dict[str, Any]) -> str:
    lines = [str(result.get("error") or verdict_reason(result))]
    for phase in result.get("phases") or []:
        message = f": {phase['message']}" if phase.get("message") else ""
        lines.append(f"phase {phase.get('name')}: {phase.get('status')}{message}")
    return "\n".join(lines)


def summary_text(result: dict[str, Any]) -> str:
    """Timings, availability and restore of one result as plain text (the testcase's system-out)."""
    lines = [
        f"result {result.get('id')}: lab {result.get('lab')}, provider {result.get('provider')}, "
        f"kubernetes {result.get('kubernetes_version')}",
        f"verdict {result.get('verdict')} after {fmt_seconds(duration_s(result))} (started {result.get('started')})",
    ]
    instants = instant_rows(result)
    if instants:
        lines.append("instants: " + ", ".join(f"{name} {fmt_offset(off)} ({fmt_clock(at)})" for name, at, off in instants))
    for name, observed, expected in duration_rows(result):
        extra = f" (expected {fmt_seconds(expected)})" if expected is not None else ""
        lines.append(f"duration {name}: {fmt_seconds(observed)}{extra}")
    for target in targets(result):
        lines.append(
            f"availability {target.get('name')}: {fmt_ratio(target.get('success_ratio'))} of {target.get('samples', 0)} samples, "
            f"longest outage {fmt_seconds(target.get('longest_outage_s'))}"
        )
    restore = result.get("restore") or {}
    lines.append(f"restore performed: {_yes(restore.get('performed'))}, verified: {_yes(restore.get('verified'))}")
    card = score_of(result)
    lines.append(f"score {fmt_score(card['value'])}/100 ({card['formula']})" + (f": {card['gate']}" if card.get("gate") else ""))
    for c in card["components"]:
        lines.append(f"  {c['name']}: {c['value']:.2f} × weight {c['weight']:.2f} — {c['detail']}")
    return "\n".join(lines)


def to_junit(results: list[dict[str, Any]], hostname: str | None = None) -> str:
    """The JUnit XML document (UTF-8, with declaration) of RESULTS."""
    suite = testsuite(results, SUITE_NAME, hostname)
    ET.indent(suite)
    return _document(suite)


def to_junit_suites(suites: dict[str, list[dict[str, Any]]], hostname: str | None = None) -> str:
    """One <testsuite> per name (a class: one per student) under <testsuites>."""
    root = ET.Element("testsuites", {"name": SUITE_NAME})
    for name, results in suites.items():
        root.append(testsuite(results, name, hostname))
    ET.indent(root)
    return _document(root)


def _document(root: ET.Element) -> str:
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def testsuite(results: list[dict[str, Any]], name: str, hostname: str | None = None) -> ET.Element:
    """The <testsuite> NAME of RESULTS: one <testcase> per result."""
    # Anything but pass or fail (a result too broken to carry a verdict) counts as an error, never silently as a pass.
    verdicts = [r.get("verdict") if r.get("verdict") in ("pass", "fail") else "error" for r in results]
    times = [duration_s(r) or 0.0 for r in results]
    suite = ET.Element(
        "testsuite",
        {
            "name": _clean(name),
            "tests": str(len(results)),
            "failures": str(verdicts.count("fail")),
            "errors": str(verdicts.count("error")),
            "skipped": "0",
            "time": _seconds(sum(times)),
            "timestamp": _suite_timestamp(results),
            "hostname": _clean(hostname or socket.gethostname()),
        },
    )
    properties = ET.SubElement(suite, "properties")
    for key in ("lab", "provider", "kubernetes_version"):
        values = sorted({str(r.get(key)) for r in results if r.get(key) is not None})
        ET.SubElement(properties, "property", {"name": key, "value": _clean(", ".join(values))})
    # The Ant/Jenkins shape has no per-testcase properties: each drill's score is a suite property
    # named after the drill (its mean over the results, as the suite score counts it).
    scores = suite_score(results)
    if scores["value"] is not None:
        ET.SubElement(properties, "property", {"name": "score", "value": fmt_score(scores["value"])})
        ET.SubElement(properties, "property", {"name": "score.formula", "value": scores["formula"]})
    for drill, value in scores["per_drill"].items():
        ET.SubElement(properties, "property", {"name": _clean(f"score.{drill}"), "value": fmt_score(value)})
    for result, verdict, seconds in zip(results, verdicts, times, strict=True):
        case = ET.SubElement(
            suite,
            "testcase",
            {"classname": _clean(f"labctl.drill.{result.get('lab')}"), "name": _clean(str(result.get("drill"))), "time": _seconds(seconds)},
        )
        if verdict == "fail":
            failure = ET.SubElement(case, "failure", {"message": _clean(verdict_reason(result)), "type": "DrillFailed"})
            failure.text = _clean(_failure_text(result))
        elif verdict == "error":
            error = ET.SubElement(case, "error", {"message": _clean(verdict_reason(result)), "type": "DrillError"})
            error.text = _clean(_error_text(result))
        ET.SubElement(case, "system-out").text = _clean(summary_text(result))
    ET.SubElement(suite, "system-out")
    ET.SubElement(suite, "system-err")
    return suite
