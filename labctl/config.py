"""A lab's configuration (labctl.yaml): load, validate, merge CLI overrides.

Every field is validated up front so a typo fails before anything is built,
with one line naming the field.
"""

import ipaddress
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from labctl.errors import UsageError
from labctl.probe import DEFAULT_PROBE_INTERVAL_S, PROBE_INTERVAL_MAX_S, PROBE_INTERVAL_MIN_S

PROVIDERS = ("local", "aws", "openstack")
DEFAULT_KUBERNETES_VERSION = "v1.36.3"


class Strict(BaseModel):
    # strict: "3" is not an integer and true is not a port, as a user reading the file would expect.
    model_config = ConfigDict(extra="forbid", validate_assignment=True, strict=True)


def ipv4_network(value: str) -> ipaddress.IPv4Network:
    net = ipaddress.ip_network(value, strict=True)
    if not isinstance(net, ipaddress.IPv4Network):
        raise ValueError(f"{value} is IPv6: the lab network is IPv4 only, use e.g. 10.213.0.0/24")
    return net


class Topology(Strict):
    controllers: int = Field(1, ge=1, le=7)
    workers: int = Field(2, ge=1, le=20)

    @field_validator("controllers")
    @classmethod
    def odd_controllers(cls, value: int) -> int:
        # etcd needs an odd member count to keep quorum through one failure.
        if value % 2 == 0:
            raise ValueError("must be odd (1, 3, 5…) so etcd keeps quorum")
        return value


class NodeFailure(Strict):
    """How fast the cluster reacts to a lost node (kube-controller-manager, API server)."""

    node_monitor_grace_period_s: int = Field(40, ge=5, le=3600)
    not_ready_toleration_s: int = Field(300, ge=1, le=86400)
    unreachable_toleration_s: int = Field(300, ge=1, le=86400)


class NginxApp(Strict):
    enabled: bool = True
    replicas: int = Field(3, ge=1, le=50)
    node_port: int = Field(31000, ge=30000, le=32767)


class GuestbookApp(Strict):
    enabled: bool = True
    frontend_replicas: int = Field(3, ge=1, le=50)
    redis_replicas: int = Field(2, ge=0, le=10)
    node_port: int = Field(31080, ge=30000, le=32767)


class Apps(Strict):
    nginx: NginxApp = NginxApp()
    guestbook: GuestbookApp = GuestbookApp()

    @model_validator(mode="after")
    def distinct_ports(self) -> "Apps":
        if self.nginx.enabled and self.guestbook.enabled and self.nginx.node_port == self.guestbook.node_port:
            raise ValueError("apps.nginx.node_port and apps.guestbook.node_port must differ")
        return self


class Network(Strict):
    pod_cidr: str = "10.244.0.0/16"
    service_cidr: str = "10.96.0.0/16"
    cluster_dns: str = "10.96.0.10"

    @field_validator("pod_cidr", "service_cidr")
    @classmethod
    def is_network(cls, value: str) -> str:
        ipv4_network(value)
        return value

    @model_validator(mode="after")
    def dns_in_services(self) -> "Network":
        if ipaddress.ip_address(self.cluster_dns) not in ipaddress.ip_network(self.service_cidr):
            raise ValueError("network.cluster_dns must lie inside network.service_cidr")
        if ipaddress.ip_network(self.pod_cidr).overlaps(ipaddress.ip_network(self.service_cidr)):
            raise ValueError("network.pod_cidr and network.service_cidr must not overlap")
        return self


class LocalProvider(Strict):
    subnet: str = ""  # empty: labctl picks a free range per lab and records it (labctl/providers/local/subnets.py)
    bridge: str = ""  # derived from the lab name when empty
    node_memory_max: str = "4G"

    @field_validator("subnet")
    @classmethod
    def private_subnet(cls, value: str) -> str:
        if not value:
            return value
        net = ipv4_network(value)
        if not net.is_private or net.prefixlen > 28:
            raise ValueError("must be a private network of /28 or larger")
        return value

    @field_validator("bridge")
    @classmethod
    def bridge_name(cls, value: str) -> str:
        if len(value) > 15:
            raise ValueError("Linux interface names are at most 15 characters")
        return value


class AwsProvider(Strict):
    region: str = ""
    os: Literal["debian", "flatcar"] = "debian"
    controller_instance_type: str = "t3.medium"
    worker_instance_type: str = "t3.medium"
    ami: str = ""
    allow_from: str = ""
    engine: Literal["ansible", "terraform"] = "ansible"


class OpenstackProvider(Strict):
    cloud: str = ""
    image: str = "debian-12"
    flavor: str = "m1.medium"
    external_network: str = "public"
    allow_from: str = ""


class Drills(Strict):
    """How `labctl drill` runs on this lab (`--probe-interval` overrides per run)."""

    probe_interval_s: float = Field(DEFAULT_PROBE_INTERVAL_S, ge=PROBE_INTERVAL_MIN_S, le=PROBE_INTERVAL_MAX_S)


