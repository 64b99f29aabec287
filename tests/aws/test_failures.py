"""Bad input and failures half-way: one clear line, the documented exit code, and `down` still cleans."""

import base64
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from awshelpers import ALLOW_FROM, Moto, error_line, iam_user_denied, lab_resources, labctl, labctl_env

FLATCAR_AMI = "ami-0f1a2c3a4c5d60004"


def ignition_errors(text: str, tmp_path: Path) -> str:
    """'' when Debian's ignition-validate accepts TEXT, else what it says."""
    tool = shutil.which("ignition-validate")
    if tool is None:
        pytest.skip("ignition-validate not installed (apt-get install ignition)")
    path = tmp_path / "config.ign"
    path.write_text(text)
    result = subprocess.run([tool, str(path)], capture_output=True, text=True, check=False)
    return "" if result.returncode == 0 else result.stdout + result.stderr


def user_data_sent(ec2: Any, lab: str) -> list[tuple[str, str]]:
    """(role, user data) as AWS received them: the controller instance's, the workers' launch template's."""
    reservations = ec2.describe_instances(Filters=[{"Name": "tag:labctl-lab", "Values": [lab]}])["Reservations"]
    controller = reservations[0]["Instances"][0]
    sent = ec2.describe_instance_attribute(InstanceId=controller["InstanceId"], Attribute="userData")["UserData"]["Value"]
    version = ec2.describe_launch_template_versions(LaunchTemplateName=f"labctl-{lab}-worker")["LaunchTemplateVersions"][-1]
    return [(role, base64.b64decode(encoded).decode())
            for role, encoded in (("controller", sent), ("worker", version["LaunchTemplateData"]["UserData"]))]


def test_failure_half_way_reports_one_line_and_down_cleans(moto: Moto, tmp_path: Path) -> None:
    """A Flatcar lab whose credentials may not create Auto Scaling groups: AWS refuses the last step."""
    lab = "t2"
    with iam_user_denied(moto, ["autoscaling:CreateAutoScalingGroup"]) as credentials:
        env = labctl_env(moto, tmp_path, AWS_ACCESS_KEY_ID=credentials["access_key"], AWS_SECRET_ACCESS_KEY=credentials["secret_key"])
        up = labctl(env, "up", "aws", "--os", "flatcar", "--provision-only", "--yes", "--allow-from", ALLOW_FROM, "--lab", lab)
        assert up.returncode == 3, up.stderr
        line = error_line(up)
        assert "Worker Auto Scaling group" in line and "AccessDenied" in line and "grant the missing IAM permission" in line
        assert f"labctl down --lab {lab}" in line

        # Half a lab exists: network, controller, launch template, no group.
        half = lab_resources(moto, lab, **credentials)
        assert any(entry.startswith("instance ") for entry in half) and any(entry.startswith("vpc ") for entry in half)
        assert not any(entry.startswith("asg ") for entry in half)

        # What AWS received for Flatcar: the official image (by owner) and valid Ignition for both roles.
        ec2 = moto.client("ec2", **credentials)
        reservations = ec2.describe_instances(Filters=[{"Name": "tag:labctl-lab", "Values": [lab]}])["Reservations"]
        assert reservations[0]["Instances"][0]["ImageId"] == FLATCAR_AMI
        for role, text in user_data_sent(ec2, lab):
            assert ignition_errors(text, tmp_path) == "", f"{role} Ignition invalid"
            config = json.loads(text)
            assert config["passwd"]["users"][0]["name"] == "core"
            assert config["systemd"]["units"][0]["name"] == "labctl-python.service"

        down = labctl(env, "down", "--lab", lab)
        assert down.returncode == 0, down.stderr
        assert lab_resources(moto, lab, **credentials) == []


def test_flatcar_offline_downloads_nothing_at_first_boot(moto: Moto, tmp_path: Path) -> None:
    """--offline Flatcar: the nodes' Ignition has no Python download; labctl pushes the bundle's (tests/bundle)."""
    lab = "fo"
    env = labctl_env(moto, tmp_path)
    up = labctl(env, "up", "aws", "--os", "flatcar", "--offline", "--provision-only", "--yes", "--allow-from", ALLOW_FROM, "--lab", lab)
    assert up.returncode == 0, up.stderr
    for role, text in user_data_sent(moto.client("ec2"), lab):
        assert ignition_errors(text, tmp_path) == "", f"{role} Ignition invalid"
        config = json.loads(text)
        assert [u["name"] for u in config["systemd"]["units"]] == ["labctl-host-keys.service"]
        assert not any("python" in f["path"] for f in config["storage"]["files"])
        assert "http" not in json.dumps(config["storage"])
    # The installer `up` pushes once the nodes answer was built before any machine was made.
    status = json.loads(labctl(env, "bundle", "status", "--output", "json").stdout)
    assert next(c for c in status["components"] if c["name"] == "python/node-python")["present"] is True
    down = labctl(env, "down", "--lab", lab)
    assert down.returncode == 0, down.stderr
    assert lab_resources(moto, lab) == []


