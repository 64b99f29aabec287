"""How widely a cloud lab is opened: the one rule both cloud providers apply to --allow-from."""

import ipaddress

from labctl.errors import UsageError


def refuse_whole_internet(cidr: str, confirmed: bool) -> None:
    """A lab open to every address is refused unless the user said --yes (its SSH and API face the internet)."""
    if ipaddress.ip_network(cidr, strict=False).prefixlen == 0 and not confirmed:
        raise UsageError(
            f"--allow-from {cidr} opens the lab's SSH, Kubernetes API and NodePorts to the whole internet: "
            "pass your own address (e.g. --allow-from 203.0.113.7/32), or add --yes if that is what you mean"
        )
