"""The host's mount points, as the kernel means them (psutil decodes /proc's \\040-style escapes)."""

import psutil


def mount_points() -> list[str]:
    return [part.mountpoint for part in psutil.disk_partitions(all=True)]


def mounts_under(path: str) -> list[str]:
    """PATH itself if mounted and every mount below it."""
    return [m for m in mount_points() if m == path or m.startswith(path.rstrip("/") + "/")]
