"""The availability probe: hits the apps from the host every interval (1 s by default) for a whole drill.

One thread per target so a hanging target never delays the others' samples.
Each sample is [seconds since start, ok, latency ms, error]; the summary gives
per-target success ratio and longest outage — what krkn calls recovery timing.
"""

import json
import math
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from labctl.errors import UsageError

# Below 0.2 s three targets would sample 15+ times a second from a 2-core host, and a sample's own
# latency on such a host is of that order; above 10 s an outage shorter than the interval goes unseen.
PROBE_INTERVAL_MIN_S = 0.2
PROBE_INTERVAL_MAX_S = 10.0
DEFAULT_PROBE_INTERVAL_S = 1.0


def parse_interval(text: str) -> float:
    """`--probe-interval` text → seconds, or a one-line UsageError naming the range."""
    fix = f"give seconds from {PROBE_INTERVAL_MIN_S} to {PROBE_INTERVAL_MAX_S:.0f}, e.g. --probe-interval 0.5"
    try:
        value = float(text)
    except ValueError:
        raise UsageError(f"--probe-interval {text!r} is not a number — {fix}") from None
    if not math.isfinite(value) or not PROBE_INTERVAL_MIN_S <= value <= PROBE_INTERVAL_MAX_S:
        raise UsageError(f"--probe-interval {text.strip()} is out of range — {fix}")
    return value


@dataclass
class Target:
    name: str
    url: str
    method: str = "GET"
    body: dict[str, Any] | None = None
    expect_contains: str = ""

    def sample(self, timeout: float, seq: int) -> tuple[bool, float | None, str | None]:
        data = None
        headers = {}
        if self.body is not None:
            payload = {k: (v.format(seq=seq) if isinstance(v, str) else v) for k, v in self.body.items()}
            data = json.dumps(payload).encode()
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(self.url, data=data, method=self.method, headers=headers)
        started = time.monotonic()
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                body = response.read(65536).decode(errors="replace")
                latency = (time.monotonic() - started) * 1000
                if response.status >= 400:
                    return False, latency, f"HTTP {response.status}"
                if self.expect_contains and self.expect_contains not in body:
                    return False, latency, f"body lacks {self.expect_contains!r}"
                return True, latency, None
        except urllib.error.HTTPError as error:
            return False, (time.monotonic() - started) * 1000, f"HTTP {error.code}"
        except (OSError, ValueError) as error:
            reason = getattr(error, "reason", error)
            return False, None, str(reason)[:120]


def outages(timeline: list[list[Any]], interval_s: float) -> list[float]:
    """Each outage's length in seconds, from its first failed sample to the next success, by the
    samples' own clock (slow samples must not shorten it); one still open at the end lasts to the
    last sample plus one interval."""
    found = []
    began: float | None = None
    samples = sorted(timeline, key=lambda s: float(s[0]))
    for offset, ok, *_ in samples:
        if not ok and began is None:
            began = float(offset)
        elif ok and began is not None:
            found.append(float(offset) - began)
            began = None
    if began is not None:
        found.append(float(samples[-1][0]) - began + interval_s)
    return found


def first_failure(availability: dict[str, Any]) -> tuple[str, float, str] | None:
    """The earliest failed sample of any target: (target, seconds since the probe started, error)."""
    failed = [(float(offset), target["name"], error or "failed")
              for target in availability.get("targets") or []
              for offset, ok, _latency, error in target.get("timeline") or [] if not ok]
    if not failed:
        return None
    offset, name, error = min(failed)
    return name, offset, error


@dataclass
class TargetSeries:
    target: Target
    samples: list[list[Any]] = field(default_factory=list)

    def summary(self, interval_s: float) -> dict[str, Any]:
        total = len(self.samples)
        successes = sum(1 for s in self.samples if s[1])
        longest = max(outages(self.samples, interval_s), default=0.0)
        return {
            "name": self.target.name,
            "url": self.target.url,
            "samples": total,
            "successes": successes,
            "success_ratio": round(successes / total, 4) if total else None,
            "longest_outage_s": round(longest, 1),
            "timeline": self.samples,
        }


class AvailabilityProbe:
    def __init__(self, targets: list[Target], interval_s: float = DEFAULT_PROBE_INTERVAL_S, timeout_s: float = 2.0) -> None:
        self.series = [TargetSeries(t) for t in targets]
        self.interval_s = interval_s
        # Longer than the interval on purpose: on a loaded 2-core host a healthy answer can
        # take over a second, and a late answer is not an outage. The next sample then
        # starts at once, so sampling catches up.
        self.timeout_s = timeout_s
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.started = 0.0

    def _loop(self, series: TargetSeries) -> None:
        seq = 0
        next_at = self.started
        while not self._stop.is_set():
            offset = round(time.time() - self.started, 3)
            ok, latency, error = series.target.sample(self.timeout_s, seq)
            series.samples.append([offset, ok, None if latency is None else round(latency, 1), error])
            seq += 1
            next_at = max(next_at + self.interval_s, time.time())
            self._stop.wait(max(0.0, next_at - time.time()))

    def start(self) -> "AvailabilityProbe":
        self.started = time.time()
        for series in self.series:
            thread = threading.Thread(target=self._loop, args=(series,), name=f"probe-{series.target.name}", daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> dict[str, Any]:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=self.timeout_s + 1)
        targets = [s.summary(self.interval_s) for s in self.series]
        total = sum(t["samples"] for t in targets)
        successes = sum(t["successes"] for t in targets)
        return {
            "interval_s": self.interval_s,
            "samples": total,
            "success_ratio": round(successes / total, 4) if total else None,
            "longest_outage_s": max((t["longest_outage_s"] for t in targets), default=0.0),
            "targets": targets,
        }


def app_targets(host: str, nginx_port: int, guestbook_port: int, lab: str) -> list[Target]:
    """The catalog's targets: nginx via its NodePort, guestbook read and write via its frontend."""
    return [
        Target("nginx", f"http://{host}:{nginx_port}/", expect_contains="nginx"),
        Target("guestbook-read", f"http://{host}:{guestbook_port}/entries"),
        Target("guestbook-write", f"http://{host}:{guestbook_port}/entries", method="POST",
               body={"entry": f"probe {lab} #{{seq}}"}),
    ]
