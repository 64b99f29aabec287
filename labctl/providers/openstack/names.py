"""How a lab's OpenStack resources are named and marked, so `down` finds exactly them.

Every name starts with `labctl-<lab>-`. Names alone are ambiguous by prefix
(lab `a` vs lab `a-b`), so each resource also carries the marker
`labctl-lab=<lab>`: as the description of Neutron resources (every Neutron
resource has one and lists filter on it exactly) and as metadata on servers.
Nova key pairs have neither; theirs is an exact name.
"""

import ipaddress
from dataclasses import dataclass

from labctl.config import LabConfig
from labctl.errors import UsageError

MARKER_KEY = "labctl-lab"
# A /24 is plenty for a lab (at most 7 controllers, 20 workers, a load balancer and spares).
SUBNET_CIDR = "10.42.0.0/24"


def marker(lab: str) -> str:
    return f"{MARKER_KEY}={lab}"


def prefix(lab: str) -> str:
    return f"labctl-{lab}-"


@dataclass(frozen=True)
class LabNames:
    lab: str

    @property
    def network(self) -> str:
        return f"{prefix(self.lab)}net"

    @property
    def subnet(self) -> str:
        return f"{prefix(self.lab)}subnet"

    @property
    def router(self) -> str:
        return f"{prefix(self.lab)}router"

    @property
    def security_group(self) -> str:
        return f"{prefix(self.lab)}sg"

    @property
    def keypair(self) -> str:
        return f"{prefix(self.lab)}key"

    def server(self, node: str) -> str:
        return f"{prefix(self.lab)}{node}"

    def port(self, node: str) -> str:
        return f"{prefix(self.lab)}{node}-port"

    def node_of(self, server_name: str) -> str:
        return server_name.removeprefix(prefix(self.lab))


@dataclass(frozen=True)
class PlannedNode:
    name: str
    role: str  # controller | worker | api_lb


def planned_nodes(config: LabConfig, workers: int | None = None) -> list[PlannedNode]:
    """controller-1…, worker-1…, and api-lb in front of several controllers (the same names as the local provider)."""
    topology = config.topology
    nodes = [PlannedNode(f"controller-{i}", "controller") for i in range(1, topology.controllers + 1)]
    nodes += [PlannedNode(f"worker-{i}", "worker") for i in range(1, (workers or topology.workers) + 1)]
    if topology.controllers > 1:
        nodes.append(PlannedNode("api-lb", "api_lb"))
    return nodes


def check_subnet(config: LabConfig) -> str:
    """The lab subnet must not collide with the cluster's pod or service ranges."""
    subnet = ipaddress.ip_network(SUBNET_CIDR)
    for field, cidr in (("network.pod_cidr", config.network.pod_cidr), ("network.service_cidr", config.network.service_cidr)):
        if subnet.overlaps(ipaddress.ip_network(cidr)):
            raise UsageError(f"{field} {cidr} overlaps the OpenStack lab subnet {SUBNET_CIDR}: choose another {field}")
    return SUBNET_CIDR
