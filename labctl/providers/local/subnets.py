"""Which private range a local lab's bridge gets when labctl.yaml names none.

A lab keeps the range it recorded; a new one takes the first /24 of the pool that is not in use on
the host, not recorded by any other lab (a stopped lab comes back on its own range) and not inside
the lab's pod or service CIDR. Choosing and recording happen under one lock so two labs starting at
once never take the same range.
"""

import contextlib
import fcntl
import ipaddress
import os
from collections.abc import Iterator

from labctl.config import LabConfig
from labctl.errors import UsageError
from labctl.lab import Lab, list_labs
from labctl.paths import ensure_data_home

# The old fixed default, 10.213.0.0/24, comes first: a lone lab keeps the addresses it always had.
POOL = ipaddress.IPv4Network("10.213.0.0/16")
PREFIX = 24

Taken = list[tuple[str, ipaddress.IPv4Network]]


@contextlib.contextmanager
def choosing() -> Iterator[None]:
    """Held from choosing a range until the lab's state records it and its bridge holds it.

    The lock file sits next to the per-lab locks; its name starts with a dot, which no lab name
    does, so it never is a lab's lock."""
    path = ensure_data_home() / "locks" / ".subnets"
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        # Blocking: the holder only reads a few files and creates a bridge.
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def recorded_subnet(lab: Lab) -> str:
    """The range LAB's state recorded ("" before its first `up`)."""
    return str((lab.read_state().get("local") or {}).get("subnet") or "")


def other_labs(name: str) -> Taken:
    """The range of every other local lab under this LABCTL_HOME, running or not."""
    taken: Taken = []
    for other in list_labs():
        if other == name:
            continue
        lab = Lab(other)
        subnet = recorded_subnet(lab)
        if not subnet:
            try:
                config = lab.load_config()
            except UsageError:
                continue
            subnet = config.local.subnet if config.provider == "local" else ""
        if subnet:
            taken.append((f"lab {other}", ipaddress.IPv4Network(subnet)))
    return taken


def cluster_ranges(config: LabConfig) -> Taken:
    return [(f"network.{key}", ipaddress.IPv4Network(getattr(config.network, key))) for key in ("pod_cidr", "service_cidr")]


def pick(taken: Taken) -> ipaddress.IPv4Network:
    for candidate in POOL.subnets(new_prefix=PREFIX):
        if not any(candidate.overlaps(net) for _, net in taken):
            return candidate
    raise UsageError(f"no free /{PREFIX} left in {POOL} for the lab's bridge: set local.subnet in labctl.yaml to a free private range")
