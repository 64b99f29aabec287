"""What `--offline` needs before any machine exists: a bundle the instances can run, and for Flatcar the Python to push."""

import platform
from pathlib import Path

from labctl.errors import UsageError

# The machine names of this host, in EC2's words for instance architectures.
EC2_ARCH = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "arm64", "arm64": "arm64"}


def bundle_arch() -> str:
    """The architecture of the bundle's binaries: this machine's, which built it."""
    return EC2_ARCH.get(platform.machine(), platform.machine())


def refuse_other_arch(instance_arch: str, instance_types: list[str]) -> None:
    here = bundle_arch()
    if instance_arch != here:
        raise UsageError(
            f"--offline pushes this machine's bundle, built for {here}, but {', '.join(sorted(set(instance_types)))} "
            f"are {instance_arch} instances: choose {here} instance types, or drop --offline"
        )


def node_python_installer(kube_version: str) -> Path:
    """The bundle's Python installer for Flatcar nodes, built now (seconds, from Debian packages) if it is missing."""
    from labctl import bundle
    from labctl.bundle import node_python

    if bundle.missing_for(bundle.status(kube_version), node_python.NEEDED_BY):
        bundle.build(kube_version, needed_by=node_python.NEEDED_BY)
    return bundle.artifact_path(kube_version, "python/node-python")
