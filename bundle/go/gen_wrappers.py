"""Write the wrapper Go modules that pin etcd, containerd, runc, CNI plugins, crictl, coredns.

Each wrapper (bundle/go/NAME/VERSION/go.mod) requires the released module
and lists the commands as `tool` directives; `go mod tidy` then records the
whole dependency graph in go.sum. etcd needs this most: its modules point at
each other through replace directives that do not apply to a dependent
module, so the wrapper requires every etcd module at the same version.

Usage (after changing a version in labctl/bundle/versions.py):
    python3 bundle/go/gen_wrappers.py [NAME ...]
"""

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

from labctl.bundle import versions  # noqa: E402 - needs the path above

ETCD_MODULES = ("server", "etcdctl", "etcdutl", "api", "client/pkg", "client", "pkg")
CNI = "github.com/containernetworking/plugins/plugins"


def wrappers() -> dict[str, tuple[str, list[str], list[str]]]:
    """name -> (version, required modules, tool packages)."""
    etcd, ctrd = versions.ETCD_VERSION, versions.CONTAINERD_VERSION
    return {
        "etcd": (etcd,
                 [f"go.etcd.io/etcd/{m}/v3 {etcd}" if m != "client" else f"go.etcd.io/etcd/client/v3 {etcd}"
                  for m in ETCD_MODULES],
                 ["go.etcd.io/etcd/server/v3", "go.etcd.io/etcd/etcdctl/v3", "go.etcd.io/etcd/etcdutl/v3"]),
        "containerd": (ctrd, [f"github.com/containerd/containerd/v2 {ctrd}"],
                       [f"github.com/containerd/containerd/v2/cmd/{c}"
                        for c in ("containerd", "containerd-shim-runc-v2", "ctr")]),
        "runc": (versions.RUNC_VERSION, [f"github.com/opencontainers/runc {versions.RUNC_VERSION}"],
                 ["github.com/opencontainers/runc"]),
        "cni-plugins": (versions.CNI_PLUGINS_VERSION,
                        [f"github.com/containernetworking/plugins {versions.CNI_PLUGINS_VERSION}"],
                        [f"{CNI}/main/bridge", f"{CNI}/ipam/host-local", f"{CNI}/main/loopback",
                         f"{CNI}/meta/portmap", f"{CNI}/main/ptp", f"{CNI}/meta/bandwidth"]),
        "crictl": (versions.CRICTL_VERSION, [f"sigs.k8s.io/cri-tools {versions.CRICTL_VERSION}"],
                   ["sigs.k8s.io/cri-tools/cmd/crictl"]),
        "coredns": (versions.COREDNS_VERSION, [f"github.com/coredns/coredns {versions.COREDNS_VERSION}"],
                    ["github.com/coredns/coredns"]),
    }


def render(name: str, version: str, requires: list[str], tools: list[str]) -> str:
    lines = [
        f"// Wrapper module: builds {name} {version} from the Go module proxy (see bundle/go/gen_wrappers.py).",
        f"module labctl.local/{name}-{version}",
        "",
        "go 1.26.0",
        "",
    ]
    lines += [f"require {r}" for r in requires]
    lines += [f"tool {t}" for t in tools]
    return "\n".join(lines) + "\n"


def main(names: list[str]) -> None:
    table = wrappers()
    for name in names or list(table):
        version, requires, tools = table[name]
        out = HERE / name / version
        out.mkdir(parents=True, exist_ok=True)
        (out / "go.mod").write_text(render(name, version, requires, tools))
        subprocess.run(["go", "mod", "tidy"], cwd=out, check=True)
        print(out)


if __name__ == "__main__":
    main(sys.argv[1:])
