"""The local provider: real nodes on this host as systemd-nspawn containers on a bridge.

No Docker, no VMs, offline: the node root filesystem and every binary come from
the offline bundle. Ansible then reaches the nodes over SSH exactly as it
reaches cloud machines, so every role is shared with the cloud providers.
"""

import ipaddress
import os
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from labctl import known_hosts
from labctl.errors import InfraError, UsageError
from labctl.inventory import Inventory, Node, load_inventory
from labctl.lab import Lab
from labctl.paths import cache_home
from labctl.providers import ProviderContext, address_pool
from labctl.providers.local import hostnet, nspawn, subnets

BUNDLE_MOUNT = "/opt/labctl/bundle"
INOTIFY_INSTANCES = 1024


def ensure_ssh_key(lab: Lab) -> str:
    """The lab's key pair (private key 0600); returns the public key."""
    key = lab.ssh_key_path
    if not key.exists():
        key.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        subprocess.run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"labctl-{lab.name}", "-f", str(key)],
            check=True, capture_output=True,
        )
    os.chmod(key, 0o600)
    return Path(f"{key}.pub").read_text()


def bundle_root(kube_version: str) -> Path:
    from labctl.bundle import bundle_dir, missing_for_a_lab, status

    missing = missing_for_a_lab(status(kube_version))
    if missing:
        raise InfraError(
            f"the offline bundle for {kube_version} is incomplete (missing: {', '.join(missing[:6])}): run `labctl bundle build`"
        )
    return bundle_dir(kube_version)


