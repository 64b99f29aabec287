"""labctl.lab.wait's signals for waits started in the background (async): `started_file` appears once the first
poll has answered, `files` waits for such files, `stop_file` ends the wait (what drill apiserver-ha uses)."""

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
