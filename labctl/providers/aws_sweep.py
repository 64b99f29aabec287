"""What of a lab is still on AWS: the check that makes `labctl down` trustworthy.

Independent of how the lab was made (playbook, Terraform, a half-failed run):
it asks every service labctl uses for resources tagged labctl-lab=<lab>.
"""

from typing import Any

import botocore.exceptions

from labctl.errors import InfraError
from labctl.providers.aws_errors import explain
from labctl.providers.aws_nodes import TAG_LAB
from labctl.providers.aws_session import AwsSession


def _tagged(tags: list[dict[str, str]] | None, lab: str) -> bool:
    return any(t.get("Key") == TAG_LAB and t.get("Value") == lab for t in tags or [])


def leftovers(aws: AwsSession, lab: str) -> list[str]:
    """'kind id' for every resource of LAB that still exists (terminated instances do not count)."""
    ec2 = aws.client("ec2")
    by_tag = [{"Name": f"tag:{TAG_LAB}", "Values": [lab]}]
    found: list[str] = []
    try:
        for page in ec2.get_paginator("describe_instances").paginate(
            Filters=[*by_tag, {"Name": "instance-state-name", "Values": ["pending", "running", "stopping", "stopped"]}]
        ):
            found += [f"instance {i['InstanceId']}" for r in page["Reservations"] for i in r["Instances"]]
        found += [f"vpc {v['VpcId']}" for v in ec2.describe_vpcs(Filters=by_tag)["Vpcs"]]
        found += [f"subnet {s['SubnetId']}" for s in ec2.describe_subnets(Filters=by_tag)["Subnets"]]
        found += [f"internet-gateway {g['InternetGatewayId']}" for g in ec2.describe_internet_gateways(Filters=by_tag)["InternetGateways"]]
        found += [f"route-table {t['RouteTableId']}" for t in ec2.describe_route_tables(Filters=by_tag)["RouteTables"]]
        found += [f"security-group {g['GroupId']}" for g in ec2.describe_security_groups(Filters=by_tag)["SecurityGroups"]]
        found += [f"key-pair {k['KeyName']}" for k in ec2.describe_key_pairs(Filters=by_tag)["KeyPairs"]]
        found += [f"launch-template {t['LaunchTemplateId']}" for t in ec2.describe_launch_templates(Filters=by_tag)["LaunchTemplates"]]
        found += _load_balancing(aws, lab)
        groups = aws.client("autoscaling").describe_auto_scaling_groups()["AutoScalingGroups"]
        found += [f"autoscaling-group {g['AutoScalingGroupName']}" for g in groups if _tagged(g.get("Tags"), lab)]
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as error:
        raise InfraError(explain(error, f"checking what is left of lab {lab}")) from None
    return found


def _load_balancing(aws: AwsSession, lab: str) -> list[str]:
    elb = aws.client("elbv2")
    arns: dict[str, str] = {}
    for page in elb.get_paginator("describe_load_balancers").paginate():
        arns.update({lb["LoadBalancerArn"]: f"load-balancer {lb['LoadBalancerName']}" for lb in page["LoadBalancers"]})
    for page in elb.get_paginator("describe_target_groups").paginate():
        arns.update({tg["TargetGroupArn"]: f"target-group {tg['TargetGroupName']}" for tg in page["TargetGroups"]})
    found: list[str] = []
    names = list(arns)
    # DescribeTags takes at most 20 resources per call.
    for start in range(0, len(names), 20):
        descriptions: list[dict[str, Any]] = elb.describe_tags(ResourceArns=names[start : start + 20])["TagDescriptions"]
        found += [arns[d["ResourceArn"]] for d in descriptions if _tagged(d.get("Tags"), lab)]
    return found
