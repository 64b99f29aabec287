"""The lab's known_hosts: keys read from a console or a node's files, pinned per address, checked strictly."""

from pathlib import Path

import pytest

from labctl import known_hosts
from labctl.errors import InfraError
from labctl.inventory import Inventory, Node, load_inventory
from labctl.providers import console_keys

ED = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEXAMPLEexampleEXAMPLEexampleEXAMPLEexample01"
ED2 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEXAMPLEexampleEXAMPLEexampleEXAMPLEexample02"
EC = "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBEXAMPLE="

# As a Debian cloud image prints it on an EC2 serial console (with the "ec2:" logger tag and CRs).
CONSOLE = f"""[   12.3] cloud-init[612]: Cloud-init v. 22.4.2 running 'modules:final'
ec2: #############################################################
ec2: -----BEGIN SSH HOST KEY FINGERPRINTS-----
ec2: 256 SHA256:abc root@ip-10-0-1-5 (ED25519)
ec2: -----END SSH HOST KEY FINGERPRINTS-----
-----BEGIN SSH HOST KEY KEYS-----\r
{EC} root@ip-10-0-1-5\r
{ED} root@ip-10-0-1-5\r
-----END SSH HOST KEY KEYS-----\r
"""


def test_keys_are_read_from_a_cloud_init_console() -> None:
    assert known_hosts.keys_from_console(CONSOLE) == [EC, ED]


def test_the_last_key_block_wins_and_partial_blocks_do_not_count() -> None:
    rebooted = CONSOLE + f"-----BEGIN SSH HOST KEY KEYS-----\n{ED2} root@x\n-----END SSH HOST KEY KEYS-----\n"
    assert known_hosts.keys_from_console(rebooted) == [ED2]
    assert known_hosts.keys_from_console(f"-----BEGIN SSH HOST KEY KEYS-----\n{ED}\n") == []
    assert known_hosts.keys_from_console("no keys here") == []


def test_pin_replaces_an_address_keys_and_keeps_the_others(tmp_path: Path) -> None:
    known = tmp_path / "ssh" / "known_hosts"
    known_hosts.pin(known, "10.0.0.1", [ED])
    known_hosts.pin(known, "10.0.0.2", [EC, ED2])
    known_hosts.pin(known, "10.0.0.1", [ED2])
    assert known.read_text().splitlines() == [f"10.0.0.2 {EC}", f"10.0.0.2 {ED2}", f"10.0.0.1 {ED2}"]
    assert oct(known.stat().st_mode & 0o777) == "0o600"
    known_hosts.forget(known, ["10.0.0.2"])
    assert known_hosts.pinned(known, "10.0.0.2") == [] and known_hosts.pinned(known, "10.0.0.1") == [ED2]
    with pytest.raises(ValueError):
        known_hosts.pin(known, "10.0.0.3", [])


def test_the_inventory_makes_ansible_check_the_lab_known_hosts(tmp_path: Path) -> None:
    lab_dir = tmp_path / "labs" / "demo"
    lab_dir.mkdir(parents=True)
    Inventory("demo", "local", [Node("controller-1", "controller", "10.0.0.1", "10.0.0.1")]).write(lab_dir / "inventory.yml")
    args = load_inventory(lab_dir / "inventory.yml").vars["ansible_ssh_common_args"]
    assert args == f"-o UserKnownHostsFile={lab_dir / 'ssh' / 'known_hosts'} -o StrictHostKeyChecking=yes"


def _inventory() -> Inventory:
    return Inventory("demo", "aws", [Node("controller-1", "controller", "10.199.0.5", "10.0.1.5"),
                                     Node("worker-1", "worker", "10.199.0.6", "10.0.1.6")])


def test_console_keys_are_waited_for(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(console_keys, "POLL_S", 0.0)
    known = tmp_path / "known_hosts"
    reads: dict[str, int] = {}

    def console(node: Node) -> str:
        reads[node.name] = reads.get(node.name, 0) + 1
        # worker-1 prints its keys only on the third look.
        return CONSOLE if node.name == "controller-1" or reads[node.name] >= 3 else "booting"

    console_keys.pin_from_console(_inventory(), known, console, timeout_s=30)
    assert known_hosts.pinned(known, "10.199.0.5") == [EC, ED] and known_hosts.pinned(known, "10.199.0.6") == [EC, ED]
    assert reads == {"controller-1": 1, "worker-1": 3}


def test_a_node_pinned_before_keeps_its_keys_when_its_console_rotated(tmp_path: Path) -> None:
    known = tmp_path / "known_hosts"
    known_hosts.pin(known, "10.199.0.5", [ED2])
    known_hosts.pin(known, "10.199.0.6", [ED2])
    console_keys.pin_from_console(_inventory(), known, lambda node: "", timeout_s=0)
    assert known_hosts.pinned(known, "10.199.0.5") == [ED2]


def test_no_keys_on_the_console_is_an_error_naming_the_node(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(console_keys, "POLL_S", 0.0)
    with pytest.raises(InfraError, match="worker-1"):
        console_keys.pin_from_console(_inventory(), tmp_path / "known_hosts",
                                      lambda node: CONSOLE if node.name == "controller-1" else "", timeout_s=0.05)
