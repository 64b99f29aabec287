"""The one inventory shape every provider produces.

Groups: `controllers`, `workers`, `etcd` (= the controllers), `k8s_cluster`
(controllers + workers), and `api_lb` when the topology has a load balancer.
Each host carries `ansible_host` (how Ansible reaches it) and `node_ip` (the
address the cluster uses). Roles read only these, never provider details.
"""

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from labctl import known_hosts
from labctl.atomic_file import write_atomic
from labctl.errors import UsageError

Role = Literal["controller", "worker", "api_lb"]
GROUP_OF_ROLE = {"controller": "controllers", "worker": "workers", "api_lb": "api_lb"}
# Every node image labctl boots has it (a provider names another where one has not: Flatcar). Named, not
# discovered: Ansible keeps a discovered interpreter on the host a task runs for, so each task a drill
# delegates to a node discovered it again (half a second a task).
NODE_PYTHON = "/usr/bin/python3"


@dataclass
class Node:
    name: str
    role: Role
    ansible_host: str
    node_ip: str
    ansible_user: str = "root"
    extra: dict[str, Any] = field(default_factory=dict)

    def hostvars(self) -> dict[str, Any]:
        hostvars: dict[str, Any] = {
            "ansible_host": self.ansible_host,
            "ansible_user": self.ansible_user,
            "node_ip": self.node_ip,
            "node_role": self.role,
            "ansible_python_interpreter": NODE_PYTHON,
        }
        hostvars.update(self.extra)
        return hostvars


@dataclass
class Inventory:
    lab: str
    provider: str
    nodes: list[Node]
    vars: dict[str, Any] = field(default_factory=dict)

    def by_role(self, role: Role) -> list[Node]:
        return [n for n in self.nodes if n.role == role]

    def node(self, name: str) -> Node:
        for candidate in self.nodes:
            if candidate.name == name:
                return candidate
        names = ", ".join(n.name for n in self.nodes) or "none"
        raise UsageError(f"no node named {name} in lab {self.lab} (nodes: {names})")

    def to_ansible(self) -> dict[str, Any]:
        groups: dict[str, dict[str, Any]] = {}
        for role, group in GROUP_OF_ROLE.items():
            members = self.by_role(role)  # type: ignore[arg-type]
            if members or role != "api_lb":
                groups[group] = {"hosts": {n.name: n.hostvars() for n in members}}
        groups["etcd"] = {"children": {"controllers": {}}}
        groups["k8s_cluster"] = {"children": {"controllers": {}, "workers": {}}}
        return {
            "all": {
                "vars": {"lab_name": self.lab, "lab_provider": self.provider, **self.vars},
                "children": groups,
            }
        }

    def write(self, path: Path) -> None:
        """Write the lab's inventory, whose SSH trusts only the keys pinned in the lab's known_hosts."""

        # The lab's directory holds the inventory and, in ssh/, its key and known_hosts.
        pinned = known_hosts.path_for(path.parent / "ssh")
        self.vars["ansible_ssh_common_args"] = " ".join(known_hosts.client_options(pinned))
        header = f"# labctl inventory for lab {self.lab} (provider {self.provider}); written by labctl, do not edit\n"
        write_atomic(path, header + yaml.safe_dump(self.to_ansible(), sort_keys=False))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def from_ansible(data: dict[str, Any]) -> Inventory:
    """Read back what `Inventory.write` produced (or a hand-written one of the same shape)."""
    try:
        root = data["all"]
        top_vars = dict(root.get("vars") or {})
        lab = str(top_vars.pop("lab_name"))
        provider = str(top_vars.pop("lab_provider"))
        nodes: list[Node] = []
        for role, group in GROUP_OF_ROLE.items():
            hosts = ((root.get("children") or {}).get(group) or {}).get("hosts") or {}
            for name, hostvars in hosts.items():
                hv = dict(hostvars or {})
                nodes.append(
                    Node(
                        name=name,
                        role=role,  # type: ignore[arg-type]
                        ansible_host=str(hv.pop("ansible_host")),
                        node_ip=str(hv.pop("node_ip")),
                        ansible_user=str(hv.pop("ansible_user", "root")),
                        extra={k: v for k, v in hv.items() if k != "node_role" and (k, v) != ("ansible_python_interpreter", NODE_PYTHON)},
                    )
                )
    except (KeyError, TypeError, AttributeError) as error:
        raise UsageError(f"inventory is not in labctl's shape: missing {error} (regenerate it with `labctl up`)") from None
    return Inventory(lab=lab, provider=provider, nodes=nodes, vars=top_vars)


def load_inventory(path: Path) -> Inventory:
    if not path.exists():
        raise UsageError(f"no inventory at {path}: run `labctl up` first")
    return from_ansible(yaml.safe_load(path.read_text()) or {})
