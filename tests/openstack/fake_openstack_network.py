"""Neutron v2.0 for the fake cloud, with the "in use" refusals that make teardown order matter."""

import ipaddress
import random
from typing import TYPE_CHECKING, Any

from fake_openstack_api import ApiError, NotModelled, Request, new_id

if TYPE_CHECKING:
    from fake_openstack import FakeOpenStack

Json = dict[str, Any]
PREFIX = "/network/v2.0"
EXTERNAL_NETWORKS = (("public", "198.51.100.0/24"), ("provider-ext", "192.0.2.0/24"))
LIST_PARAMS = {"fields", "limit", "marker", "sort_key", "sort_dir"}
# The filters Neutron implements that labctl (and the collection on its behalf) uses, per resource.
FILTERS = {
    "networks": {"name", "description", "id", "router:external", "project_id", "tenant_id"},
    "subnets": {"name", "description", "id", "network_id", "project_id", "tenant_id"},
    "routers": {"name", "description", "id", "project_id", "tenant_id"},
    "ports": {"name", "description", "id", "device_id", "device_owner", "network_id", "project_id", "tenant_id"},
    "security-groups": {"name", "description", "id", "project_id", "tenant_id"},
    "floatingips": {"description", "id", "port_id", "floating_network_id", "floating_ip_address", "project_id", "tenant_id"},
    "security-group-rules": {"security_group_id", "id"},
}
COLLECTION_KEY = {
    "networks": "network",
    "subnets": "subnet",
    "routers": "router",
    "ports": "port",
    "security-groups": "security_group",
    "floatingips": "floatingip",
    "security-group-rules": "security_group_rule",
}


def neutron_error(status: int, kind: str, message: str) -> Exception:
    return ApiError(status, {"NeutronError": {"type": kind, "message": message, "detail": ""}})


