"""The lab's known_hosts: every node's SSH host keys, pinned when the node is made.

Ansible, `labctl ssh` and every other SSH client labctl starts read this file
with strict checking, so the channel that carries the CA and component keys
cannot be taken over by whoever answers first at a node's address. Local
nodes' keys are made by labctl in the node's filesystem; cloud nodes' keys are
read back from the first boot's console output, where cloud-init (or the
Ignition unit labctl adds on Flatcar) prints them between the markers below.
"""

import re
from collections.abc import Iterable
from pathlib import Path

from labctl.atomic_file import write_atomic

BEGIN = "-----BEGIN SSH HOST KEY KEYS-----"
END = "-----END SSH HOST KEY KEYS-----"
KEY_TYPES = ("ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521", "ssh-rsa")
_KEY = re.compile(r"^(?P<type>[a-z0-9-]+) (?P<blob>[A-Za-z0-9+/]+={0,3})(?: .*)?$")

FILE_NAME = "known_hosts"


def path_for(ssh_dir: Path) -> Path:
    return ssh_dir / FILE_NAME


def client_options(known_hosts: Path) -> list[str]:
    """ssh options that trust exactly the lab's pinned keys."""
    return ["-o", f"UserKnownHostsFile={known_hosts}", "-o", "StrictHostKeyChecking=yes"]


def parse_key(line: str) -> str | None:
    """'type base64' of a public key line (comments dropped), or None if it is not one."""
    match = _KEY.match(line.strip())
    if match is None or match["type"] not in KEY_TYPES:
        return None
    return f"{match['type']} {match['blob']}"


def keys_from_console(text: str) -> list[str]:
    """The host keys of the last complete key block in a console log (a reboot prints another)."""
    blocks = re.findall(re.escape(BEGIN) + r"(.*?)" + re.escape(END), text, flags=re.S)
    if not blocks:
        return []
    # Console lines may carry a carriage return or a kernel-log prefix before the key.
    keys = []
    for raw in blocks[-1].splitlines():
        for start in (m.start() for m in re.finditer(r"(ssh-|ecdsa-)", raw)):
            key = parse_key(raw[start:].rstrip("\r"))
            if key:
                keys.append(key)
                break
    return keys


def keys_from_files(paths: Iterable[Path]) -> list[str]:
    keys = []
    for public in sorted(paths):
        key = parse_key(public.read_text())
        if key:
            keys.append(key)
    return keys


def _read(known_hosts: Path) -> list[str]:
    return known_hosts.read_text().splitlines() if known_hosts.exists() else []


def _write(known_hosts: Path, lines: list[str]) -> None:

    known_hosts.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    write_atomic(known_hosts, "".join(f"{line}\n" for line in lines), mode=0o600)


def _host_of(line: str) -> str:
    return line.split(" ", 1)[0]


def pin(known_hosts: Path, host: str, keys: list[str]) -> None:
    """Make KEYS the only keys trusted for HOST (an address reused by a new node gets the new node's keys)."""
    if not keys:
        raise ValueError(f"no host keys to pin for {host}")
    kept = [line for line in _read(known_hosts) if _host_of(line) != host]
    _write(known_hosts, kept + [f"{host} {key}" for key in keys])


def forget(known_hosts: Path, hosts: Iterable[str]) -> None:
    gone = set(hosts)
    lines = _read(known_hosts)
    kept = [line for line in lines if _host_of(line) not in gone]
    if kept != lines:
        _write(known_hosts, kept)


def pinned(known_hosts: Path, host: str) -> list[str]:
    return [line.split(" ", 1)[1] for line in _read(known_hosts) if _host_of(line) == host]
