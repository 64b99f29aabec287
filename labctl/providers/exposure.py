"""How widely a cloud lab is opened: the one rule both cloud providers apply to --allow-from."""

import ipaddress

from labctl.errors import UsageError


def parse_allow_from(value: str) -> str:
    """--allow-from as a CIDR (an address alone is its /32); IPv4 only, like the lab networks."""
    try:
        network = ipaddress.ip_network(value.strip(), strict=False)
    except ValueError:
        raise UsageError(f"--allow-from '{value}' is not an address or CIDR: pass e.g. --allow-from 203.0.113.7/32") from None
    if network.version != 4:
        raise UsageError(f"--allow-from {value}: the lab network is IPv4 only, pass an IPv4 CIDR")
    return str(network)


def refuse_whole_internet(cidr: str, confirmed: bool) -> None:
    """A lab open to every address is refused unless the user said --yes (its SSH and API face the internet)."""
    if ipaddress.ip_network(cidr, strict=False).prefixlen == 0 and not confirmed:
        raise UsageError(
            f"--allow-from {cidr} opens the lab's SSH, Kubernetes API and NodePorts to the whole internet: "
            "pass your own address (e.g. --allow-from 203.0.113.7/32), or add --yes if that is what you mean"
        )
