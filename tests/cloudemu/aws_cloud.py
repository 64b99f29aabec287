"""The emulated AWS: moto's server, in this process, with real machines behind its instances.

- Every instance moto reports as running (run by hand, by a launch template or
  by an Auto Scaling group) gets a machine at its private address; a terminated
  or stopped one loses it.
- Public addresses (instances) and load balancer names are allocated from the
  fabric's private "public" range instead of moto's made-up internet addresses.
- A network load balancer forwards its listeners to its target group's targets.
- GetConsoleOutput returns the machine's real console.
"""

import base64
import ipaddress
import logging
from typing import Any

from fabric import Fabric
from forwarder import Forwarders
from machines import Instance, Machines

ACCOUNT = "123456789012"  # moto's default account
LOGIN_USER = "admin"  # the Debian AMIs' user
log = logging.getLogger("emulated-aws")


def _text(user_data: Any) -> str:
    if user_data is None:
        return ""
    if isinstance(user_data, list):
        user_data = user_data[0] if user_data else ""
    if hasattr(user_data, "decode") and not isinstance(user_data, bytes | str):
        return str(user_data.decode())
    if isinstance(user_data, bytes):
        user_data = user_data.decode()
    try:
        return base64.b64decode(user_data, validate=True).decode()
    except ValueError:
        return str(user_data)