class LabConfig(Strict):
    provider: Literal["local", "aws", "openstack"] = "local"
    kubernetes_version: str = DEFAULT_KUBERNETES_VERSION
    topology: Topology = Topology()
    node_failure: NodeFailure = NodeFailure()
    network: Network = Network()
    apps: Apps = Apps()
    drills: Drills = Drills()
    local: LocalProvider = LocalProvider()
    aws: AwsProvider = AwsProvider()
    openstack: OpenstackProvider = OpenstackProvider()

    @field_validator("kubernetes_version")
    @classmethod
    def semver(cls, value: str) -> str:
        parts = value.removeprefix("v").split(".")
        if len(parts) != 3 or not all(p.isdigit() for p in parts):
            raise ValueError("must look like v1.36.3")
        return "v" + value.removeprefix("v")

    @model_validator(mode="after")
    def fits_local_subnet(self) -> "LabConfig":
        if self.provider == "local" and self.local.subnet:
            subnet = ipaddress.ip_network(self.local.subnet)
            for name in ("pod_cidr", "service_cidr"):
                other = getattr(self.network, name)
                if subnet.overlaps(ipaddress.ip_network(other)):
                    raise ValueError(
                        f"local.subnet {self.local.subnet} overlaps network.{name} {other}: "
                        "node and cluster addresses would collide, choose a subnet outside both"
                    )
            hosts = ipaddress.ip_network(self.local.subnet).num_addresses - 3
            wanted = self.topology.controllers + self.topology.workers + 2  # + load balancer, scale-up spare
            if wanted > hosts:
                raise ValueError(f"local.subnet {self.local.subnet} has room for {hosts} nodes, topology needs {wanted}")
        return self

    @model_validator(mode="after")
    def fits_pod_cidr(self) -> "LabConfig":
        # Node N's pods get the (N+1)th /24 of pod_cidr (playbooks/group_vars/all.yml), the first /24 unused.
        pods = ipaddress.ip_network(self.network.pod_cidr)
        room = 2 ** max(0, 24 - pods.prefixlen) - 1
        wanted = self.topology.controllers + self.topology.workers + 2  # + load balancer, scale-up spare
        if wanted > room:
            raise ValueError(
                f"network.pod_cidr {self.network.pod_cidr} has a /24 for {room} nodes, topology needs {wanted}: "
                "each node's pods get a /24 of it, choose a larger range"
            )
        return self


TYPE_NAMES = {
    "int_type": "an integer",
    "float_type": "a number",
    "bool_type": "true or false",
    "string_type": "a string",
    "model_type": "a mapping",
}


def _shown(value: Any) -> str:
    """VALUE as it reads in YAML."""
    return yaml.safe_dump(value, default_flow_style=True).strip().removesuffix("...").strip()


def _describe(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "labctl.yaml"
    kind = first["type"]
    if kind == "extra_forbidden":
        return f"unknown key '{where}' — remove it or fix its spelling"
    if kind in TYPE_NAMES:
        hint = ", without quotes" if isinstance(first["input"], str) and kind != "string_type" else ""
        return f"{where}: {_shown(first['input'])} is not {TYPE_NAMES[kind]} — write {TYPE_NAMES[kind]}{hint}"
    message = first["msg"].removeprefix("Value error, ")
    return f"{where}: {message} — fix it and run again"


def parse_config(data: dict[str, Any], source: str = "labctl.yaml") -> LabConfig:
    try:
        return LabConfig.model_validate(data)
    except ValidationError as error:
        raise UsageError(f"invalid {source}: {_describe(error)}") from None


def load_config(path: Path) -> LabConfig:
    """Read labctl.yaml; a missing file means all defaults."""
    if not path.exists():
        return LabConfig()
    if path.is_dir():
        raise UsageError(f"config {path} is a directory — pass the labctl.yaml file itself")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise UsageError(f"config {path} is not a text file — pass a labctl.yaml (YAML text)") from None
    except OSError as error:
        raise UsageError(f"cannot read config {path}: {error.strerror} — pass a readable labctl.yaml") from None
    if "\0" in text:
        raise UsageError(f"config {path} is not a text file — pass a labctl.yaml (YAML text)")
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        at = f" at line {mark.line + 1}" if mark is not None else ""
        raise UsageError(f"malformed {path}{at}: not valid YAML — fix the syntax and run again") from None
    if not isinstance(data, dict):
        raise UsageError(f"malformed {path}: the top level is not a mapping — write settings as `key: value` lines")
    return parse_config(data, str(path))


def apply_overrides(config: LabConfig, overrides: dict[str, Any]) -> LabConfig:
    """Merge dotted CLI overrides ('topology.workers': 3) and re-validate the whole."""
    data = config.model_dump()
    for dotted, value in overrides.items():
        if value is None:
            continue
        node = data
        *parents, leaf = dotted.split(".")
        for part in parents:
            node = node[part]
        node[leaf] = value
    return parse_config(data, "flags")


def dump_config(config: LabConfig) -> str:
    return yaml.safe_dump(config.model_dump(), sort_keys=False)
