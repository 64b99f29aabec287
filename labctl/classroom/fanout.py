"""One labctl command on many labs at once, at most N at a time, each lab its own labctl process.

Its own process, so each lab keeps what a single `labctl` gives it: its lock, its undo journal,
its progress (in the class's log file for that lab) and a crash that harms no other lab.
"""

import json
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from labctl.classroom.board import Board
from labctl.errors import EXIT_INFRA


@dataclass(frozen=True)
class Job:
    student: str
    lab: str
    args: tuple[str, ...]  # labctl's arguments; --output json is added

    def log_name(self) -> str:
        return f"{self.lab}-{self.args[0]}.log"


@dataclass(frozen=True)
class Outcome:
    student: str
    lab: str
    exit_code: int
    seconds: float
    data: Any  # the command's JSON output: its result, or {"error": ..., "exit_code": ...}
    log: Path

    @property
    def error(self) -> str | None:
        if self.exit_code == 0:
            return None
        if isinstance(self.data, dict) and self.data.get("error"):
            return str(self.data["error"])
        return f"exit {self.exit_code}: see {self.log}"


def labctl_command() -> list[str]:
    return [sys.executable, "-m", "labctl"]


def _last_json(stdout: str) -> Any:
    try:
        return json.loads(stdout)
    except json.JSONDecodeError:
        return None


def _run_one(job: Job, log_dir: Path, board: Board) -> Outcome:
    log = log_dir / job.log_name()
    board.started(job.student, log)
    start = time.monotonic()
    with open(log, "w") as stderr:
        done = subprocess.run(
            [*labctl_command(), *job.args, "--output", "json"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=stderr, text=True
        )
    outcome = Outcome(job.student, job.lab, done.returncode, time.monotonic() - start, _last_json(done.stdout), log)
    board.finished(job.student, outcome.exit_code, outcome.seconds, outcome.error)
    return outcome


def run(jobs: list[Job], parallel: int, log_dir: Path, board: Board) -> list[Outcome]:
    """Every job's outcome, in the order of JOBS."""
    log_dir.mkdir(parents=True, exist_ok=True)
    with board, ThreadPoolExecutor(max_workers=max(1, parallel)) as pool:
        futures = [pool.submit(_run_one, job, log_dir, board) for job in jobs]
        return [f.result() for f in futures]


def worst_exit(outcomes: list[Outcome]) -> int:
    """0 when all succeeded; an infrastructure failure outranks a drill's fail verdict (1)."""
    codes = {o.exit_code for o in outcomes} - {0}
    if not codes:
        return 0
    return EXIT_INFRA if codes - {1} else 1