class AwsCloud:
    def __init__(self, fabric: Fabric, machines: Machines, forwarders: Forwarders) -> None:
        self.fabric = fabric
        self.machines = machines
        self.forwarders = forwarders
        self.booted: dict[str, str | None] = {}  # instance id -> public address mapped for it
        self.subnet_of: dict[str, tuple[str, str]] = {}  # booted instance id -> (subnet id, its CIDR)
        self.listeners: dict[tuple[str, int], str] = {}  # (address, port) -> load balancer ARN
        self.skipped: set[str] = set()

    # --- the emulator's allocations ----------------------------------------------
    def patch(self) -> None:
        import moto.ec2.models.elastic_network_interfaces as eni
        from moto.core.types import Base64EncodedString
        from moto.ec2.responses.general import General
        from moto.elbv2.models import ELBv2Backend

        eni.random_public_ip = self.fabric.allocate_public  # type: ignore[attr-defined]
        create_load_balancer = ELBv2Backend.create_load_balancer
        fabric, machines = self.fabric, self.machines

        def create_with_address(backend: Any, *args: Any, **kwargs: Any) -> Any:
            balancer = create_load_balancer(backend, *args, **kwargs)
            # Its DNS name resolves nowhere here: the name handed out is the address itself.
            balancer.dns_name = fabric.allocate_public()
            return balancer

        def console_output(response: Any) -> Any:
            from moto.core.responses import ActionResult
            from moto.core.utils import utcnow

            instance = response.ec2_backend.get_instance(response._get_param("InstanceId"))
            text = machines.console(instance.id)
            return ActionResult({"InstanceId": instance.id, "Timestamp": utcnow(), "Output": Base64EncodedString.from_raw_string(text)})

        ELBv2Backend.create_load_balancer = create_with_address  # type: ignore[method-assign]
        General.get_console_output = console_output  # type: ignore[method-assign]

    # --- machines behind instances --------------------------------------------------
    def reconcile(self) -> None:
        from moto.ec2.models import ec2_backends
        from moto.elbv2.models import elbv2_backends

        seen: set[str] = set()
        for region in list(ec2_backends[ACCOUNT].keys()):
            backend = ec2_backends[ACCOUNT][region]
            for instance in list(backend.all_instances()):
                if instance.state == "running":
                    seen.add(instance.id)
                    if instance.id not in self.booted and instance.id not in self.skipped:
                        self._boot(backend, instance)
        self._remove([i for i in self.booted if i not in seen])
        self._forward([(ec2_backends[ACCOUNT][r], elbv2_backends[ACCOUNT][r]) for r in list(elbv2_backends[ACCOUNT].keys())])

    def _boot(self, backend: Any, instance: Any) -> None:
        image = backend.amis.get(instance.image_id)
        if image is None or not str(image.name).startswith("debian-"):
            log.warning("instance %s: image %s is not the emulated Debian image, no machine booted", instance.id, instance.image_id)
            self.skipped.add(instance.id)
            return
        key = backend.key_pairs.get(instance.key_name) if instance.key_name else None
        public_key = key.material_public if key else b""
        subnet = backend.get_subnet(instance.subnet_id)
        # One host bridge backs a range: two VPCs may each have a subnet with it on AWS, not here.
        sharing = [i for i, (subnet_id, cidr) in self.subnet_of.items() if cidr == subnet.cidr_block and subnet_id != subnet.id]
        if sharing:
            log.error("instance %s: its subnet %s has the range %s of another VPC's subnet (instance %s) and the emulated "
                      "cloud backs a range once; no machine booted", instance.id, subnet.id, subnet.cidr_block, sharing[0])
            self.skipped.add(instance.id)
            return
        bridge, router, prefixlen = self.fabric.subnet_bridge(subnet.cidr_block)
        private = instance.private_ip
        before = self.fabric.ports(bridge)
        self.machines.boot(
            Instance(
                instance_id=instance.id,
                private_ip=private,
                hostname="ip-" + private.replace(".", "-"),
                public_key=public_key.decode() if isinstance(public_key, bytes) else str(public_key),
                user_data=_text(instance.user_data),
                login_user=LOGIN_USER,
            ),
            bridge,
            router,
            prefixlen,
        )
        self.fabric.hairpin_new_port(bridge, before)
        public = instance.public_ip
        if public:
            self.fabric.map_public(public, private)
        self.booted[instance.id] = public
        self.subnet_of[instance.id] = (subnet.id, subnet.cidr_block)
        log.info("instance %s: machine booted at %s (public %s)", instance.id, private, public or "none")

    def _remove(self, instance_ids: list[str]) -> None:
        for instance_id in instance_ids:
            public = self.booted.pop(instance_id)
            self.subnet_of.pop(instance_id, None)
            if public:
                self.fabric.unmap_public(public)
        self.machines.remove_many(instance_ids)
        for instance_id in instance_ids:
            log.info("instance %s: machine removed", instance_id)

    def _forward(self, backends: list[tuple[Any, Any]]) -> None:
        wanted: dict[tuple[str, int], tuple[str, Any, Any]] = {}
        for ec2, elbv2 in backends:
            self._listeners_of(ec2, elbv2, wanted)
        for key in [k for k in self.listeners if k not in wanted]:
            self.forwarders.close(*key)
            del self.listeners[key]
        for (address, port), (arn, ec2, elbv2) in wanted.items():
            if (address, port) in self.listeners:
                continue
            self.fabric.add_listener_address(address)

            def targets(arn: str = arn, ec2: Any = ec2, elbv2: Any = elbv2) -> list[tuple[str, int]]:
                group = elbv2.target_groups.get(arn)
                found = []
                for target_id, target in list(group.targets.items()) if group else []:
                    try:
                        found.append((ec2.get_instance(target_id).private_ip, int(target.get("Port") or group.port)))
                    except Exception:  # noqa: BLE001 - a target whose instance is gone is no target
                        continue
                return found

            self.forwarders.listen(address, port, targets)
            self.listeners[(address, port)] = arn
            log.info("load balancer %s:%d forwards to target group %s", address, port, arn)

    def _listeners_of(self, ec2: Any, elbv2: Any, wanted: dict[tuple[str, int], tuple[str, Any, Any]]) -> None:
        for balancer in list(elbv2.load_balancers.values()):
            try:
                address = str(ipaddress.IPv4Address(balancer.dns_name))
            except ValueError:
                continue
            for listener in list(balancer.listeners.values()):
                groups = [a.data.get("TargetGroupArn") if hasattr(a, "data") else a.get("TargetGroupArn") for a in listener.default_actions]
                arn = next((g for g in groups if g), None)
                if arn:
                    wanted[(address, int(listener.port))] = (arn, ec2, elbv2)

    def teardown(self) -> None:
        self._remove(list(self.booted))
