"""The resilience score: one number from 0 to 100 per drill run and per suite (formula labctl.score/v1).

Computed only from what a labctl.drill-result/v1 document holds, so any stored
result can be scored again. Full description with worked examples: docs/score.md.

A drill run's score is 100 × Σ weight × component, each component in [0, 1]:

- expectations: (expectations met + 1 if the cluster was verified healthy after
  restore) / (expectations recorded + 1). A run that recorded no expectation
  earns 0 here: it showed nothing.
- availability: for each probe target, 1 − min(downtime, 30 s) / 30 s, averaged
  over the targets. Downtime is the sum of the target's outages by the samples'
  own clock (first failed sample to the next success; an outage still open at
  the end runs to the last sample plus one interval), so neither the drill's
  length nor the probe interval changes it. No samples at all earns 0.
- timing: for each duration the catalog says the drill times (Drill.timed), the
  observed value against the expected one the drill reported: full credit up to
  the allowance expected × 1.25 + 5 s (the node controller's and kubelet's own
  poll periods), falling linearly to 0 at twice the allowance and capped there.
  Early earns no bonus; a duration never observed, or with no expected value,
  earns 0. The component is the mean over the timed durations.

Weights are fixed per drill by the catalog, never by what a run happened to record:
- the catalog demands the apps stay up: availability 0.3, else 0 (it is shown, not
  scored: such drills may take an app down by design);
- the catalog times durations: timing 0.2, else 0;
- expectations get the rest (0.5 to 1.0).

Gate: a run whose verdict is `error` could not complete and scores 0 (its
components are still shown). A suite's score is the mean over distinct drills of
each drill's mean score, so repeated runs of one drill never outweigh the others.

Two runs of the same lab are comparable when they carry the same formula id:
the weights depend on the drill alone, and the only wall-clock inputs are the
timed durations, compared as capped ratios to the expectation.
"""

from collections import defaultdict
from typing import Any, TypedDict

from labctl.drills import BY_ID
from labctl.probe import outages

FORMULA = "labctl.score/v1"
OUTAGE_BUDGET_S = 30.0
AVAILABILITY_WEIGHT = 0.3
TIMING_WEIGHT = 0.2
ALLOWANCE_FACTOR = 1.25
ALLOWANCE_GRACE_S = 5.0


class Component(TypedDict):
    name: str
    weight: float
    value: float
    detail: str


class Score(TypedDict):
    formula: str
    value: float
    gate: str | None
    components: list[Component]


class SuiteScore(TypedDict):
    formula: str
    value: float | None
    drills: int
    results: int
    per_drill: dict[str, float]


def weights(drill_id: str) -> dict[str, float]:
    """The catalog's weights for DRILL_ID; a drill the catalog does not know is scored on expectations alone."""
    drill = BY_ID.get(drill_id)
    availability = AVAILABILITY_WEIGHT if drill and drill.apps_must_stay_up else 0.0
    timing = TIMING_WEIGHT if drill and drill.timed else 0.0
    return {"expectations": round(1.0 - availability - timing, 6), "availability": availability, "timing": timing}


def downtime_s(timeline: list[list[Any]], interval_s: float) -> float:
    """Seconds a target was down: all its outages, measured as the probe measures the longest."""
    return round(sum(outages(timeline, interval_s)), 3)


def timing_credit(observed: float | None, expected: float | None) -> float:
    if observed is None or expected is None:
        return 0.0
    allowance = expected * ALLOWANCE_FACTOR + ALLOWANCE_GRACE_S
    lateness = min(max(observed / allowance, 1.0), 2.0)
    return round(2.0 - lateness, 6)


def _expectations(result: dict[str, Any]) -> Component:
    recorded = result.get("expectations") or []
    if not recorded:
        return {"name": "expectations", "weight": 0.0, "value": 0.0, "detail": "no expectation recorded"}
    verified = bool((result.get("restore") or {}).get("verified"))
    met = sum(1 for e in recorded if e.get("met")) + int(verified)
    healthy = "healthy after restore" if verified else "not verified healthy after restore"
    return {
        "name": "expectations",
        "weight": 0.0,
        "value": round(met / (len(recorded) + 1), 6),
        "detail": f"{met} of {len(recorded) + 1} met (the expectations, and {healthy})",
    }


