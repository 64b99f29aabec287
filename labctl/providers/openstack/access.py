"""How the operator reaches the lab: the lab's SSH key pair and the address range let in.

SSH, the Kubernetes API and NodePorts are admitted only from one CIDR: the
one given (--allow-from / openstack.allow_from), else this machine's own
address when it is a public one. Behind NAT the address the cloud sees
cannot be known offline, so labctl asks for it instead of guessing.
"""

import ipaddress
import socket
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from labctl.atomic_file import write_atomic
from labctl.errors import UsageError
from labctl.lab import Lab
from labctl.providers.exposure import parse_allow_from


def ensure_key_pair(lab: Lab) -> Path:
    """The lab's ed25519 key (private part 0600, never printed); returns the public key's path."""
    private = lab.ssh_key_path
    public = Path(f"{private}.pub")
    lab.ssh_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    if not private.exists():
        key = ed25519.Ed25519PrivateKey.generate()
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption())
        write_atomic(private, pem.decode(), mode=0o600)
        public.unlink(missing_ok=True)
    private.chmod(0o600)
    if not public.exists():
        loaded = serialization.load_ssh_private_key(private.read_bytes(), password=None)
        line = loaded.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
        write_atomic(public, f"{line.decode()} labctl-{lab.name}\n", mode=0o644)
    return public


def local_address_towards(host: str, port: int) -> str | None:
    """The source address this machine uses to reach HOST (no packet is sent: UDP connect only routes)."""
    try:
        family, _, _, _, sockaddr = socket.getaddrinfo(host, port, socket.AF_INET, socket.SOCK_DGRAM)[0]
        with socket.socket(family, socket.SOCK_DGRAM) as probe:
            probe.connect(sockaddr)
            return str(probe.getsockname()[0])
    except OSError:
        return None


def resolve_allow_from(configured: str, api: tuple[str, int] | None) -> str:
    """The CIDR admitted to SSH, the API and NodePorts."""
    if configured:
        return parse_allow_from(configured)
    address = local_address_towards(*api) if api else None
    if address and ipaddress.ip_address(address).is_global:
        return f"{address}/32"
    seen = f" (this machine is {address}, not a public address: NAT or a private network)" if address else ""
    raise UsageError(
        f"cannot tell which address the cloud will see you come from{seen}: "
        "pass --allow-from YOUR.PUBLIC.IP/32 (or set openstack.allow_from in labctl.yaml)"
    )
