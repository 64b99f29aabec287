"""The list of artifacts a bundle for one Kubernetes version holds."""

from pathlib import Path

from labctl.bundle import images, node_python, rootfs
from labctl.bundle.gobuild import GoTarget, kube_target, wrapper_dir
from labctl.bundle.spec import ArtifactSpec, BuildContext
from labctl.bundle.versions import (
    CNI_PLUGINS,
    CNI_PLUGINS_VERSION,
    CONTAINERD_VERSION,
    COREDNS_VERSION,
    CRICTL_VERSION,
    ETCD_VERSION,
    KUBERNETES_BINARIES,
    KUBERNETES_VERSION,
    RUNC_VERSION,
    SKEW_BINARIES,
    SKEW_VERSION,
)

# Which older release the kubelet-version drill runs against, per bundle.
SKEW_FOR = {KUBERNETES_VERSION: SKEW_VERSION}
SKEW_DRILL = "kubelet-version"


def _go_spec(name: str, relpath: str, version: str, group: str, target: GoTarget, needed_by: str = "up") -> ArtifactSpec:
    def make(ctx: BuildContext, out: Path) -> None:
        target.build(ctx, out, name)

    return ArtifactSpec(
        name=name, kind="binary", version=version, relpath=relpath,
        source=f"go:{target.package}@{version}", group=group, lane="go",
        inputs=target.inputs, make=make, needed_by=needed_by,
    )


def _stamp(pkg_var: str, value: str) -> str:
    return f"-s -w -X {pkg_var}={value}"


def kube_specs(kube_version: str) -> list[ArtifactSpec]:
    return [
        _go_spec(cmd, f"bin/{cmd}", kube_version, "kubernetes", kube_target(kube_version, cmd))
        for cmd in KUBERNETES_BINARIES
    ]


def runtime_specs() -> list[ArtifactSpec]:
    """etcd, the container runtime, CNI plugins, crictl and coredns."""
    specs = []

    etcd_dir = wrapper_dir("etcd", ETCD_VERSION)
    for cmd, pkg in (("etcd", "server"), ("etcdctl", "etcdctl"), ("etcdutl", "etcdutl")):
        target = GoTarget(etcd_dir, f"go.etcd.io/etcd/{pkg}/v3")
        specs.append(_go_spec(cmd, f"bin/{cmd}", ETCD_VERSION, "etcd", target))

    ctrd_dir = wrapper_dir("containerd", CONTAINERD_VERSION)
    ctrd_ld = (
        f"-s -w -X github.com/containerd/containerd/v2/version.Version={CONTAINERD_VERSION}"
        " -X github.com/containerd/containerd/v2/version.Package=github.com/containerd/containerd/v2"
    )
    for cmd in ("containerd", "containerd-shim-runc-v2", "ctr"):
        # no_btrfs: the btrfs snapshotter needs cgo and btrfs headers; nodes use overlayfs.
        target = GoTarget(ctrd_dir, f"github.com/containerd/containerd/v2/cmd/{cmd}",
                          tags=("no_btrfs",), ldflags=ctrd_ld)
        specs.append(_go_spec(cmd, f"bin/{cmd}", CONTAINERD_VERSION, "containerd", target))

    # runc needs libseccomp through cgo; linked statically (as upstream
    # releases are) so it runs in any node root filesystem.
    runc = GoTarget(wrapper_dir("runc", RUNC_VERSION), "github.com/opencontainers/runc", cgo=True,
                    tags=("seccomp", "netgo", "osusergo", "urfave_cli_no_docs"),
                    ldflags="-s -w -extldflags=-static")
    specs.append(_go_spec("runc", "bin/runc", RUNC_VERSION, "runc", runc))

    crictl = GoTarget(wrapper_dir("crictl", CRICTL_VERSION), "sigs.k8s.io/cri-tools/cmd/crictl",
                      ldflags=_stamp("sigs.k8s.io/cri-tools/pkg/version.Version", CRICTL_VERSION))
    specs.append(_go_spec("crictl", "bin/crictl", CRICTL_VERSION, "crictl", crictl))

    cni_dir = wrapper_dir("cni-plugins", CNI_PLUGINS_VERSION)
    cni_ld = _stamp("github.com/containernetworking/plugins/pkg/utils/buildversion.BuildVersion",
                    CNI_PLUGINS_VERSION)
    for plugin in CNI_PLUGINS:
        kind = "ipam" if plugin in ("host-local", "static", "dhcp") else (
            "meta" if plugin in ("portmap", "bandwidth", "firewall", "tuning") else "main")
        target = GoTarget(cni_dir, f"github.com/containernetworking/plugins/plugins/{kind}/{plugin}",
                          ldflags=cni_ld)
        specs.append(_go_spec(f"cni/{plugin}", f"cni/{plugin}", CNI_PLUGINS_VERSION, "cni", target))

    coredns = GoTarget(wrapper_dir("coredns", COREDNS_VERSION), "github.com/coredns/coredns")
    specs.append(_go_spec("coredns", "bin/coredns", COREDNS_VERSION, "coredns", coredns))
    return specs


def skew_specs(kube_version: str) -> list[ArtifactSpec]:
    skew = SKEW_FOR.get(kube_version)
    if not skew:
        return []
    return [
        _go_spec(f"skew/{skew}/{cmd}", f"bin/skew/{skew}/{cmd}", skew, "skew", kube_target(skew, cmd), needed_by=SKEW_DRILL)
        for cmd in SKEW_BINARIES
    ]


def specs(kube_version: str) -> list[ArtifactSpec]:
    """All artifacts, in build order.

    The smaller Go builds go first: Kubernetes' own are the longest and most
    likely to be warm in the Go build cache already; the skew release is
    needed only by one drill and the nodes' Python only by Flatcar cloud labs, so they come last.
    """
    return (
        runtime_specs()
        + images.specs()
        + kube_specs(kube_version)
        + [rootfs.spec()]
        + skew_specs(kube_version)
        + [node_python.spec()]
    )


def components_for(kube_version: str) -> list[str]:
    return [s.name for s in specs(kube_version)]


def by_name(kube_version: str) -> dict[str, ArtifactSpec]:
    return {s.name: s for s in specs(kube_version)}

