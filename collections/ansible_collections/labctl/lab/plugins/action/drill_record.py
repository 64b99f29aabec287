"""Action labctl.lab.drill_record: change the running drill's record (see labctl.drill_record).

Runs on the controller only (no module is sent anywhere): the record is the host fact
drill_record, read from the task's variables and returned changed. `report: true` also
hands the record, with the spans the drill times, to labctl through the run's stats; `steps` applies several
actions in one task, in order (then `report` hands the record they leave).
"""

import time
from typing import Any

from ansible.plugins.action import ActionBase


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp: Any = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars)
        try:
            from labctl import drill_record
        except ImportError as error:
            return {**result, "failed": True, "msg": f"labctl.lab.drill_record needs the labctl package on the controller: {error}"}
        facts = (task_vars or {}).get("ansible_facts") or {}
        record = facts.get("drill_record")
        args = dict(self._task.args)
        report = args.pop("report", False)
        try:
            if "steps" in args or report:
                steps = args.pop("steps", [])
                if args:
                    raise drill_record.RecordError(f"steps and report take no other option: put {', '.join(sorted(args))} in a step")
                updated = drill_record.apply_steps(record, steps, time.time())
            else:
                updated = drill_record.apply(record, args, time.time())
            if report:
                return {**result, "changed": False, "ansible_facts": {"drill_record": updated}, "ansible_stats": {
                    "data": {"drill": updated}, "per_host": False, "aggregate": False}}
        except drill_record.RecordError as error:
            return {**result, "failed": True, "msg": str(error)}
        return {**result, "changed": False, "ansible_facts": {"drill_record": updated}}
