"""terraform/aws: the HCL holds what labctl relies on; its output becomes the same inventory.

The configuration is parsed with python-hcl2 always. Where a terraform binary and
a local provider mirror exist (this machine image has /opt/tf-plugins), it is also
format-checked and planned against moto; the full apply/destroy through
`labctl up aws --engine terraform` runs when LABCTL_TEST_TERRAFORM_APPLY=1 (it
takes two minutes: the AWS provider's fixed waits for the load balancer).
"""

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import hcl2
import pytest
import yaml
from awshelpers import (
    ALLOW_FROM,
    REPO,
    SECRET_KEY,
    Moto,
    error_line,
    files_containing,
    lab_resources,
    labctl,
    labctl_env,
    offline_terraformrc,
)

from labctl.errors import UsageError
from labctl.providers.terraform import REQUIRED_OUTPUTS, inventory_from_output, inventory_from_output_file

TF_DIR = REPO / "terraform" / "aws"
FIXTURE = REPO / "tests" / "fixtures" / "terraform-aws-output.json"
MIRROR = Path(os.environ.get("LABCTL_TF_MIRROR", "/opt/tf-plugins"))


def _unquote(value: Any) -> Any:
    """python-hcl2 keeps HCL's quotes around keys and strings."""
    if isinstance(value, dict):
        return {_unquote(k): _unquote(v) for k, v in value.items() if k not in ("__is_block__", "__comments__")}
    if isinstance(value, list):
        return [_unquote(v) for v in value]
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


@pytest.fixture(scope="module")
def hcl() -> dict[str, Any]:
    merged: dict[str, Any] = {"resource": {}, "variable": {}, "output": {}, "data": {}, "provider": {}}
    for path in sorted(TF_DIR.glob("*.tf")):
        with path.open() as handle:
            parsed = _unquote(hcl2.load(handle))
        for block in ("resource", "data"):
            for entry in parsed.get(block, []):
                for kind, named in entry.items():
                    merged[block].setdefault(kind, {}).update(named)
        for block in ("variable", "output", "provider"):
            for entry in parsed.get(block, []):
                merged[block].update(entry)
    return merged


def test_hcl_has_the_resources_of_the_ansible_path(hcl: dict[str, Any]) -> None:
    for kind in (
        "aws_vpc",
        "aws_subnet",
        "aws_internet_gateway",
        "aws_route_table",
        "aws_security_group",
        "aws_key_pair",
        "aws_instance",
        "aws_launch_template",
        "aws_autoscaling_group",
        "aws_lb",
        "aws_lb_target_group",
        "aws_lb_listener",
    ):
        assert kind in hcl["resource"], kind
    assert set(hcl["resource"]["aws_subnet"]) == {"nodes", "lb"}
    assert hcl["resource"]["aws_lb"]["guestbook"]["load_balancer_type"] == "network"
    target_group = hcl["resource"]["aws_lb_target_group"]["guestbook"]
    assert target_group["port"] == "${var.node_port}" and target_group["preserve_client_ip"] == "false"
    # Images by publisher account, never by name alone.
    assert hcl["data"]["aws_ami"]["official"]["owners"] == ["${local.images[var.os].owner}"]


def test_hcl_tags_everything_with_the_lab(hcl: dict[str, Any]) -> None:
    default_tags = hcl["provider"]["aws"]["default_tags"][0]["tags"]
    assert default_tags == {"labctl-lab": "${var.lab_name}"}
    group = hcl["resource"]["aws_autoscaling_group"]["workers"]
    tags = group["dynamic"][0]["tag"]["for_each"]
    assert tags["labctl-lab"] == "${var.lab_name}"
    assert group["dynamic"][0]["tag"]["content"][0]["propagate_at_launch"] is True
    specs = {s["resource_type"]: s["tags"] for s in hcl["resource"]["aws_launch_template"]["worker"]["tag_specifications"]}
    assert specs["instance"]["labctl-lab"] == specs["volume"]["labctl-lab"] == "${var.lab_name}"
    assert group["lifecycle"][0]["ignore_changes"] == ["desired_capacity", "max_size"]


def test_hcl_security_rules_match_the_ansible_path(hcl: dict[str, Any]) -> None:
    rules = hcl["resource"]["aws_vpc_security_group_ingress_rule"]
    assert rules["ssh"]["from_port"] == 22 and rules["ssh"]["cidr_ipv4"] == "${var.allow_from}"
    assert rules["api"]["cidr_ipv4"] == "${var.allow_from}"
    assert rules["node_port"]["cidr_ipv4"] == "${var.lb_subnet_cidr}"
    assert rules["node_to_node"]["referenced_security_group_id"] == "${aws_security_group.nodes.id}"
    assert not any(rule.get("cidr_ipv4") == "0.0.0.0/0" for rule in rules.values())


