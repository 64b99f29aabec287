"""A real process holding a lab lock (the kernel's lock needs a live holder)."""

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

HOLD = r"""
import subprocess, sys
from pathlib import Path
from labctl.lock import LabLock
with LabLock(Path(sys.argv[1]), "x", sys.argv[2]):
    print("held", flush=True)
    if len(sys.argv) > 3:
        print(subprocess.run(sys.argv[3:], capture_output=True, text=True).stdout, end="", flush=True)
    sys.stdin.read()
"""


def env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH")) if p)}


def hold(path: Path, command: str, *child: str) -> subprocess.Popen[str]:
    """Start a holder of PATH's lock; once it holds it, it runs CHILD (if any) and waits for stdin to close."""
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(path), command, *child], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env()
    )
    assert proc.stdout is not None and proc.stdout.readline() == "held\n"
    return proc


def stop(proc: subprocess.Popen[str]) -> None:
    proc.kill()
    proc.wait()
