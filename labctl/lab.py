"""A lab's state directory: config, inventory, kubeconfig, PKI, key, results, logs.

Everything `labctl status` needs is here, so it answers even when the cluster is down.
"""

import contextlib
import json
import os
import re
import shutil
import time
from pathlib import Path
from typing import Any

from labctl import known_hosts
from labctl.atomic_file import write_atomic
from labctl.config import LabConfig, dump_config, load_config
from labctl.errors import UsageError
from labctl.lock import LabLock
from labctl.paths import check_data_home, data_home, ensure_data_home, labs_dir

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9-]{0,19}$")


def validate_name(name: str) -> str:
    if not NAME_PATTERN.match(name):
        raise UsageError(
            f"invalid lab name '{name}': use 1-20 lowercase letters, digits or '-', starting with a letter"
        )
    return name


class Lab:
    def __init__(self, name: str) -> None:
        self.name = validate_name(name)
        check_data_home()
        self.dir = labs_dir() / name

    # Layout -------------------------------------------------------------
    @property
    def config_path(self) -> Path:
        return self.dir / "labctl.yaml"

    @property
    def state_path(self) -> Path:
        return self.dir / "state.json"

    @property
    def inventory_path(self) -> Path:
        return self.dir / "inventory.yml"

    @property
    def kubeconfig_path(self) -> Path:
        return self.dir / "kubeconfig"

    @property
    def pki_dir(self) -> Path:
        return self.dir / "pki"

    @property
    def ssh_dir(self) -> Path:
        return self.dir / "ssh"

    @property
    def known_hosts_path(self) -> Path:
        return known_hosts.path_for(self.ssh_dir)

    @property
    def ssh_key_path(self) -> Path:
        return self.ssh_dir / "id_ed25519"

    @property
    def results_dir(self) -> Path:
        # Outside the lab directory: results outlive `labctl down`.
        return data_home() / "results" / self.name

    @property
    def logs_dir(self) -> Path:
        return self.dir / "logs"

    @property
    def journal_path(self) -> Path:
        """The undo journal: faults a drill put in place and has not yet restored."""
        return self.dir / "undo-journal.json"

    @property
    def lock_path(self) -> Path:
        # Outside the lab directory: `down` removes that directory while holding the lock,
        # and a lock file must never be deleted while someone may hold it.
        return data_home() / "locks" / self.name

    # Lifecycle ----------------------------------------------------------
    def exists(self) -> bool:
        return self.state_path.exists() or self.config_path.exists()

    def require(self) -> "Lab":
        if not self.exists():
            raise UsageError(f"no lab named {self.name}: run `labctl up` (or pass --lab NAME of an existing lab)")
        return self

    def create(self) -> None:
        ensure_data_home()
        for sub in (self.dir, self.results_dir, self.logs_dir, self.pki_dir):
            sub.mkdir(parents=True, exist_ok=True)
        self.ssh_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(self.ssh_dir, 0o700)

    def discard(self) -> None:
        """Remove a lab that never got a machine: its directory and its (empty) results directory."""
        shutil.rmtree(self.dir, ignore_errors=True)
        with contextlib.suppress(OSError):
            self.results_dir.rmdir()

    def lock(self, command: str) -> LabLock:
        ensure_data_home()
        return LabLock(self.lock_path, self.name, command)

    # Config and state ---------------------------------------------------
    def load_config(self) -> LabConfig:
        return load_config(self.config_path)

    def save_config(self, config: LabConfig) -> None:
        write_atomic(self.config_path, dump_config(config))

    def read_state(self) -> dict[str, Any]:
        try:
            return json.loads(self.state_path.read_text())
        except FileNotFoundError:
            return {}

    def update_state(self, **changes: Any) -> dict[str, Any]:
        state = self.read_state()
        state.update(changes)
        state["updated"] = time.time()
        write_atomic(self.state_path, json.dumps(state, indent=2, sort_keys=True))
        return state


def list_labs() -> list[str]:
    root = labs_dir()
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if p.is_dir() and NAME_PATTERN.match(p.name))
