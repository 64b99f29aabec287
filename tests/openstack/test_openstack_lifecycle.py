"""`labctl up openstack` → inventory → scale-up → down → down again, and a failure half-way, against the fake cloud.

The real CLI runs as a subprocess; openstacksdk and the openstack.cloud modules
speak HTTP to the fake. Nothing here mocks Python code.
"""

import ipaddress
import json
import stat
from pathlib import Path
from typing import Any

import openstack
import pytest
import yaml
from fake_openstack import FakeOpenStack
from openstack_testenv import PASSWORD, REPO, Labctl

from labctl.inventory import from_ansible, load_inventory
from labctl.lab import Lab
from labctl.providers import ProviderContext, ProviderOptions
from labctl.providers.openstack.names import SUBNET_CIDR
from labctl.providers.openstack.provider import PROVIDER
from labctl.ui import Ui

ALLOW = "203.0.113.0/24"
FLOATING_POOL = ipaddress.ip_network("198.51.100.0/24")


def up(labctl: Labctl, lab: str, *extra: str) -> Any:
    return labctl.run("up", "openstack", "--provision-only", "--yes", "--cloud", "fake", "--allow-from", ALLOW, "--lab", lab, *extra)


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("error:")]


def files_under(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


def snapshot(fake: FakeOpenStack) -> str:
    c = fake.cloud
    kinds = (c.networks, c.subnets, c.routers, c.ports, c.security_groups, c.floating_ips, c.servers, c.keypairs)
    return json.dumps(kinds, sort_keys=True)


def provider_context(lab: str) -> ProviderContext:
    the_lab = Lab(lab)
    return ProviderContext(lab=the_lab, config=the_lab.load_config(), ui=Ui(assume_yes=True), options=ProviderOptions(provision_only=True))


def add_neighbour_lab(fake: FakeOpenStack) -> None:
    """Another lab whose names share our prefix (lab t1-x next to t1): `down --lab t1` must not touch it."""
    conn = openstack.connect(cloud="fake")  # clouds.yaml through OS_CLIENT_CONFIG_FILE
    network = conn.network.create_network(name="labctl-t1-x-net", description="labctl-lab=t1-x")
    conn.network.create_subnet(
        name="labctl-t1-x-subnet", network_id=network.id, cidr="10.43.0.0/24", ip_version=4, description="labctl-lab=t1-x"
    )
    port = conn.network.create_port(name="labctl-t1-x-worker-1-port", network_id=network.id, description="labctl-lab=t1-x")
    image = next(iter(fake.cloud.images))
    conn.compute.create_server(
        name="labctl-t1-x-worker-1", image_id=image, flavor_id="m1-small", networks=[{"port": port.id}], metadata={"labctl-lab": "t1-x"}
    )


def test_up_scale_down_and_down_again(labctl_env: Labctl, fake_cloud: FakeOpenStack) -> None:
    result = up(labctl_env, "t1")
    assert result.returncode == 0, result.stderr
    assert "lab t1 is provisioned on openstack" in result.stdout

    # The inventory: the common shape, SSH to floating IPs, the cluster on fixed IPs.
    lab = Lab("t1")
    inventory = load_inventory(lab.inventory_path)
    assert inventory.provider == "openstack"
    assert [(n.name, n.role) for n in inventory.nodes] == [("controller-1", "controller"), ("worker-1", "worker"), ("worker-2", "worker")]
    for node in inventory.nodes:
        assert ipaddress.ip_address(node.ansible_host) in FLOATING_POOL
        assert ipaddress.ip_address(node.node_ip) in ipaddress.ip_network(SUBNET_CIDR)
        assert node.ansible_user == "debian"
        assert node.extra["ansible_become"] is True
    controller = inventory.node("controller-1")
    assert inventory.vars["api_endpoint_host"] == controller.ansible_host
    assert inventory.vars["ansible_ssh_private_key_file"] == str(lab.ssh_key_path)
    # inventories/openstack.sample.yml shows this very shape.
    sample = from_ansible(yaml.safe_load((REPO / "inventories" / "openstack.sample.yml").read_text()))
    assert set(sample.vars) == set(inventory.vars)
    assert {tuple(sorted(n.hostvars())) for n in sample.nodes} == {tuple(sorted(n.hostvars())) for n in inventory.nodes}
    # The inventory matches what the cloud holds.
    by_name = {s["name"]: s for s in fake_cloud.cloud.servers.values()}
    assert sorted(by_name) == ["labctl-t1-controller-1", "labctl-t1-worker-1", "labctl-t1-worker-2"]
    assert by_name["labctl-t1-worker-2"]["metadata"] == {"labctl-lab": "t1", "labctl-node": "worker-2", "labctl-role": "worker"}
    fips = {f["fixed_ip_address"]: f["floating_ip_address"] for f in fake_cloud.cloud.floating_ips.values()}
    assert {n.node_ip: n.ansible_host for n in inventory.nodes} == fips

    # The key pair: private half 0600 in the lab, public half on the cloud.
    assert stat.S_IMODE(lab.ssh_key_path.stat().st_mode) == 0o600
    public = Path(f"{lab.ssh_key_path}.pub").read_text().split()[:2]
    assert fake_cloud.cloud.keypairs["labctl-t1-key"]["public_key"].split()[:2] == public

    # Every Neutron resource carries the marker; the security group admits only the operator's range from outside.
    network = fake_cloud.cloud
    marked = [*network.networks.values(), *network.subnets.values(), *network.routers.values(), *network.security_groups.values()]
    assert {r["name"] for r in marked if r["description"] == "labctl-lab=t1"} == {
        "labctl-t1-net",
        "labctl-t1-subnet",
        "labctl-t1-router",
        "labctl-t1-sg",
    }
    group = next(g for g in network.security_groups.values() if g["name"] == "labctl-t1-sg")
    ingress = [r for r in group["security_group_rules"] if r["direction"] == "ingress"]
    from_outside = {(r["protocol"], r["port_range_min"], r["port_range_max"]) for r in ingress if r["remote_ip_prefix"] == ALLOW}
    assert from_outside == {("tcp", 22, 22), ("tcp", 6443, 6443), ("tcp", 30000, 32767), ("icmp", None, None)}
    assert [r["remote_group_id"] for r in ingress if r["remote_group_id"]] == [group["id"]]
    router = next(iter(network.routers.values()))
    gateway = router["external_gateway_info"]["external_fixed_ips"][0]["ip_address"]
    others = [r for r in ingress if r["remote_ip_prefix"] not in (ALLOW, None)]
    assert [(r["remote_ip_prefix"], r["port_range_min"]) for r in others] == [(f"{gateway}/32", 6443)]
    lab_ports = [p for p in network.ports.values() if p["description"] == "labctl-lab=t1"]
    assert len(lab_ports) == 3
    assert all(p["allowed_address_pairs"] == [{"ip_address": "10.244.0.0/16"}, {"ip_address": "10.96.0.0/16"}] for p in lab_ports)

    # Credentials never reach disk through ansible-runner: only the path of clouds.yaml does.
    lab_files = files_under(lab.dir)
    commands = [p for p in lab_files if p.name == "command" and "artifacts" in p.parts]
    assert commands, "expected ansible-runner artifacts to inspect"
    assert json.loads(commands[0].read_text())["env"]["OS_CLIENT_CONFIG_FILE"] == labctl_env.env["OS_CLIENT_CONFIG_FILE"]
    private_key = lab.ssh_key_path.read_bytes()
    for path in lab_files:
        content = path.read_bytes()
        assert PASSWORD.encode() not in content, f"the cloud password leaked into {path}"
        if path != lab.ssh_key_path:
            assert private_key not in content, f"the private key leaked into {path}"

    # `up` again changes nothing: same resources (same ids), same inventory.
    state_before = snapshot(fake_cloud)
    inventory_before = lab.inventory_path.read_text()
    again = up(labctl_env, "t1")
    assert again.returncode == 0, again.stderr
    assert "0 changed" in again.stderr
    assert snapshot(fake_cloud) == state_before
    assert lab.inventory_path.read_text() == inventory_before

    # Scale-up: one more worker, in the inventory and on the cloud.
    ctx = provider_context("t1")
    scaled = PROVIDER.add_worker(ctx)
    assert [n.name for n in scaled.by_role("worker")] == ["worker-1", "worker-2", "worker-3"]
    assert load_inventory(lab.inventory_path).node("worker-3").ansible_host == scaled.node("worker-3").ansible_host
    machines = PROVIDER.machines(ctx)
    assert [(m["name"], m["state"]) for m in machines] == [
        ("controller-1", "active"),
        ("worker-1", "active"),
        ("worker-2", "active"),
        ("worker-3", "active"),
    ]

    # The scale-up's restore: the added worker's server, floating IP and port go, nothing else.
    before_remove = fake_cloud.leftovers()
    shrunk = PROVIDER.remove_worker(ctx, "worker-3")
    assert [n.name for n in shrunk.by_role("worker")] == ["worker-1", "worker-2"]
    assert load_inventory(lab.inventory_path).nodes == shrunk.nodes
    after_remove = fake_cloud.leftovers()
    assert sorted(set(before_remove["servers"]) - set(after_remove["servers"])) == ["labctl-t1-worker-3"]
    assert sorted(set(before_remove["ports"]) - set(after_remove["ports"])) == ["labctl-t1-worker-3-port"]
    assert len(before_remove["floating_ips"]) - len(after_remove["floating_ips"]) == 1
    assert {k: v for k, v in after_remove.items() if k not in ("servers", "ports", "floating_ips")} == {
        k: v for k, v in before_remove.items() if k not in ("servers", "ports", "floating_ips")
    }

    # Down removes exactly this lab, and leaves a lab whose names share the prefix alone.
    add_neighbour_lab(fake_cloud)
    PROVIDER.destroy(ctx)
    assert fake_cloud.leftovers() == {
        "servers": ["labctl-t1-x-worker-1"],
        "keypairs": [],
        "floating_ips": [],
        "ports": ["labctl-t1-x-worker-1-port"],
        "routers": [],
        "subnets": ["labctl-t1-x-subnet"],
        "networks": ["labctl-t1-x-net"],
        "security_groups": [],
    }

    # Down again, through the CLI: nothing left to delete is not an error; the lab's state goes.
    again = labctl_env.run("down", "--lab", "t1", "--yes")
    assert again.returncode == 0, again.stderr
    assert "nothing of lab t1 is left" in again.stderr
    assert not lab.dir.exists()


def test_quota_error_half_way_then_down_cleans(labctl_env: Labctl, fake_cloud: FakeOpenStack) -> None:
    message = "Quota exceeded for instances: Requested 1, but already used 10 of 10 instances"
    fake_cloud.inject("POST", "/compute/v2.1/servers", nth=2, status=403, body={"forbidden": {"code": 403, "message": message}})
    result = up(labctl_env, "t2")
    assert result.returncode == 3, result.stderr
    [line] = error_lines(result.stderr)
    assert message in line
    assert "Create a server per node" in line
    assert "labctl down --lab t2" in line
    assert "http://" not in line  # the SDK's URL clutter is gone
    # Half a lab exists: the network side and the servers the cloud accepted (a loop goes on past a failed item).
    assert [s["name"] for s in fake_cloud.cloud.servers.values()] == ["labctl-t2-controller-1", "labctl-t2-worker-2"]
    assert fake_cloud.leftovers()["floating_ips"] == []
    assert fake_cloud.leftovers()["networks"] == ["labctl-t2-net"]

    down = labctl_env.run("down", "--lab", "t2", "--yes")
    assert down.returncode == 0, down.stderr
    assert fake_cloud.leftovers() == {kind: [] for kind in fake_cloud.leftovers()}
    assert not Lab("t2").dir.exists()


def test_unmodelled_calls_are_caught(fake_cloud: FakeOpenStack) -> None:
    """The guard the other tests rely on: a call the fake does not model answers 501 and is recorded."""
    import urllib.error
    import urllib.request

    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(f"{fake_cloud.base_url}/compute/v2.1/os-hypervisors", timeout=5)
    assert raised.value.code == 501
    assert fake_cloud.unexpected == ["GET /compute/v2.1/os-hypervisors"]
    fake_cloud.unexpected.clear()
