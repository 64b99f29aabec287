from labctl.timestamps import iso
from labctl.wait import wait_until


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_met_records_first_instant_and_observation() -> None:
    clock = FakeClock()
    values = iter([1, 2, 3, 3, 3])
    outcome = wait_until(lambda: next(values), lambda v: v >= 3, timeout_s=10, interval_s=1, clock=clock.time, sleep=clock.sleep)
    assert outcome.met and outcome.observed == 3
    assert outcome.polls == 3
    assert outcome.at is not None and outcome.at.endswith("Z")


def test_timeout_returns_last_observation_unmet() -> None:
    clock = FakeClock()
    outcome = wait_until(lambda: "NotReady", lambda v: v == "Ready", timeout_s=5, interval_s=1, clock=clock.time, sleep=clock.sleep)
    assert not outcome.met
    assert outcome.observed == "NotReady"
    assert outcome.at is None
    assert 5 <= outcome.polls <= 6


def test_probe_errors_are_observations() -> None:
    clock = FakeClock()

    def refused() -> None:
        raise ConnectionRefusedError("connection refused")

    outcome = wait_until(refused, lambda v: "error" in v, timeout_s=3, clock=clock.time, sleep=clock.sleep)
    assert outcome.met
    assert "connection refused" in outcome.observed["error"]


def test_stable_for_resets_on_flap() -> None:
    clock = FakeClock()
    values = iter([True, False, True, True, True])
    outcome = wait_until(lambda: next(values), bool, timeout_s=10, stable_for=2, clock=clock.time, sleep=clock.sleep)
    assert outcome.met and outcome.polls == 4


def test_an_observation_is_dated_when_its_answer_came() -> None:
    """A slow answer (an API server catching up after etcd returned) counts from its arrival, not from the asking."""
    clock = FakeClock()
    asked_at = clock.now

    def slow_answer() -> str:
        clock.now += 9
        return "answered"

    outcome = wait_until(slow_answer, lambda v: v == "answered", timeout_s=30, clock=clock.time, sleep=clock.sleep)
    assert outcome.met
    assert outcome.at == iso(asked_at + 9)


def test_a_stop_signal_ends_an_unmet_wait_between_polls() -> None:
    """A watch in the background ends when told, not when its longest window runs out."""
    clock = FakeClock()
    stop_at = clock.now + 2.3
    outcome = wait_until(lambda: "answered", lambda v: v == "error", timeout_s=40, interval_s=1, clock=clock.time,
                         sleep=clock.sleep, stop=lambda: clock.now >= stop_at)
    assert not outcome.met and outcome.stopped
    assert outcome.polls == 3
    assert 2.3 <= outcome.elapsed_s < 2.3 + 0.05 + 1e-9


def test_without_a_stop_signal_a_wait_runs_its_window() -> None:
    clock = FakeClock()
    outcome = wait_until(lambda: "answered", lambda v: v == "error", timeout_s=5, interval_s=1, clock=clock.time,
                         sleep=clock.sleep, stop=lambda: False)
    assert not outcome.met and not outcome.stopped
    assert outcome.elapsed_s >= 4
