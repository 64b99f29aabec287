"""The offline bundle: everything the local cluster runs, built from package registries.

Layout under <cache>/bundle/k8s-<version>/: manifest.json, bin/ (with
bin/skew/<older version>/), cni/, images/*.tar, rootfs/node-rootfs.tar.zst.
"""

from labctl.bundle.build import build
from labctl.bundle.catalog import components_for
from labctl.bundle.fetch import fetch
from labctl.bundle.layout import bundle_dir
from labctl.bundle.status import artifact_path, missing_for, missing_for_a_lab, purpose, status, verify

__all__ = ["artifact_path", "build", "bundle_dir", "components_for", "fetch", "missing_for", "missing_for_a_lab", "purpose", "status",
           "verify"]
