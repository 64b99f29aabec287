"""Drill results: the versioned JSON document (labctl.drill-result/v1), stored per lab.

A result is assembled from two sources that know nothing of each other: what
the drill role reported through set_stats (phases, expectations, timings,
events) and what the availability probe measured. The verdict is derived
here, in one place, from both.
"""

import json
import time
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

from labctl import score
from labctl.atomic_file import write_atomic
from labctl.errors import UsageError
from labctl.paths import SCHEMAS_DIR
from labctl.probe import first_failure
from labctl.timestamps import iso

SCHEMA_ID = "labctl.drill-result/v1"
PHASES = ("preflight", "inject", "observe", "restore", "verify")


@cache
def schema() -> dict[str, Any]:
    return json.loads((SCHEMAS_DIR / "drill-result-v1.json").read_text())


def validate(result: dict[str, Any]) -> None:
    """Raise jsonschema.ValidationError when RESULT breaks the v1 contract."""
    jsonschema.validate(result, schema(), format_checker=jsonschema.FormatChecker())


def empty_availability(interval_s: float = 1.0) -> dict[str, Any]:
    return {"interval_s": interval_s, "samples": 0, "success_ratio": None, "longest_outage_s": 0.0, "targets": []}


def availability_ratio(result: dict[str, Any]) -> float | None:
    """The share of probe samples that succeeded during the drill, None when nothing was probed."""
    ratio = (result.get("availability") or {}).get("success_ratio")
    return float(ratio) if isinstance(ratio, int | float) else None


def decide_verdict(
    expectations: list[dict[str, Any]],
    restore: dict[str, bool],
    error: str | None,
    outage_forbidden: bool,
    availability: dict[str, Any],
) -> str:
    """pass only if every expectation was met and the cluster verified healthy after restore."""
    if error:
        return "error"
    if not expectations:
        return "error"
    if outage_forbidden and availability.get("samples", 0) and availability.get("longest_outage_s", 0) > 0:
        return "fail"
    if not all(e.get("met") for e in expectations):
        return "fail"
    if not restore.get("verified"):
        return "fail"
    return "pass"


def first_failure_text(availability: dict[str, Any], started: float) -> str:
    """Which app failed first, when (UTC, the probe starts with the drill) and why: what a flaky outage needs."""
    found = first_failure(availability)
    if found is None:
        return ""
    name, offset, error = found
    # The time of day to a tenth, from the project's one form of a time (timestamps.iso).
    at = str(iso(started + offset))[11:21]
    return f"; first failure: {name} at {at} ({error})"


def new_result_id(drill: str, started: float) -> str:
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(started)) + f"-{drill}"


def assemble(
    *,
    lab: str,
    provider: str,
    kubernetes_version: str,
    drill: str,
    started: float,
    ended: float,
    reported: dict[str, Any],
    availability: dict[str, Any],
    outage_forbidden: bool,
    error: str | None = None,
) -> dict[str, Any]:
    """Merge the role's report and the probe's measurements into one v1 document."""
    expectations = list(reported.get("expectations") or [])
    if outage_forbidden and availability.get("samples"):
        worst = availability.get("longest_outage_s", 0.0)
        interval = float(availability.get("interval_s") or 1.0)
        expectations.append(
            {
                "description": f"the apps stay available for the whole drill (probe every {interval:g} s)",
                "phase": "observe",
                "expected": "longest outage 0 s",
                # One decimal: a 0.4 s outage seen by a 0.2 s probe must not read as "0 s".
                "observed": f"longest outage {worst:.1f} s, success ratio {availability.get('success_ratio')}"
                + first_failure_text(availability, started),
                "met": worst == 0,
                "at": iso(ended),
            }
        )
    restore = {
        "performed": bool((reported.get("restore") or {}).get("performed", False)),
        "verified": bool((reported.get("restore") or {}).get("verified", False)),
    }
    timings = reported.get("timings") or {}
    result: dict[str, Any] = {
        "schema": SCHEMA_ID,
        "id": new_result_id(drill, started),
        "lab": lab,
        "provider": provider,
        "kubernetes_version": kubernetes_version,
        "drill": drill,
        "started": iso(started),
        "ended": iso(ended),
        "duration_s": round(ended - started, 3),
        "verdict": "error",
        "error": error,
        "phases": list(reported.get("phases") or []),
        "expectations": expectations,
        "timings": {
            "instants": dict(timings.get("instants") or {}),
            "durations_s": dict(timings.get("durations_s") or {}),
            "expected_s": dict(timings.get("expected_s") or {}),
        },
        "availability": availability,
        "events": list(reported.get("events") or []),
        "restore": restore,
    }
    result["verdict"] = decide_verdict(expectations, restore, error, outage_forbidden, availability)
    result["score"] = score.compute(result)
    return result


def save(results_dir: Path, result: dict[str, Any]) -> Path:
    validate(result)
    path = results_dir / f"{result['id']}.json"
    write_atomic(path, json.dumps(result, indent=2))
    return path


def load_all(results_dir: Path) -> list[dict[str, Any]]:
    if not results_dir.is_dir():
        return []
    found = []
    for path in sorted(results_dir.glob("*.json")):
        try:
            found.append(json.loads(path.read_text()))
        except ValueError:
            continue
    return found


def load_one(results_dir: Path, result_id: str) -> dict[str, Any]:
    path = results_dir / f"{result_id}.json"
    if not path.exists():
        matches = sorted(results_dir.glob(f"{result_id}*.json")) if results_dir.is_dir() else []
        if len(matches) != 1:
            raise UsageError(f"no result with id {result_id}: list them with `labctl results`")
        path = matches[0]
    return json.loads(path.read_text())
