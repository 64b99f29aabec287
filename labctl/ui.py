"""What the user sees: progress on stderr, results on stdout (text or JSON)."""

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console

from labctl.errors import UsageError
from labctl.progress import PlaybookProgress

OUTPUTS = ("text", "json")


class Ui:
    def __init__(self, output: str = "text", verbose: bool = False, assume_yes: bool = False) -> None:
        if output not in OUTPUTS:
            raise UsageError(f"unknown output '{output}': use text or json")
        self.output = output
        self.verbose = verbose
        self.assume_yes = assume_yes
        # Off while `--watch` draws its own live view: a console holds one live display at a time.
        self.live_progress = True
        self.out = Console(highlight=False, soft_wrap=True)
        self.err = Console(stderr=True, highlight=False)

    @property
    def json(self) -> bool:
        return self.output == "json"

    def info(self, message: str) -> None:
        """Progress narration: stderr, so --output json stays parseable."""
        self.err.print(message)

    def warn(self, message: str) -> None:
        self.err.print(f"[yellow]warning:[/] {message}")

    def emit_json(self, data: Any) -> None:
        sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
        sys.stdout.flush()

    def confirm(self, question: str) -> bool:
        if self.assume_yes:
            return True
        if not sys.stdin.isatty():
            raise UsageError(f"{question} — no terminal to ask: pass --yes to confirm")
        answer = self.err.input(f"{question} [y/N] ")
        return answer.strip().lower() in ("y", "yes")

    @contextmanager
    def playbook(self, title: str) -> Iterator[PlaybookProgress]:
        # With --verbose Ansible's own output goes to the terminal; a live view would garble it.
        with PlaybookProgress(title, self.err, enabled=self.live_progress and not self.verbose) as progress:
            yield progress

    @contextmanager
    def status(self, message: str) -> Iterator[None]:
        # A spinner is a live display too: not while another (drill --watch) owns the terminal.
        if self.err.is_terminal and self.live_progress:
            with self.err.status(message):
                yield
        else:
            self.err.print(message)
            yield
