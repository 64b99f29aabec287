"""Which private range a local lab's bridge gets when labctl.yaml names none.

A lab keeps the range it recorded; a new one takes the first /24 of the pool that is not in use on
the host, not recorded by any other lab (a stopped lab comes back on its own range) and not inside
the lab's pod or service CIDR. Choosing and recording happen under address_pool's lock, held until
the bridge holds the range, so two labs starting at once never take the same one.
"""

import ipaddress

from labctl.errors import UsageError
from labctl.lab import Lab, list_labs
from labctl.providers.address_pool import Taken, first_free

# The old fixed default, 10.213.0.0/24, comes first: a lone lab keeps the addresses it always had.
POOL = ipaddress.IPv4Network("10.213.0.0/16")
PREFIX = 24


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


def pick(taken: Taken) -> ipaddress.IPv4Network:
    found = first_free(POOL.subnets(new_prefix=PREFIX), taken)
    if found is not None:
        return found
    raise UsageError(f"no free /{PREFIX} left in {POOL} for the lab's bridge: set local.subnet in labctl.yaml to a free private range")
