"""Find the image, flavor and external network before creating anything, and check quota.

A name that is not there fails at once with the names the cloud does offer,
instead of half a lab and a stack trace from deep inside a module.
"""

from dataclasses import dataclass
from typing import Any

from openstack import connection

from labctl.errors import InfraError, UsageError
from labctl.providers.openstack.cloud import CloudChoice, api_errors

DEFAULT_SSH_USER = "debian"
MAX_LISTED = 12


@dataclass(frozen=True)
class CloudChoices:
    image_id: str
    image_name: str
    flavor_id: str
    flavor_name: str
    flavor_vcpus: int
    flavor_ram_mb: int
    external_network_id: str
    external_network_name: str
    ssh_user: str


def _listing(names: list[str]) -> str:
    names = sorted(set(names))
    shown = ", ".join(names[:MAX_LISTED]) or "none"
    return shown + (f", … ({len(names)} in all)" if len(names) > MAX_LISTED else "")


def _match(items: list[Any], wanted: str) -> Any | None:
    by_id = [i for i in items if i.id == wanted]
    by_name = [i for i in items if i.name == wanted]
    return (by_id or by_name or [None])[0]


def find_image(conn: connection.Connection, cloud: CloudChoice, wanted: str) -> Any:
    with api_errors(cloud, "listing images"):
        images = [i for i in conn.image.images() if (i.status or "active") == "active"]
    found = _match(images, wanted)
    if found is None:
        raise UsageError(
            f"image '{wanted}' not found on cloud '{cloud.name}' (images: {_listing([i.name for i in images])}): "
            "pass --image NAME or set openstack.image in labctl.yaml"
        )
    return found


def find_flavor(conn: connection.Connection, cloud: CloudChoice, wanted: str) -> Any:
    with api_errors(cloud, "listing flavors"):
        flavors = list(conn.compute.flavors(details=True))
    found = _match(flavors, wanted)
    if found is None:
        raise UsageError(
            f"flavor '{wanted}' not found on cloud '{cloud.name}' (flavors: {_listing([f.name for f in flavors])}): "
            "pass --flavor NAME or set openstack.flavor in labctl.yaml"
        )
    return found


def find_external_network(conn: connection.Connection, cloud: CloudChoice, wanted: str) -> Any:
    with api_errors(cloud, "listing external networks"):
        networks = list(conn.network.networks(is_router_external=True))
    found = _match(networks, wanted)
    if found is None:
        raise UsageError(
            f"external network '{wanted}' not found on cloud '{cloud.name}' (external networks: {_listing([n.name for n in networks])}): "
            "pass --external-network NAME or set openstack.external_network in labctl.yaml"
        )
    return found


def ssh_user_of(image: Any) -> str:
    """The image's login user: Glance's standard `os_admin_user` property when set, else Debian's cloud user."""
    properties = dict(getattr(image, "properties", None) or {})
    return str(properties.get("os_admin_user") or DEFAULT_SSH_USER)


def resolve(conn: connection.Connection, cloud: CloudChoice, image: str, flavor: str, external_network: str) -> CloudChoices:
    found_image = find_image(conn, cloud, image)
    found_flavor = find_flavor(conn, cloud, flavor)
    found_network = find_external_network(conn, cloud, external_network)
    return CloudChoices(
        image_id=found_image.id,
        image_name=found_image.name,
        flavor_id=found_flavor.id,
        flavor_name=found_flavor.name,
        flavor_vcpus=int(found_flavor.vcpus or 0),
        flavor_ram_mb=int(found_flavor.ram or 0),
        external_network_id=found_network.id,
        external_network_name=found_network.name,
        ssh_user=ssh_user_of(found_image),
    )


def check_quota(conn: connection.Connection, cloud: CloudChoice, choices: CloudChoices, new_servers: int) -> None:
    """Refuse before creating anything when the project's compute quota cannot hold the lab."""
    if new_servers <= 0:
        return
    with api_errors(cloud, "reading compute limits"):
        absolute = conn.compute.get_limits().absolute
    wanted = (
        ("instances", new_servers, absolute.instances, absolute.instances_used),
        ("cores", new_servers * choices.flavor_vcpus, absolute.total_cores, absolute.total_cores_used),
        ("RAM (MB)", new_servers * choices.flavor_ram_mb, absolute.total_ram, absolute.total_ram_used),
    )
    for what, need, limit, used in wanted:
        if limit is None or limit < 0:
            continue  # -1: unlimited
        free = limit - (used or 0)
        if need > free:
            raise InfraError(
                f"quota on cloud '{cloud.name}' too small: the lab needs {need} {what} ({new_servers} × {choices.flavor_name}), "
                f"{free} of {limit} are free: free some, ask for more quota, or use fewer workers / a smaller --flavor"
            )
