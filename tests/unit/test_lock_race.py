"""Processes racing for one lab lock: never two holders at once."""

import os
import subprocess
import sys
from pathlib import Path

CONTENDER = r"""
import os, sys, time
from pathlib import Path
from labctl.errors import LabBusyError
from labctl.lock import LabLock

lock_path, inside, report, rounds = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]), int(sys.argv[4])
held = overlaps = 0
for _ in range(rounds):
    try:
        with LabLock(lock_path, "race", "race"):
            held += 1
            try:
                # Exclusive marker: it exists only while someone believes they hold the lock.
                fd = os.open(inside, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                overlaps += 1
                continue
            time.sleep(0.001)
            os.close(fd)
            os.unlink(inside)
    except LabBusyError:
        pass
report.write_text(f"{held} {overlaps}")
"""


def test_racing_processes_never_hold_the_lock_together(tmp_path: Path) -> None:
    contenders, rounds = 8, 60
    script = tmp_path / "contender.py"
    script.write_text(CONTENDER)
    repo = str(Path(__file__).resolve().parents[2])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (repo, os.environ.get("PYTHONPATH")) if p)}
    reports = [tmp_path / f"report-{i}" for i in range(contenders)]
    procs = [
        subprocess.Popen([sys.executable, str(script), str(tmp_path / "lock"), str(tmp_path / "inside"), str(report), str(rounds)], env=env)
        for report in reports
    ]
    for proc in procs:
        assert proc.wait(timeout=120) == 0
    totals = [tuple(int(x) for x in report.read_text().split()) for report in reports]
    assert sum(t[0] for t in totals) > 0
    assert sum(t[1] for t in totals) == 0, f"two holders at once {sum(t[1] for t in totals)} times"
