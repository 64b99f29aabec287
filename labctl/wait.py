"""The one way to wait for a cluster state: poll a probe until a predicate holds.

Used by `up` (through the Ansible module labctl.lab.wait) and by every drill.
A wait never raises on timeout: it returns what it last observed, whether the
expectation was met, and when — drills record all three.
"""

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from labctl.timestamps import iso

STOP_CHECK_S = 0.05


@dataclass
class WaitOutcome:
    met: bool
    observed: Any
    at: str | None  # when the answer on which the predicate first held came (ISO 8601), None if never
    waited_since: str  # named so as not to clash with Ansible's async 'started' flag
    elapsed_s: float
    polls: int
    error: str | None = None
    history: list[Any] = field(default_factory=list)
    stopped: bool = False  # ended by its stop signal before the condition held or the time ran out

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def wait_until(
    probe: Callable[[], Any],
    predicate: Callable[[Any], bool],
    *,
    timeout_s: float,
    interval_s: float = 1.0,
    stable_for: int = 1,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
    keep_history: int = 20,
    stop: Callable[[], bool] | None = None,
) -> WaitOutcome:
    """Poll PROBE every INTERVAL_S until PREDICATE(observed) holds STABLE_FOR polls in a row.

    A probe that raises counts as an observation of its error (e.g. "API
    refused"), so waiting for an outage and waiting for recovery look alike.
    An observation is dated when its answer came, not when it was asked: the
    first answer of an API server catching up after etcd returned took 9 s.
    STOP, when given, ends an unmet wait as soon as it returns true (asked between
    polls, every 50 ms at most): a watch in the background that ends when the
    drill has seen what it watched for, not when its longest window runs out.
    """
    started = clock()
    deadline = started + timeout_s
    polls = 0
    streak = 0
    first_met: float | None = None
    observed: Any = None
    last_error: str | None = None
    history: list[Any] = []
    while True:
        polls += 1
        try:
            observed = probe()
            last_error = None
        except Exception as error:  # noqa: BLE001 - a failing probe is an observation
            observed = {"error": f"{error.__class__.__name__}: {error}"}
            last_error = observed["error"]
        answered = clock()
        history.append(observed)
        del history[:-keep_history]
        try:
            ok = bool(predicate(observed))
        except Exception:  # noqa: BLE001 - a predicate that cannot judge means "not yet"
            ok = False
        if ok:
            streak += 1
            if first_met is None:
                first_met = answered
            if streak >= stable_for:
                return WaitOutcome(True, observed, iso(first_met), iso(started) or "", round(clock() - started, 3), polls, None, history)
        else:
            streak = 0
            first_met = None
        if clock() + interval_s > deadline:
            return WaitOutcome(False, observed, None, iso(started) or "", round(clock() - started, 3), polls, last_error, history)
        if stop is None:
            sleep(interval_s)
            continue
        next_poll = clock() + interval_s
        while not (stopped := stop()) and (remaining := next_poll - clock()) > 0:
            sleep(min(STOP_CHECK_S, remaining))
        if stopped:
            return WaitOutcome(False, observed, None, iso(started) or "", round(clock() - started, 3), polls, last_error, history, True)
