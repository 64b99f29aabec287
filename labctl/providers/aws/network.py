"""The address plan of a lab's VPC: which range it gets and the subnets cut from it.

Every lab's VPC gets a /20 of its own, from 10.60.0.0 upwards, so the labs of a class (or of one
account) never overlap: an instructor can route to, or peer with, every student's lab at once, and
a lone lab keeps the node addresses it always had (10.60.1.0/24). A lab keeps the range of the VPC
it has (found by its tag, so a lost local state changes nothing) or the one its state recorded; a
new lab takes the first /20 no other lab's VPC in the region, no lab being built on this host and
neither of the cluster's pod and service ranges overlaps.
"""

import ipaddress
from dataclasses import dataclass
from typing import Any, Final

import botocore.exceptions

from labctl.config import LabConfig
from labctl.errors import InfraError, UsageError
from labctl.lab import Lab, list_labs
from labctl.providers import address_pool
from labctl.providers.aws.errors import explain
from labctl.providers.aws.nodes import TAG_LAB
from labctl.providers.aws.session import AwsSession

PREFIX: Final = 20
FIRST: Final = ipaddress.IPv4Address("10.60.0.0")
POOL: Final = ipaddress.IPv4Network("10.0.0.0/8")


@dataclass(frozen=True)
class VpcPlan:
    vpc: ipaddress.IPv4Network

    @property
    def node_subnet(self) -> ipaddress.IPv4Network:
        """The VPC's second /24 (the first stays free, as AWS reserves addresses at its start)."""
        return ipaddress.IPv4Network(f"{self.vpc.network_address + 256}/24")

    @property
    def lb_subnet(self) -> ipaddress.IPv4Network:
        """The first /26 of the VPC's third /24: the nodes admit the NodePort from it alone."""
        return ipaddress.IPv4Network(f"{self.vpc.network_address + 512}/26")


def _lab_of(vpc: dict[str, Any]) -> str:
    return next((t["Value"] for t in vpc.get("Tags") or [] if t.get("Key") == TAG_LAB), "")


def labs_vpcs(aws: AwsSession) -> dict[str, ipaddress.IPv4Network]:
    """The VPC range of every lab in the region, by lab name."""
    try:
        vpcs = aws.client("ec2").describe_vpcs(Filters=[{"Name": "tag-key", "Values": [TAG_LAB]}])["Vpcs"]
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as error:
        raise InfraError(explain(error, "listing the labs' VPCs")) from None
    return {_lab_of(v): ipaddress.IPv4Network(v["CidrBlock"]) for v in vpcs}


def recorded_by_other_labs(name: str, region: str) -> address_pool.Taken:
    """Ranges other labs on this host recorded for the region, their VPC perhaps not made yet."""
    taken: address_pool.Taken = []
    for other in list_labs():
        if other == name:
            continue
        state = Lab(other).read_state()
        if state.get("aws_vpc_cidr") and state.get("aws_region") == region:
            taken.append((f"lab {other}", ipaddress.IPv4Network(state["aws_vpc_cidr"])))
    return taken


def claim_vpc(aws: AwsSession, lab: Lab, config: LabConfig) -> VpcPlan:
    """The lab's VPC range, recorded in its state before another lab may choose."""
    with address_pool.choosing("aws-vpcs"):
        in_cloud = labs_vpcs(aws)
        kept = in_cloud.get(lab.name) or lab.read_state().get("aws_vpc_cidr")
        if kept:
            vpc = ipaddress.IPv4Network(kept)
        else:
            taken = [(f"lab {other}", net) for other, net in in_cloud.items()]
            taken += recorded_by_other_labs(lab.name, aws.region) + address_pool.cluster_ranges(config)
            candidates = (block for block in POOL.subnets(new_prefix=PREFIX) if block.network_address >= FIRST)
            found = address_pool.first_free(candidates, taken)
            if found is None:
                raise UsageError(f"no free /{PREFIX} left in {POOL} for the lab's VPC in {aws.region}: remove a lab there first")
            vpc = found
        lab.update_state(aws_region=aws.region, aws_vpc_cidr=str(vpc))
    return VpcPlan(vpc)