def test_unknown_instance_type_fails_before_anything_is_created(moto: Moto, tmp_path: Path) -> None:
    lab = "t3"
    config = tmp_path / "labctl.yaml"
    config.write_text(yaml.safe_dump({"aws": {"worker_instance_type": "t3.gigantic"}}))
    env = labctl_env(moto, tmp_path)
    up = labctl(env, "up", "aws", "--config", str(config), "--provision-only", "--yes", "--allow-from", ALLOW_FROM, "--lab", lab)
    assert up.returncode == 2, up.stderr
    line = error_line(up)
    assert "unknown instance type" in line and "t3.gigantic" in line and "aws.worker_instance_type" in line
    assert lab_resources(moto, lab) == []
    assert not (tmp_path / "labs" / lab).exists()


BAD_INPUTS = [
    pytest.param([], {"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": ""}, 2, "no AWS credentials found", id="no-credentials"),
    pytest.param([], {"AWS_REGION": ""}, 2, "no AWS region given: pass --region", id="no-region"),
    pytest.param(["--region", "xx-nowhere-1"], {}, 2, "unknown AWS region 'xx-nowhere-1'", id="unknown-region"),
    pytest.param(["--ami", "ami-0123456789abcdef0"], {}, 2, "AMI ami-0123456789abcdef0 not found in us-east-1", id="ami-not-found"),
    pytest.param(["--worker-type", "t4g.medium", "--controller-type", "t4g.medium", "--os", "flatcar"], {}, 2,
                 "no flatcar image found in us-east-1", id="no-image-for-arch"),
    pytest.param(["--worker-type", "t4g.medium"], {}, 2, "mix CPU architectures", id="mixed-arch"),
    pytest.param(["--no-allow-from"], {}, 2, "could not detect your public address", id="no-address"),
    pytest.param(["--allow-from", "not-a-cidr"], {}, 2, "is not an address or CIDR", id="bad-cidr"),
    pytest.param(["--no-yes"], {}, 2, "pass --yes to confirm", id="no-confirmation"),
    pytest.param(["--controllers", "3"], {}, 2, "builds one controller", id="three-controllers"),
    pytest.param(["--allow-from", "0.0.0.0/0", "--no-yes"], {}, 2, "to the whole internet", id="whole-internet"),
    pytest.param(["--worker-type", "t4g.medium", "--controller-type", "t4g.medium", "--offline"], {}, 2,
                 "--offline pushes this machine's bundle, built for x86_64, but t4g.medium are arm64 instances", id="offline-other-arch"),
]


@pytest.mark.parametrize(("flags", "env_changes", "code", "message"), BAD_INPUTS)
def test_bad_input_is_one_line_and_down_still_works(
    moto: Moto, tmp_path: Path, flags: list[str], env_changes: dict[str, str], code: int, message: str
) -> None:
    lab = "bad"
    args = ["up", "aws", "--provision-only", "--lab", lab]
    settings: dict[str, str] = {}
    if "--no-yes" not in flags:
        args.append("--yes")
    if "--no-allow-from" not in flags and "--allow-from" not in flags:
        args += ["--allow-from", ALLOW_FROM]
    # Knobs with no CLI flag go through labctl.yaml, as a user would set them.
    rest = [f for f in flags if f not in ("--no-yes", "--no-allow-from")]
    for flag, key in (("--ami", "ami"), ("--worker-type", "worker_instance_type"), ("--controller-type", "controller_instance_type")):
        if flag in rest:
            index = rest.index(flag)
            settings[key] = rest[index + 1]
            del rest[index : index + 2]
    if settings:
        config = tmp_path / "labctl.yaml"
        config.write_text(yaml.safe_dump({"aws": settings}))
        args += ["--config", str(config)]
    env = labctl_env(moto, tmp_path, **env_changes)
    up = labctl(env, *args, *rest)
    assert up.returncode == code, up.stderr
    assert message in error_line(up)
    assert lab_resources(moto, lab) == []
    # Refused before anything was made: no half-built lab to remove.
    assert not (tmp_path / "labs" / lab).exists()


def test_terraform_engine_without_terraform_is_one_line(moto: Moto, tmp_path: Path) -> None:
    if shutil.which("terraform"):
        pytest.skip("terraform is installed here")
    env = labctl_env(moto, tmp_path)
    up = labctl(env, "up", "aws", "--engine", "terraform", "--provision-only", "--yes", "--allow-from", ALLOW_FROM, "--lab", "tf")
    assert up.returncode == 3
    assert "terraform not found on PATH" in error_line(up) and "--engine ansible" in error_line(up)
