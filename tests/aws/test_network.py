"""Each lab's VPC gets its own range: labs started at once never overlap, and a lab keeps its range."""

import ipaddress
import json
import subprocess
import sys
from pathlib import Path

from awshelpers import ALLOW_FROM, REPO, Moto, labctl, labctl_env

from labctl.providers.aws.network import VpcPlan


def test_subnets_are_cut_from_the_vpc() -> None:
    plan = VpcPlan(ipaddress.IPv4Network("10.60.16.0/20"))
    assert (str(plan.node_subnet), str(plan.lb_subnet)) == ("10.60.17.0/24", "10.60.18.0/26")
    # A VPC made before ranges were chosen per lab (10.60.0.0/16) keeps the subnets it has.
    old = VpcPlan(ipaddress.IPv4Network("10.60.0.0/16"))
    assert (str(old.node_subnet), str(old.lb_subnet)) == ("10.60.1.0/24", "10.60.2.0/26")


def _vpc(moto: Moto, lab: str) -> dict[str, object]:
    vpcs = moto.client("ec2").describe_vpcs(Filters=[{"Name": "tag:labctl-lab", "Values": [lab]}])["Vpcs"]
    assert len(vpcs) == 1, vpcs
    return vpcs[0]


def _node_ips(moto: Moto, lab: str) -> list[str]:
    reservations = moto.client("ec2").describe_instances(
        Filters=[{"Name": "tag:labctl-lab", "Values": [lab]}, {"Name": "instance-state-name", "Values": ["running"]}]
    )["Reservations"]
    return [i["PrivateIpAddress"] for r in reservations for i in r["Instances"]]


def _state(home: Path, lab: str) -> dict[str, object]:
    return json.loads((home / "labs" / lab / "state.json").read_text())


def test_labs_started_at_once_get_vpcs_that_do_not_overlap(moto: Moto, tmp_path: Path) -> None:
    env = labctl_env(moto, tmp_path)
    labs = ["net-a", "net-b"]
    command = [sys.executable, "-m", "labctl", "up", "aws", "--provision-only", "--yes", "--allow-from", ALLOW_FROM]
    started = [subprocess.Popen([*command, "--lab", lab], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                cwd=REPO, stdin=subprocess.DEVNULL)
               for lab in labs]
    for process in started:
        _, stderr = process.communicate(timeout=300)
        assert process.returncode == 0, stderr
    try:
        vpcs = {lab: _vpc(moto, lab) for lab in labs}
        ranges = {lab: ipaddress.IPv4Network(str(vpc["CidrBlock"])) for lab, vpc in vpcs.items()}
        assert all(net.prefixlen == 20 for net in ranges.values()), ranges
        assert not ranges["net-a"].overlaps(ranges["net-b"]), ranges
        # Nor any other lab's VPC in the region (other tests' labs share this emulator).
        others = moto.client("ec2").describe_vpcs(Filters=[{"Name": "tag-key", "Values": ["labctl-lab"]}])["Vpcs"]
        for other in others:
            owner = next(t["Value"] for t in other["Tags"] if t["Key"] == "labctl-lab")
            for lab, net in ranges.items():
                if owner != lab:
                    assert not net.overlaps(ipaddress.IPv4Network(other["CidrBlock"])), (lab, owner)
        for lab, net in ranges.items():
            assert _state(tmp_path, lab)["aws_vpc_cidr"] == str(net)
            node_subnet = VpcPlan(net).node_subnet
            assert _node_ips(moto, lab) and all(ipaddress.IPv4Address(ip) in node_subnet for ip in _node_ips(moto, lab))

        # A second up keeps the VPC; so does one whose local state forgot the range (the VPC's tag finds it).
        state_path = tmp_path / "labs" / "net-a" / "state.json"
        state = json.loads(state_path.read_text())
        del state["aws_vpc_cidr"]
        state_path.write_text(json.dumps(state))
        again = labctl(env, "up", "aws", "--provision-only", "--yes", "--allow-from", ALLOW_FROM, "--lab", "net-a")
        assert again.returncode == 0, again.stderr
        assert _vpc(moto, "net-a")["VpcId"] == vpcs["net-a"]["VpcId"]
        assert _state(tmp_path, "net-a")["aws_vpc_cidr"] == str(ranges["net-a"])
    finally:
        for lab in labs:
            down = labctl(env, "down", "--lab", lab)
            assert down.returncode == 0, down.stderr
