"""`labctl recover`: replay the undo of every fault a dead drill left behind.

Each journaled drill's restore tasks run; a drill whose fault labctl made through the provider
(scale-up) also has the workers beyond the configured topology removed: after a crash labctl no longer
knows which were there before the drill.
"""

from typing import Any

from labctl import journal, nodes
from labctl.drills import BY_ID
from labctl.errors import InfraError
from labctl.lab import Lab
from labctl.lifecycle import cluster_vars
from labctl.runner import run_playbook
from labctl.ui import Ui


def recover(lab: Lab, ui: Ui) -> dict[str, Any]:
    with lab.lock("recover"):
        pending = journal.entries(lab)
        if not pending:
            return {"lab": lab.name, "undone": [], "healthy": None, "message": "nothing to undo"}
        if any(entry["drill"] in BY_ID and BY_ID[entry["drill"]].provider_change for entry in pending):
            removed = nodes.remove_added_workers(lab, ui)
            if removed:
                ui.info(f"removed the worker(s) a drill added: {', '.join(removed)}")
        extravars = {**cluster_vars(lab, lab.load_config()), "recover_entries": pending}
        with ui.playbook(f"recover {len(pending)} fault(s)") as progress:
            run = run_playbook("recover.yml", logs_dir=lab.logs_dir, inventory=lab.inventory_path, extravars=extravars,
                               sink=progress, verbose=ui.verbose)
        if not run.succeeded:
            detail = run.failures[0].line() if run.failures else f"rc {run.rc}"
            raise InfraError(f"recover failed: {detail} — the journal is kept; fix and run `labctl recover` again")
        journal.remove(lab, [e["id"] for e in pending])
    return {"lab": lab.name, "undone": [f"{e['drill']} on {e['target']}: {e['undo']}" for e in pending],
            "healthy": bool(run.stats.get("healthy"))}