def test_hcl_variables_and_outputs_follow_the_contract(hcl: dict[str, Any]) -> None:
    for name in ("lab_name", "region", "allow_from", "ssh_public_key", "os", "ami_id", "worker_count", "node_port", "endpoint_url"):
        assert name in hcl["variable"], name
    for required in ("lab_name", "region", "allow_from", "ssh_public_key"):
        assert "default" not in hcl["variable"][required], required
    assert set(REQUIRED_OUTPUTS) <= set(hcl["output"])
    assert {"python_interpreter", "guestbook_url", "inventory_vars"} <= set(hcl["output"])
    # labctl fills every variable it passes; a typo here would be an apply-time error.
    passed = {
        "lab_name", "region", "availability_zone", "allow_from", "os", "architecture", "ami_id", "root_device_name",
        "root_volume_gb", "controller_instance_type", "worker_instance_type", "worker_count", "ssh_public_key",
        "node_port", "controller_user_data", "worker_user_data", "endpoint_url",
    }
    assert passed <= set(hcl["variable"])


def test_real_output_becomes_the_inventory() -> None:
    inventory = inventory_from_output_file(FIXTURE, "tf1")
    data = json.loads(FIXTURE.read_text())
    assert inventory.provider == "aws" and inventory.lab == "tf1"
    assert [(n.name, n.role) for n in inventory.nodes] == [("controller-1", "controller"), ("worker-1", "worker"), ("worker-2", "worker")]
    controller = data["controllers"]["value"][0]
    node = inventory.node("controller-1")
    assert (node.ansible_host, node.node_ip) == (controller["public_ip"], controller["private_ip"])
    assert node.extra["instance_id"] == controller["id"]
    assert node.ansible_user == "admin" and node.extra["ansible_become"] is True
    assert "ansible_python_interpreter" not in node.extra
    assert f"https://{inventory.vars['api_client_host']}:6443" == data["api_endpoint"]["value"]
    assert inventory.vars["api_endpoint_host"] == inventory.by_role("controller")[0].node_ip
    assert inventory.vars["guestbook_url"].startswith("http://labctl-tf1-nlb")
    assert inventory.vars["aws_region"] == "us-east-1"


def test_same_function_serves_openstack_shaped_output() -> None:
    """terraform/openstack follows the same contract: plain values, an api_lb, no ids."""
    data = {
        "lab_name": "os1",
        "provider": "openstack",
        "ssh_user": "debian",
        "controllers": [{"name": f"controller-{i}", "public_ip": f"198.51.100.{i}", "private_ip": f"10.0.0.{i}"} for i in (1, 2, 3)],
        "workers": [{"name": "worker-1", "public_ip": "", "private_ip": "10.0.0.11"}],
        "api_lb": [{"name": "api-lb", "public_ip": "198.51.100.9", "private_ip": "10.0.0.9"}],
        "api_endpoint": "https://198.51.100.9:6443",
        "python_interpreter": "",
    }
    inventory = inventory_from_output(data, "os1")
    assert [n.role for n in inventory.nodes] == ["controller"] * 3 + ["api_lb", "worker"]
    assert inventory.node("worker-1").ansible_host == "10.0.0.11"
    groups = inventory.to_ansible()["all"]["children"]
    assert set(groups["api_lb"]["hosts"]) == {"api-lb"} and inventory.provider == "openstack"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.pop("workers"), "lacks workers"),
        (lambda d: d.update(controllers={"value": [], "type": "list"}), "has no controllers"),
        (lambda d: d["workers"]["value"].append(dict(d["workers"]["value"][0])), "names a node twice"),
        (lambda d: d["workers"]["value"][0].pop("name"), "each node needs name"),
    ],
)
def test_bad_output_is_a_usage_error(change: Any, message: str) -> None:
    data = json.loads(FIXTURE.read_text())
    change(data)
    with pytest.raises(UsageError, match=message):
        inventory_from_output(data, "tf1")


def test_cli_converts_a_saved_output(tmp_path: Path, moto: Moto) -> None:
    env = labctl_env(moto, tmp_path)
    shown = labctl(env, "inventory", "from-terraform", str(FIXTURE), "--lab", "tf1", "--write")
    assert shown.returncode == 0, shown.stderr
    printed = yaml.safe_load(shown.stdout)
    assert set(printed["all"]["children"]["workers"]["hosts"]) == {"worker-1", "worker-2"}
    written = yaml.safe_load((tmp_path / "labs" / "tf1" / "inventory.yml").read_text())
    assert written == printed
    wrong_lab = labctl(env, "inventory", "from-terraform", str(FIXTURE), "--lab", "other")
    assert wrong_lab.returncode == 2 and "pass --lab tf1" in error_line(wrong_lab)
    not_json = tmp_path / "out.json"
    not_json.write_text("Outputs:\n")
    bad = labctl(env, "inventory", "from-terraform", str(not_json), "--lab", "tf1")
    assert bad.returncode == 2 and "is not JSON" in error_line(bad)
    missing = labctl(env, "inventory", "from-terraform", str(tmp_path / "nope.json"), "--lab", "tf1")
    assert missing.returncode == 2 and "no file" in error_line(missing)


