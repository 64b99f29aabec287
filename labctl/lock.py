"""A per-lab lock so two mutating commands never work on one lab at once.

The lock file names the holder's pid and command; a lock whose pid is gone is
stale (a crashed or killed run) and is taken over.
"""

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from labctl.errors import LabBusyError

# Set by a lock holder for the commands it starts (see LabLock.acquire).
INHERIT_ENV = "LABCTL_LOCK_HELD"


@dataclass(frozen=True)
class Holder:
    pid: int
    command: str
    since: float


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def read_holder(path: Path) -> Holder | None:
    try:
        data = json.loads(path.read_text())
        return Holder(int(data["pid"]), str(data["command"]), float(data["since"]))
    except (FileNotFoundError, ValueError, KeyError, TypeError):
        return None


class LabLock:
    """Context manager: `with LabLock(path, lab, "up"): ...`."""

    def __init__(self, path: Path, lab: str, command: str) -> None:
        self.path = path
        self.lab = lab
        self.command = command
        self.took_over: Holder | None = None
        self.inherited = False

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # A command started by the lock's holder (a drill running `labctl node add`) works
        # under that holder's lock instead of deadlocking on it.
        inherited = os.environ.get(INHERIT_ENV)
        holder = read_holder(self.path)
        if inherited and holder is not None and str(holder.pid) == inherited and _alive(holder.pid):
            self.inherited = True
            return
        payload = json.dumps({"pid": os.getpid(), "command": self.command, "since": time.time()})
        for _ in range(3):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
            except FileExistsError:
                holder = read_holder(self.path)
                if holder is not None and holder.pid != os.getpid() and _alive(holder.pid):
                    raise LabBusyError(
                        f"lab {self.lab} is busy: {holder.command} (pid {holder.pid}); "
                        "wait for it to finish or stop that process"
                    ) from None
                # Stale (dead holder) or unreadable half-written file: take it over.
                self.took_over = holder
                self.path.unlink(missing_ok=True)
                continue
            with os.fdopen(fd, "w") as handle:
                handle.write(payload)
            return
        raise LabBusyError(f"lab {self.lab} is busy: could not take its lock {self.path}")

    def release(self) -> None:
        if self.inherited:
            return
        holder = read_holder(self.path)
        if holder is not None and holder.pid == os.getpid():
            self.path.unlink(missing_ok=True)

    def __enter__(self) -> "LabLock":
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()