def _availability(result: dict[str, Any]) -> Component:
    availability = result.get("availability") or {}
    interval = float(availability.get("interval_s") or 1.0)
    lanes = [t for t in availability.get("targets") or [] if t.get("samples")]
    if not lanes:
        return {"name": "availability", "weight": 0.0, "value": 0.0, "detail": "the probe took no samples"}
    down = {str(t.get("name", "?")): downtime_s(t.get("timeline") or [], interval) for t in lanes}
    value = sum(1.0 - min(d, OUTAGE_BUDGET_S) / OUTAGE_BUDGET_S for d in down.values()) / len(down)
    worst = max(down, key=lambda name: down[name])
    detail = (
        f"never down ({len(down)} targets)"
        if not down[worst]
        else f"down {down[worst]:.1f} s on {worst} (budget {OUTAGE_BUDGET_S:.0f} s per target), {len(down)} targets"
    )
    return {"name": "availability", "weight": 0.0, "value": round(value, 6), "detail": detail}


def _timing(result: dict[str, Any]) -> Component:
    drill = BY_ID.get(str(result.get("drill")))
    timed = drill.timed if drill else ()
    if not timed:
        return {"name": "timing", "weight": 0.0, "value": 0.0, "detail": "the catalog times no duration of this drill"}
    timings = result.get("timings") or {}
    observed, expected = timings.get("durations_s") or {}, timings.get("expected_s") or {}
    credits = {name: timing_credit(observed.get(name), expected.get(name)) for name in timed}
    notes = []
    for name in timed:
        if observed.get(name) is None:
            notes.append(f"{name} not observed")
        elif expected.get(name) is None:
            notes.append(f"{name} has no expected value")
        elif credits[name] < 1:
            notes.append(f"{name} {observed[name]:.1f} s vs {expected[name]:.1f} s expected")
    on_time = sum(1 for c in credits.values() if c == 1.0)
    detail = f"{on_time} of {len(timed)} on time" + (": " + "; ".join(notes) if notes else "")
    return {"name": "timing", "weight": 0.0, "value": round(sum(credits.values()) / len(timed), 6), "detail": detail}


def compute(result: dict[str, Any]) -> Score:
    """The score of one drill result, with its components."""
    chosen = weights(str(result.get("drill")))
    parts = [_expectations(result), _availability(result), _timing(result)]
    for part in parts:
        part["weight"] = chosen[part["name"]]
    total = 100.0 * sum(p["weight"] * p["value"] for p in parts)
    gate = None
    if result.get("verdict") not in ("pass", "fail"):
        gate = "the drill ended in error: a run that could not complete scores 0"
        total = 0.0
    return {"formula": FORMULA, "value": round(total, 1), "gate": gate, "components": parts}


def of(result: dict[str, Any]) -> Score:
    """The result's stored score when this formula made it, else computed now (older results have none)."""
    stored = result.get("score")
    if isinstance(stored, dict) and stored.get("formula") == FORMULA:
        return stored  # type: ignore[return-value]
    return compute(result)


def suite(results: list[dict[str, Any]]) -> SuiteScore:
    """Mean over distinct drills of each drill's mean score; None when there is no result."""
    by_drill: dict[str, list[float]] = defaultdict(list)
    for result in results:
        by_drill[str(result.get("drill"))].append(of(result)["value"])
    per_drill = {drill: round(sum(values) / len(values), 1) for drill, values in by_drill.items()}
    value = round(sum(per_drill.values()) / len(per_drill), 1) if per_drill else None
    return {"formula": FORMULA, "value": value, "drills": len(per_drill), "results": len(results), "per_drill": per_drill}
