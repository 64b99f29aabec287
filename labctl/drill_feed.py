"""What a running drill has recorded so far, read from ansible-runner's event stream.

The drill keeps its record in the fact drill_record (labctl.lab.drill_record changes it)
and hands it to labctl only at the end, through set_stats. Each change travels in a
runner_on_ok event as it happens, so a sink on the runner's stream sees the phase and
the instants live without asking the playbook for anything more.

The sink runs on the runner's event thread: it only copies a few values, never draws.
"""

import threading
from typing import Any

from labctl.drill_record import epoch_or_none


class DrillFeed:
    def __init__(self, drill: str, target: str, started: float) -> None:
        self.drill = drill
        self.target = target
        self.started = started
        self._lock = threading.Lock()
        self._phase = ""
        self._phase_started: float | None = None
        self._instants: dict[str, float] = {}
        self._task = ""

    def __call__(self, event: dict[str, Any]) -> None:
        name = event.get("event", "")
        data = event.get("event_data") or {}
        if name == "playbook_on_task_start":
            with self._lock:
                self._task = str(data.get("task", ""))
            return
        if name != "runner_on_ok":
            return
        facts = (data.get("res") or {}).get("ansible_facts") or {}
        if not isinstance(facts, dict):
            return
        record = facts.get("drill_record")
        if isinstance(record, dict):
            self.show(record)

    def show(self, record: dict[str, Any], doing: str = "") -> None:
        """Take the record as it is now; DOING names labctl's own step between a drill's stages."""
        open_phases = [p for p in record.get("phases") or [] if isinstance(p, dict) and p.get("ended") is None]
        with self._lock:
            if doing:
                self._task = doing
            if open_phases:
                self._phase = str(open_phases[-1].get("name", ""))
                self._phase_started = epoch_or_none(open_phases[-1].get("started"))
            elif record.get("phases"):
                self._phase, self._phase_started = "done", None
            parsed = {str(k): epoch_or_none(v) for k, v in (record.get("instants") or {}).items()}
            self._instants = {k: v for k, v in parsed.items() if v is not None}

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "id": self.drill,
                "target": self.target,
                "started": self.started,
                "phase": self._phase,
                "phase_started": self._phase_started,
                "instants": dict(self._instants),
                "task": self._task,
            }