class NetworkApi:
    def __init__(self, fake: "FakeOpenStack") -> None:
        self.fake = fake
        self.cloud = fake.cloud
        self.rng = random.Random(7)

    def add_routes(self) -> None:
        r = self.fake.route
        r("GET", "/network", self.versions)
        for collection in COLLECTION_KEY:
            r("GET", f"{PREFIX}/{collection}", self._lister(collection))
            r("GET", f"{PREFIX}/{collection}/(?P<id>[^/]+)", self._getter(collection))
        r("POST", f"{PREFIX}/networks", self.create_network)
        r("PUT", f"{PREFIX}/networks/(?P<id>[^/]+)", self.update_network)
        r("DELETE", f"{PREFIX}/networks/(?P<id>[^/]+)", self.delete_network)
        r("POST", f"{PREFIX}/subnets", self.create_subnet)
        r("DELETE", f"{PREFIX}/subnets/(?P<id>[^/]+)", self.delete_subnet)
        r("POST", f"{PREFIX}/routers", self.create_router)
        r("PUT", f"{PREFIX}/routers/(?P<id>[^/]+)", self.update_router)
        r("DELETE", f"{PREFIX}/routers/(?P<id>[^/]+)", self.delete_router)
        r("PUT", f"{PREFIX}/routers/(?P<id>[^/]+)/add_router_interface", self.add_interface)
        r("PUT", f"{PREFIX}/routers/(?P<id>[^/]+)/remove_router_interface", self.remove_interface)
        r("POST", f"{PREFIX}/ports", self.create_port)
        r("DELETE", f"{PREFIX}/ports/(?P<id>[^/]+)", self.delete_port)
        r("POST", f"{PREFIX}/security-groups", self.create_security_group)
        r("DELETE", f"{PREFIX}/security-groups/(?P<id>[^/]+)", self.delete_security_group)
        r("POST", f"{PREFIX}/security-group-rules", self.create_rule)
        r("DELETE", f"{PREFIX}/security-group-rules/(?P<id>[^/]+)", self.delete_rule)
        r("POST", f"{PREFIX}/floatingips", self.create_floating_ip)
        r("DELETE", f"{PREFIX}/floatingips/(?P<id>[^/]+)", self.delete_floating_ip)

    def seed(self) -> None:
        for name, cidr in EXTERNAL_NETWORKS:
            network = self._new_network({"name": name, "router:external": True, "shared": True})
            self._new_subnet({"name": f"{name}-subnet", "network_id": network["id"], "cidr": cidr})
        self._new_security_group({"name": "default", "description": "Default security group"})

    def versions(self, request: Request) -> tuple[int, Any]:
        return 200, {
            "versions": [{"id": "v2.0", "status": "CURRENT", "links": [{"rel": "self", "href": f"{self.fake.base_url}{PREFIX}/"}]}]
        }

    # --- generic reads ------------------------------------------------------------------
    def _store(self, collection: str) -> dict[str, Json]:
        c = self.cloud
        return {
            "networks": c.networks,
            "subnets": c.subnets,
            "routers": c.routers,
            "ports": c.ports,
            "security-groups": c.security_groups,
            "floatingips": c.floating_ips,
            "security-group-rules": self._rules(),
        }[collection]

    def _rules(self) -> dict[str, Json]:
        return {rule["id"]: rule for group in self.cloud.security_groups.values() for rule in group["security_group_rules"]}

    def _lister(self, collection: str) -> Any:
        def handler(request: Request) -> tuple[int, Any]:
            filters = request.filters(FILTERS[collection] | LIST_PARAMS)
            items = [] if "marker" in filters else list(self._store(collection).values())
            for key, values in filters.items():
                if key in LIST_PARAMS:
                    continue
                wanted = {v.lower() for v in values} if key == "router:external" else set(values)
                items = [i for i in items if self._filter_value(i, key) in wanted]
            return 200, {collection.replace("-", "_"): items}

        return handler

    @staticmethod
    def _filter_value(item: Json, key: str) -> str:
        value = item.get(key)
        if isinstance(value, bool):
            return str(value).lower()
        return "" if value is None else str(value)

    def _getter(self, collection: str) -> Any:
        def handler(request: Request) -> tuple[int, Any]:
            return 200, {COLLECTION_KEY[collection]: self._get(collection, request.arg("id"))}

        return handler

    def _get(self, collection: str, item_id: str) -> Json:
        item = self._store(collection).get(item_id)
        if item is None:
            kind = COLLECTION_KEY[collection].title().replace("_", "")
            raise neutron_error(404, f"{kind}NotFound", f"{kind} {item_id} could not be found.")
        return item

    def _common(self, spec: Json) -> Json:
        return {
            "id": new_id(),
            "name": spec.get("name", ""),
            "description": spec.get("description", ""),
            "project_id": self.cloud.project_id,
            "tenant_id": self.cloud.project_id,
            "tags": [],
            "revision_number": 1,
            "created_at": "2024-01-01T00:00:00Z",
            "updated_at": "2024-01-01T00:00:00Z",
        }

    @staticmethod
    def _body(request: Request, key: str) -> Json:
        body = (request.body or {}).get(key)
        if not isinstance(body, dict):
            raise neutron_error(400, "BadRequest", f"Resource body required: {key}")
        return body

    # --- networks and subnets ------------------------------------------------------------
    def _new_network(self, spec: Json) -> Json:
        network = self._common(spec) | {
            "status": "ACTIVE",
            "admin_state_up": spec.get("admin_state_up", True),
            "subnets": [],
            "router:external": bool(spec.get("router:external", False)),
            "shared": bool(spec.get("shared", False)),
            "mtu": 1450,
            "port_security_enabled": spec.get("port_security_enabled", True),
            "availability_zones": ["nova"],
            "availability_zone_hints": [],
            "ipv4_address_scope": None,
            "ipv6_address_scope": None,
            "is_default": False,
            "l2_adjacency": True,
        }
        self.cloud.networks[network["id"]] = network
        return network

    def create_network(self, request: Request) -> tuple[int, Any]:
        spec = self._body(request, "network")
        return 201, {"network": self._new_network(spec)}

    def update_network(self, request: Request) -> tuple[int, Any]:
        network = self._get("networks", request.arg("id"))
        for key in ("name", "description", "admin_state_up"):
            if key in self._body(request, "network"):
                network[key] = request.body["network"][key]
        return 200, {"network": network}

    def _ports_on(self, network_id: str) -> list[Json]:
        return [p for p in self.cloud.ports.values() if p["network_id"] == network_id and p["device_owner"] != "network:dhcp"]

    def delete_network(self, request: Request) -> tuple[int, Any]:
        network = self._get("networks", request.arg("id"))
        if self._ports_on(network["id"]):
            raise neutron_error(
                409,
                "NetworkInUse",
                f"Unable to complete operation on network {network['id']}. There are one or more ports still in use on the network.",
            )
        for subnet_id in network["subnets"]:
            self.cloud.subnets.pop(subnet_id, None)
        del self.cloud.networks[network["id"]]
        return 204, None

    def _new_subnet(self, spec: Json) -> Json:
        network = self.cloud.networks.get(spec.get("network_id", ""))
        if network is None:
            raise neutron_error(404, "NetworkNotFound", f"Network {spec.get('network_id')} could not be found.")
        try:
            net = ipaddress.ip_network(spec.get("cidr", ""))
        except ValueError:
            raise neutron_error(400, "InvalidInput", f"Invalid input for cidr: {spec.get('cidr')!r}") from None
        gateway = spec.get("gateway_ip", str(net.network_address + 1))
        subnet = self._common(spec) | {
            "network_id": network["id"],
            "cidr": str(net),
            "ip_version": net.version,
            "gateway_ip": gateway,
            "enable_dhcp": spec.get("enable_dhcp", True),
            "dns_nameservers": spec.get("dns_nameservers", []),
            "host_routes": [],
            "allocation_pools": [{"start": str(net.network_address + 2), "end": str(net.broadcast_address - 1)}],
            "ipv6_address_mode": None,
            "ipv6_ra_mode": None,
            "subnetpool_id": None,
            "segment_id": None,
            "service_types": [],
        }
        self.cloud.subnets[subnet["id"]] = subnet
        network["subnets"].append(subnet["id"])
        return subnet

    def create_subnet(self, request: Request) -> tuple[int, Any]:
        return 201, {"subnet": self._new_subnet(self._body(request, "subnet"))}

    def _ports_in_subnet(self, subnet_id: str) -> list[Json]:
        return [
            p
            for p in self.cloud.ports.values()
            if p["device_owner"] != "network:dhcp" and any(f["subnet_id"] == subnet_id for f in p["fixed_ips"])
        ]

    def delete_subnet(self, request: Request) -> tuple[int, Any]:
        subnet = self._get("subnets", request.arg("id"))
        if self._ports_in_subnet(subnet["id"]):
            raise neutron_error(
                409,
                "SubnetInUse",
                f"Unable to complete operation on subnet {subnet['id']}: One or more ports have an IP allocation from this subnet.",
            )
        del self.cloud.subnets[subnet["id"]]
        self.cloud.networks[subnet["network_id"]]["subnets"].remove(subnet["id"])
        return 204, None

    def _allocate(self, subnet: Json, wanted: str | None = None, *, gateway: bool = False) -> str:
        used = {f["ip_address"] for p in self.cloud.ports.values() for f in p["fixed_ips"] if f["subnet_id"] == subnet["id"]}
        used |= {f["floating_ip_address"] for f in self.cloud.floating_ips.values()}
        if not gateway:
            # Only a router interface may take the gateway address.
            used.add(subnet["gateway_ip"])
        if wanted is not None:
            if wanted in used:
                raise neutron_error(409, "IpAddressAlreadyAllocated", f"IP address {wanted} already allocated in subnet {subnet['id']}")
            return wanted
        pool = subnet["allocation_pools"][0]
        start, end = int(ipaddress.ip_address(pool["start"])), int(ipaddress.ip_address(pool["end"]))
        for value in range(start, end + 1):
            address = str(ipaddress.ip_address(value))
            if address not in used:
                return address
        raise neutron_error(409, "IpAddressGenerationFailure", f"No more IP addresses available on network {subnet['network_id']}.")

    # --- ports -------------------------------------------------------------------------
    def _new_port(self, spec: Json) -> Json:
        network = self.cloud.networks.get(spec.get("network_id", ""))
        if network is None:
            raise neutron_error(404, "NetworkNotFound", f"Network {spec.get('network_id')} could not be found.")
        requested = spec.get("fixed_ips")
        if requested is None:
            requested = [{"subnet_id": network["subnets"][0]}] if network["subnets"] else []
        fixed_ips = []
        for wanted in requested:
            subnet = self._get("subnets", wanted["subnet_id"])
            is_gateway = spec.get("device_owner") == "network:router_interface"
            fixed_ips.append(
                {"subnet_id": subnet["id"], "ip_address": self._allocate(subnet, wanted.get("ip_address"), gateway=is_gateway)}
            )
        groups = spec.get("security_groups")
        if groups is None:
            groups = [g["id"] for g in self.cloud.security_groups.values() if g["name"] == "default"]
        for group_id in groups:
            self._get("security-groups", group_id)
        port = self._common(spec) | {
            "network_id": network["id"],
            "device_id": spec.get("device_id", ""),
            "device_owner": spec.get("device_owner", ""),
            "fixed_ips": fixed_ips,
            "mac_address": "fa:16:3e:" + ":".join(f"{self.rng.randrange(256):02x}" for _ in range(3)),
            "security_groups": list(groups),
            "allowed_address_pairs": list(spec.get("allowed_address_pairs") or []),
            "admin_state_up": spec.get("admin_state_up", True),
            "port_security_enabled": spec.get("port_security_enabled", True),
            "status": "DOWN",
            "binding:vnic_type": "normal",
            "extra_dhcp_opts": [],
            "dns_name": "",
        }
        self.cloud.ports[port["id"]] = port
        return port

    def create_port(self, request: Request) -> tuple[int, Any]:
        return 201, {"port": self._new_port(self._body(request, "port"))}

    def delete_port(self, request: Request) -> tuple[int, Any]:
        port = self._get("ports", request.arg("id"))
        if port["device_owner"] in ("network:router_interface", "network:router_gateway"):
            raise neutron_error(
                409, "PortInUse", f"Port {port['id']} cannot be deleted directly via the port API: has device owner {port['device_owner']}."
            )
        for fip in self.cloud.floating_ips.values():
            if fip["port_id"] == port["id"]:
                fip.update(port_id=None, fixed_ip_address=None, router_id=None, status="DOWN")
        del self.cloud.ports[port["id"]]
        return 204, None

    # --- routers ---------------------------------------------------------------------------
    def _gateway(self, info: Json | None, router_id: str) -> Json | None:
        if not info or not info.get("network_id"):
            return None
        network = self._get("networks", info["network_id"])
        if not network["router:external"]:
            raise neutron_error(400, "BadRequest", f"Bad router request: Network {network['id']} is not an external network.")
        subnet = self.cloud.subnets[network["subnets"][0]]
        port = self._new_port(
            {"network_id": network["id"], "device_owner": "network:router_gateway", "device_id": router_id, "security_groups": []}
        )
        return {
            "network_id": network["id"],
            "enable_snat": info.get("enable_snat", True),
            "external_fixed_ips": [{"subnet_id": subnet["id"], "ip_address": port["fixed_ips"][0]["ip_address"]}],
        }

    def create_router(self, request: Request) -> tuple[int, Any]:
        spec = self._body(request, "router")
        router = self._common(spec) | {
            "status": "ACTIVE",
            "admin_state_up": spec.get("admin_state_up", True),
            "routes": [],
            "distributed": False,
            "ha": False,
            "availability_zones": ["nova"],
            "availability_zone_hints": [],
            "flavor_id": None,
        }
        router["external_gateway_info"] = self._gateway(spec.get("external_gateway_info"), router["id"])
        self.cloud.routers[router["id"]] = router
        return 201, {"router": router}

    def update_router(self, request: Request) -> tuple[int, Any]:
        router = self._get("routers", request.arg("id"))
        spec = self._body(request, "router")
        for key in ("name", "description", "admin_state_up"):
            if key in spec:
                router[key] = spec[key]
        if "external_gateway_info" in spec:
            wanted = spec["external_gateway_info"] or {}
            current = router["external_gateway_info"] or {}
            if wanted.get("network_id") != current.get("network_id"):
                raise NotModelled("changing a router's gateway")
            if "enable_snat" in wanted:
                current["enable_snat"] = wanted["enable_snat"]
        return 200, {"router": router}

    def _interfaces(self, router_id: str) -> list[Json]:
        return [p for p in self.cloud.ports.values() if p["device_id"] == router_id and p["device_owner"] == "network:router_interface"]

    def delete_router(self, request: Request) -> tuple[int, Any]:
        router = self._get("routers", request.arg("id"))
        if self._interfaces(router["id"]):
            raise neutron_error(409, "RouterInUse", f"Router {router['id']} still has ports")
        if any(f["router_id"] == router["id"] for f in self.cloud.floating_ips.values()):
            raise neutron_error(409, "RouterExternalGatewayInUseByFloatingIp", f"Gateway of router {router['id']} is used by floating IPs")
        for port in list(self.cloud.ports.values()):
            if port["device_id"] == router["id"]:
                del self.cloud.ports[port["id"]]
        del self.cloud.routers[router["id"]]
        return 204, None

    def add_interface(self, request: Request) -> tuple[int, Any]:
        router = self._get("routers", request.arg("id"))
        body = request.body or {}
        if set(body) != {"subnet_id"}:
            raise NotModelled("router interfaces by port")
        subnet = self._get("subnets", body["subnet_id"])
        for port in self._interfaces(router["id"]):
            if any(f["subnet_id"] == subnet["id"] for f in port["fixed_ips"]):
                raise neutron_error(400, "BadRequest", f"Router already has a port on subnet {subnet['id']}")
        port = self._new_port(
            {
                "network_id": subnet["network_id"],
                "fixed_ips": [{"subnet_id": subnet["id"], "ip_address": subnet["gateway_ip"]}],
                "device_owner": "network:router_interface",
                "device_id": router["id"],
                "security_groups": [],
            }
        )
        port["status"] = "ACTIVE"
        return 200, {
            "id": router["id"],
            "subnet_id": subnet["id"],
            "subnet_ids": [subnet["id"]],
            "port_id": port["id"],
            "network_id": subnet["network_id"],
            "tenant_id": router["tenant_id"],
            "project_id": router["project_id"],
        }

    def remove_interface(self, request: Request) -> tuple[int, Any]:
        router = self._get("routers", request.arg("id"))
        body = request.body or {}
        matches = [
            p
            for p in self._interfaces(router["id"])
            if p["id"] == body.get("port_id") or any(f["subnet_id"] == body.get("subnet_id") for f in p["fixed_ips"])
        ]
        if not matches:
            raise neutron_error(
                404, "RouterInterfaceNotFound", f"Router {router['id']} does not have an interface with id {body.get('port_id')}"
            )
        port = matches[0]
        subnet_id = port["fixed_ips"][0]["subnet_id"]
        in_use = [
            f
            for f in self.cloud.floating_ips.values()
            if f["router_id"] == router["id"]
            and f["port_id"]
            and any(x["subnet_id"] == subnet_id for x in self.cloud.ports[f["port_id"]]["fixed_ips"])
        ]
        if in_use:
            raise neutron_error(
                409,
                "RouterInterfaceInUseByFloatingIP",
                f"Router interface for subnet {subnet_id} on router {router['id']} cannot be deleted, "
                "as it is required by one or more floating IPs.",
            )
        del self.cloud.ports[port["id"]]
        return 200, {
            "id": router["id"],
            "subnet_id": subnet_id,
            "subnet_ids": [subnet_id],
            "port_id": port["id"],
            "network_id": port["network_id"],
            "tenant_id": router["tenant_id"],
            "project_id": router["project_id"],
        }

    # --- security groups --------------------------------------------------------------------
    def _new_security_group(self, spec: Json) -> Json:
        group = self._common(spec) | {"stateful": spec.get("stateful", True), "shared": False, "security_group_rules": []}
        self.cloud.security_groups[group["id"]] = group
        # Like Neutron: a new group lets everything out.
        for ethertype in ("IPv4", "IPv6"):
            self._new_rule({"security_group_id": group["id"], "direction": "egress", "ethertype": ethertype})
        return group

    def create_security_group(self, request: Request) -> tuple[int, Any]:
        return 201, {"security_group": self._new_security_group(self._body(request, "security_group"))}

    def delete_security_group(self, request: Request) -> tuple[int, Any]:
        group = self._get("security-groups", request.arg("id"))
        users = [p["id"] for p in self.cloud.ports.values() if group["id"] in p["security_groups"]]
        if users:
            raise neutron_error(409, "SecurityGroupInUse", f"Security Group {group['id']} in use.")
        del self.cloud.security_groups[group["id"]]
        return 204, None

    def _new_rule(self, spec: Json) -> Json:
        group = self._get("security-groups", spec.get("security_group_id", ""))
        if spec.get("remote_group_id"):
            self._get("security-groups", spec["remote_group_id"])
        rule = {
            "id": new_id(),
            "security_group_id": group["id"],
            "direction": spec.get("direction", "ingress"),
            "ethertype": spec.get("ethertype", "IPv4"),
            "protocol": spec.get("protocol"),
            "port_range_min": spec.get("port_range_min"),
            "port_range_max": spec.get("port_range_max"),
            "remote_ip_prefix": spec.get("remote_ip_prefix"),
            "remote_group_id": spec.get("remote_group_id"),
            "remote_address_group_id": None,
            "description": spec.get("description", ""),
            "project_id": self.cloud.project_id,
            "tenant_id": self.cloud.project_id,
            "normalized_cidr": spec.get("remote_ip_prefix"),
            "belongs_to_default_sg": False,
            "tags": [],
            "revision_number": 0,
            "created_at": "2024-01-01T00:00:00Z",
            "updated_at": "2024-01-01T00:00:00Z",
        }
        for existing in group["security_group_rules"]:
            if all(
                existing[k] == rule[k]
                for k in ("direction", "ethertype", "protocol", "port_range_min", "port_range_max", "remote_ip_prefix", "remote_group_id")
            ):
                raise neutron_error(409, "SecurityGroupRuleExists", f"Security group rule already exists. Rule id is {existing['id']}.")
        group["security_group_rules"].append(rule)
        return rule

    def create_rule(self, request: Request) -> tuple[int, Any]:
        bulk = (request.body or {}).get("security_group_rules")
        if isinstance(bulk, list):
            # Neutron's bulk form: all rules or none.
            group_rules = {g["id"]: list(g["security_group_rules"]) for g in self.cloud.security_groups.values()}
            try:
                return 201, {"security_group_rules": [self._new_rule(spec) for spec in bulk]}
            except ApiError:
                for group_id, rules in group_rules.items():
                    self.cloud.security_groups[group_id]["security_group_rules"] = rules
                raise
        return 201, {"security_group_rule": self._new_rule(self._body(request, "security_group_rule"))}

    def delete_rule(self, request: Request) -> tuple[int, Any]:
        rule = self._get("security-group-rules", request.arg("id"))
        group = self.cloud.security_groups[rule["security_group_id"]]
        group["security_group_rules"] = [r for r in group["security_group_rules"] if r["id"] != rule["id"]]
        return 204, None

    # --- floating IPs ---------------------------------------------------------------------------
    def _router_for(self, port: Json, external_network_id: str) -> str:
        """The router that joins the port's subnet to the external network, as Neutron requires for a floating IP."""
        subnet_ids = {f["subnet_id"] for f in port["fixed_ips"]}
        for router in self.cloud.routers.values():
            gateway = router["external_gateway_info"] or {}
            if gateway.get("network_id") != external_network_id:
                continue
            for interface in self._interfaces(router["id"]):
                if subnet_ids & {f["subnet_id"] for f in interface["fixed_ips"]}:
                    return router["id"]
        raise neutron_error(
            404,
            "ExternalGatewayForFloatingIPNotFound",
            f"External network {external_network_id} is not reachable from subnet {sorted(subnet_ids)}. "
            f"Therefore, cannot associate Port {port['id']} with a Floating IP.",
        )

    def create_floating_ip(self, request: Request) -> tuple[int, Any]:
        spec = self._body(request, "floatingip")
        network = self._get("networks", spec.get("floating_network_id", ""))
        if not network["router:external"]:
            raise neutron_error(400, "BadRequest", f"Network {network['id']} is not a valid external network")
        fip = self._common(spec) | {
            "floating_network_id": network["id"],
            "port_id": None,
            "fixed_ip_address": None,
            "router_id": None,
            "status": "DOWN",
            "port_details": None,
            "port_forwardings": [],
            "dns_domain": "",
            "dns_name": "",
            "qos_policy_id": None,
        }
        fip.pop("name")
        if spec.get("port_id"):
            port = self._get("ports", spec["port_id"])
            fip.update(
                port_id=port["id"],
                fixed_ip_address=port["fixed_ips"][0]["ip_address"],
                router_id=self._router_for(port, network["id"]),
                status="ACTIVE",
            )
        fip["floating_ip_address"] = self._allocate(self.cloud.subnets[network["subnets"][0]])
        self.cloud.floating_ips[fip["id"]] = fip
        return 201, {"floatingip": fip}

    def delete_floating_ip(self, request: Request) -> tuple[int, Any]:
        fip = self._get("floatingips", request.arg("id"))
        del self.cloud.floating_ips[fip["id"]]
        return 204, None
