"""Nova v2.1 for the fake cloud: versions, flavors, keypairs, limits, servers."""

import base64
import hashlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from fake_openstack_api import ApiError, NotModelled, Request, new_id

if TYPE_CHECKING:
    from fake_openstack import FakeOpenStack

Json = dict[str, Any]
PREFIX = "/compute/v2.1"
MAX_INSTANCES = 10


def nova_error(status: int, kind: str, message: str) -> Exception:
    return ApiError(status, {kind: {"code": status, "message": message}})


class ComputeApi:
    def __init__(self, fake: "FakeOpenStack") -> None:
        self.fake = fake
        self.cloud = fake.cloud

    def add_routes(self) -> None:
        r = self.fake.route
        r("GET", "/compute", self.versions)
        r("GET", PREFIX, self.version)
        r("GET", f"{PREFIX}/flavors/detail", self.list_flavors)
        r("GET", f"{PREFIX}/flavors/(?P<id>[^/]+)", self.get_flavor)
        r("GET", f"{PREFIX}/flavors/(?P<id>[^/]+)/os-extra_specs", self.flavor_extra_specs)
        r("GET", f"{PREFIX}/os-keypairs", self.list_keypairs)
        r("POST", f"{PREFIX}/os-keypairs", self.create_keypair)
        r("GET", f"{PREFIX}/os-keypairs/(?P<name>[^/]+)", self.get_keypair)
        r("DELETE", f"{PREFIX}/os-keypairs/(?P<name>[^/]+)", self.delete_keypair)
        r("GET", f"{PREFIX}/limits", self.limits)
        r("GET", f"{PREFIX}/servers/detail", self.list_servers)
        r("POST", f"{PREFIX}/servers", self.create_server)
        r("GET", f"{PREFIX}/servers/(?P<id>[^/]+)", self.get_server)
        r("DELETE", f"{PREFIX}/servers/(?P<id>[^/]+)", self.delete_server)
        r("GET", f"{PREFIX}/servers/(?P<id>[^/]+)/os-security-groups", self.server_security_groups)
        r("POST", f"{PREFIX}/servers/(?P<id>[^/]+)/action", self.server_action)

    def seed(self) -> None:
        for name, vcpus, ram, disk in (("m1.small", 1, 2048, 20), ("m1.medium", 2, 4096, 40), ("m1.large", 4, 8192, 80)):
            flavor_id = name.replace(".", "-")
            self.cloud.flavors[flavor_id] = {
                "id": flavor_id,
                "name": name,
                "vcpus": vcpus,
                "ram": ram,
                "disk": disk,
                "OS-FLV-EXT-DATA:ephemeral": 0,
                "swap": 0,
                "rxtx_factor": 1.0,
                "os-flavor-access:is_public": True,
                "OS-FLV-DISABLED:disabled": False,
                "description": None,
                "extra_specs": {},
                "links": [],
            }

    # --- versions --------------------------------------------------------------------
    def _version_doc(self) -> Json:
        return {
            "id": "v2.1",
            "status": "CURRENT",
            "version": "2.96",
            "min_version": "2.1",
            "updated": "2013-07-23T11:33:21Z",
            "links": [{"rel": "self", "href": f"{self.fake.base_url}{PREFIX}/"}],
        }

    def versions(self, request: Request) -> tuple[int, Any]:
        return 200, {"versions": [self._version_doc()]}

    def version(self, request: Request) -> tuple[int, Any]:
        return 200, {"version": self._version_doc()}

    # --- flavors -----------------------------------------------------------------------
    def list_flavors(self, request: Request) -> tuple[int, Any]:
        filters = request.filters({"is_public", "limit", "marker"})
        flavors = [] if "marker" in filters else list(self.cloud.flavors.values())
        return 200, {"flavors": flavors}

    def flavor_extra_specs(self, request: Request) -> tuple[int, Any]:
        if request.arg("id") not in self.cloud.flavors:
            raise nova_error(404, "itemNotFound", f"Flavor {request.arg('id')} could not be found.")
        return 200, {"extra_specs": {}}

    def get_flavor(self, request: Request) -> tuple[int, Any]:
        flavor = self.cloud.flavors.get(request.arg("id"))
        if flavor is None:
            raise nova_error(404, "itemNotFound", f"Flavor {request.arg('id')} could not be found.")
        return 200, {"flavor": flavor}

    # --- keypairs ------------------------------------------------------------------------
    def list_keypairs(self, request: Request) -> tuple[int, Any]:
        request.filters({"limit", "marker", "user_id"})
        return 200, {"keypairs": [{"keypair": self._keypair_summary(k)} for k in self.cloud.keypairs.values()]}

    def _keypair_summary(self, keypair: Json) -> Json:
        return {k: keypair[k] for k in ("name", "public_key", "fingerprint", "type")}

    def create_keypair(self, request: Request) -> tuple[int, Any]:
        spec = (request.body or {}).get("keypair") or {}
        name = spec.get("name", "")
        if not spec.get("public_key"):
            # labctl always uploads its own public key; generating one here would hand out a private key.

            raise NotModelled("keypair generation by the cloud")
        if name in self.cloud.keypairs:
            raise nova_error(409, "conflictingRequest", f"Key pair '{name}' already exists.")
        fingerprint = ":".join(f"{b:02x}" for b in hashlib.md5(spec["public_key"].encode()).digest())
        keypair = {
            "name": name,
            "public_key": spec["public_key"],
            "fingerprint": fingerprint,
            "type": spec.get("type", "ssh"),
            "user_id": self.cloud.user_id,
            "created_at": "2024-01-01T00:00:00.000000",
            "deleted": False,
            "id": len(self.cloud.keypairs) + 1,
        }
        self.cloud.keypairs[name] = keypair
        return 200, {"keypair": self._keypair_summary(keypair) | {"user_id": self.cloud.user_id}}

    def get_keypair(self, request: Request) -> tuple[int, Any]:
        keypair = self.cloud.keypairs.get(request.arg("name"))
        if keypair is None:
            raise nova_error(404, "itemNotFound", f"Keypair {request.arg('name')} not found for user {self.cloud.user_id}")
        return 200, {"keypair": keypair}

    def delete_keypair(self, request: Request) -> tuple[int, Any]:
        if self.cloud.keypairs.pop(request.arg("name"), None) is None:
            raise nova_error(404, "itemNotFound", f"Keypair {request.arg('name')} not found for user {self.cloud.user_id}")
        return 202, None

    # --- limits ---------------------------------------------------------------------------
    def limits(self, request: Request) -> tuple[int, Any]:
        request.filters({"reserved", "tenant_id"})
        servers = list(self.cloud.servers.values())
        flavors = [self.cloud.flavors[s["flavor"]["id"]] for s in servers]
        absolute = {
            "maxTotalInstances": MAX_INSTANCES,
            "totalInstancesUsed": len(servers),
            "maxTotalCores": 40,
            "totalCoresUsed": sum(f["vcpus"] for f in flavors),
            "maxTotalRAMSize": 81920,
            "totalRAMUsed": sum(f["ram"] for f in flavors),
            "maxServerMeta": 128,
            "maxImageMeta": 128,
            "maxPersonality": 5,
            "maxPersonalitySize": 10240,
            "maxTotalKeypairs": 100,
            "maxSecurityGroups": 10,
            "maxSecurityGroupRules": 20,
            "maxServerGroups": 10,
            "maxServerGroupMembers": 10,
            "maxTotalFloatingIps": 10,
            "totalFloatingIpsUsed": 0,
            "totalSecurityGroupsUsed": 0,
            "totalServerGroupsUsed": 0,
        }
        return 200, {"limits": {"absolute": absolute, "rate": []}}

    # --- servers ------------------------------------------------------------------------------
    def _server_view(self, server: Json) -> Json:
        """Addresses are computed from ports and floating IPs, as Nova's network info cache would show."""
        addresses: dict[str, list[Json]] = {}
        for port in self.cloud.ports.values():
            if port["device_id"] != server["id"]:
                continue
            network = self.cloud.networks[port["network_id"]]
            entries = addresses.setdefault(network["name"], [])
            for fixed in port["fixed_ips"]:
                entries.append(
                    {"version": 4, "addr": fixed["ip_address"], "OS-EXT-IPS:type": "fixed", "OS-EXT-IPS-MAC:mac_addr": port["mac_address"]}
                )
                for fip in self.cloud.floating_ips.values():
                    if fip["port_id"] == port["id"]:
                        entries.append(
                            {
                                "version": 4,
                                "addr": fip["floating_ip_address"],
                                "OS-EXT-IPS:type": "floating",
                                "OS-EXT-IPS-MAC:mac_addr": port["mac_address"],
                            }
                        )
        view = dict(server)
        view["addresses"] = addresses
        return view

    def list_servers(self, request: Request) -> tuple[int, Any]:
        import re

        filters = request.filters({"name", "limit", "marker", "all_tenants", "deleted", "status"})
        servers = [] if "marker" in filters else list(self.cloud.servers.values())
        if "name" in filters:
            # Nova's name filter is a regular expression, matched anywhere in the name.
            pattern = re.compile(filters["name"][0])
            servers = [s for s in servers if pattern.search(s["name"])]
        if "status" in filters:
            servers = [s for s in servers if s["status"] == filters["status"][0].upper()]
        return 200, {"servers": [self._server_view(s) for s in servers]}

    # A server's console log by server id; the plain fake boots nothing, so its consoles are empty.
    console_of: Callable[[str], str] = staticmethod(lambda _server_id: "")

    def server_action(self, request: Request) -> tuple[int, Any]:
        if request.arg("id") not in self.cloud.servers:
            raise nova_error(404, "itemNotFound", f"Instance {request.arg('id')} could not be found.")
        action = request.body or {}
        if "os-getConsoleOutput" not in action:
            raise nova_error(400, "badRequest", f"this cloud supports only os-getConsoleOutput, not {', '.join(action) or 'nothing'}")
        text = type(self).console_of(request.arg("id"))
        length = (action["os-getConsoleOutput"] or {}).get("length")
        if length not in (None, -1):
            text = "".join(text.splitlines(keepends=True)[-int(length):])
        return 200, {"output": text}

    def get_server(self, request: Request) -> tuple[int, Any]:
        server = self.cloud.servers.get(request.arg("id"))
        if server is None:
            raise nova_error(404, "itemNotFound", f"Instance {request.arg('id')} could not be found.")
        return 200, {"server": self._server_view(server)}

    def server_security_groups(self, request: Request) -> tuple[int, Any]:
        server = self.cloud.servers.get(request.arg("id"))
        if server is None:
            raise nova_error(404, "itemNotFound", f"Instance {request.arg('id')} could not be found.")
        groups: dict[str, Json] = {}
        for port in self.cloud.ports.values():
            if port["device_id"] == server["id"]:
                for group_id in port["security_groups"]:
                    group = self.cloud.security_groups[group_id]
                    groups[group_id] = {
                        "id": group_id,
                        "name": group["name"],
                        "description": group["description"],
                        "tenant_id": group["project_id"],
                        "rules": [],
                    }
        return 200, {"security_groups": list(groups.values())}

    def create_server(self, request: Request) -> tuple[int, Any]:
        spec = (request.body or {}).get("server") or {}
        flavor = self.cloud.flavors.get(str(spec.get("flavorRef", "")))
        if flavor is None:
            raise nova_error(400, "badRequest", f"Flavor {spec.get('flavorRef')} could not be found.")
        if spec.get("imageRef") not in self.cloud.images:
            raise nova_error(400, "badRequest", f"Image {spec.get('imageRef')} could not be found.")
        if spec.get("key_name") and spec["key_name"] not in self.cloud.keypairs:
            raise nova_error(400, "badRequest", f"Invalid key_name provided: {spec['key_name']}")
        if len(self.cloud.servers) >= MAX_INSTANCES:
            raise nova_error(
                403,
                "forbidden",
                f"Quota exceeded for instances: Requested 1, but already used {MAX_INSTANCES} of {MAX_INSTANCES} instances",
            )
        networks = spec.get("networks") or []
        if not networks or any(set(n) != {"port"} for n in networks):
            raise NotModelled("servers are only created on pre-made ports")
        server_id = new_id()
        for entry in networks:
            port = self.cloud.ports.get(entry["port"])
            if port is None:
                raise nova_error(400, "badRequest", f"Port id {entry['port']} could not be found.")
            if port["device_id"]:
                raise nova_error(409, "conflictingRequest", f"Port {port['id']} is still in use.")
        for entry in networks:
            port = self.cloud.ports[entry["port"]]
            port["device_id"] = server_id
            port["device_owner"] = "compute:nova"
            port["status"] = "ACTIVE"
        user_data = spec.get("user_data")
        if user_data:
            base64.b64decode(user_data, validate=True)
        server = {
            "id": server_id,
            "name": spec.get("name", ""),
            "status": "ACTIVE",
            "OS-EXT-STS:vm_state": "active",
            "OS-EXT-STS:task_state": None,
            "OS-EXT-STS:power_state": 1,
            "OS-EXT-AZ:availability_zone": "nova",
            "tenant_id": self.cloud.project_id,
            "user_id": self.cloud.user_id,
            "metadata": dict(spec.get("metadata") or {}),
            "key_name": spec.get("key_name"),
            "flavor": {
                "id": flavor["id"],
                "original_name": flavor["name"],
                "vcpus": flavor["vcpus"],
                "ram": flavor["ram"],
                "disk": flavor["disk"],
            },
            "image": {"id": spec["imageRef"], "links": []},
            "security_groups": [{"name": g["name"]} for g in spec.get("security_groups") or []],
            "created": "2024-01-01T00:00:00Z",
            "updated": "2024-01-01T00:00:00Z",
            "hostId": "fakehost",
            "accessIPv4": "",
            "accessIPv6": "",
            "config_drive": "",
            "progress": 0,
            "tags": [],
            "description": None,
            "locked": False,
            "os-extended-volumes:volumes_attached": [],
            "links": [],
            "user_data_present": bool(user_data),
        }
        self.cloud.servers[server_id] = server
        return 202, {
            "server": {
                "id": server_id,
                "links": [],
                "OS-DCF:diskConfig": "MANUAL",
                "security_groups": server["security_groups"],
                "adminPass": None,
            }
        }

    def delete_server(self, request: Request) -> tuple[int, Any]:
        server = self.cloud.servers.pop(request.arg("id"), None)
        if server is None:
            raise nova_error(404, "itemNotFound", f"Instance {request.arg('id')} could not be found.")
        # Ports made before the server outlive it (Nova only deletes ports it created itself).
        for port in self.cloud.ports.values():
            if port["device_id"] == server["id"]:
                port["device_id"] = ""
                port["device_owner"] = ""
                port["status"] = "DOWN"
        return 204, None
