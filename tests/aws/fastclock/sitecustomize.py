"""Shorten long sleeps in the processes of an AWS test run (labctl, ansible, its modules).

Emulator gap: moto is strongly consistent, while the amazon.aws modules sleep a
fixed 3-10 s after most changes to ride out AWS's eventual consistency. Against
moto those waits only cost time, so tests put this directory on PYTHONPATH and
set LABCTL_TEST_SLEEP_SCALE; product code and modules stay as they are. Short
sleeps (polling loops) are left alone.
"""

import os
import time

_scale = float(os.environ.get("LABCTL_TEST_SLEEP_SCALE") or 1)

if _scale < 1:
    _real_sleep = time.sleep

    def _sleep(seconds: float) -> None:
        _real_sleep(seconds * _scale if seconds >= 1 else seconds)

    time.sleep = _sleep
