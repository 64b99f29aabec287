"""The emulated clouds' machine image: the bundle's node packages plus what a Debian cloud image has.

A Debian cloud image boots with cloud-init (which creates the login user from the
instance's key pair and applies the user data) and sudo. It is built once with
mmdebstrap from the host's Debian mirror, like the bundle's node root filesystem,
and kept unpacked in the cache; every emulated instance overlays it.
"""

import hashlib
import json
import os
import shutil
from pathlib import Path

from labctl.bundle import debian, rootfs
from labctl.paths import cache_home

# What official Debian cloud images carry beyond the node packages (and that the
# provider relies on: cloud-init for first boot, sudo for the login user).
CLOUD_PACKAGES = ["cloud-init", "sudo"]


def _hooks() -> tuple[str, ...]:
    return (
        # Host keys are made at first boot (cloud-init's ssh module), never shared.
        'rm -f "$1"/etc/ssh/ssh_host_*',
        ': > "$1"/etc/machine-id',
        'echo localhost > "$1"/etc/hostname',
        ': > "$1"/etc/resolv.conf',
    )


def image_dir() -> Path:
    recipe = {"packages": rootfs.packages() + CLOUD_PACKAGES, "hooks": list(_hooks()), "dpkg": list(debian.DPKG_EXCLUDES)}
    digest = hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()[:16]
    return cache_home() / "emulated-cloud" / "images" / f"debian-cloud-{digest}"


def ensure_image(log: Path) -> Path:
    """The unpacked image (built on first use, a few minutes; then reused)."""
    target = image_dir()
    if (target / "usr/bin/cloud-init").exists():
        return target
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.parent.mkdir(parents=True, exist_ok=True)
    debian.mmdebstrap(partial, variant="minbase", include=rootfs.packages() + CLOUD_PACKAGES, log=log, hooks=_hooks())
    os.replace(partial, target)
    return target
