"""The OpenStack provider: a lab on any OpenStack cloud, chosen through clouds.yaml.

Python checks everything that can be checked before creating anything (the
cloud and its credentials, image, flavor, external network, quota, the
operator's address) so bad input fails in one line; the playbooks
(openstack.cloud collection) create and delete; openstacksdk reads back what
exists to write the same inventory as every other provider.
"""

import dataclasses
import re
from collections.abc import Callable
from typing import Any

from labctl import known_hosts
from labctl.errors import InfraError, UsageError
from labctl.inventory import Inventory, Node, load_inventory
from labctl.providers import ProviderContext
from labctl.providers.console_keys import pin_from_console
from labctl.providers.exposure import refuse_whole_internet
from labctl.providers.openstack.access import ensure_key_pair, resolve_allow_from
from labctl.providers.openstack.cloud import CloudChoice, api_errors, auth_host, choose_cloud, connect
from labctl.providers.openstack.discover import FoundNode, describe, lab_nodes, lab_resources
from labctl.providers.openstack.lookup import CloudChoices, check_quota, resolve
from labctl.providers.openstack.names import LabNames, PlannedNode, check_subnet, marker, planned_nodes, prefix
from labctl.runner import RunResult, run_playbook

API_PORT = 6443
NODE_PORT_RANGE = [30000, 32767]


# cloud-init prints the host keys in its final stage, a little after SSH answers.
CONSOLE_KEYS_TIMEOUT_S = 600

