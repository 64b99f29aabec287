"""labctl.lab.wait's signals for waits started in the background (async): `started_file` appears once the first
poll is over, `files` waits for such files, `stop_file` (or its directory removed) ends the wait (what drill
apiserver-ha uses)."""

import contextlib
import threading
import time
from pathlib import Path

from labctl.wait_task import _announcing_first_poll, run

DEFAULTS = {"timeout": 5.0, "interval": 0.05, "stable_for": 1, "fail_on_timeout": False, "expect": {}}


def test_files_holds_once_every_path_exists(tmp_path: Path) -> None:
    present, late = tmp_path / "a", tmp_path / "b"
    present.touch()
    threading.Timer(0.3, late.touch).start()
    outcome, failure = run({**DEFAULTS, "condition": "files", "names": [str(present), str(late)]})
    assert failure is None and outcome["met"], outcome
    assert outcome["polls"] > 1


def test_files_names_what_is_missing(tmp_path: Path) -> None:
    outcome, failure = run({**DEFAULTS, "condition": "files", "names": [str(tmp_path / "never")], "timeout": 0.2})
    assert failure is None and not outcome["met"]
    assert outcome["observed"] == {"missing": [str(tmp_path / "never")]}


def test_the_started_file_appears_once_the_first_poll_has_answered(tmp_path: Path) -> None:
    started = tmp_path / "started"
    existed_while_polling: list[bool] = []

    def probe() -> dict[str, bool]:
        existed_while_polling.append(started.exists())
        return {"polled": True}

    announcing = _announcing_first_poll(probe, started)
    assert not started.exists()
    announcing()
    assert started.exists()
    announcing()
    assert existed_while_polling == [False, True]


def test_a_stop_file_ends_the_wait_unmet(tmp_path: Path) -> None:
    stop = tmp_path / "stop"
    threading.Timer(0.3, stop.touch).start()
    began = time.monotonic()
    outcome, failure = run({**DEFAULTS, "condition": "files", "names": [str(tmp_path / "never")], "timeout": 30,
                            "interval": 0.2, "stop_file": str(stop)})
    assert failure is None and not outcome["met"] and outcome["stopped"], outcome
    assert time.monotonic() - began < 5


def test_a_first_poll_that_fails_still_announces_the_start(tmp_path: Path) -> None:
    """A client whose first read is refused is watching all the same: the kill must not wait 30 s for it."""
    started = tmp_path / "started"

    def refused() -> None:
        raise ConnectionRefusedError("refused")

    announcing = _announcing_first_poll(refused, started)
    with contextlib.suppress(ConnectionRefusedError):
        announcing()
    assert started.exists()


def test_a_removed_signal_directory_ends_the_wait(tmp_path: Path) -> None:
    """A drill's restore removes the directory: a watch a failed observe left reading stops."""
    signals = tmp_path / "signals"
    signals.mkdir()
    threading.Timer(0.3, signals.rmdir).start()
    outcome, failure = run({**DEFAULTS, "condition": "files", "names": [str(tmp_path / "never")], "timeout": 30,
                            "stop_file": str(signals / "stop")})
    assert failure is None and outcome["stopped"], outcome


def test_a_stopped_wait_is_not_a_failure_even_when_a_timeout_would_be(tmp_path: Path) -> None:
    stop = tmp_path / "stop"
    stop.touch()
    outcome, failure = run({**DEFAULTS, "condition": "files", "names": [str(tmp_path / "never")], "fail_on_timeout": True,
                            "stop_file": str(stop)})
    assert failure is None and outcome["stopped"] and not outcome["met"]


def test_signals_are_refused_with_a_replayed_history(tmp_path: Path) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text("{}")
    _, failure = run({**DEFAULTS, "condition": "pods", "kubeconfig": str(kubeconfig), "since_resource_version": "12",
                      "stop_file": str(tmp_path / "stop")})
    assert failure is not None and "started_file and stop_file belong to polling waits" in failure
