"""Choosing a lab's private address range from a pool, under one host-wide lock.

A lab keeps the range it has; a new one takes the first block of the pool that overlaps nothing
taken (other labs, the host's own networks, the cluster's pod and service ranges). Choosing and
recording happen under one lock per pool, so labs started at once (a class) never take the same
range.
"""

import contextlib
import fcntl
import ipaddress
import os
from collections.abc import Iterable, Iterator

from labctl.config import LabConfig
from labctl.paths import ensure_data_home

# Each taken range with what holds it, for the error that names them.
Taken = list[tuple[str, ipaddress.IPv4Network]]


@contextlib.contextmanager
def choosing(pool: str) -> Iterator[None]:
    """Held from choosing a range until the lab's state records it.

    The lock file sits next to the per-lab locks; its name starts with a dot, which no lab name
    does, so it never is a lab's lock."""
    path = ensure_data_home() / "locks" / f".{pool}"
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        # Blocking: a holder only reads a few files (and, on a cloud, lists its networks).
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def first_free(candidates: Iterable[ipaddress.IPv4Network], taken: Taken) -> ipaddress.IPv4Network | None:
    for candidate in candidates:
        if not any(candidate.overlaps(net) for _, net in taken):
            return candidate
    return None


def cluster_ranges(config: LabConfig) -> Taken:
    """The lab's pod and service ranges: node addresses inside them would be routed as pods or Services."""
    return [(f"network.{key}", ipaddress.IPv4Network(getattr(config.network, key))) for key in ("pod_cidr", "service_cidr")]
