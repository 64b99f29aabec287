"""Run a command so that it dies with labctl: `python playbook_guard.py LABCTL_PID -- COMMAND...`.

ansible-runner starts ansible-playbook in a new session with SIGHUP ignored (inherited
by every fork and module), and Ansible's workers start sessions of their own, so when
labctl is killed nothing ever tells the playbook, and a killed drill's playbook races
a later `labctl recover`. This guard is what ansible-runner starts instead: it asks the
kernel for a signal when labctl dies (PR_SET_PDEATHSIG) and to adopt the orphans of
its descendants (PR_SET_CHILD_SUBREAPER), runs the command and, on that signal, kills
every process below it: ansible-playbook, its workers, their modules.

Run by path, not as labctl.playbook_guard, so it imports nothing of labctl.
"""

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import time
from types import FrameType

import psutil

PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36


def _descendants(root: int) -> list[int]:
    try:
        return [child.pid for child in psutil.Process(root).children(recursive=True)]
    except psutil.Error:
        return []


def _kill_all(signum: int = 0, frame: FrameType | None = None) -> None:
    # Killed processes' children are re-parented to us (subreaper): repeat until none is left.
    for _ in range(100):
        alive = _descendants(os.getpid())
        if not alive:
            break
        for pid in alive:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            while os.waitpid(-1, os.WNOHANG)[0] > 0:
                pass
        time.sleep(0.02)
    os._exit(128 + signal.SIGKILL)


def main(argv: list[str]) -> int:
    parent, separator, command = int(argv[1]), argv[2], argv[3:]
    if separator != "--" or not command:
        sys.stderr.write("usage: playbook_guard.py LABCTL_PID -- COMMAND...\n")
        return 2
    # SIGTERM: labctl died (below). SIGHUP, SIGINT: ansible-runner closing the terminal it gave us.
    for signum in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(signum, _kill_all)
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    # labctl may have died before the request took effect.
    if os.getppid() != parent:
        _kill_all()
    child = subprocess.Popen(command)
    code = child.wait()
    return 128 - code if code < 0 else code


if __name__ == "__main__":
    sys.exit(main(sys.argv))