def shared_rootfs(kube_version: str, bundle: Path) -> Path:
    """Unpack the bundle's node root filesystem once; every node overlays it read-only."""
    from labctl.bundle import status

    archive = bundle / "rootfs" / "node-rootfs.tar.zst"
    components = status(kube_version)["components"]
    digest = next((c["sha256"] for c in components if c["name"] == "rootfs/node-rootfs"), None) or "unknown"
    target = cache_home() / "rootfs" / digest[:16]
    if (target / "etc" / "os-release").exists():
        return target
    tmp = target.with_name(target.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    done = subprocess.run(["tar", "--zstd", "-xpf", str(archive), "-C", str(tmp), "--numeric-owner"], capture_output=True, text=True)
    if done.returncode != 0:
        shutil.rmtree(tmp, ignore_errors=True)
        raise InfraError(f"could not unpack {archive}: {done.stderr.strip()} (run `labctl bundle verify`)")
    os.replace(tmp, target)
    return target


class LocalProvider:
    name = "local"
    supports_offline = False

    # --- layout ------------------------------------------------------------
    def bridge(self, ctx: ProviderContext) -> str:
        # The recorded name first: a lab made before bridge names got their digest keeps its bridge.
        recorded = (ctx.lab.read_state().get("local") or {}).get("bridge")
        return ctx.config.local.bridge or recorded or hostnet.bridge_name(ctx.lab.name)

    def _network(self, ctx: ProviderContext, subnet: str | ipaddress.IPv4Network) -> hostnet.LabNetwork:
        return hostnet.LabNetwork(lab=ctx.lab.name, bridge=self.bridge(ctx), subnet=ipaddress.IPv4Network(subnet))

    def network(self, ctx: ProviderContext) -> hostnet.LabNetwork:
        """The lab's network once `up` claimed it: local.subnet when set, else the recorded one."""
        subnet = ctx.config.local.subnet or subnets.recorded_subnet(ctx.lab)
        if not subnet:
            raise InfraError(f"lab {ctx.lab.name} has no subnet recorded yet: run `labctl up --lab {ctx.lab.name}`")
        return self._network(ctx, subnet)

    def claim_network(self, ctx: ProviderContext) -> hostnet.LabNetwork:
        """The lab's range, recorded in its state and held by its bridge before another lab may choose.

        local.subnet wins; else the range an earlier `up` recorded (node addresses, certificates and
        the kubeconfig name it); else the first free one. Each must be free on the host."""
        with address_pool.choosing("subnets"):
            self._refuse_moving_booted_nodes(ctx)
            if ctx.config.local.subnet or subnets.recorded_subnet(ctx.lab):
                net = self.network(ctx)
            else:
                taken = hostnet.host_networks(self.bridge(ctx)) + subnets.other_labs(ctx.lab.name) + address_pool.cluster_ranges(ctx.config)
                net = self._network(ctx, subnets.pick(taken))
            hostnet.check_subnet_free(net)
            # The lab's state records the bridge before it exists: `down` must find it after any crash.
            local_state = dict(ctx.lab.read_state().get("local") or {})
            ctx.lab.update_state(local={**local_state, "bridge": net.bridge, "subnet": str(net.subnet)})
            hostnet.remove_orphan_veths(ctx.lab.name)
            hostnet.ensure_bridge(net)
        return net

    def _refuse_moving_booted_nodes(self, ctx: ProviderContext) -> None:
        """Once nodes booted, their addresses, certificates and the kubeconfig name the lab's first range and bridge:
        a local.subnet or local.bridge changed afterwards would leave every node unreachable."""
        recorded = ctx.lab.read_state().get("local") or {}
        if not recorded.get("nodes"):
            return
        wanted, name = ctx.config.local, ctx.lab.name
        for key, asked, kept in (("subnet", wanted.subnet, recorded.get("subnet")), ("bridge", wanted.bridge, recorded.get("bridge"))):
            if not (asked and kept) or _same(key, asked, kept):
                continue
            raise UsageError(
                f"lab {name}'s nodes run on {kept} and local.{key} asks for {asked}; booted nodes cannot move: "
                f"set local.{key} back to {kept}, or run `labctl down --lab {name}` first"
            )

    def planned_nodes(self, ctx: ProviderContext, extra_workers: int = 0) -> list[Node]:
        topo = ctx.config.topology
        net = self.network(ctx)
        nodes: list[Node] = []
        index = 0
        for i in range(1, topo.controllers + 1):
            ip = net.address(index)
            nodes.append(Node(f"controller-{i}", "controller", ip, ip))
            index += 1
        for i in range(1, topo.workers + extra_workers + 1):
            ip = net.address(index)
            nodes.append(Node(f"worker-{i}", "worker", ip, ip))
            index += 1
        if topo.controllers > 1:
            ip = str(net.subnet.broadcast_address - 1)
            nodes.append(Node("api-lb", "api_lb", ip, ip))
        return nodes

    def spec(self, ctx: ProviderContext, node: Node) -> nspawn.NodeSpec:
        net = self.network(ctx)
        return nspawn.NodeSpec(
            lab=ctx.lab.name,
            name=node.name,
            ip=node.node_ip,
            prefixlen=net.subnet.prefixlen,
            gateway=str(net.gateway),
            bridge=net.bridge,
            base=ctx.lab.dir / "nodes" / node.name,
        )

    def handle(self, ctx: ProviderContext, name: str) -> nspawn.NodeSpec:
        """A node to find, stop or remove: its name and directory are enough, so a lab that failed
        before it had a subnet is still found and removed."""
        return nspawn.NodeSpec(ctx.lab.name, name, "0.0.0.0", 32, "0.0.0.0", self.bridge(ctx), ctx.lab.dir / "nodes" / name)

    # --- preflight ------------------------------------------------------------
    def raise_inotify_limit(self, ctx: ProviderContext) -> None:
        """Every node's systemd, containerd and kubelet take inotify instances from the host's
        per-user limit (128 by default), which a few labs exhaust ("too many open files");
        kind's known-issues page gives the same advice."""
        knob = Path("/proc/sys/fs/inotify/max_user_instances")
        try:
            current = int(knob.read_text())
            if current < INOTIFY_INSTANCES:
                knob.write_text(f"{INOTIFY_INSTANCES}\n")
                ctx.ui.warn(f"raised fs.inotify.max_user_instances from {current} to {INOTIFY_INSTANCES} for the lab's nodes")
        except (OSError, ValueError):
            ctx.ui.warn("could not raise fs.inotify.max_user_instances: kubelets may fail with 'too many open files'")

    def preflight(self, ctx: ProviderContext) -> None:
        from labctl.doctor import failed_checks

        problems = failed_checks("local")
        if problems:
            first = problems[0]
            raise InfraError(f"host check '{first['name']}' failed: {first['detail']} — fix: {first['fix']}")

    # --- Provider protocol ----------------------------------------------------
    def provision(self, ctx: ProviderContext, extra_workers: int = 0) -> Inventory:
        self.preflight(ctx)
        self.raise_inotify_limit(ctx)
        bundle = bundle_root(ctx.config.kubernetes_version)
        net = self.claim_network(ctx)
        lower = shared_rootfs(ctx.config.kubernetes_version, bundle)
        public_key = ensure_ssh_key(ctx.lab)
        nodes = self.planned_nodes(ctx, extra_workers)
        ctx.lab.update_state(local={"bridge": net.bridge, "subnet": str(net.subnet), "nodes": [n.name for n in nodes]})
        hosts = {n.name: n.node_ip for n in nodes}
        specs = [self.spec(ctx, n) for n in nodes]
        with ctx.ui.status(f"booting {len(specs)} nodes on {net.bridge} ({net.subnet})"):
            for spec in specs:
                nspawn.mount_root(spec, lower)
                host_keys = nspawn.customise(spec, public_key, hosts)
                known_hosts.pin(ctx.lab.known_hosts_path, spec.ip, known_hosts.keys_from_files(host_keys))
                nspawn.start(spec, binds=[(bundle, BUNDLE_MOUNT, True)])
            for spec in specs:
                nspawn.wait_ssh(spec)
        inventory = Inventory(
            lab=ctx.lab.name,
            provider=self.name,
            nodes=nodes,
            vars={
                "ansible_ssh_private_key_file": str(ctx.lab.ssh_key_path),
                "artifacts_source": "mounted",
                "artifacts_mount": BUNDLE_MOUNT,
                "api_endpoint_host": nodes[-1].node_ip if ctx.config.topology.controllers > 1 else nodes[0].node_ip,
            },
        )
        inventory.write(ctx.lab.inventory_path)
        return inventory

    def destroy(self, ctx: ProviderContext) -> None:
        state = ctx.lab.read_state().get("local", {})
        names = list(state.get("nodes") or [])
        nodes_dir = ctx.lab.dir / "nodes"
        if nodes_dir.is_dir():
            names += [p.name for p in nodes_dir.iterdir() if p.is_dir() and p.name not in names]
        specs = [self.handle(ctx, name) for name in names]
        with ThreadPoolExecutor(max_workers=max(1, len(specs))) as pool:
            list(pool.map(nspawn.kill, specs))
        for spec in specs:
            # Node files are root-owned copies of the rootfs: remove them only once unmounted.
            if not nspawn.is_mounted(spec.root):
                shutil.rmtree(spec.base, ignore_errors=True)
        hostnet.remove_bridge(ctx.lab.name, self.bridge(ctx))

    def machines(self, ctx: ProviderContext) -> list[dict[str, Any]]:
        try:
            inventory = load_inventory(ctx.lab.inventory_path)
        except UsageError:
            return []
        found = []
        for node in inventory.nodes:
            pid = nspawn.read_pid(self.handle(ctx, node.name))
            found.append({"name": node.name, "role": node.role, "ip": node.node_ip, "state": "running" if pid else "stopped"})
        return found

    def add_worker(self, ctx: ProviderContext) -> Inventory:
        current = load_inventory(ctx.lab.inventory_path)
        workers = len(current.by_role("worker"))
        extra = workers + 1 - ctx.config.topology.workers
        return self.provision(ctx, extra_workers=extra)

    def sweep_state(self, ctx: ProviderContext) -> dict[str, Any]:
        return {}

    def describe_leftovers(self, ctx: ProviderContext) -> str:
        bridge = self.bridge(ctx)
        return f"bridge {bridge}" if hostnet.bridge_exists(bridge) else ""

    def remove_worker(self, ctx: ProviderContext, name: str) -> Inventory:
        """Power one worker off, delete its files, write the inventory without it (labctl.nodes drains it first)."""
        current = load_inventory(ctx.lab.inventory_path)
        node = current.node(name)
        if node.role != "worker":
            raise UsageError(f"{name} is a {node.role}, not a worker")
        spec = self.handle(ctx, node.name)
        nspawn.stop(spec)
        if nspawn.is_mounted(spec.root):
            raise InfraError(f"node {name} stopped but {spec.root} is still mounted: run `labctl down --lab {ctx.lab.name}`")
        shutil.rmtree(spec.base, ignore_errors=True)
        known_hosts.forget(ctx.lab.known_hosts_path, [node.ansible_host])
        current.nodes = [n for n in current.nodes if n.name != name]
        current.write(ctx.lab.inventory_path)
        local_state = dict(ctx.lab.read_state().get("local") or {})
        local_state["nodes"] = [n for n in local_state.get("nodes") or [] if n != name]
        ctx.lab.update_state(local=local_state)
        return current


PROVIDER = LocalProvider()


def _same(key: str, asked: str, kept: str) -> bool:
    """A range written with a netmask or a host-bit-free prefix names the same subnet."""
    if key == "subnet":
        return ipaddress.IPv4Network(asked) == ipaddress.IPv4Network(kept)
    return asked == kept
