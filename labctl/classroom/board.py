"""The class's progress: one row per lab, its current step (the last line of its log) and time.

A live table on a terminal, redrawn twice a second; one line per finished lab otherwise.
"""

import threading
import time
from pathlib import Path
from types import TracebackType

from rich.console import Console
from rich.live import Live
from rich.markup import escape
from rich.table import Table

from labctl.log_tail import last_lines


class Board:
    def __init__(self, console: Console, title: str, labs: dict[str, str]) -> None:
        self.console = console
        self.title = title
        self.labs = labs  # student -> lab
        self._lock = threading.Lock()
        self._started: dict[str, float] = {}
        self._logs: dict[str, Path] = {}
        self._done: dict[str, tuple[int, float, str | None]] = {}
        self._live: Live | None = None

    def __enter__(self) -> "Board":
        if self.console.is_terminal:
            self._live = Live(get_renderable=self._table, console=self.console, refresh_per_second=2, transient=False)
            self._live.__enter__()
        else:
            self.console.print(f"{self.title}: {len(self.labs)} lab(s)")
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None) -> None:
        if self._live is not None:
            self._live.__exit__(kind, error, trace)

    def started(self, student: str, log: Path) -> None:
        with self._lock:
            self._started[student] = time.monotonic()
            self._logs[student] = log

    def finished(self, student: str, exit_code: int, seconds: float, error: str | None) -> None:
        with self._lock:
            self._done[student] = (exit_code, seconds, error)
        if self._live is None:
            state = "ok" if exit_code == 0 else f"failed ({error})"
            self.console.print(f"  {self.labs[student]}: {escape(state)} in {seconds:.0f}s")

    def _table(self) -> Table:
        table = Table(title=self.title, title_justify="left", box=None, pad_edge=False)
        for column in ("student", "lab", "state", "s", "step"):
            table.add_column(column, justify="right" if column == "s" else "left")
        now = time.monotonic()
        with self._lock:
            for student, lab in self.labs.items():
                if student in self._done:
                    code, seconds, error = self._done[student]
                    state = "[green]ok[/]" if code == 0 else "[red]failed[/]"
                    table.add_row(student, lab, state, f"{seconds:.0f}", escape(error or ""))
                elif student in self._started:
                    step = (last_lines(self._logs[student], width=80) or [""])[-1]
                    table.add_row(student, lab, "[yellow]running[/]", f"{now - self._started[student]:.0f}", escape(step))
                else:
                    table.add_row(student, lab, "[dim]waiting[/]", "", "")
        return table
