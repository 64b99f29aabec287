"""The host side of a local lab's network: one Linux bridge and its iptables rules.

Everything created here carries the lab's name (bridge name, rule comments) so
`down` removes exactly what `up` made and nothing else.
"""

import hashlib
import ipaddress
import json
import subprocess
from dataclasses import dataclass
from typing import Any

from labctl.errors import InfraError, UsageError, one_line


def run(cmd: list[str], check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(cmd, capture_output=True, text=True)
    if check and done.returncode != 0:
        raise InfraError(f"`{' '.join(cmd)}` failed: {(done.stderr or done.stdout).strip()}")
    return done


def route_to(ip: str) -> str:
    """Where the host sends traffic for ip, in words: the device its route uses (linkdown: nothing up on that
    bridge), and the state of ip's neighbour entry (FAILED or INCOMPLETE: nothing on the bridge answers ARP for ip)."""
    try:
        route = run(["ip", "-j", "route", "get", ip], check=False)
        neighbour = run(["ip", "-j", "neigh", "show", "to", ip], check=False)
    except OSError as error:
        return f"the host's route to it is unknown ({error})"
    devices = [f"{r.get('dev', '?')}{' (linkdown)' if 'linkdown' in (r.get('flags') or []) else ''}" for r in _entries(route)]
    states = [state for n in _entries(neighbour) for state in _as_list(n.get("state"))]
    reason = one_line(route.stderr) or f"ip exited {route.returncode}"
    through = f"the host sends it through {', '.join(devices)}" if devices else f"the host has no route to it ({reason})"
    return f"{through}, " + (f"neighbour {' '.join(states)}" if states else "no neighbour entry")


def _entries(done: subprocess.CompletedProcess[str]) -> list[dict[str, Any]]:
    """`ip -j`'s objects; none when it printed something else."""
    try:
        data = json.loads(done.stdout or "[]")
    except ValueError:
        return []
    return [entry for entry in data if isinstance(entry, dict)] if isinstance(data, list) else []


def _as_list(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else [str(v) for v in value or []]


def bridge_name(lab: str, configured: str = "") -> str:
    if configured:
        return configured
    name = f"lc-{lab}"
    if len(name) <= 15:
        return name
    # Interface names are limited to 15 characters; cut short alone, labs named alike
    # (class-student1, class-student2) would share one bridge: a digest of the whole name keeps them apart.
    return f"lc-{lab[:6]}-{hashlib.sha256(lab.encode()).hexdigest()[:5]}"


@dataclass(frozen=True)
class LabNetwork:
    lab: str
    bridge: str
    subnet: ipaddress.IPv4Network

    @property
    def gateway(self) -> ipaddress.IPv4Address:
        return self.subnet.network_address + 1

    def address(self, index: int) -> str:
        """Node addresses start at .10 so the low range stays free for the host side."""
        return str(self.subnet.network_address + 10 + index)

    @property
    def comment(self) -> str:
        return rule_comment(self.lab)


def rule_comment(lab: str) -> str:
    """What every iptables rule of the lab carries, so `down` finds exactly its own."""
    return f"labctl:{lab}"


def host_networks(exclude_dev: str) -> list[tuple[str, ipaddress.IPv4Network]]:
    data = json.loads(run(["ip", "-j", "-4", "addr", "show"]).stdout or "[]")
    found = []
    for link in data:
        if link.get("ifname") == exclude_dev:
            continue
        for info in link.get("addr_info", []):
            found.append((link["ifname"], ipaddress.ip_network(f"{info['local']}/{info['prefixlen']}", strict=False)))
    routes = json.loads(run(["ip", "-j", "-4", "route", "show"]).stdout or "[]")
    for route in routes:
        dst = route.get("dst")
        if dst and dst != "default" and route.get("dev") != exclude_dev:
            found.append((route.get("dev", "?"), ipaddress.ip_network(dst, strict=False)))
    return found


def check_subnet_free(net: LabNetwork) -> None:
    for dev, other in host_networks(net.bridge):
        if other.overlaps(net.subnet):
            raise UsageError(
                f"address range {net.subnet} is already in use on this host ({dev}: {other}): "
                "set local.subnet in labctl.yaml to a free private range"
            )


def bridge_exists(name: str) -> bool:
    return run(["ip", "link", "show", name], check=False).returncode == 0


def ensure_bridge(net: LabNetwork) -> None:
    if not bridge_exists(net.bridge):
        run(["ip", "link", "add", net.bridge, "type", "bridge"])
    cidr = f"{net.gateway}/{net.subnet.prefixlen}"
    addrs = run(["ip", "-4", "-o", "addr", "show", "dev", net.bridge]).stdout
    if cidr not in addrs:
        run(["ip", "addr", "add", cidr, "dev", net.bridge])
    run(["ip", "link", "set", net.bridge, "up"])
    # Bridged node-to-node traffic passes the host's FORWARD chain (bridge netfilter).
    rule = ["FORWARD", "-i", net.bridge, "-o", net.bridge, "-m", "comment", "--comment", net.comment, "-j", "ACCEPT"]
    if run(["iptables", "-C", *rule], check=False).returncode != 0:
        run(["iptables", "-I", *rule])


def remove_bridge(lab: str, bridge: str) -> None:
    # Delete every rule carrying the lab's comment, whatever chain it is in.
    mark = rule_comment(lab)
    listing = run(["iptables", "-S"], check=False).stdout.splitlines()
    for line in listing:
        if f'"{mark}"' in line or f" {mark} " in f"{line} ":
            parts = line.split()
            if parts and parts[0] == "-A":
                run(["iptables", "-D", *[p.strip('"') for p in parts[1:]]], check=False)
    if bridge_exists(bridge):
        # Node veths go with their namespaces, unless something still holds one: remove
        # what is attached so nothing outlives the lab.
        for name in links_with_master(bridge):
            run(["ip", "link", "del", name], check=False)
        run(["ip", "link", "del", bridge], check=False)
    remove_orphan_veths(lab)


def links_with_master(bridge: str) -> list[str]:
    data = json.loads(run(["ip", "-j", "link", "show", "master", bridge], check=False).stdout or "[]")
    return [link["ifname"] for link in data]


def remove_orphan_veths(lab: str) -> None:
    """nspawn names a node's host-side veth vb-<lab>-…; one left without a bridge is a leftover of this lab."""
    data = json.loads(run(["ip", "-j", "link", "show", "type", "veth"], check=False).stdout or "[]")
    for link in data:
        if link.get("ifname", "").startswith(f"vb-{lab}-") and not link.get("master"):
            run(["ip", "link", "del", link["ifname"]], check=False)
