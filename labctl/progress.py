"""Live progress for long runs: the current play and task, per-host counts, elapsed time."""

import time
from collections import Counter
from typing import Any

from rich.console import Console, Group
from rich.live import Live
from rich.spinner import Spinner
from rich.table import Table
from rich.text import Text

STATUS_OF_EVENT = {
    "runner_on_ok": "ok",
    "runner_on_failed": "failed",
    "runner_on_unreachable": "unreachable",
    "runner_on_skipped": "skipped",
}


class PlaybookProgress:
    """An event sink for labctl.runner that draws a Rich live view on stderr."""

    def __init__(self, title: str, console: Console, enabled: bool = True) -> None:
        self.title = title
        self.console = console
        self.enabled = enabled and console.is_terminal
        self.play = ""
        self.task = ""
        self.tasks_done = 0
        self.counts: Counter[str] = Counter()
        self.started = time.monotonic()
        self.live: Live | None = None
        self._last_line = 0.0

    def __enter__(self) -> "PlaybookProgress":
        if self.enabled:
            self.live = Live(self._render(), console=self.console, refresh_per_second=4, transient=True)
            self.live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.live is not None:
            self.live.__exit__(None, None, None)
            self.live = None

    def _render(self) -> Group:
        elapsed = time.monotonic() - self.started
        head = Spinner("dots", text=Text.assemble((self.title, "bold"), f"  {elapsed:5.0f}s"))
        table = Table.grid(padding=(0, 2))
        table.add_row("play", self.play or "…")
        table.add_row("task", f"{self.task or '…'}  (#{self.tasks_done})")
        counts = "  ".join(f"{k} {v}" for k, v in sorted(self.counts.items())) or "-"
        table.add_row("hosts", counts)
        return Group(head, table)

    def __call__(self, event: dict[str, Any]) -> None:
        name = event.get("event", "")
        data = event.get("event_data") or {}
        if name == "playbook_on_play_start":
            self.play = data.get("play", "")
        elif name == "playbook_on_task_start":
            self.task = data.get("task", "")
            self.tasks_done += 1
        elif name in STATUS_OF_EVENT:
            status = STATUS_OF_EVENT[name]
            if status == "ok" and (data.get("res") or {}).get("changed"):
                status = "changed"
            self.counts[status] += 1
        if self.live is not None:
            self.live.update(self._render())
        elif name == "playbook_on_task_start" and not self.enabled and self.console.is_terminal is False:
            # Non-interactive runs (CI logs) get one line per task, at most one a second.
            now = time.monotonic()
            if now - self._last_line >= 1.0:
                self._last_line = now
                self.console.print(f"[{now - self.started:5.0f}s] {self.title}: {self.task}", highlight=False)
