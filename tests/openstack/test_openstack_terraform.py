"""terraform/openstack: parsed (python-hcl2) for what labctl relies on, checked offline (checkov), output → inventory.

No terraform binary or cloud is used: the configuration is read as data, and
`terraform output -json` is a fixture in the shape outputs.tf produces.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import hcl2
import pytest
import yaml
from fake_openstack import FakeOpenStack
from openstack_testenv import write_clouds_yaml

from labctl.config import LabConfig
from labctl.providers import terraform
from labctl.providers.openstack.names import SUBNET_CIDR, LabNames, prefix

REPO = Path(__file__).resolve().parents[2]
TF_DIR = REPO / "terraform" / "openstack"
FIXTURE = REPO / "tests" / "fixtures" / "terraform-openstack-output.json"
OPTIONS = hcl2.SerializationOptions(strip_string_quotes=True, explicit_blocks=False)


def load_configuration() -> dict[str, Any]:
    """All *.tf files as {"resource": {(type, name): body}, "data": …, "variable": {name: body}, "output": …, "provider": …}."""
    merged: dict[str, Any] = {"resource": {}, "data": {}, "variable": {}, "output": {}, "provider": {}, "locals": {}}
    for path in sorted(TF_DIR.glob("*.tf")):
        parsed = hcl2.load(path.open(), serialization_options=OPTIONS)
        for kind in ("resource", "data"):
            for block in parsed.get(kind, []):
                for type_name, named in block.items():
                    for name, body in named.items():
                        merged[kind][(type_name, name)] = body
        for kind in ("variable", "output", "provider"):
            for block in parsed.get(kind, []):
                merged[kind].update(block)
        for block in parsed.get("locals", []):
            merged["locals"].update(block)
    return merged


@pytest.fixture(scope="module")
def tf() -> dict[str, Any]:
    return load_configuration()


def test_provider_takes_the_cloud_from_clouds_yaml(tf: dict[str, Any]) -> None:
    provider = tf["provider"]["openstack"]
    assert provider == {"cloud": "${var.cloud}"}
    text = "".join(p.read_text() for p in TF_DIR.glob("*.tf"))
    for secret in ("password", "application_credential_secret", "token"):
        assert secret not in text


def test_the_resources_labctl_builds(tf: dict[str, Any]) -> None:
    kinds = {type_name for type_name, _ in tf["resource"]}
    assert kinds == {
        "openstack_compute_keypair_v2",
        "openstack_networking_network_v2",
        "openstack_networking_subnet_v2",
        "openstack_networking_router_v2",
        "openstack_networking_router_interface_v2",
        "openstack_networking_secgroup_v2",
        "openstack_networking_secgroup_rule_v2",
        "openstack_networking_port_v2",
        "openstack_compute_instance_v2",
        "openstack_networking_floatingip_v2",
    }
    assert {name for (type_name, name) in tf["resource"] if type_name == "openstack_networking_secgroup_rule_v2"} == {
        "ssh",
        "api",
        "node_ports",
        "icmp",
        "internal",
        "api_hairpin",
    }


def test_names_and_markers_match_the_ansible_engine(tf: dict[str, Any]) -> None:
    """`labctl down` finds Terraform-made labs too: same names, same labctl-lab=<lab> marker."""
    assert tf["locals"]["prefix"] == "labctl-${var.lab_name}-"
    assert tf["locals"]["marker"] == "labctl-lab=${var.lab_name}"
    names = LabNames("x")
    expected = {
        "openstack_compute_keypair_v2": names.keypair,
        "openstack_networking_network_v2": names.network,
        "openstack_networking_subnet_v2": names.subnet,
        "openstack_networking_router_v2": names.router,
        "openstack_networking_secgroup_v2": names.security_group,
    }
    for type_name, name in expected.items():
        body = tf["resource"][(type_name, "lab")]
        assert body["name"] == "${local.prefix}" + name.removeprefix(prefix("x"))
        if type_name != "openstack_compute_keypair_v2":  # Nova key pairs have no description
            assert body["description"] == "${local.marker}"
    assert tf["resource"][("openstack_networking_port_v2", "node")]["name"] == "${local.prefix}${each.key}-port"
    assert names.port("worker-1") == "labctl-x-worker-1-port"
    assert tf["resource"][("openstack_networking_port_v2", "node")]["description"] == "${local.marker}"
    assert tf["resource"][("openstack_networking_floatingip_v2", "node")]["description"] == "${local.marker}"
    server = tf["resource"][("openstack_compute_instance_v2", "node")]
    assert server["name"] == "${local.prefix}${each.key}"
    assert server["metadata"] == {"labctl-lab": "${var.lab_name}", "labctl-node": "${each.key}", "labctl-role": "${each.value}"}


def test_only_the_operator_gets_in(tf: dict[str, Any]) -> None:
    rules = {name: body for (type_name, name), body in tf["resource"].items() if type_name == "openstack_networking_secgroup_rule_v2"}
    sources = {name: body.get("remote_ip_prefix") or body.get("remote_group_id") for name, body in rules.items()}
    assert sources == {
        "ssh": "${var.allow_from}",
        "api": "${var.allow_from}",
        "node_ports": "${var.allow_from}",
        "icmp": "${var.allow_from}",
        "internal": "${openstack_networking_secgroup_v2.lab.id}",
        "api_hairpin": "${openstack_networking_router_v2.lab.external_fixed_ip[0].ip_address}/32",
    }
    assert all(body["direction"] == "ingress" for body in rules.values())


def test_variables_default_like_labctl(tf: dict[str, Any]) -> None:
    variables = tf["variable"]
    for required in ("lab_name", "cloud", "allow_from", "ssh_public_key_file"):
        assert "default" not in variables[required], f"{required} must be given"
    config = LabConfig()
    defaults = {name: body.get("default") for name, body in variables.items()}
    assert defaults["image"] == config.openstack.image
    assert defaults["flavor"] == config.openstack.flavor
    assert defaults["external_network"] == config.openstack.external_network
    assert defaults["controllers"] == config.topology.controllers
    assert defaults["workers"] == config.topology.workers
    assert defaults["subnet_cidr"] == SUBNET_CIDR
    assert defaults["pod_cidr"] == config.network.pod_cidr
    assert defaults["service_cidr"] == config.network.service_cidr
    assert defaults["ssh_user"] == "debian"


def test_outputs_follow_the_shared_contract(tf: dict[str, Any]) -> None:
    outputs = tf["output"]
    assert set(terraform.REQUIRED_OUTPUTS) <= set(outputs)
    assert outputs["provider"]["value"] == "openstack"
    assert outputs["api_endpoint"]["value"] == "https://${local.node_view[local.api_front].public_ip}:${var.api_port}"
    # Each node as the converter reads it: name, public (floating) and private (fixed) address, server id.
    node_view = tf["locals"]["node_view"]
    for attribute in (
        "name = name",
        "id = openstack_compute_instance_v2.node[name].id",
        "public_ip = openstack_networking_floatingip_v2.node[name].address",
        "private_ip = openstack_networking_port_v2.node[name].all_fixed_ips[0]",
    ):
        assert attribute in node_view
    assert outputs["workers"]["value"] == '${[for i in range(1, var.workers + 1) : local.node_view["worker-${i}"]]}'


def test_output_fixture_becomes_the_common_inventory() -> None:
    inventory = terraform.inventory_from_output_file(FIXTURE, "tfos")
    assert inventory.provider == "openstack"
    assert [(n.name, n.role, n.ansible_host, n.node_ip) for n in inventory.nodes] == [
        ("controller-1", "controller", "198.51.100.10", "10.42.0.11"),
        ("worker-1", "worker", "198.51.100.11", "10.42.0.12"),
        ("worker-2", "worker", "198.51.100.12", "10.42.0.13"),
    ]
    assert all(n.ansible_user == "debian" and n.extra.get("ansible_become") is True for n in inventory.nodes)
    assert inventory.vars["api_client_host"] == "198.51.100.10"
    assert inventory.vars["api_endpoint_host"] == "198.51.100.10"
    assert inventory.vars["openstack_cloud"] == "campus"


def test_cli_converts_the_fixture(tmp_path: Path) -> None:
    env = {**os.environ, "LABCTL_HOME": str(tmp_path)}
    result = subprocess.run(
        [str(Path(sys.executable).parent / "labctl"), "inventory", "from-terraform", str(FIXTURE), "--lab", "tfos"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    groups = yaml.safe_load(result.stdout)["all"]["children"]
    assert list(groups["controllers"]["hosts"]) == ["controller-1"]
    assert list(groups["workers"]["hosts"]) == ["worker-1", "worker-2"]
    # A wrong lab name is refused, not silently relabelled.
    wrong = subprocess.run(
        [str(Path(sys.executable).parent / "labctl"), "inventory", "from-terraform", str(FIXTURE), "--lab", "other"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert wrong.returncode == 2
    assert "pass --lab tfos" in wrong.stderr


def checkov_binary() -> str | None:
    return os.environ.get("LABCTL_CHECKOV") or shutil.which("checkov")


@pytest.mark.skipif(checkov_binary() is None, reason="checkov not installed (set LABCTL_CHECKOV or put checkov on PATH)")
def test_checkov_offline() -> None:
    result = subprocess.run(
        [str(checkov_binary()), "-d", str(TF_DIR), "--framework", "terraform", "--compact", "--quiet", "--skip-download"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:]
    assert "Failed checks: 0" in result.stdout
    assert "Passed checks: " in result.stdout


# --- with a terraform binary -----------------------------------------------------------

# Built by `scripts/setup.sh --test-tools` from the Go module proxy (no Terraform registry here).
MIRROR = Path(os.environ.get("LABCTL_CACHE", Path.home() / ".cache" / "labctl")) / "terraform-mirror"


def _terraform_workdir(tmp_path: Path, **env: str) -> tuple[Path, dict[str, str]]:
    if shutil.which("terraform") is None:
        pytest.skip("needs terraform on PATH")
    assert (MIRROR / "registry.terraform.io" / "terraform-provider-openstack").is_dir(), (
        f"no OpenStack provider in {MIRROR}: run scripts/setup.sh --test-tools"
    )
    rc = tmp_path / "terraformrc"
    # Offline: providers only from the local mirror, never a registry.
    rc.write_text(f'provider_installation {{\n  filesystem_mirror {{\n    path = "{MIRROR}"\n  }}\n'
                  '  direct {\n    exclude = ["registry.terraform.io/*/*"]\n  }\n}\n')
    workdir = tmp_path / "tf"
    shutil.copytree(TF_DIR, workdir)
    return workdir, {**os.environ, "TF_CLI_CONFIG_FILE": str(rc), "CHECKPOINT_DISABLE": "1", "TF_IN_AUTOMATION": "1", **env}


def _terraform(workdir: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["terraform", *args, "-no-color"], cwd=workdir, env=env, capture_output=True, text=True,
                          timeout=300, check=False)


def test_terraform_formats_and_validates(tmp_path: Path) -> None:
    workdir, env = _terraform_workdir(tmp_path)
    fmt = _terraform(workdir, env, "fmt", "-check", "-diff")
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr
    init = _terraform(workdir, env, "init", "-input=false", "-backend=false")
    assert init.returncode == 0, init.stdout + init.stderr
    valid = _terraform(workdir, env, "validate")
    assert valid.returncode == 0 and "The configuration is valid" in valid.stdout, valid.stdout + valid.stderr


def test_terraform_plans_against_the_cloud(tmp_path: Path, fake_cloud: FakeOpenStack) -> None:
    """The data sources find the image, flavor and external network through the cloud's API, from clouds.yaml."""
    clouds = write_clouds_yaml(tmp_path / "clouds.yaml", fake_cloud)
    workdir, env = _terraform_workdir(tmp_path, OS_CLIENT_CONFIG_FILE=str(clouds))
    key = tmp_path / "id_ed25519.pub"
    key.write_text("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIM5zOacZ+zf0aAB9r/A8pzTGzfvqhO0QFo22IzFfAr5p plan\n")
    cloud_name = next(iter(yaml.safe_load(clouds.read_text())["clouds"]))
    (workdir / "test.auto.tfvars.json").write_text(
        json.dumps({"lab_name": "plan1", "cloud": cloud_name, "allow_from": "192.0.2.10/32", "ssh_public_key_file": str(key)})
    )
    init = _terraform(workdir, env, "init", "-input=false", "-backend=false")
    assert init.returncode == 0, init.stdout + init.stderr
    plan = _terraform(workdir, env, "plan", "-input=false")
    assert plan.returncode == 0, plan.stdout[-3000:] + plan.stderr
    assert "Plan: 21 to add, 0 to change, 0 to destroy." in plan.stdout
    for address in ("openstack_compute_instance_v2.node[\"controller-1\"]", "openstack_networking_secgroup_v2.lab",
                    "openstack_networking_floatingip_v2.node[\"worker-1\"]"):
        assert f"# {address} will be created" in plan.stdout, address
    assert '"labctl-lab=plan1"' in plan.stdout
