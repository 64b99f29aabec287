"""Helpers of the AWS provider tests: the emulator handle, running labctl, asking moto what is left."""

import contextlib
import json
import os
import shutil
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
REGION = "us-east-1"
ACCESS_KEY = "AKIALABCTLTESTKEY001"
# Distinctive, so a search of every file a run leaves behind finds it if it leaked.
SECRET_KEY = "labctlTestSecret0NeverInArtifacts0x9f3c2a"
ALLOW_FROM = "203.0.113.0/24"


@dataclass
class Moto:
    endpoint: str
    pid: int

    def client(self, service: str, access_key: str = ACCESS_KEY, secret_key: str = SECRET_KEY, region: str = REGION) -> Any:
        return boto3.client(
            service,  # type: ignore[call-overload]
            region_name=region,
            endpoint_url=self.endpoint,
            aws_access_key_id=access_key,
            aws_secret_access_key=secret_key,
        )

    def set_auth(self, initial_no_auth_actions: str) -> None:
        """moto enforces IAM policies after this many requests ('inf' = never, the default)."""
        url = f"{self.endpoint}/moto-api/reset-auth"
        # A text body: werkzeug would parse a form-encoded one away from request.data.
        request = urllib.request.Request(url, data=initial_no_auth_actions.encode(), method="POST", headers={"Content-Type": "text/plain"})
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200


def labctl_env(moto: Moto, home: Path, **overrides: str) -> dict[str, str]:
    """The environment of a user pointed at the emulator; nothing of the host's AWS setup leaks in."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "LABCTL_"))}
    env.update(
        {
            "LABCTL_HOME": str(home),
            "AWS_ENDPOINT_URL": moto.endpoint,
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "AWS_REGION": REGION,
            "AWS_CONFIG_FILE": str(home / "no-aws-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(home / "no-aws-credentials"),
            # Without keys botocore would ask the EC2 metadata address: no traffic leaves 127.0.0.1.
            "AWS_EC2_METADATA_DISABLED": "true",
            # A closed local port: address detection must fail fast, never reach out.
            "LABCTL_MYIP_URL": "http://127.0.0.1:9/",
            "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '/usr/bin:/bin')}",
            # See fastclock/sitecustomize.py: the modules' fixed eventual-consistency sleeps, shortened.
            "PYTHONPATH": str(HERE / "fastclock"),
            "LABCTL_TEST_SLEEP_SCALE": "0.05",
        }
    )
    env.update(overrides)
    return {k: v for k, v in env.items() if v != ""}


def offline_terraformrc(path: Path, mirror: Path) -> Path | None:
    """A Terraform CLI configuration taking providers only from the local MIRROR, never a registry (None: no terraform or mirror)."""
    if shutil.which("terraform") is None or not mirror.is_dir():
        return None
    path.write_text(
        f'provider_installation {{\n  filesystem_mirror {{\n    path = "{mirror}"\n  }}\n'
        '  direct {\n    exclude = ["registry.terraform.io/*/*"]\n  }\n}\n'
    )
    return path


def labctl(env: dict[str, str], *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "labctl", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout, cwd=REPO, stdin=subprocess.DEVNULL)


def flat(text: str) -> str:
    """Output with rich's line wrapping undone."""
    return " ".join(text.split())


def error_line(result: subprocess.CompletedProcess[str]) -> str:
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, f"expected one error line, got stderr:\n{result.stderr}"
    return lines[0]


def _tagged(tags: list[dict[str, str]] | None, lab: str) -> bool:
    return any(t["Key"] == "labctl-lab" and t["Value"] == lab for t in tags or [])


def lab_resources(moto: Moto, lab: str, **credentials: str) -> list[str]:
    """Everything of LAB that moto still holds, asked service by service (terminated instances excluded)."""
    ec2 = moto.client("ec2", **credentials)
    tag = [{"Name": "tag:labctl-lab", "Values": [lab]}]
    found: list[str] = []
    for reservation in ec2.describe_instances(Filters=tag)["Reservations"]:
        found += [f"instance {i['InstanceId']}" for i in reservation["Instances"] if i["State"]["Name"] != "terminated"]
    found += [f"vpc {v['VpcId']}" for v in ec2.describe_vpcs(Filters=tag)["Vpcs"]]
    found += [f"subnet {s['SubnetId']}" for s in ec2.describe_subnets(Filters=tag)["Subnets"]]
    found += [f"igw {g['InternetGatewayId']}" for g in ec2.describe_internet_gateways(Filters=tag)["InternetGateways"]]
    found += [f"route-table {r['RouteTableId']}" for r in ec2.describe_route_tables(Filters=tag)["RouteTables"]]
    found += [f"sg {g['GroupId']}" for g in ec2.describe_security_groups(Filters=tag)["SecurityGroups"]]
    found += [f"key {k['KeyName']}" for k in ec2.describe_key_pairs()["KeyPairs"] if k["KeyName"] == f"labctl-{lab}"]
    found += [f"template {t['LaunchTemplateName']}" for t in ec2.describe_launch_templates(Filters=tag)["LaunchTemplates"]]
    found += [f"volume {v['VolumeId']}" for v in ec2.describe_volumes(Filters=tag)["Volumes"]]
    groups = moto.client("autoscaling", **credentials).describe_auto_scaling_groups()["AutoScalingGroups"]
    found += [f"asg {g['AutoScalingGroupName']}" for g in groups if _tagged(g.get("Tags"), lab)]
    elb = moto.client("elbv2", **credentials)
    arns = [lb["LoadBalancerArn"] for lb in elb.describe_load_balancers()["LoadBalancers"]]
    arns += [tg["TargetGroupArn"] for tg in elb.describe_target_groups()["TargetGroups"]]
    if arns:
        found += [f"elb {d['ResourceArn']}" for d in elb.describe_tags(ResourceArns=arns)["TagDescriptions"] if _tagged(d["Tags"], lab)]
    return found


@contextlib.contextmanager
def iam_user_denied(moto: Moto, actions: list[str]) -> Iterator[dict[str, str]]:
    """Credentials of an IAM user allowed everything but ACTIONS, with moto enforcing IAM meanwhile.

    This is how a failure is injected half-way through `up` against a real API:
    the same AccessDenied a user with a narrow policy meets on AWS.
    """
    iam = moto.client("iam")
    user = "labctl-narrow-" + str(abs(hash(tuple(actions))) % 100000)
    iam.create_user(UserName=user)
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "*", "Resource": "*"},
            {"Effect": "Deny", "Action": actions, "Resource": "*"},
        ],
    }
    iam.put_user_policy(UserName=user, PolicyName="narrow", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName=user)["AccessKey"]
    moto.set_auth("0")
    try:
        yield {"access_key": key["AccessKeyId"], "secret_key": key["SecretAccessKey"]}
    finally:
        moto.set_auth("inf")


def files_containing(root: Path, needle: str) -> list[Path]:
    hits = []
    for path in root.rglob("*"):
        if path.is_file() and needle.encode() in path.read_bytes():
            hits.append(path)
    return hits