class OpenstackProvider:
    name = "openstack"
    supports_offline = True

    # --- Provider protocol ----------------------------------------------------------
    def provision(self, ctx: ProviderContext) -> Inventory:
        cfg = ctx.config.openstack
        subnet = check_subnet(ctx.config)
        cloud = self._cloud(ctx, for_up=True)
        conn = connect(cloud)
        allow_from = resolve_allow_from(cfg.allow_from, auth_host(conn))
        refuse_whole_internet(allow_from, ctx.options.yes)
        choices = resolve(conn, cloud, cfg.image, cfg.flavor, cfg.external_network)
        with api_errors(cloud, "listing the lab's servers"):
            existing = {n.name for n in lab_nodes(conn, ctx.lab.name)}
        wanted = planned_nodes(ctx.config)
        missing = [n for n in wanted if n.name not in existing]
        check_quota(conn, cloud, choices, len(missing))
        if missing and not ctx.ui.confirm(
            f"create {len(missing)} server(s) of flavor {choices.flavor_name} from image {choices.image_name} on cloud '{cloud.name}'?"
        ):
            raise UsageError("not confirmed: nothing was created (pass --yes to skip the question)")
        public_key = ensure_key_pair(ctx.lab)
        # Recorded before the first resource exists: `down` must find the cloud even if `up` dies half-way.
        self._remember(ctx, cloud, choices)
        extravars = {
            **self._common_vars(ctx, cloud),
            "openstack_subnet_cidr": subnet,
            "openstack_allow_from": allow_from,
            "openstack_public_key_file": str(public_key),
            "openstack_lab_api_port": API_PORT,
            "openstack_lab_node_port_range": NODE_PORT_RANGE,
            **self._node_vars(ctx, choices, wanted),
        }
        ctx.ui.info(f"OpenStack lab {ctx.lab.name} on cloud '{cloud.name}': SSH, API and NodePorts open to {allow_from} only")
        self._run(ctx, cloud, "up-openstack.yml", f"create the lab on cloud '{cloud.name}'", extravars)
        # --offline: the nodes get every binary and image from the bundle, pushed over SSH.
        return self._write_inventory(ctx, cloud, choices, conn, "push" if ctx.options.offline else "upstream")

    def destroy(self, ctx: ProviderContext) -> None:
        saved = ctx.lab.read_state().get("openstack") or {}
        if not saved.get("touched"):
            ctx.ui.info("nothing was created on OpenStack for this lab")
            return
        cloud = self._cloud(ctx, for_up=False)
        conn = connect(cloud)
        with api_errors(cloud, "looking for the lab's resources"):
            doomed = lab_resources(conn, ctx.lab.name)
        if not describe(doomed):
            ctx.ui.info(f"nothing of lab {ctx.lab.name} is left on cloud '{cloud.name}'")
            return
        extravars = {**self._common_vars(ctx, cloud), "openstack_doomed": doomed}
        self._run(ctx, cloud, "down-openstack.yml", f"delete the lab on cloud '{cloud.name}'", extravars)
        with api_errors(cloud, "checking that nothing is left"):
            left = describe(lab_resources(conn, ctx.lab.name))
        if left:
            raise InfraError(
                f"lab {ctx.lab.name} still has resources on cloud '{cloud.name}' ({left}): run `labctl down --lab {ctx.lab.name}` again"
            )

    def machines(self, ctx: ProviderContext) -> list[dict[str, Any]]:
        saved = ctx.lab.read_state().get("openstack") or {}
        if not saved.get("touched"):
            return []
        cloud = self._cloud(ctx, for_up=False)
        conn = connect(cloud)
        with api_errors(cloud, "listing the lab's servers"):
            found = lab_nodes(conn, ctx.lab.name)
        return [
            {
                "name": n.name,
                "role": n.role,
                "ip": n.fixed_ip,
                "public_ip": n.floating_ip,
                "state": n.status.lower(),
                "server": n.server_name,
            }
            for n in found
        ]

    def add_worker(self, ctx: ProviderContext) -> Inventory:
        current = load_inventory(ctx.lab.inventory_path)
        saved = ctx.lab.read_state().get("openstack") or {}
        if not saved.get("choices"):
            raise UsageError(f"lab {ctx.lab.name} was not created on OpenStack by this labctl: run `labctl up openstack` first")
        choices = CloudChoices(**saved["choices"])
        cloud = self._cloud(ctx, for_up=False)
        conn = connect(cloud)
        taken = [int(m.group(1)) for n in current.by_role("worker") if (m := re.fullmatch(r"worker-(\d+)", n.name))]
        new = PlannedNode(f"worker-{max(taken, default=0) + 1}", "worker")
        check_quota(conn, cloud, choices, 1)
        extravars = {**self._common_vars(ctx, cloud), **self._node_vars(ctx, choices, [new])}
        self._run(ctx, cloud, "scale-openstack.yml", f"add {new.name} on cloud '{cloud.name}'", extravars)
        # The new worker installs from where the lab's last `up` said (a drill knows nothing of --offline).
        return self._write_inventory(ctx, cloud, choices, conn, str(current.vars.get("artifacts_source") or "upstream"))

    def sweep_state(self, ctx: ProviderContext) -> dict[str, Any]:
        cloud = choose_cloud(ctx.config.openstack.cloud)
        return {"openstack": {"cloud": cloud.name, "config_file": cloud.config_file, "touched": True}}

    def describe_leftovers(self, ctx: ProviderContext) -> str:
        cloud = self._cloud(ctx, for_up=False)
        with api_errors(cloud, "looking for the lab's resources"):
            return describe(lab_resources(connect(cloud), ctx.lab.name))

    def remove_worker(self, ctx: ProviderContext, name: str) -> Inventory:
        """Delete worker NAME's server, its floating IP and its port; write the inventory without it."""
        current = load_inventory(ctx.lab.inventory_path)
        node = current.node(name)
        if node.role != "worker":
            raise UsageError(f"{name} is a {node.role}, not a worker")
        cloud = self._cloud(ctx, for_up=False)
        conn = connect(cloud)
        server_id = str(node.extra.get("openstack_server_id", ""))
        with api_errors(cloud, f"looking for worker {name}'s resources"):
            found = lab_resources(conn, ctx.lab.name)
            ports = {str(p.id) for p in conn.network.ports(device_id=server_id)} if server_id else set()
        doomed = {kind: [] for kind in found}
        doomed["servers"] = [s for s in found["servers"] if s["id"] == server_id]
        doomed["floating_ips"] = [f for f in found["floating_ips"] if f["name"] == node.ansible_host]
        doomed["ports"] = [p for p in found["ports"] if p["id"] in ports]
        if describe(doomed):
            extravars = {**self._common_vars(ctx, cloud), "openstack_doomed": doomed}
            self._run(ctx, cloud, "down-openstack.yml", f"delete {name} on cloud '{cloud.name}'", extravars)
        current.nodes = [n for n in current.nodes if n.name != name]
        current.write(ctx.lab.inventory_path)
        known_hosts.forget(ctx.lab.known_hosts_path, [node.ansible_host])
        ctx.lab.update_state(nodes=[n.name for n in current.nodes])
        return current

    # --- helpers ----------------------------------------------------------------------
    def _cloud(self, ctx: ProviderContext, *, for_up: bool) -> CloudChoice:
        saved = ctx.lab.read_state().get("openstack") or {}
        if for_up:
            chosen = choose_cloud(ctx.config.openstack.cloud or saved.get("cloud", ""), saved.get("config_file"))
            if saved.get("touched") and saved.get("cloud") not in (None, chosen.name):
                # One lab, one cloud: otherwise `down` would only ever find one half of it.
                raise UsageError(
                    f"lab {ctx.lab.name} already lives on cloud '{saved['cloud']}': "
                    f"`labctl down --lab {ctx.lab.name}` first, or use another --lab"
                )
            return chosen
        if not saved.get("cloud"):
            raise UsageError(f"lab {ctx.lab.name} has no OpenStack cloud on record: run `labctl up openstack --lab {ctx.lab.name}` first")
        return choose_cloud(saved["cloud"], saved.get("config_file"))

    def _remember(self, ctx: ProviderContext, cloud: CloudChoice, choices: CloudChoices) -> None:
        ctx.lab.update_state(
            openstack={"cloud": cloud.name, "config_file": cloud.config_file, "touched": True, "choices": dataclasses.asdict(choices)}
        )

    def _common_vars(self, ctx: ProviderContext, cloud: CloudChoice) -> dict[str, Any]:
        names = LabNames(ctx.lab.name)
        return {
            "openstack_cloud": cloud.name,
            "openstack_lab": ctx.lab.name,
            "openstack_marker": marker(ctx.lab.name),
            "openstack_server_prefix": prefix(ctx.lab.name),
            "openstack_names": {
                "network": names.network,
                "subnet": names.subnet,
                "router": names.router,
                "security_group": names.security_group,
                "keypair": names.keypair,
            },
        }

    def _node_vars(self, ctx: ProviderContext, choices: CloudChoices, nodes: list[PlannedNode]) -> dict[str, Any]:
        names = LabNames(ctx.lab.name)
        network = ctx.config.network
        return {
            "openstack_nodes": [
                {"name": n.name, "role": n.role, "server": names.server(n.name), "port": names.port(n.name)} for n in nodes
            ],
            "openstack_image_id": choices.image_id,
            "openstack_flavor_id": choices.flavor_id,
            "openstack_external_network_id": choices.external_network_id,
            "openstack_nodes_address_pairs": [{"ip_address": network.pod_cidr}, {"ip_address": network.service_cidr}],
            # With --provision-only nothing needs SSH yet (and emulated clouds boot nothing).
            "openstack_nodes_wait_for_ssh": not ctx.options.provision_only,
        }

    def _run(self, ctx: ProviderContext, cloud: CloudChoice, playbook: str, title: str, extravars: dict[str, Any]) -> RunResult:
        with ctx.ui.playbook(title) as progress:
            items = ItemFailures(progress)
            result = run_playbook(
                playbook,
                logs_dir=ctx.lab.logs_dir,
                extravars=extravars,
                sink=items,
                verbose=ctx.verbose,
                env=cloud.ansible_env(),
            )
        if not result.succeeded:
            detail = failure_line(result, items.first)
            raise InfraError(
                f"{title} failed: {detail} — logs in {result.artifacts_dir}; `labctl down --lab {ctx.lab.name}` removes what was made"
            )
        ctx.ui.info(f"[green]✓[/] {title} ({result.seconds:.0f}s, {result.total_changed} changed)")
        return result

    def _write_inventory(
        self, ctx: ProviderContext, cloud: CloudChoice, choices: CloudChoices, conn: Any, artifacts_source: str
    ) -> Inventory:
        with api_errors(cloud, "reading back the lab's servers"):
            found = lab_nodes(conn, ctx.lab.name)
        unreachable = [n.name for n in found if not (n.fixed_ip and n.floating_ip)]
        if not found or unreachable:
            raise InfraError(
                f"lab {ctx.lab.name} on cloud '{cloud.name}' has servers without addresses ({', '.join(unreachable) or 'no servers'}): "
                f"run `labctl up openstack --lab {ctx.lab.name}` again, or `labctl down`"
            )
        inventory = build_inventory(ctx, cloud, choices, found)
        inventory.vars["artifacts_source"] = artifacts_source
        inventory.write(ctx.lab.inventory_path)
        if not ctx.options.provision_only:
            self._pin_host_keys(ctx, cloud, conn, inventory)
        return inventory

    def _pin_host_keys(self, ctx: ProviderContext, cloud: CloudChoice, conn: Any, inventory: Inventory) -> None:
        def console(node: Node) -> str:
            with api_errors(cloud, f"reading the console of {node.name}"):
                reply = conn.compute.get_server_console_output(str(node.extra.get("openstack_server_id", "")))
            return str((reply or {}).get("output") or "")

        with ctx.ui.status("reading the nodes' SSH host keys from their consoles"):
            pin_from_console(inventory, ctx.lab.known_hosts_path, console, CONSOLE_KEYS_TIMEOUT_S)


