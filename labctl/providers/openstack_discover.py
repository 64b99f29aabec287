"""What a lab has on the cloud right now, read with openstacksdk: its nodes, and anything left over."""

import re
from dataclasses import dataclass
from typing import Any

from openstack import connection

from labctl.providers.openstack_names import MARKER_KEY, LabNames, marker, prefix

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


def leftovers(conn: connection.Connection, lab: str) -> dict[str, list[str]]:
    """Every resource of the lab that still exists, by kind (empty after a clean `down`)."""
    names = LabNames(lab)
    tag = marker(lab)
    network = conn.network
    found = {
        "servers": [s.name for s in lab_servers(conn, lab)],
        "floating IPs": [f.floating_ip_address for f in network.ips(description=tag)],
        "ports": [p.name or p.id for p in network.ports(description=tag)],
        "routers": [r.name for r in network.routers(name=names.router, description=tag)],
        "subnets": [s.name for s in network.subnets(name=names.subnet, description=tag)],
        "networks": [n.name for n in network.networks(name=names.network, description=tag)],
        "security groups": [g.name for g in network.security_groups(name=names.security_group, description=tag)],
        "key pairs": [k.name for k in conn.compute.keypairs() if k.name == names.keypair],
    }
    return {kind: items for kind, items in found.items() if items}
