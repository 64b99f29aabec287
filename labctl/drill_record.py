"""What a running drill records: its phases, named instants, expectations, events and restore.

The drill engine and the drill roles change the record only through the action plugin
labctl.lab.drill_record, which calls `apply` and keeps the result in the host fact
`drill_record`; the engine hands it to labctl through set_stats when the drill ends.
Every time in a record is epoch seconds: a wait's ISO 8601 `at` is converted on the way in.
"""

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from labctl.timestamps import iso

Record = dict[str, Any]

PHASES = ("preflight", "inject", "observe", "restore", "verify")
ACTIONS = ("phase", "fail", "mark", "expect", "event", "restore", "expected_s", "resume")
MESSAGE_LIMIT = 400


class RecordError(ValueError):
    """A call that names no action, several, or gives an action what it cannot use."""


def empty() -> Record:
    return {
        "phase": "",
        "phases": [],
        "instants": {},
        "expectations": [],
        "events": [],
        "error": "",
        "restore": {"performed": False, "verified": False},
        "expected_s": {},
    }


def epoch(value: Any) -> float | None:
    """Epoch seconds from epoch seconds (number or text) or ISO 8601 text (a wait's `at`); None when empty."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    text = str(value).strip()
    if not text or text.lower() == "none":
        return None
    try:
        return float(text)
    except ValueError:
        pass
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as error:
        raise RecordError(f"{text!r} is neither epoch seconds nor an ISO 8601 time") from error
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp()


def elapsed_s(start: Any, end: Any) -> float | None:
    """Seconds from START to END (either format), to a tenth; None when either is missing."""
    a, b = epoch(start), epoch(end)
    return None if a is None or b is None else round(b - a, 1)


def _short(message: Any) -> str:
    text = "" if message is None else str(message)
    return text if len(text) <= MESSAGE_LIMIT else text[: MESSAGE_LIMIT - 3] + "..."


def open_phase(record: Record, name: str, now: float) -> Record:
    """Close the open phase (ok unless already failed) and open NAME; `done` only closes.

    The first phase, preflight, starts a new record: nothing of an earlier drill carries over.
    """
    if name not in (*PHASES, "done"):
        raise RecordError(f"unknown phase {name!r}: use one of {', '.join(PHASES)} or done")
    if name == PHASES[0]:
        record = empty()
    phases = [p if p["ended"] is not None else {**p, "ended": now, "status": p["status"] or "ok"} for p in record["phases"]]
    if name != "done":
        phases.append({"name": name, "started": now, "ended": None, "status": ""})
    return {**record, "phases": phases, "phase": name}


def fail(record: Record, message: Any, now: float) -> Record:
    """Close the open phase as failed with MESSAGE, and keep MESSAGE as the drill's error."""
    text = _short(message) or "drill failed"
    phases = [p if p["ended"] is not None else {**p, "ended": now, "status": "failed", "message": text} for p in record["phases"]]
    events = [*record["events"], {"at": now, "kind": "error", "message": text}]
    return {**record, "phases": phases, "events": events, "error": text}


def mark(record: Record, name: str, at: Any, now: float) -> Record:
    """Record the instant NAME: AT (a wait's `at`, or epoch seconds) or now."""
    when = epoch(at)
    return {**record, "instants": {**record["instants"], name: now if when is None else when}}


def expect(
    record: Record,
    description: str,
    expected: Any,
    now: float,
    *,
    result: Mapping[str, Any] | None = None,
    met: Any = None,
    observed: Any = None,
    at: Any = None,
    then_mark: str = "",
    verifies_restore: Any = None,
) -> Record:
    """One expectation: judged by a labctl.lab.wait RESULT (met, observed, at) or by MET for plain checks.

    When it holds it was seen AT (given, or the wait's `at`, or now), and THEN_MARK names the instant that
    records. VERIFIES_RESTORE makes it the restore's verification (restore.verified = met).
    """
    result = result or {}
    held = bool(result.get("met", False)) if met is None else _truth(met)
    seen = epoch(at)
    if seen is None:
        seen = epoch(result.get("at")) if met is None else now
    entry = {
        "description": str(description),
        "phase": record["phase"],
        "expected": expected,
        "observed": observed if observed is not None else result.get("observed"),
        "met": held,
        "at": seen if held else None,
    }
    record = {**record, "expectations": [*record["expectations"], entry]}
    if held and then_mark:
        record = mark(record, str(then_mark), seen, now)
    if verifies_restore is not None and _truth(verifies_restore):
        record = restore(record, verified=held)
    return record


def event(record: Record, kind: str, message: Any, now: float) -> Record:
    return {**record, "events": [*record["events"], {"at": now, "kind": str(kind), "message": _short(message)}]}


def restore(record: Record, performed: Any = None, verified: Any = None) -> Record:
    """Whether the fault was undone (PERFORMED) and the cluster then seen healthy (VERIFIED); None keeps."""
    state = dict(record["restore"])
    if performed is not None:
        state["performed"] = _truth(performed)
    if verified is not None:
        state["verified"] = _truth(verified)
    return {**record, "restore": state}


