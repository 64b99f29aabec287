"""Real nodes behind emulated instances: systemd-nspawn machines booted from the cloud image.

An instance's machine is booted the way the local provider boots a node (an
overlay of a shared read-only root, its own network namespace on a bridge,
systemd inside), at the instance's private address. What a cloud gives a
machine at first boot reaches it as a NoCloud seed that the image's real
cloud-init reads: the instance id, the hostname, the key pair's public key and
the user data. The image's login user is the cloud's (Debian on AWS: admin).
"""

import shutil
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import yaml

from labctl.providers.local import nspawn


@dataclass(frozen=True)
class Instance:
    """What the cloud says of one running instance."""

    instance_id: str
    private_ip: str
    hostname: str
    public_key: str
    user_data: str
    login_user: str


def _cloud_config(login_user: str) -> str:
    config = {
        "datasource_list": ["NoCloud", "None"],
        # The machine's address comes from its link unit, as DHCP would give it.
        "network": {"config": "disabled"},
        # As Debian's cloud images: the hostname resolves, the locale is one libc has built in.
        "manage_etc_hosts": "localhost",
        "locale": "C.UTF-8",
        "system_info": {
            "default_user": {
                "name": login_user,
                "lock_passwd": True,
                "gecos": "Cloud user",
                "groups": ["adm", "sudo"],
                "sudo": ["ALL=(ALL) NOPASSWD:ALL"],
                "shell": "/bin/bash",
            }
        },
    }
    return "# The emulated cloud's image settings (as a cloud image ships them)\n" + yaml.safe_dump(config, sort_keys=False)


class Machines:
    """The machines of one emulated cloud, each under STATE_DIR/<instance id>."""

    def __init__(self, state_dir: Path, image: Path) -> None:
        self.state_dir = state_dir
        self.image = image

    def spec(self, instance_id: str, ip: str = "0.0.0.0", prefixlen: int = 24, gateway: str = "", bridge: str = "") -> nspawn.NodeSpec:
        # nspawn's machine name is <lab>-<name>: "ce-<id>" stays short and unique.
        return nspawn.NodeSpec(
            lab="ce", name=instance_id.removeprefix("i-")[-10:], ip=ip, prefixlen=prefixlen, gateway=gateway, bridge=bridge,
            base=self.state_dir / instance_id,
        )

    def boot(self, instance: Instance, bridge: str, gateway: str, prefixlen: int) -> None:
        spec = self.spec(instance.instance_id, instance.private_ip, prefixlen, gateway, bridge)
        nspawn.mount_root(spec, self.image)
        nspawn.install_machine_units(spec)
        seed = spec.root / "var/lib/cloud/seed/nocloud"
        seed.mkdir(parents=True, exist_ok=True)
        meta = {"instance-id": instance.instance_id, "local-hostname": instance.hostname, "public-keys": [instance.public_key.strip()]}
        (seed / "meta-data").write_text(yaml.safe_dump(meta, sort_keys=False))
        (seed / "user-data").write_text(instance.user_data)
        (spec.root / "etc/cloud/cloud.cfg.d/90-emulated-cloud.cfg").write_text(_cloud_config(instance.login_user))
        # A cloud keeps each machine's serial console (GetConsoleOutput): cloud-init prints the host keys there.
        nspawn.start(spec, binds=[])

    def console(self, instance_id: str) -> str:
        path = self.spec(instance_id).log_file
        return path.read_text(errors="replace") if path.exists() else ""

    def remove(self, instance_id: str) -> None:
        spec = self.spec(instance_id)
        nspawn.stop(spec)
        if not nspawn.is_mounted(spec.root):
            shutil.rmtree(spec.base, ignore_errors=True)

    def remove_many(self, instance_ids: list[str]) -> None:
        """Power machines off together: each may take its shutdown grace period."""
        with ThreadPoolExecutor(max_workers=max(1, len(instance_ids))) as pool:
            list(pool.map(self.remove, instance_ids))

    def remove_all(self) -> list[str]:
        if not self.state_dir.is_dir():
            return []
        gone = [p.name for p in self.state_dir.iterdir() if p.is_dir()]
        self.remove_many(gone)
        return gone