def test_checkov_finds_nothing_unexplained() -> None:
    """Every failed check is fixed or skipped in the HCL with a reason (#checkov:skip=ID:why)."""
    checkov = os.environ.get("LABCTL_CHECKOV") or shutil.which("checkov")
    if not checkov:
        pytest.skip("checkov not installed (pip install checkov, or LABCTL_CHECKOV=/path/to/checkov)")
    result = subprocess.run(
        [checkov, "-d", str(TF_DIR), "--framework", "terraform", "--skip-download", "--compact", "-o", "json"],
        capture_output=True, text=True, timeout=600, check=False,
    )
    report = json.loads(result.stdout)
    summary = report["summary"]
    assert summary["failed"] == 0, [c["check_id"] for c in report["results"]["failed_checks"]]
    assert summary["passed"] > 40
    for skipped in report["results"]["skipped_checks"]:
        assert skipped["check_result"].get("suppress_comment"), skipped["check_id"]


# --- with a terraform binary -----------------------------------------------------------


def _terraform_env(tmp_path: Path, moto: Moto) -> dict[str, str]:
    rc = offline_terraformrc(tmp_path / "terraformrc", MIRROR)
    if rc is None:
        pytest.skip(f"needs terraform on PATH and a provider mirror at {MIRROR}")
    return labctl_env(moto, tmp_path, TF_CLI_CONFIG_FILE=str(rc), CHECKPOINT_DISABLE="1", TF_IN_AUTOMATION="1")


def _terraform(env: dict[str, str], workdir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["terraform", *args], cwd=workdir, env=env, capture_output=True, text=True, timeout=300, check=False)


def test_terraform_validates_and_plans_against_moto(tmp_path: Path, moto: Moto) -> None:
    env = _terraform_env(tmp_path, moto)
    workdir = tmp_path / "tf"
    shutil.copytree(TF_DIR, workdir)
    assert _terraform(env, workdir, "fmt", "-check", "-diff").returncode == 0
    init = _terraform(env, workdir, "init", "-input=false", "-no-color")
    assert init.returncode == 0, init.stdout + init.stderr
    (workdir / "test.auto.tfvars.json").write_text(
        json.dumps({
            "lab_name": "plan1", "region": "us-east-1", "allow_from": ALLOW_FROM, "endpoint_url": moto.endpoint,
            "ssh_public_key": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIM5zOacZ+zf0aAB9r/A8pzTGzfvqhO0QFo22IzFfAr5p plan",
        })
    )
    # plan validates the configuration, then reads the data sources from moto (one provider start less than validate + plan).
    plan = _terraform(env, workdir, "plan", "-input=false", "-no-color")
    assert plan.returncode == 0, plan.stdout + plan.stderr
    text = plan.stdout
    assert "Plan: 23 to add, 0 to change, 0 to destroy." in text
    for address in ("aws_autoscaling_group.workers", "aws_lb.guestbook", "aws_launch_template.worker", "aws_instance.controller"):
        assert f"# {address} will be created" in text, address
    # The official Debian image, looked up in moto by its publisher's account.
    assert re.search(r'\+ ami +?= "ami-0d1e2b3a4c5d60002"', text)
    assert '"labctl-lab" = "plan1"' in text


@pytest.mark.skipif(os.environ.get("LABCTL_TEST_TERRAFORM_APPLY") != "1", reason="slow (2 minutes): set LABCTL_TEST_TERRAFORM_APPLY=1")
def test_up_and_down_with_the_terraform_engine(tmp_path: Path, moto: Moto) -> None:
    env = _terraform_env(tmp_path, moto)
    args = ("--engine", "terraform", "--provision-only", "--yes", "--allow-from", ALLOW_FROM, "--lab", "tf2")
    up = labctl(env, "up", "aws", *args, timeout=600)
    assert up.returncode == 0, up.stderr
    lab_dir = tmp_path / "labs" / "tf2"
    inventory = yaml.safe_load((lab_dir / "inventory.yml").read_text())
    assert set(inventory["all"]["children"]["workers"]["hosts"]) == {"worker-1", "worker-2"}
    assert (lab_dir / "terraform" / "terraform.tfstate").exists()
    assert files_containing(tmp_path, SECRET_KEY) == []
    down = labctl(env, "down", "--lab", "tf2", timeout=600)
    assert down.returncode == 0, down.stderr
    assert lab_resources(moto, "tf2") == []
