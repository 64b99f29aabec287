"""The node root filesystem: Debian bookworm with systemd, packed as tar.zst."""

import subprocess
from pathlib import Path
from typing import Any

from labctl.bundle import debian
from labctl.bundle.layout import SOURCE_ROOT
from labctl.bundle.spec import ArtifactSpec, BuildContext, hash_tree
from labctl.bundle.versions import DEBIAN_SUITE
from labctl.errors import InfraError

ROOTFS_SRC = SOURCE_ROOT / "rootfs"
HERE = Path(__file__).resolve().parent
ZSTD_LEVEL = 10


def packages() -> list[str]:
    lines = (ROOTFS_SRC / "packages.txt").read_text().splitlines()
    return [ln.strip() for ln in lines if ln.strip() and not ln.startswith("#")]


def _hooks() -> tuple[str, ...]:
    unit = ROOTFS_SRC / "ssh-hostkeys.service"
    return (
        'rm -f "$1"/etc/ssh/ssh_host_*',
        f'copy-in {unit} /etc/systemd/system',
        'chroot "$1" systemctl enable ssh-hostkeys.service',
        # Only the API load balancer node runs HAProxy; roles/api_lb enables it there.
        'chroot "$1" systemctl disable haproxy.service',
        # An empty regular file: systemd-nspawn's --resolv-conf=auto copies
        # the host's resolver in, and chroot users copy it (platform notes).
        ': > "$1"/etc/resolv.conf && chmod 0644 "$1"/etc/resolv.conf',
        # Empty machine-id: each node gets its own on first boot.
        ': > "$1"/etc/machine-id',
        # The build host's name must not leak into every node.
        'echo node > "$1"/etc/hostname && chmod 0644 "$1"/etc/hostname',
    )


def _inputs(ctx: BuildContext) -> dict[str, Any]:
    return {"suite": DEBIAN_SUITE, "packages": packages(), "hooks": [h.replace(str(ROOTFS_SRC), "bundle/rootfs") for h in _hooks()],
            "dpkg": list(debian.DPKG_EXCLUDES), "zstd": ZSTD_LEVEL,
            "code": hash_tree(HERE / "rootfs.py", HERE / "debian.py", ROOTFS_SRC)}


def _make(ctx: BuildContext, out: Path) -> None:
    debian.require_tool("zstd", "zstd")
    tar = ctx.scratch / "node-rootfs.tar"
    log = ctx.log_file("rootfs/node-rootfs")
    debian.mmdebstrap(tar, variant="minbase", include=packages(), log=log, fmt="tar",
                      hooks=_hooks())
    with open(log, "a") as fh:
        proc = subprocess.run(
            ["zstd", "-q", "-T0", f"-{ZSTD_LEVEL}", "-f", "-o", str(out), str(tar)],
            stdout=fh, stderr=subprocess.STDOUT,
        )
    tar.unlink(missing_ok=True)
    if proc.returncode != 0:
        raise InfraError(f"bundle: rootfs/node-rootfs: zstd failed; see {log}")


def spec() -> ArtifactSpec:
    return ArtifactSpec(
        name="rootfs/node-rootfs", kind="rootfs", version=DEBIAN_SUITE,
        relpath="rootfs/node-rootfs.tar.zst", source=f"debian:{DEBIAN_SUITE} minbase",
        group="rootfs", lane="debian", inputs=_inputs, make=_make, mode=0o644,
    )
