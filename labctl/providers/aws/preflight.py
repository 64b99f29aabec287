"""Checks before anything is created: instance types, zone, image, the operator's address.

Each failure is one line naming the fix, raised before the cost prompt, so a
typo never leaves half a lab behind.
"""

import ipaddress
import os
import urllib.error
import urllib.request
from dataclasses import dataclass

import botocore.exceptions

from labctl.errors import InfraError, UsageError
from labctl.providers.aws.errors import explain
from labctl.providers.aws.session import AwsSession
from labctl.providers.exposure import parse_allow_from

# Official publishers of the images (AWS account ids), looked up by owner so a
# look-alike image published by someone else can never be picked.
IMAGES: dict[str, dict[str, str]] = {
    "debian": {"owner": "136693071363", "name": "debian-12-{arch}-*", "user": "admin"},
    "flatcar": {"owner": "075585003325", "name": "Flatcar-stable-*", "user": "core"},
}
# AMI architecture names as used in Debian's image names.
DEBIAN_ARCH = {"x86_64": "amd64", "arm64": "arm64"}
# Where the operator's public address is asked for when --allow-from is not given.
MYIP_URL = "https://checkip.amazonaws.com/"


@dataclass
class Image:
    ami_id: str
    name: str
    root_device: str
    ssh_user: str


def instance_architecture(aws: AwsSession, types: list[str]) -> str:
    """The CPU architecture all TYPES share (the image must match); unknown types fail here."""
    wanted = sorted(set(types))
    try:
        found = aws.client("ec2").describe_instance_types(InstanceTypes=wanted)["InstanceTypes"]
    except botocore.exceptions.ClientError as error:
        if error.response.get("Error", {}).get("Code") == "InvalidInstanceType":
            raise UsageError(
                f"unknown instance type in {', '.join(wanted)} for region {aws.region}: "
                "set aws.controller_instance_type / aws.worker_instance_type to one AWS offers (e.g. t3.medium)"
            ) from None
        raise InfraError(explain(error, "checking the instance types")) from None
    except botocore.exceptions.BotoCoreError as error:
        raise InfraError(explain(error, "checking the instance types")) from None
    arches: set[str] = set()
    for entry in found:
        supported = set(entry.get("ProcessorInfo", {}).get("SupportedArchitectures", ["x86_64"])) & set(DEBIAN_ARCH)
        arches.add(sorted(supported)[-1] if supported else "x86_64")
    if len(arches) > 1:
        raise UsageError(
            f"instance types {', '.join(wanted)} mix CPU architectures ({', '.join(sorted(arches))}): use one architecture for all nodes"
        )
    return arches.pop() if arches else "x86_64"


def pick_zone(aws: AwsSession, types: list[str]) -> str:
    """The first available zone offering every instance type (a lab lives in one zone)."""
    ec2 = aws.client("ec2")
    try:
        zones = [
            z["ZoneName"]
            for z in ec2.describe_availability_zones(Filters=[{"Name": "state", "Values": ["available"]}])["AvailabilityZones"]
        ]
        offered: dict[str, set[str]] = {}
        for offering in ec2.describe_instance_type_offerings(
            LocationType="availability-zone", Filters=[{"Name": "instance-type", "Values": sorted(set(types))}]
        )["InstanceTypeOfferings"]:
            offered.setdefault(offering["Location"], set()).add(offering["InstanceType"])
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as error:
        raise InfraError(explain(error, "listing availability zones")) from None
    for zone in sorted(zones):
        if set(types) <= offered.get(zone, set()):
            return zone
    raise InfraError(f"no availability zone in {aws.region} offers {', '.join(sorted(set(types)))}: pick other instance types or --region")


def find_image(aws: AwsSession, os_name: str, arch: str, ami: str = "") -> Image:
    """The image to boot: AMI if given (checked), else the newest official one for OS_NAME and ARCH."""
    spec = IMAGES[os_name]
    ec2 = aws.client("ec2")
    try:
        if ami:
            images = ec2.describe_images(ImageIds=[ami])["Images"]
        else:
            pattern = spec["name"].format(arch=DEBIAN_ARCH[arch])
            images = ec2.describe_images(
                Owners=[spec["owner"]],
                Filters=[
                    {"Name": "name", "Values": [pattern]},
                    {"Name": "architecture", "Values": [arch]},
                    {"Name": "state", "Values": ["available"]},
                ],
            )["Images"]
    except botocore.exceptions.ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        if code.startswith("InvalidAMIID"):
            raise UsageError(f"AMI {ami} not found in {aws.region}: set aws.ami to an AMI id of this region, or leave it empty") from None
        raise InfraError(explain(error, "looking up the image")) from None
    except botocore.exceptions.BotoCoreError as error:
        raise InfraError(explain(error, "looking up the image")) from None
    if not images:
        if ami:
            raise UsageError(f"AMI {ami} not found in {aws.region}: set aws.ami to an AMI id of this region, or leave it empty")
        raise UsageError(
            f"no {os_name} image found in {aws.region} (owner {spec['owner']}, name {spec['name'].format(arch=DEBIAN_ARCH[arch])}, "
            f"{arch}): set aws.ami to an AMI id, or pick another --region"
        )
    newest = max(images, key=lambda image: str(image.get("CreationDate", "")))
    return Image(
        ami_id=newest["ImageId"],
        name=str(newest.get("Name", "")),
        root_device=str(newest.get("RootDeviceName") or "/dev/xvda"),
        ssh_user=spec["user"],
    )


def detect_public_cidr(url: str | None = None, timeout: float = 5.0) -> str:
    """The operator's public IPv4 as a /32, asked of a what-is-my-ip service (LABCTL_MYIP_URL overrides it)."""
    target = url or os.environ.get("LABCTL_MYIP_URL") or MYIP_URL
    try:
        with urllib.request.urlopen(target, timeout=timeout) as response:
            text = response.read(64).decode("ascii", "replace").strip()
        address = ipaddress.ip_address(text)
    except (urllib.error.URLError, OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        raise UsageError(
            f"could not detect your public address ({reason}): pass --allow-from CIDR, e.g. --allow-from 203.0.113.7/32"
        ) from None
    if address.version != 4:
        raise UsageError(f"your public address {address} is IPv6: pass an IPv4 --allow-from CIDR")
    return f"{address}/32"


def resolve_allow_from(value: str) -> str:
    return parse_allow_from(value) if value else detect_public_cidr()
