"""The emulated OpenStack: the project's fake OpenStack API, in this process, with real machines behind its servers.

- Every ACTIVE server gets a machine at its port's fixed address; a deleted one loses it.
- The external network ("public") is the fabric's "public" range, so floating IPs come
  from it; an associated floating IP is mapped 1:1 onto its port's fixed address.
- The login user is the image's (`os_admin_user`, else Debian's `debian`); the key is the
  server's key pair, the user data the server's.
"""

import base64
import logging
import sys
from pathlib import Path
from typing import Any

import yaml
from fabric import Fabric
from machines import Instance, Machines

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "openstack"))

import fake_openstack_network
from fake_openstack import FakeOpenStack
from fake_openstack_compute import ComputeApi

USERNAME = "lab-operator"
PASSWORD = "emulated-cloud-password-0000"
CLOUD_NAME = "emulated"
DEFAULT_LOGIN = "debian"
log = logging.getLogger("emulated-openstack")


class OpenStackCloud:
    def __init__(self, fabric: Fabric, machines: Machines) -> None:
        self.fabric = fabric
        self.machines = machines
        self.user_data: dict[str, str] = {}
        self.booted: set[str] = set()
        self.mapped: dict[str, str] = {}  # floating address -> fixed address
        self.fake: FakeOpenStack | None = None

    def start(self, state_dir: Path) -> dict[str, str]:
        # Floating IPs come from the fabric's range, never from a real public one.
        fake_openstack_network.EXTERNAL_NETWORKS = (("public", str(self.fabric.public)),)
        create_server = ComputeApi.create_server
        user_data = self.user_data

        def keep_user_data(api: Any, request: Any) -> Any:
            status, body = create_server(api, request)
            spec = (request.body or {}).get("server") or {}
            if spec.get("user_data"):
                user_data[body["server"]["id"]] = base64.b64decode(spec["user_data"]).decode()
            return status, body

        ComputeApi.create_server = keep_user_data  # type: ignore[method-assign]
        ComputeApi.console_of = staticmethod(self.machines.console)  # type: ignore[assignment]
        self.fake = FakeOpenStack(USERNAME, PASSWORD)
        self.fake.start()
        clouds = state_dir / "clouds.yaml"
        auth = {"auth_url": self.fake.auth_url, "username": USERNAME, "password": PASSWORD, "project_name": "lab",
                "user_domain_name": "Default", "project_domain_name": "Default"}
        config = {"clouds": {CLOUD_NAME: {"auth": auth, "region_name": "RegionOne", "interface": "public", "identity_api_version": 3}}}
        clouds.write_text(yaml.safe_dump(config))
        clouds.chmod(0o600)
        return {"OS_CLIENT_CONFIG_FILE": str(clouds), "OS_CLOUD": CLOUD_NAME}

    def reconcile(self) -> None:
        assert self.fake is not None
        cloud = self.fake.cloud
        with cloud.lock:
            servers = {k: dict(v) for k, v in cloud.servers.items()}
            ports = [dict(p) for p in cloud.ports.values()]
            subnets = {k: dict(v) for k, v in cloud.subnets.items()}
            keypairs = {k: dict(v) for k, v in cloud.keypairs.items()}
            images = {k: dict(v) for k, v in cloud.images.items()}
            floating = {f["floating_ip_address"]: f.get("fixed_ip_address") for f in cloud.floating_ips.values()}
        for server_id, server in servers.items():
            if server.get("status") == "ACTIVE" and server_id not in self.booted:
                port = next((p for p in ports if p.get("device_id") == server_id and p.get("fixed_ips")), None)
                if port is not None:
                    self._boot(server, port, subnets, keypairs, images)
        gone = [s for s in self.booted if s not in servers]
        self.booted.difference_update(gone)
        self.machines.remove_many(gone)
        for server_id in gone:
            log.info("server %s: machine removed", server_id)
        for address, fixed in floating.items():
            if fixed and self.mapped.get(address) != fixed:
                if address in self.mapped:
                    self.fabric.unmap_public(address)
                self.fabric.map_public(address, fixed)
                self.mapped[address] = fixed
        for address in [a for a in self.mapped if not floating.get(a)]:
            self.fabric.unmap_public(address)
            del self.mapped[address]

    def _boot(self, server: dict[str, Any], port: dict[str, Any], subnets: dict[str, Any], keypairs: dict[str, Any],
              images: dict[str, Any]) -> None:
        fixed = port["fixed_ips"][0]
        subnet = subnets[fixed["subnet_id"]]
        image = images.get(str((server.get("image") or {}).get("id", "")), {})
        bridge, router, prefixlen = self.fabric.subnet_bridge(subnet["cidr"])
        key = keypairs.get(str(server.get("key_name") or ""), {})
        before = self.fabric.ports(bridge)
        self.machines.boot(
            Instance(
                instance_id=server["id"],
                private_ip=fixed["ip_address"],
                hostname=str(server.get("name") or server["id"]),
                public_key=str(key.get("public_key", "")),
                user_data=self.user_data.get(server["id"], ""),
                login_user=str(image.get("os_admin_user") or DEFAULT_LOGIN),
            ),
            bridge,
            router,
            prefixlen,
        )
        self.fabric.hairpin_new_port(bridge, before)
        self.booted.add(server["id"])
        log.info("server %s (%s): machine booted at %s", server["id"], server.get("name"), fixed["ip_address"])

    def teardown(self) -> None:
        self.machines.remove_many(list(self.booted))
        self.booted.clear()
        for address in list(self.mapped):
            self.fabric.unmap_public(address)
        self.mapped.clear()
        if self.fake is not None:
            self.fake.stop()