def build_inventory(ctx: ProviderContext, cloud: CloudChoice, choices: CloudChoices, found: list[FoundNode]) -> Inventory:
    extra_common: dict[str, Any] = {}
    if choices.ssh_user != "root":
        # The shared roles run as root, as on local nodes: cloud images log in as a sudo user.
        extra_common["ansible_become"] = True
    nodes = [
        Node(
            name=n.name,
            role=n.role,  # type: ignore[arg-type]
            ansible_host=n.floating_ip,
            node_ip=n.fixed_ip,
            ansible_user=choices.ssh_user,
            extra={**extra_common, "openstack_server": n.server_name, "openstack_server_id": n.server_id},
        )
        for n in found
    ]
    # Clients and kubelets reach the API at a floating IP (the load balancer's in HA, else the
    # first controller's): the operator cannot reach fixed IPs, and the API certificate names both.
    front = next((n for n in found if n.role == "api_lb"), None) or next((n for n in found if n.role == "controller"), None)
    if front is None:
        raise InfraError(f"lab {ctx.lab.name} has no controller server: run `labctl up openstack --lab {ctx.lab.name}` again")
    inventory_vars: dict[str, Any] = {
        "ansible_ssh_private_key_file": str(ctx.lab.ssh_key_path),
        "api_endpoint_host": front.floating_ip,
        "openstack_cloud": cloud.name,
    }
    return Inventory(lab=ctx.lab.name, provider="openstack", nodes=nodes, vars=inventory_vars)


URL_CLUTTER = re.compile(r"\b(?:Client|Server) Error for url: \S+,?\s*")


class ItemFailures:
    """Keeps the first failed loop item's message: for a loop, the task itself only says "One or more items failed"."""

    def __init__(self, sink: Callable[[dict[str, Any]], None]) -> None:
        self.sink = sink
        self.first: str | None = None

    def __call__(self, event: dict[str, Any]) -> None:
        if event.get("event") == "runner_item_on_failed" and self.first is None:
            result = (event.get("event_data") or {}).get("res") or {}
            message = result.get("msg") or result.get("module_stderr") or ""
            self.first = " ".join(str(message).split())[:400] or None
        self.sink(event)


def failure_line(result: RunResult, item_message: str | None = None) -> str:
    """The failing task and the cloud's own words, without the URL noise of SDK exceptions."""
    if not result.failures:
        return f"ansible exited {result.rc} ({result.status})"
    failure = result.failures[0]
    message = item_message or failure.message
    return f"task '{failure.task}': {URL_CLUTTER.sub('', message).strip()}"


PROVIDER = OpenstackProvider()
