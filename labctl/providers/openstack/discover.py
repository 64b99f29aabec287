"""What a lab has on the cloud right now, read with openstacksdk: its nodes, and anything left over."""

import re
from dataclasses import dataclass
from typing import Any

from openstack import connection

from labctl.providers.openstack.names import MARKER_KEY, LabNames, marker, prefix

ROLE_ORDER = {"controller": 0, "worker": 1, "api_lb": 2}


@dataclass
class FoundNode:
    name: str
    role: str
    server_name: str
    server_id: str
    status: str
    fixed_ip: str
    floating_ip: str


def lab_servers(conn: connection.Connection, lab: str) -> list[Any]:
    """Servers whose name starts with the lab's prefix *and* whose metadata names the lab."""
    candidates = conn.compute.servers(details=True, name=f"^{re.escape(prefix(lab))}")
    return [s for s in candidates if (s.metadata or {}).get(MARKER_KEY) == lab]


def _index(name: str) -> int:
    match = re.search(r"(\d+)$", name)
    return int(match.group(1)) if match else 0


def lab_nodes(conn: connection.Connection, lab: str) -> list[FoundNode]:
    names = LabNames(lab)
    tag = marker(lab)
    ports = {p.name: p for p in conn.network.ports(description=tag)}
    floating = {f.port_id: f.floating_ip_address for f in conn.network.ips(description=tag) if f.port_id}
    found = []
    for server in lab_servers(conn, lab):
        node = (server.metadata or {}).get("labctl-node") or names.node_of(server.name)
        port = ports.get(names.port(node))
        fixed = port.fixed_ips[0]["ip_address"] if port is not None and port.fixed_ips else ""
        found.append(
            FoundNode(
                name=node,
                role=(server.metadata or {}).get("labctl-role", "worker"),
                server_name=server.name,
                server_id=server.id,
                status=str(server.status or "UNKNOWN"),
                fixed_ip=fixed,
                floating_ip=floating.get(port.id, "") if port is not None else "",
            )
        )
    return sorted(found, key=lambda n: (ROLE_ORDER.get(n.role, 9), _index(n.name), n.name))


def lab_resources(conn: connection.Connection, lab: str) -> dict[str, list[dict[str, str]]]:
    """Every resource of the lab that exists, by kind, as [{id, name}] (all lists empty after a clean `down`).

    The one place that decides what belongs to a lab: the down playbook deletes exactly these.
    """
    names = LabNames(lab)
    tag = marker(lab)
    network = conn.network

    def entries(items: Any, label: str = "name") -> list[dict[str, str]]:
        return [{"id": str(i.id), "name": str(getattr(i, label) or i.id)} for i in items]

    return {
        "floating_ips": entries(network.ips(description=tag), "floating_ip_address"),
        "servers": entries(lab_servers(conn, lab)),
        "ports": entries(network.ports(description=tag)),
        "routers": entries(network.routers(name=names.router, description=tag)),
        "subnets": entries(network.subnets(name=names.subnet, description=tag)),
        "networks": entries(network.networks(name=names.network, description=tag)),
        "security_groups": entries(network.security_groups(name=names.security_group, description=tag)),
        # Nova key pairs have no id of their own: the name is the handle.
        "keypairs": [{"id": k.name, "name": k.name} for k in conn.compute.keypairs() if k.name == names.keypair],
    }


def describe(resources: dict[str, list[dict[str, str]]]) -> str:
    return "; ".join(f"{kind.replace('_', ' ')}: {', '.join(e['name'] for e in items)}" for kind, items in resources.items() if items)