def expected_seconds(record: Record, seconds: Mapping[str, Any]) -> Record:
    """What the cluster's own settings say each timed duration should take (e.g. the grace period)."""
    try:
        parsed = {str(name): None if value in (None, "") else float(value) for name, value in seconds.items()}
    except (TypeError, ValueError) as error:
        raise RecordError(f"expected_s takes seconds per duration name: {error}") from error
    return {**record, "expected_s": {**record["expected_s"], **parsed}}


def _truth(value: Any) -> bool:
    # Ansible hands templated booleans over as text.
    if isinstance(value, str):
        return value.strip().lower() in ("true", "yes", "1", "on")
    return bool(value)


def apply(record: Record | None, args: Mapping[str, Any], now: float) -> Record:
    """The record after one action: ARGS names exactly one of ACTIONS and that action's options."""
    current = {**empty(), **(record or {})}
    named = [a for a in ACTIONS if args.get(a) not in (None, "")]
    if len(named) != 1:
        raise RecordError(f"name exactly one of {', '.join(ACTIONS)} (got {', '.join(named) or 'none'})")
    action = named[0]
    if action == "phase":
        return open_phase(current, str(args["phase"]), now)
    if action == "fail":
        return fail(current, args["fail"], now)
    if action == "mark":
        return mark(current, str(args["mark"]), args.get("at"), now)
    if action == "expect":
        if "expected" not in args:
            raise RecordError("expect needs expected: what the catalog says should be seen")
        return expect(current, str(args["expect"]), args["expected"], now,
                      result=args.get("result"), met=args.get("met"), observed=args.get("observed"), at=args.get("at"),
                      then_mark=str(args.get("then_mark") or ""), verifies_restore=args.get("verifies_restore"))
    if action == "event":
        return event(current, str(args.get("kind") or "observation"), args["event"], now)
    if action == "resume":
        # A drill run in stages (labctl changes the machines between them) goes on with the record so far.
        if not isinstance(args["resume"], Mapping):
            raise RecordError("resume takes the record an earlier stage of the drill handed to labctl")
        return {**empty(), **args["resume"]}
    if action == "expected_s":
        if not isinstance(args["expected_s"], Mapping):
            raise RecordError("expected_s takes {DURATION: SECONDS, ...}")
        return expected_seconds(current, args["expected_s"])
    spec = args["restore"]
    if not isinstance(spec, Mapping):
        raise RecordError("restore takes {performed: BOOL, verified: BOOL}")
    return restore(current, spec.get("performed"), spec.get("verified"))


def apply_steps(record: Record | None, steps: Any, now: float) -> Record:
    """The record after several actions in order, each as apply() takes it: one task instead of one per action
    (every Ansible task costs a drill about 40 ms)."""
    if not isinstance(steps, list) or not all(isinstance(step, Mapping) for step in steps):
        raise RecordError("steps takes a list of actions: [{phase: ...}, {mark: ...}, ...]")
    current = {**empty(), **(record or {})}
    for step in steps:
        current = apply(current, step, now)
    return current


def epoch_or_none(value: Any) -> float | None:
    """epoch(), with None for text that is no time (never raises: for readers of a record)."""
    try:
        return epoch(value)
    except RecordError:
        return None


def _iso(value: Any) -> str | None:
    return iso(epoch_or_none(value))


def _between(start: Any, end: Any) -> float | None:
    """elapsed_s() for readers of a record: None, not an error, for text that is no time."""
    try:
        return elapsed_s(start, end)
    except RecordError:
        return None


def reported(record: Mapping[str, Any], spans: Iterable[tuple[str, str, str]]) -> dict[str, Any]:
    """The record as a drill result holds it (ISO 8601 times), with each span (NAME, FROM, TO) measured."""
    instants = {str(k): _iso(v) for k, v in (record.get("instants") or {}).items()}
    raw_instants = record.get("instants") or {}
    phases = [
        {
            "name": p["name"],
            "started": _iso(p.get("started")),
            "ended": _iso(p.get("ended")),
            "status": p.get("status") or "ok",
            **({"message": p["message"]} if p.get("message") else {}),
        }
        for p in record.get("phases") or []
        if p.get("name") in PHASES
    ]
    expectations = [
        {
            "description": str(e.get("description", "")),
            "phase": str(e.get("phase", "")),
            "expected": e.get("expected"),
            "observed": e.get("observed"),
            "met": bool(e.get("met")),
            "at": _iso(e.get("at")),
        }
        for e in record.get("expectations") or []
    ]
    return {
        "phases": phases,
        "expectations": expectations,
        "timings": {
            "instants": instants,
            "durations_s": {name: _between(raw_instants.get(start), raw_instants.get(end)) for name, start, end in spans},
            "expected_s": {k: (float(v) if v is not None else None) for k, v in (record.get("expected_s") or {}).items()},
        },
        "events": [{"at": _iso(e.get("at")), "kind": str(e.get("kind", "")), "message": str(e.get("message", ""))}
                   for e in record.get("events") or []],
        "restore": dict(record.get("restore") or {}),
        "error": record.get("error") or None,
    }
