"""Helpers for tests of the built offline bundle; they skip when it is not built."""

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from labctl import bundle
from labctl.bundle.versions import KUBERNETES_VERSION

KUBE = KUBERNETES_VERSION
# Containers these tests run get cgroups under this name, removed afterwards.
CGROUP_PARENT = "labctl-bundle-test"


def need(*names: str) -> dict[str, Path]:
    """Paths of the named artifacts, or skip with the command that builds them."""
    comps = {c["name"]: c for c in bundle.status(KUBE)["components"]}
    missing = [n for n in names if not comps.get(n, {}).get("present")]
    if missing:
        pytest.skip(
            f"offline bundle not built ({', '.join(missing)} missing in {bundle.bundle_dir(KUBE)}); "
            f"run: python -c 'import labctl.bundle as b; b.build(\"{KUBE}\")'"
        )
    return {n: bundle.artifact_path(KUBE, n) for n in names}


class Containerd:
    """A throwaway containerd from the bundle, with its own root, state and socket."""

    def __init__(self, workdir: Path) -> None:
        self.dir = workdir
        self.bin = bundle.bundle_dir(KUBE) / "bin"
        self.address = str(workdir / "c.sock")
        config = workdir / "config.toml"
        # CRI and NRI would reach for node-wide paths; importing images needs neither.
        config.write_text(
            "version = 3\n"
            f'root = "{workdir}/root"\n'
            f'state = "{workdir}/state"\n'
            'disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.cri.v1.images",'
            ' "io.containerd.cri.v1.runtime", "io.containerd.nri.v1.nri"]\n'
            f'[grpc]\n  address = "{self.address}"\n'
            f'[ttrpc]\n  address = "{self.address}.ttrpc"\n'
            '[debug]\n  address = ""\n[metrics]\n  address = ""\n'
        )
        env = {**os.environ, "PATH": f"{self.bin}:{os.environ.get('PATH', '')}"}
        self.log = open(workdir / "containerd.log", "w")  # noqa: SIM115 - lives as long as the daemon
        self.proc = subprocess.Popen([str(self.bin / "containerd"), "--config", str(config)],
                                     stdout=self.log, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.ctr("version", check=False).returncode == 0:
                return
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"containerd did not start; see {workdir / 'containerd.log'}")

    def ctr(self, *args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        cmd = [str(self.bin / "ctr"), "--address", self.address, "-n", "k8s.io", *args]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        if check and proc.returncode != 0:
            raise AssertionError(f"{' '.join(args)} failed: {proc.stdout}{proc.stderr}")
        return proc

    def run(self, image: str, cid: str, *cmd: str, flags: tuple[str, ...] = ()) -> str:
        # runc keeps container state under a root shared by every containerd on the host:
        # an id of this run's own means a killed earlier run can never collide with it.
        cid = f"{cid}-{os.getpid()}"
        proc = self.ctr("run", *flags, "--cgroup", f"/{CGROUP_PARENT}/{cid}", image, cid, *cmd)
        return proc.stdout + proc.stderr

    def stop(self) -> None:
        # Ours only: the daemon this fixture started, by its PID.
        for task in self.ctr("tasks", "ls", "-q", check=False).stdout.split():
            self.ctr("tasks", "kill", "-s", "SIGKILL", task, check=False)
        time.sleep(0.5)
        for cid in self.ctr("containers", "ls", "-q", check=False).stdout.split():
            self.ctr("tasks", "delete", "-f", cid, check=False)
            self.ctr("containers", "rm", cid, check=False)
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
        # Empty cgroups runc made for the test containers (rmdir removes only empty ones).
        for parent in Path("/sys/fs/cgroup").glob(f"*/{CGROUP_PARENT}"):
            with contextlib.suppress(OSError):
                for child in parent.iterdir():
                    if child.is_dir():
                        child.rmdir()
                parent.rmdir()


@pytest.fixture(scope="session")
def containerd() -> Iterator[Containerd]:
    need("containerd", "ctr", "containerd-shim-runc-v2", "runc")
    # A short path: the socket path must fit in a sockaddr_un.
    workdir = Path(tempfile.mkdtemp(prefix="lbc-", dir="/tmp"))
    daemon = Containerd(workdir)
    try:
        yield daemon
    finally:
        daemon.stop()
        subprocess.run(["umount", "-R", str(workdir / "root")], capture_output=True, check=False)
        shutil.rmtree(workdir, ignore_errors=True)
