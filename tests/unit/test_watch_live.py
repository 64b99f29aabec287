"""The watch beside a real probe of a real HTTP server (conftest's server_url): plain lines without a terminal, the live view with one."""

import io
import time
from pathlib import Path

from rich.console import Console

from labctl.cluster_watch import ClusterWatch
from labctl.probe import AvailabilityProbe, Target
from labctl.watch import LiveWatch


def run_watch(console: Console, url: str, kubeconfig: Path, seconds: float) -> None:
    probe = AvailabilityProbe([Target("guestbook", f"{url}/ok", expect_contains="guestbook")], interval_s=0.2).start()
    try:
        with LiveWatch(console, "lab t", ClusterWatch(kubeconfig), probe):
            time.sleep(seconds)
    finally:
        probe.stop()


def test_without_a_terminal_it_prints_plain_lines_of_what_changed(server_url: str, tmp_path: Path) -> None:
    out = io.StringIO()
    run_watch(Console(file=out, force_terminal=False, width=200), server_url, tmp_path / "no-kubeconfig", 1.5)
    lines = out.getvalue().splitlines()
    assert any(line.endswith("probe guestbook up, 100% ok in the last 60s") for line in lines)
    assert any("API unreachable: kubeconfig" in line for line in lines)
    # No cursor movement or box drawing: a log file or CI gets readable lines, each said once.
    assert "\x1b" not in out.getvalue() and "─" not in out.getvalue()
    assert sum("probe guestbook up" in line for line in lines) == 1


def test_with_a_terminal_it_redraws_the_view(server_url: str, tmp_path: Path) -> None:
    out = io.StringIO()
    run_watch(Console(file=out, force_terminal=True, width=160, height=40), server_url, tmp_path / "no-kubeconfig", 1.6)
    screen = out.getvalue()
    assert "labctl watch" in screen and "guestbook" in screen and "100%" in screen
    # At two frames a second, more than one frame was drawn in 1.6 s (plus the final one).
    assert screen.count("labctl watch") >= 3
