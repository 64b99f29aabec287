"""The emulated cloud's network on this host: one bridge per cloud subnet, one "public" bridge, 1:1 NAT.

A cloud subnet becomes a Linux bridge whose host address is the subnet's first
address (the cloud's router, as in a VPC). "Public" addresses come from a private
range routed to a bridge of their own and are mapped 1:1 onto private addresses
(DNAT), as an internet gateway does; traffic from a node to another node's public
address is hairpinned back with the host as its source. The operator (this host)
appears to the cloud with the public bridge's own address.

Everything made here carries the cloud's rule comment or bridge prefix, so teardown
removes exactly that cloud's, also after a crash (two emulated clouds can run at once).
"""

import ipaddress
import json
import subprocess
import time
from dataclasses import dataclass, field

PREFIXES = {"aws": "ca-", "openstack": "co-"}


def comment(cloud: str) -> str:
    return f"labctl-emulated-{cloud}"


def run(cmd: list[str], check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(cmd, capture_output=True, text=True)
    if check and done.returncode != 0:
        raise RuntimeError(f"`{' '.join(cmd)}` failed: {(done.stderr or done.stdout).strip()}")
    return done


def _rule(cloud: str, table: str, chain: str, *spec: str) -> None:
    """Append the rule unless it is there (idempotent)."""
    full = [*spec, "-m", "comment", "--comment", comment(cloud)]
    if run(["iptables", "-t", table, "-C", chain, *full], check=False).returncode != 0:
        run(["iptables", "-t", table, "-I" if chain == "FORWARD" else "-A", chain, *full])


def _delete_rules(cloud: str, match: str) -> None:
    for table in ("filter", "nat"):
        for line in run(["iptables", "-t", table, "-S"], check=False).stdout.splitlines():
            if comment(cloud) in line and match in line and line.startswith("-A "):
                parts = [p.strip('"') for p in line.split()[1:]]
                run(["iptables", "-t", table, "-D", *parts], check=False)


def _links() -> list[dict[str, object]]:
    return json.loads(run(["ip", "-j", "link", "show"]).stdout or "[]")


def in_use(network: ipaddress.IPv4Network) -> list[str]:
    """Host addresses and routes that overlap NETWORK (outside this fabric)."""
    found = []
    for link in json.loads(run(["ip", "-j", "-4", "addr", "show"]).stdout or "[]"):
        if str(link.get("ifname", "")).startswith(tuple(PREFIXES.values())):
            continue
        for info in link.get("addr_info", []):
            if ipaddress.ip_network(f"{info['local']}/{info['prefixlen']}", strict=False).overlaps(network):
                found.append(f"{link['ifname']}: {info['local']}/{info['prefixlen']}")
    return found


@dataclass
class Fabric:
    cloud: str
    public: ipaddress.IPv4Network
    subnets: dict[str, str] = field(default_factory=dict)  # cloud subnet CIDR -> bridge
    _next_public: int = 10

    @property
    def prefix(self) -> str:
        return PREFIXES[self.cloud]

    @property
    def public_bridge(self) -> str:
        return f"{self.prefix}public"

    @property
    def operator_address(self) -> str:
        return str(self.public.network_address + 1)

    def start(self) -> None:
        clashes = in_use(self.public)
        if clashes:
            raise RuntimeError(f"the public range {self.public} is in use on this host ({', '.join(clashes)}): pick another")
        self._bridge(self.public_bridge, f"{self.operator_address}/{self.public.prefixlen}")
        # Bridged and routed traffic of the fabric passes whatever the host's FORWARD policy is.
        _rule(self.cloud, "filter", "FORWARD", "-i", f"{self.prefix}+", "-j", "ACCEPT")
        _rule(self.cloud, "filter", "FORWARD", "-o", f"{self.prefix}+", "-j", "ACCEPT")
        # Hairpin: a node reaching another node's public address gets its answer through the host.
        # (The operator's own connections keep their public-range source address.)
        hairpin = ["-o", f"{self.prefix}+", "!", "-s", str(self.public), "-m", "conntrack", "--ctstate", "DNAT", "-j", "MASQUERADE"]
        _rule(self.cloud, "nat", "POSTROUTING", *hairpin)
        with open("/proc/sys/net/ipv4/ip_forward", "w") as knob:
            knob.write("1\n")

    def allocate_public(self) -> str:
        """The next "public" address (instances, load balancers)."""
        while True:
            address = self.public.network_address + self._next_public
            self._next_public += 1
            if address >= self.public.broadcast_address:
                raise RuntimeError(f"the public range {self.public} is exhausted")
            return str(address)

    def subnet_bridge(self, cidr: str) -> tuple[str, str, int]:
        """(bridge, router address, prefix length) of a cloud subnet; made on first use."""
        network = ipaddress.IPv4Network(cidr)
        router = str(network.network_address + 1)
        if cidr not in self.subnets:
            clashes = in_use(network)
            if clashes:
                raise RuntimeError(f"cloud subnet {cidr} overlaps this host's {', '.join(clashes)}")
            name = f"{self.prefix}{network.network_address.packed.hex()}"[:15]
            self._bridge(name, f"{router}/{network.prefixlen}")
            self.subnets[cidr] = name
        return self.subnets[cidr], router, network.prefixlen

    def ports(self, bridge: str) -> set[str]:
        return {str(link["ifname"]) for link in json.loads(run(["ip", "-j", "link", "show", "master", bridge]).stdout or "[]")}

    def hairpin_new_port(self, bridge: str, before: set[str], timeout_s: float = 10.0) -> None:
        """Turn hairpin on for the port a machine just booted adds to BRIDGE.

        A machine reaching its own public address (a lone controller's kubelet at the API's floating
        IP) comes back through the host's NAT to the port it left by; clouds allow it, and a bridge
        whose frames pass iptables (br_netfilter) sends nothing back out of the port it came in by
        unless hairpin is on."""
        deadline = time.monotonic() + timeout_s
        while not (new := self.ports(bridge) - before):
            if time.monotonic() > deadline:
                raise RuntimeError(f"no new port on {bridge} within {timeout_s:.0f}s of a machine's boot")
            time.sleep(0.2)
        for port in new:
            run(["bridge", "link", "set", "dev", port, "hairpin", "on"])

    def map_public(self, public: str, private: str) -> None:
        for chain in ("PREROUTING", "OUTPUT"):
            _rule(self.cloud, "nat", chain, "-d", f"{public}/32", "-j", "DNAT", "--to-destination", private)

    def unmap_public(self, public: str) -> None:
        _delete_rules(self.cloud, f"-d {public}/32")

    def add_listener_address(self, address: str) -> None:
        """A load balancer's address: local to the host, on the public bridge."""
        addrs = run(["ip", "-4", "-o", "addr", "show", "dev", self.public_bridge]).stdout
        if f" {address}/32 " not in addrs:
            run(["ip", "addr", "add", f"{address}/32", "dev", self.public_bridge])

    def _bridge(self, name: str, cidr: str) -> None:
        if run(["ip", "link", "show", name], check=False).returncode != 0:
            run(["ip", "link", "add", name, "type", "bridge"])
        if f" {cidr} " not in run(["ip", "-4", "-o", "addr", "show", "dev", name]).stdout:
            run(["ip", "addr", "add", cidr, "dev", name])
        run(["ip", "link", "set", name, "up"])


def teardown(cloud: str) -> list[str]:
    """Remove every rule and bridge of CLOUD's fabric (and veths left on them); returns what was removed."""
    removed = []
    _delete_rules(cloud, "")
    for link in _links():
        name = str(link.get("ifname", ""))
        if name.startswith(PREFIXES[cloud]):
            for member in json.loads(run(["ip", "-j", "link", "show", "master", name], check=False).stdout or "[]"):
                run(["ip", "link", "del", member["ifname"]], check=False)
            run(["ip", "link", "del", name], check=False)
            removed.append(f"bridge {name}")
    return removed
