"""Go builds of released commands, through wrapper modules under bundle/.

Every build goes through a wrapper module (bundle/kubernetes/VERSION or
bundle/go/NAME/VERSION) whose go.sum pins the whole dependency graph, so the
proxy can only hand back the bytes recorded in the repo.
"""

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from labctl.bundle.digest import sha256_file
from labctl.bundle.layout import SOURCE_ROOT
from labctl.bundle.spec import BuildContext
from labctl.bundle.versions import GO_ARCH, KUBE_BUILD_DATE
from labctl.errors import InfraError
from labctl.log_tail import last_lines


@dataclass(frozen=True)
class GoTarget:
    moddir: Path
    package: str
    cgo: bool = False
    tags: tuple[str, ...] = ()
    ldflags: str = "-s -w"

    def argv(self, out: Path) -> list[str]:
        cmd = ["go", "build", "-trimpath"]
        if self.tags:
            cmd += ["-tags", ",".join(self.tags)]
        return [*cmd, "-ldflags", self.ldflags, "-o", str(out), self.package]

    def env(self) -> dict[str, str]:
        return {
            "CGO_ENABLED": "1" if self.cgo else "0",
            "GOOS": "linux",
            "GOARCH": GO_ARCH,
            # The go.sum in the wrapper is the pin: never edit it mid-build,
            # never fetch a different toolchain.
            "GOFLAGS": "-buildvcs=false -mod=readonly",
            "GOTOOLCHAIN": "local",
        }

    def inputs(self, ctx: BuildContext) -> dict[str, Any]:
        files = {}
        for name in ("go.mod", "go.sum"):
            path = self.moddir / name
            files[name] = sha256_file(path) if path.exists() else None
        return {
            "argv": self.argv(Path("OUT")),
            "env": self.env(),
            "go": ctx.go_version,
            "wrapper": str(self.moddir.relative_to(SOURCE_ROOT)),
            "files": files,
        }

    def build(self, ctx: BuildContext, out: Path, name: str) -> None:
        needs_sum = "require" in (self.moddir / "go.mod").read_text()
        if needs_sum and not (self.moddir / "go.sum").exists():
            raise InfraError(
                f"bundle: {name}: wrapper module {self.moddir} has no go.sum; "
                f"fix: run `go mod tidy` in that directory"
            )
        log = ctx.log_file(name)
        env = {**os.environ, **self.env()}
        with open(log, "w") as fh:
            fh.write("$ " + " ".join(self.argv(out)) + "\n")
            fh.flush()
            proc = subprocess.run(self.argv(out), cwd=self.moddir, env=env,
                                  stdout=fh, stderr=subprocess.STDOUT)
        if proc.returncode != 0:
            tail = (last_lines(log) or ["no output"])[-1]
            raise InfraError(
                f"bundle: go build of {name} ({self.package}) failed: {tail}; "
                f"fix: {fix_hint(log.read_text(errors='replace'), self.moddir)} (log: {log})"
            )


def fix_hint(output: str, moddir: Path) -> str:
    """The likely remedy for a failed go build, from its output."""
    if "missing go.sum entry" in output or "updates to go.mod needed" in output:
        return f"run `go mod tidy` in {moddir}"
    if any(s in output for s in ("dial tcp", "proxy", "no such host", "i/o timeout")):
        return "check that the Go module proxy is reachable (`go env GOPROXY`)"
    if any(s in output for s in ("gcc", "cgo", "seccomp.h", "ld returned")):
        return "install the C toolchain: apt-get install -y gcc libc6-dev libseccomp-dev pkg-config"
    if "no space left" in output:
        return "free disk space under the cache and GOCACHE"
    return "read the log below the command line"


def kube_ldflags(version: str) -> str:
    """Version stamps the release build sets; without them nodes say v0.0.0-master."""
    minor = version.split(".")[1]
    parts = ["-s", "-w"]
    for pkg in ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version"):
        parts += [
            f"-X {pkg}.gitVersion={version}",
            f"-X {pkg}.gitMajor=1",
            f"-X {pkg}.gitMinor={minor}",
            f"-X {pkg}.gitTreeState=clean",
            f"-X {pkg}.buildDate={KUBE_BUILD_DATE}",
        ]
    return " ".join(parts)


def kube_target(version: str, command: str) -> GoTarget:
    # Same flags as upstream's release build (and the cache-warming prebuild):
    # cgo only where the kubelet needs it.
    return GoTarget(
        moddir=SOURCE_ROOT / "kubernetes" / version,
        package=f"k8s.io/kubernetes/cmd/{command}",
        cgo=command == "kubelet",
        tags=("selinux", "notest"),
        ldflags=kube_ldflags(version),
    )


def wrapper_dir(name: str, version: str) -> Path:
    return SOURCE_ROOT / "go" / name / version
