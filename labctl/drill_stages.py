"""A drill whose fault labctl makes itself, through the lab's provider (scale-up adds a worker).

A task cannot make that change without running labctl inside Ansible, so the engine runs
such a drill in three stages, each one playbook run going on with the record the stage
before handed over, and labctl makes the change between them under the lock the drill holds:

    preflight | labctl: add a worker (machine, then the install joins it) | observe, restore
    | labctl: remove every worker that was not there at the start | verify

As in a single run, a failure is recorded against its phase and the restore and verify always run.
"""

import time
from collections.abc import Callable
from typing import Any

from labctl import drill_record, nodes
from labctl.drill_record import Record
from labctl.drills import Drill
from labctl.errors import LabctlError
from labctl.inventory import load_inventory
from labctl.lab import Lab
from labctl.ui import Ui

# The instants labctl marks itself for such a drill (its tasks mark the rest).
MARKS = ("injected", "restored")

# Runs the engine for PHASES, going on with RECORD, with more extravars; returns the record it handed
# back and the run's error (None when the playbook itself ran to its end).
Play = Callable[[list[str], Record, dict[str, Any]], tuple[Record, str | None]]
# Shows the record to the live view, with what labctl is doing now.
Show = Callable[[Record, str], None]


def _step(record: Record, args: dict[str, Any], show: Show, doing: str = "") -> Record:
    updated = drill_record.apply(record, args, time.time())
    show(updated, doing)
    return updated


def _add_worker(lab: Lab, ui: Ui, record: Record, show: Show) -> tuple[Record, str]:
    try:
        joined = nodes.join_worker(lab, ui)
    except LabctlError as error:
        return _step(record, {"fail": f"adding a worker: {error}"}, show), ""
    message = f"the provider added {joined['node']} ({joined['ip']}) and it was installed in {joined['seconds']} s"
    return _step(record, {"event": message, "kind": "action"}, show), str(joined["node"])


def _remove_added_workers(lab: Lab, ui: Ui, before: list[str], record: Record, show: Show) -> Record:
    show(record, "labctl: drain and remove the added workers through the provider")
    try:
        removed = nodes.remove_added_workers(lab, ui, since=before)
    except LabctlError as error:
        return _step(record, {"fail": f"removing the added workers: {error}"}, show)
    if removed:
        record = _step(record, {"event": f"drained and removed {', '.join(removed)} through the provider", "kind": "action"}, show)
    record = _step(record, {"restore": {"performed": True}}, show)
    return _step(record, {"mark": MARKS[1]}, show)


def run(drill: Drill, lab: Lab, ui: Ui, play: Play, skip_inject: bool, show: Show) -> tuple[Record, str | None]:
    """The drill's record and the first error of a playbook run (a failed phase is in the record)."""
    errors: list[str] = []

    def stage(phases: list[str], record: Record, more: dict[str, Any]) -> Record:
        handed, error = play(phases, record, more)
        if error:
            errors.append(error)
        return handed

    record = stage(["preflight"], {}, {})
    before = sorted(n.name for n in load_inventory(lab.inventory_path).nodes)
    added = ""
    healthy_so_far = not errors and not record.get("error")
    if healthy_so_far:
        record = _step(record, {"phase": "inject"}, show)
        record = _step(record, {"mark": MARKS[0]}, show, "labctl: add a worker through the provider and install it")
        if not skip_inject and drill.provider_change == "add_worker":
            record, added = _add_worker(lab, ui, record, show)
    observe = ["observe"] if healthy_so_far and not record.get("error") else []
    record = stage([*observe, "restore"], record, {"drill_added_node": added, "drill_nodes_before": before})
    record = _remove_added_workers(lab, ui, before, record, show)
    record = stage(["verify"], record, {"drill_nodes_before": before})
    return record, errors[0] if errors else None
