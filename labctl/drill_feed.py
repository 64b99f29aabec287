"""What a running drill has recorded so far, read from ansible-runner's event stream.

The drill roles keep their record in facts (drill_common's phase.yml and mark.yml set
drill_current_phase, drill_phases and drill_instants) and hand it to labctl only at the
end, through set_stats. Each of those set_fact tasks' results travels in a runner_on_ok
event as it happens, so a sink on the runner's stream sees the phase and the instants
live without asking the playbook for anything more.

The sink runs on the runner's event thread: it only copies a few values, never draws.
"""

import threading
from typing import Any

from labctl import results


def epoch(value: Any) -> float | None:
    """A role's instant (epoch seconds, or ISO text from the wait module) → epoch seconds."""
    # The runner's own reading of the roles' two formats, so the view and the result agree.
    from labctl.drill_runner import _iso

    return None if isinstance(value, bool) else results.parse_iso(_iso(value))


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
        with self._lock:
            if isinstance(facts.get("drill_current_phase"), str):
                self._phase = facts["drill_current_phase"]
            phases = facts.get("drill_phases")
            if isinstance(phases, list):
                open_phases = [p for p in phases if isinstance(p, dict) and p.get("ended") is None]
                if open_phases:
                    self._phase = str(open_phases[-1].get("name", self._phase))
                    self._phase_started = epoch(open_phases[-1].get("started"))
                elif phases:
                    self._phase, self._phase_started = "done", None
            instants = facts.get("drill_instants")
            if isinstance(instants, dict):
                parsed = {str(k): epoch(v) for k, v in instants.items()}
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
