"""A lab's users besides its admin: each its own client certificate (bound by RBAC), kubeconfig and SSH key.

Made by the user_access role; the certificate is signed by the lab's CA, so it opens this lab only.
"""

import re
import shlex
from pathlib import Path
from typing import Any

from labctl.access import ssh_command
from labctl.errors import UsageError
from labctl.inventory import load_inventory
from labctl.lab import Lab
from labctl.lifecycle import cluster_vars, run_step
from labctl.ui import Ui

USER_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,31}$")
CLUSTER_ROLES = ("view", "edit", "admin", "cluster-admin")
# Names the cluster's own identities use: a user of that name would be mistaken for them in audit logs.
RESERVED = ("admin", "kube-apiserver", "kube-proxy", "kube-scheduler", "kube-controller-manager")


def user_dir(lab: Lab, name: str) -> Path:
    return lab.dir / "users" / name


def validate_user(name: str, role: str) -> None:
    if not USER_PATTERN.match(name) or name in RESERVED:
        raise UsageError(f"invalid user name '{name}': use 1-32 lowercase letters, digits or '-', not one of {', '.join(RESERVED)}")
    if role not in CLUSTER_ROLES:
        raise UsageError(f"unknown role '{role}': use one of {', '.join(CLUSTER_ROLES)}")


def access(lab: Lab, name: str) -> dict[str, Any]:
    """Where the user's credentials are and how they reach the lab."""
    where = user_dir(lab, name)
    if not (where / "kubeconfig").exists():
        raise UsageError(f"lab {lab.name} has no user '{name}': run `labctl user add {name} --lab {lab.name}`")
    inventory = load_inventory(lab.inventory_path)
    nodes = [{"name": n.name, "address": n.ansible_host, "ssh": shlex.join(ssh_command(lab, n.name, [], key=where / "id_ed25519"))}
             for n in inventory.nodes]
    return {"lab": lab.name, "user": name, "dir": str(where), "kubeconfig": str(where / "kubeconfig"),
            "ssh_key": str(where / "id_ed25519"), "known_hosts": str(lab.known_hosts_path), "nodes": nodes}


def add(lab: Lab, name: str, role: str, ui: Ui) -> dict[str, Any]:
    validate_user(name, role)
    lab.require()
    config = lab.load_config()
    with lab.lock("user add"):
        result = run_step(lab, ui, "user-access.yml", f"give {name} access ({role})", {
            **cluster_vars(lab, config), "user_access_name": name, "user_access_dir": str(user_dir(lab, name)),
            "user_access_cluster_role": role,
        })
    return {**access(lab, name), "role": role, "changed": result.total_changed}
