"""A lab's whole life on AWS (moto): up --provision-only → inventory → status → scale-up → down → down again."""

import json
import stat
from pathlib import Path

import pytest
import yaml
from awshelpers import ALLOW_FROM, SECRET_KEY, Moto, error_line, files_containing, flat, lab_resources, labctl, labctl_env

from labctl.config import LabConfig
from labctl.inventory import load_inventory
from labctl.lab import Lab
from labctl.providers import ProviderContext, ProviderOptions
from labctl.ui import Ui


def _context(lab: str) -> ProviderContext:
    the_lab = Lab(lab)
    return ProviderContext(lab=the_lab, config=the_lab.load_config(), ui=Ui(assume_yes=True), options=ProviderOptions(yes=True))


def test_lab_lifecycle(moto: Moto, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lab = "t1"
    env = labctl_env(moto, tmp_path)

    # --- create ---------------------------------------------------------------
    up = labctl(env, "up", "aws", "--provision-only", "--yes", "--allow-from", ALLOW_FROM, "--lab", lab)
    assert up.returncode == 0, up.stderr
    assert "estimated cost: about" in flat(up.stderr) and "as of 2025-06-01" in flat(up.stderr)
    assert f"lab {lab} is provisioned on aws" in flat(up.stdout)

    lab_dir = tmp_path / "labs" / lab
    inventory = load_inventory(lab_dir / "inventory.yml")
    assert inventory.provider == "aws" and inventory.lab == lab
    assert [n.name for n in inventory.nodes] == ["controller-1", "worker-1", "worker-2"]
    assert [n.role for n in inventory.nodes] == ["controller", "worker", "worker"]
    ec2 = moto.client("ec2")
    reservations = ec2.describe_instances(Filters=[{"Name": "tag:labctl-lab", "Values": [lab]}])["Reservations"]
    instances = {i["InstanceId"]: i for r in reservations for i in r["Instances"]}
    assert len(instances) == 3
    for node in inventory.nodes:
        instance = instances[node.extra["instance_id"]]
        assert node.ansible_host == instance["PublicIpAddress"]
        assert node.node_ip == instance["PrivateIpAddress"]
        assert node.ansible_user == "admin" and node.extra["ansible_become"] is True
        assert node.extra["ansible_ssh_private_key_file"] == str(lab_dir / "ssh" / "id_ed25519")
        # The official Debian image (by owner), newest: not the look-alike of another account.
        assert instance["ImageId"] == "ami-0d1e2b3a4c5d60002"
        assert {"Key": "labctl-node", "Value": node.name} in instance["Tags"]
    controller = inventory.by_role("controller")[0]
    # The operator uses the public address, the nodes the private one.
    assert (inventory.vars["api_client_host"], inventory.vars["api_endpoint_host"]) == (controller.ansible_host, controller.node_ip)
    assert inventory.vars["guestbook_url"].startswith("http://labctl-t1-nlb")

    # The same groups the local provider writes, so the same roles run.
    raw = yaml.safe_load((lab_dir / "inventory.yml").read_text())
    assert set(raw["all"]["children"]) == {"controllers", "workers", "etcd", "k8s_cluster"}

    # The key pair: private half 0600 in the lab, public half in AWS, never the private one in a log.
    key = lab_dir / "ssh" / "id_ed25519"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    private_body = key.read_text().splitlines()[1]
    assert ec2.describe_key_pairs(KeyNames=[f"labctl-{lab}"])["KeyPairs"]
    assert files_containing(lab_dir / "logs", private_body) == []

    # Network rules: SSH, the API and the apps' NodePorts only from --allow-from; the guestbook NodePort
    # also from the load balancer's subnet.
    group = ec2.describe_security_groups(Filters=[{"Name": "tag:labctl-lab", "Values": [lab]}])["SecurityGroups"][0]
    by_port = {(p.get("FromPort"), p.get("IpProtocol")): p for p in group["IpPermissions"]}
    assert [r["CidrIp"] for r in by_port[(22, "tcp")]["IpRanges"]] == [ALLOW_FROM]
    assert [r["CidrIp"] for r in by_port[(6443, "tcp")]["IpRanges"]] == [ALLOW_FROM]
    lb_subnet = ec2.describe_subnets(Filters=[{"Name": "tag:Name", "Values": [f"labctl-{lab}-lb"]}])["Subnets"][0]
    assert sorted(r["CidrIp"] for r in by_port[(31080, "tcp")]["IpRanges"]) == sorted([ALLOW_FROM, lb_subnet["CidrBlock"]])
    assert [r["CidrIp"] for r in by_port[(31000, "tcp")]["IpRanges"]] == [ALLOW_FROM]
    assert by_port[(None, "-1")]["UserIdGroupPairs"][0]["GroupId"] == group["GroupId"]
    assert not any(r.get("CidrIp") == "0.0.0.0/0" for p in group["IpPermissions"] for r in p.get("IpRanges", []))

    # Workers come from the group, behind the load balancer's target group on the guestbook NodePort.
    asg = moto.client("autoscaling").describe_auto_scaling_groups(AutoScalingGroupNames=[f"labctl-{lab}-workers"])["AutoScalingGroups"][0]
    assert asg["DesiredCapacity"] == 2 and asg["LaunchTemplate"]["LaunchTemplateName"] == f"labctl-{lab}-worker"
    elb = moto.client("elbv2")
    target_group = elb.describe_target_groups(Names=[f"labctl-{lab}-gb"])["TargetGroups"][0]
    assert target_group["Port"] == 31080 and target_group["Protocol"] == "TCP"
    assert asg["TargetGroupARNs"] == [target_group["TargetGroupArn"]]
    balancer = elb.describe_load_balancers(Names=[f"labctl-{lab}-nlb"])["LoadBalancers"][0]
    assert balancer["Type"] == "network" and balancer["Scheme"] == "internet-facing"

    # Every resource of the lab carries its tag (this is what `down` relies on).
    tagged = lab_resources(moto, lab)
    for kind in ("vpc", "subnet", "igw", "route-table", "sg", "key", "template", "asg", "elb"):
        assert any(entry.startswith(kind + " ") for entry in tagged), f"no tagged {kind} in {tagged}"

    # Secrets: the key never lands in ansible-runner's artifacts, logs or state, and the credentials file is gone.
    assert files_containing(tmp_path, SECRET_KEY) == []
    assert not (lab_dir / "aws-credentials").exists()
    commands = list((lab_dir / "logs").rglob("command"))
    assert commands, "ansible-runner artifacts expected"
    env_seen = json.loads(commands[0].read_text())["env"]
    assert "AWS_SECRET_ACCESS_KEY" not in env_seen and env_seen["AWS_PROFILE"] == "labctl"

    # --- a second up converges, creates nothing new ------------------------------
    again = labctl(env, "up", "aws", "--provision-only", "--yes", "--lab", lab)
    assert again.returncode == 0, again.stderr
    assert "create the lab on AWS" in again.stderr and " 0 changed)" in again.stderr
    assert load_inventory(lab_dir / "inventory.yml").nodes == inventory.nodes
    assert len(moto.client("ec2").describe_vpcs(Filters=[{"Name": "tag:labctl-lab", "Values": [lab]}])["Vpcs"]) == 1

    # --- status -------------------------------------------------------------------
    status = labctl(env, "status", "--lab", lab, "--output", "json")
    assert status.returncode == 0, status.stderr
    shown = json.loads(status.stdout)
    assert shown["provider"] == "aws" and shown["phase"] == "provisioned"
    assert [(n["name"], n["ip"]) for n in shown["nodes"]] == [(n.name, n.node_ip) for n in inventory.nodes]

    monkeypatch.setenv("LABCTL_HOME", str(tmp_path))
    for name, value in env.items():
        if name.startswith(("AWS_", "LABCTL_")) or name in ("PATH", "PYTHONPATH"):
            monkeypatch.setenv(name, value)
    from labctl.providers.aws.provider import PROVIDER

    machines = PROVIDER.machines(_context(lab))
    assert [(m["name"], m["role"], m["state"]) for m in machines] == [
        ("controller-1", "controller", "running"),
        ("worker-1", "worker", "running"),
        ("worker-2", "worker", "running"),
    ]

    # --- scale-up -------------------------------------------------------------------
    # moto boots no machine, so no console prints host keys (tests/e2e/test_cloud_aws.py reads real ones):
    # here only which nodes the provider asks to pin.
    asked: list[list[str]] = []
    monkeypatch.setattr(type(PROVIDER), "_pin_host_keys",
                        lambda self, ctx, aws, inventory, nodes=None: asked.append([n.name for n in nodes or inventory.nodes]))
    grown = PROVIDER.add_worker(_context(lab))
    assert asked == [["worker-3"]]
    assert [n.name for n in grown.by_role("worker")] == ["worker-1", "worker-2", "worker-3"]
    assert load_inventory(lab_dir / "inventory.yml").nodes == grown.nodes
    asg = moto.client("autoscaling").describe_auto_scaling_groups(AutoScalingGroupNames=[f"labctl-{lab}-workers"])["AutoScalingGroups"][0]
    assert asg["DesiredCapacity"] == 3 and len(asg["Instances"]) == 3
    new_id = grown.node("worker-3").extra["instance_id"]
    assert new_id not in instances and new_id in {i["InstanceId"] for i in asg["Instances"]}
    assert files_containing(tmp_path, SECRET_KEY) == []

    # --- the scale-up's restore: the added worker goes through the group, one less desired ------
    shrunk = PROVIDER.remove_worker(_context(lab), "worker-3")
    assert [n.name for n in shrunk.by_role("worker")] == ["worker-1", "worker-2"]
    assert load_inventory(lab_dir / "inventory.yml").nodes == shrunk.nodes
    asg = moto.client("autoscaling").describe_auto_scaling_groups(AutoScalingGroupNames=[f"labctl-{lab}-workers"])["AutoScalingGroups"][0]
    assert asg["DesiredCapacity"] == 2 and new_id not in {i["InstanceId"] for i in asg["Instances"]}
    reservations = ec2.describe_instances(InstanceIds=[new_id])["Reservations"]
    states = {i["InstanceId"]: i["State"]["Name"] for r in reservations for i in r["Instances"]}
    assert states[new_id] in ("shutting-down", "terminated")
    assert Lab(lab).read_state()["aws_workers_desired"] == 2

    # A lab stays in its region: another --region is refused before anything is made there.
    moved = labctl(env, "up", "aws", "--provision-only", "--yes", "--region", "eu-west-1", "--lab", lab)
    assert moved.returncode == 2 and "lives in us-east-1, not eu-west-1" in error_line(moved)
    eu_vpcs = moto.client("ec2", region="eu-west-1").describe_vpcs(Filters=[{"Name": "tag:labctl-lab", "Values": [lab]}])["Vpcs"]
    assert eu_vpcs == []

    # --- down, then down again --------------------------------------------------------
    down = labctl(env, "down", "--lab", lab)
    assert down.returncode == 0, down.stderr
    assert lab_resources(moto, lab) == []
    assert not lab_dir.exists()

    # The lab directory is gone with the first down; recreate its state to prove the
    # teardown itself is idempotent against an AWS account where nothing is left.
    Lab(lab).create()
    Lab(lab).save_config(LabConfig(provider="aws"))
    Lab(lab).update_state(provider="aws", aws_region="us-east-1")
    again_down = labctl(env, "down", "--lab", lab)
    assert again_down.returncode == 0, again_down.stderr
    assert lab_resources(moto, lab) == []

    # And once the lab is gone, `down` has nothing to remove, which is not an error.
    gone = labctl(env, "down", "--lab", lab)
    assert gone.returncode == 0 and "no lab named t1: nothing to remove" in gone.stdout
