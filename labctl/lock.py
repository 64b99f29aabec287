"""A per-lab lock so two mutating commands never work on one lab at once.

The kernel holds it (flock on a file that is never deleted) for as long as the
holding process lives, so a crashed or killed run frees it by dying; the file's
contents only name the holder for the "busy" message.
"""

import fcntl
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import psutil

from labctl.errors import LabBusyError

# A holder writes its name just after taking the lock: how long a contender waits to read it.
_NAME_WAIT_S = 0.5


@dataclass(frozen=True)
class Holder:
    pid: int
    command: str
    since: float


def _alive(pid: int) -> bool:
    return psutil.pid_exists(pid)


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
        self._fd: int | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        deadline = time.monotonic() + _NAME_WAIT_S
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = read_holder(self.path)
                if (holder is None or not _alive(holder.pid)) and time.monotonic() < deadline:
                    time.sleep(0.02)
                    continue
                os.close(fd)
                who = f"{holder.command} (pid {holder.pid})" if holder is not None else "another labctl command"
                raise LabBusyError(f"lab {self.lab} is busy: {who}; wait for it to finish or stop that process") from None
            break
        payload = json.dumps({"pid": os.getpid(), "command": self.command, "since": time.time()}).encode()
        os.ftruncate(fd, 0)
        os.pwrite(fd, payload, 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        # The file stays (deleting it would let a waiter lock an orphaned inode); only its name goes.
        os.ftruncate(fd, 0)
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)

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
