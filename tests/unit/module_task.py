"""One task of a module of the project's collection, run by Ansible on localhost: its registered result."""

import json
from pathlib import Path

from labctl.runner import run_playbook


def run_module(tmp: Path, module: str, params: dict, check: bool = False) -> dict:
    out = tmp / "result.json"
    play = [
        {
            "name": module,
            "hosts": "localhost",
            "connection": "local",
            "gather_facts": False,
            "tasks": [
                {"name": "Run the module", module: params, "register": "result", "check_mode": check, "ignore_errors": True},
                {
                    "name": "Keep the result",
                    "ansible.builtin.copy": {"content": "{{ result | to_json }}", "dest": str(out)},
                    "check_mode": False,
                },
            ],
        }
    ]
    (tmp / "play.yml").write_text(json.dumps(play))
    # No host in the inventory: localhost is Ansible's implicit one, run by the Python that runs Ansible.
    (tmp / "inventory.yml").write_text("all: {}\n")
    outcome = run_playbook(str(tmp / "play.yml"), logs_dir=tmp / "logs", inventory=tmp / "inventory.yml")
    assert outcome.succeeded, [f.line() for f in outcome.failures]
    return json.loads(out.read_text())
