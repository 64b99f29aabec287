"""The lab's instances as AWS sees them, their stable node names, and the inventory built from them.

Workers come from an Auto Scaling group and carry no name of their own: each is
given `worker-N` (lowest free N) once, as the tag `labctl-node`, so names stay
put when the group grows and survive a lost lab directory.
"""

import re
from pathlib import Path
from typing import Any

import botocore.exceptions
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from labctl.atomic_file import write_atomic
from labctl.errors import InfraError
from labctl.inventory import Inventory, Node
from labctl.providers.aws.errors import explain
from labctl.providers.aws.session import AwsSession

TAG_LAB = "labctl-lab"
TAG_NODE = "labctl-node"
TAG_ROLE = "labctl-role"
LIVE_STATES = ("pending", "running", "stopping", "stopped")
_WORKER = re.compile(r"^worker-(\d+)$")


def ensure_ssh_key(private_path: Path) -> str:
    """The lab's ed25519 key (created once, private part 0600); returns the OpenSSH public key."""
    if private_path.exists():
        key = serialization.load_ssh_private_key(private_path.read_bytes(), password=None)
    else:
        key = Ed25519PrivateKey.generate()
        private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption())
        write_atomic(private_path, private.decode(), mode=0o600)
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()
    public_line = f"{public} labctl-{private_path.parent.parent.name}"
    write_atomic(private_path.with_suffix(".pub"), public_line + "\n", mode=0o644)
    return public_line


def tags_of(instance: dict[str, Any]) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in instance.get("Tags", [])}


def lab_instances(aws: AwsSession, lab: str, states: tuple[str, ...] = LIVE_STATES) -> list[dict[str, Any]]:
    """Every instance tagged with the lab in one of STATES."""
    filters = [{"Name": f"tag:{TAG_LAB}", "Values": [lab]}, {"Name": "instance-state-name", "Values": list(states)}]
    try:
        pages = aws.client("ec2").get_paginator("describe_instances").paginate(Filters=filters)
        return [instance for page in pages for reservation in page["Reservations"] for instance in reservation["Instances"]]
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as error:
        raise InfraError(explain(error, f"listing the instances of lab {lab}")) from None


def role_of(instance: dict[str, Any]) -> str:
    tags = tags_of(instance)
    if tags.get(TAG_ROLE) in ("controller", "worker"):
        return tags[TAG_ROLE]
    # Instances launched by the group carry its tag even before ours propagate.
    return "worker" if "aws:autoscaling:groupName" in tags else "controller"


def name_workers(aws: AwsSession, instances: list[dict[str, Any]]) -> None:
    """Give each unnamed worker `worker-N` (lowest free N, oldest first) and tag it so."""
    workers = [i for i in instances if role_of(i) == "worker"]
    taken = {int(m.group(1)) for i in workers if (m := _WORKER.match(tags_of(i).get(TAG_NODE, "")))}
    unnamed = sorted((i for i in workers if TAG_NODE not in tags_of(i)), key=lambda i: (str(i.get("LaunchTime", "")), i["InstanceId"]))
    number = 0
    for instance in unnamed:
        number += 1
        while number in taken:
            number += 1
        taken.add(number)
        name = f"worker-{number}"
        lab = tags_of(instance).get(TAG_LAB, "")
        try:
            aws.client("ec2").create_tags(
                Resources=[instance["InstanceId"]],
                Tags=[{"Key": TAG_NODE, "Value": name}, {"Key": "Name", "Value": f"labctl-{lab}-{name}"}],
            )
        except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as error:
            raise InfraError(explain(error, f"naming instance {instance['InstanceId']}")) from None
        instance.setdefault("Tags", []).extend([{"Key": TAG_NODE, "Value": name}])


def node_name(instance: dict[str, Any]) -> str:
    return tags_of(instance).get(TAG_NODE) or instance["InstanceId"]


def _order(instance: dict[str, Any]) -> tuple[int, int, str]:
    name = node_name(instance)
    digits = re.findall(r"\d+", name)
    return (0 if role_of(instance) == "controller" else 1, int(digits[-1]) if digits else 0, name)


def build_inventory(
    lab: str,
    instances: list[dict[str, Any]],
    *,
    ssh_user: str,
    inventory_vars: dict[str, Any],
    ssh_key_path: Path | None = None,
    python_interpreter: str = "",
) -> Inventory:
    """The common inventory from running (or starting) instances; SSH goes to public addresses."""
    nodes: list[Node] = []
    for instance in sorted(instances, key=_order):
        if instance.get("State", {}).get("Name") not in ("pending", "running"):
            continue
        private_ip = instance.get("PrivateIpAddress", "")
        extra: dict[str, Any] = {"instance_id": instance["InstanceId"]}
        if ssh_user != "root":
            # The shared roles run as root, as on local nodes: cloud images log in as a sudo user.
            extra["ansible_become"] = True
        if ssh_key_path is not None:
            extra["ansible_ssh_private_key_file"] = str(ssh_key_path)
        if python_interpreter:
            # Per host, not for all: plays also run tasks on localhost, which has its own Python.
            extra["ansible_python_interpreter"] = python_interpreter
        nodes.append(
            Node(
                name=node_name(instance),
                role=role_of(instance),  # type: ignore[arg-type]
                ansible_host=instance.get("PublicIpAddress") or private_ip,
                node_ip=private_ip,
                ansible_user=ssh_user,
                extra=extra,
            )
        )
    return Inventory(lab=lab, provider="aws", nodes=nodes, vars=dict(inventory_vars))


def describe_machines(instances: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows for `labctl status`: every instance of the lab, whatever its state."""
    rows = []
    for instance in sorted(instances, key=_order):
        rows.append(
            {
                "name": node_name(instance),
                "role": role_of(instance),
                "ip": instance.get("PublicIpAddress") or instance.get("PrivateIpAddress", ""),
                "private_ip": instance.get("PrivateIpAddress", ""),
                "state": instance.get("State", {}).get("Name", "unknown"),
                "instance_id": instance["InstanceId"],
                "instance_type": instance.get("InstanceType", ""),
            }
        )
    return rows
