"""A playbook never outlives the labctl that started it."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

LONG_PLAYBOOK = """
- name: Long play
  hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: Wait a long time
      ansible.builtin.wait_for:
        timeout: 300
"""

# Ctrl-C reaches labctl as SIGINT with Python's default handler, whatever the test runner ignores.
RUN = "import signal, sys; from pathlib import Path; from labctl.runner import run_playbook; " \
      "signal.signal(signal.SIGINT, signal.default_int_handler); " \
      "run_playbook(sys.argv[1], logs_dir=Path(sys.argv[2]), inventory='localhost,')"


def _processes() -> dict[int, tuple[int, str, str]]:
    """pid -> (process group, state, command line) of every process."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        found[int(entry.name)] = (int(fields[2]), fields[0], cmdline)
    return found


def _task_started(logs: Path, task: str) -> bool:
    for path in logs.glob("runner/artifacts/*/job_events/*.json"):
        try:
            event = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if event.get("event") == "playbook_on_task_start" and event.get("event_data", {}).get("task") == task:
            return True
    return False


def _alive(pids: set[int]) -> set[int]:
    now = _processes()
    return {pid for pid in pids if pid in now and now[pid][1] != "Z"}


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM, signal.SIGINT], ids=["SIGKILL", "SIGTERM", "SIGINT"])
def test_killing_labctl_kills_its_playbook(tmp_path: Path, how: signal.Signals) -> None:
    playbook = tmp_path / "long-play.yml"
    playbook.write_text(LONG_PLAYBOOK)
    repo = str(Path(__file__).resolve().parents[2])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (repo, os.environ.get("PYTHONPATH")) if p)}
    labctl = subprocess.Popen([sys.executable, "-c", RUN, str(playbook), str(tmp_path / "logs")], env=env)
    try:
        # Wait until the playbook's task runs (its start event is written), then take every process labctl
        # has below it: ansible-playbook, its workers and the interpreters that run the task.
        deadline = time.monotonic() + 60
        group: set[int] = set()
        while time.monotonic() < deadline:
            if _task_started(tmp_path / "logs", "Wait a long time"):
                group = {child.pid for child in psutil.Process(labctl.pid).children(recursive=True)}
                if any("ansible-playbook" in _processes().get(pid, (0, "", ""))[2] for pid in group):
                    break
            time.sleep(0.2)
        else:
            raise AssertionError("the playbook never reached its task")
    finally:
        os.kill(labctl.pid, how)
        try:
            labctl.wait(timeout=10)
        finally:
            labctl.kill()
            labctl.wait()
    deadline = time.monotonic() + 5
    while _alive(group) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = _alive(group)
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    assert not left, f"still running after labctl was killed: {[_processes().get(p) for p in left]}"
