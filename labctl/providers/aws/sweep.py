"""Everything of a lab that exists on AWS, found by its tag (and the VPC it lives in).

Independent of how the lab was made (playbook, Terraform, an up that stopped
half-way). `down` hands this to playbooks/down-aws.yml, which deletes it in
dependency order, and asks again afterwards: anything still found is an error.
"""

from typing import Any

import botocore.exceptions

from labctl.errors import InfraError
from labctl.providers.aws.errors import explain
from labctl.providers.aws.nodes import TAG_LAB
from labctl.providers.aws.session import AwsSession

# Deletion order; each kind only depends on kinds listed before it.
KINDS = (
    "autoscaling_groups",
    "instances",
    "load_balancers",
    "target_groups",
    "launch_templates",
    "key_pairs",
    "security_groups",
    "route_tables",
    "internet_gateways",
    "subnets",
    "vpcs",
)


def _tagged(tags: list[dict[str, str]] | None, lab: str) -> bool:
    return any(t.get("Key") == TAG_LAB and t.get("Value") == lab for t in tags or [])


def discover(aws: AwsSession, lab: str) -> dict[str, list[Any]]:
    """Resources of LAB by kind (see KINDS), as the teardown playbook wants them."""
    try:
        found = _ec2(aws, lab)
        found.update(_load_balancing(aws, lab))
        pages = aws.client("autoscaling").get_paginator("describe_auto_scaling_groups").paginate()
        groups = [g for page in pages for g in page["AutoScalingGroups"]]
        found["autoscaling_groups"] = [g["AutoScalingGroupName"] for g in groups if _tagged(g.get("Tags"), lab)]
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as error:
        raise InfraError(explain(error, f"listing what exists of lab {lab}")) from None
    return {kind: found.get(kind, []) for kind in KINDS}


def _ec2(aws: AwsSession, lab: str) -> dict[str, list[Any]]:
    ec2 = aws.client("ec2")
    by_tag = [{"Name": f"tag:{TAG_LAB}", "Values": [lab]}]
    instances = [
        i["InstanceId"]
        for page in ec2.get_paginator("describe_instances").paginate(
            Filters=[*by_tag, {"Name": "instance-state-name", "Values": ["pending", "running", "shutting-down", "stopping", "stopped"]}]
        )
        for r in page["Reservations"]
        for i in r["Instances"]
    ]
    vpcs = [v["VpcId"] for v in ec2.describe_vpcs(Filters=by_tag)["Vpcs"]]
    in_vpcs = [{"Name": "vpc-id", "Values": vpcs}]
    # Inside the lab's VPCs everything goes (the VPC cannot be deleted otherwise); outside, only what is tagged.
    groups = {g["GroupId"]: g for g in ec2.describe_security_groups(Filters=by_tag)["SecurityGroups"]}
    tables = {t["RouteTableId"]: t for t in ec2.describe_route_tables(Filters=by_tag)["RouteTables"]}
    gateways = {g["InternetGatewayId"] for g in ec2.describe_internet_gateways(Filters=by_tag)["InternetGateways"]}
    subnets = {s["SubnetId"]: s for s in ec2.describe_subnets(Filters=by_tag)["Subnets"]}
    if vpcs:
        groups.update({g["GroupId"]: g for g in ec2.describe_security_groups(Filters=in_vpcs)["SecurityGroups"]})
        tables.update({t["RouteTableId"]: t for t in ec2.describe_route_tables(Filters=in_vpcs)["RouteTables"]})
        attached = [{"Name": "attachment.vpc-id", "Values": vpcs}]
        gateways.update(g["InternetGatewayId"] for g in ec2.describe_internet_gateways(Filters=attached)["InternetGateways"])
        subnets.update({s["SubnetId"]: s for s in ec2.describe_subnets(Filters=in_vpcs)["Subnets"]})
    keys = {k["KeyName"] for k in ec2.describe_key_pairs(Filters=by_tag)["KeyPairs"]}
    # By name too: a key imported by an up that stopped before tagging it.
    keys.update(k["KeyName"] for k in ec2.describe_key_pairs()["KeyPairs"] if k["KeyName"] == f"labctl-{lab}")
    return {
        "instances": instances,
        "vpcs": vpcs,
        "security_groups": [{"id": g["GroupId"], "name": g["GroupName"]} for g in groups.values() if g["GroupName"] != "default"],
        # A VPC's main route table goes with the VPC.
        "route_tables": [
            {"id": t["RouteTableId"], "vpc_id": t["VpcId"]}
            for t in tables.values()
            if not any(a.get("Main") for a in t.get("Associations", []))
        ],
        "internet_gateways": sorted(gateways),
        "subnets": [{"id": s["SubnetId"], "vpc_id": s["VpcId"], "cidr": s["CidrBlock"]} for s in subnets.values()],
        "key_pairs": sorted(keys),
        "launch_templates": [t["LaunchTemplateId"] for t in ec2.describe_launch_templates(Filters=by_tag)["LaunchTemplates"]],
    }


def _load_balancing(aws: AwsSession, lab: str) -> dict[str, list[Any]]:
    elb = aws.client("elbv2")
    pages = elb.get_paginator("describe_load_balancers").paginate()
    balancers = {lb["LoadBalancerArn"]: lb for page in pages for lb in page["LoadBalancers"]}
    pages = elb.get_paginator("describe_target_groups").paginate()
    targets = {tg["TargetGroupArn"]: tg for page in pages for tg in page["TargetGroups"]}
    arns = [*balancers, *targets]
    ours: set[str] = set()
    # DescribeTags takes at most 20 resources per call.
    for start in range(0, len(arns), 20):
        descriptions = elb.describe_tags(ResourceArns=arns[start : start + 20])["TagDescriptions"]
        ours.update(d["ResourceArn"] for d in descriptions if _tagged(d.get("Tags"), lab))
    return {
        "load_balancers": [
            {"name": lb["LoadBalancerName"], "type": lb.get("Type", "network")} for arn, lb in balancers.items() if arn in ours
        ],
        "target_groups": [tg["TargetGroupName"] for arn, tg in targets.items() if arn in ours],
    }


def leftovers(found: dict[str, list[Any]]) -> list[str]:
    """'kind id' for each resource in FOUND, for an error message."""
    names = []
    for kind in KINDS:
        for item in found.get(kind, []):
            label = item if isinstance(item, str) else item.get("id") or item.get("name")
            names.append(f"{kind.rstrip('s').replace('_', '-')} {label}")
    return names
