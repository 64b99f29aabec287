"""The emulated cloud for end-to-end tests: tests/cloudemu/emulated_cloud.py as a child process."""

import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from e2ehelpers import REPO, lab_unavailable

HARNESS = REPO / "tests" / "cloudemu" / "emulated_cloud.py"


@dataclass
class EmulatedCloud:
    env: dict[str, str]  # what the harness printed to export
    operator_cidr: str  # --allow-from for this host


@contextmanager
def emulated_cloud(cloud: str, startup_s: float = 900) -> Iterator[EmulatedCloud]:
    """Start the cloud (building its image on first use), yield its environment, stop it, check it cleaned up."""
    subprocess.run([sys.executable, str(HARNESS), "--cleanup", cloud], check=True, capture_output=True, timeout=300)
    log = Path(tempfile.mkdtemp(prefix="emulated-cloud-")) / "stderr.log"
    with log.open("w") as err:
        process = subprocess.Popen([sys.executable, str(HARNESS), cloud], stdout=subprocess.PIPE, stderr=err, text=True)
    # A thread reads the lines: select() on a buffered pipe misses lines already read into the buffer.
    lines: queue.Queue[str] = queue.Queue()

    def read_lines() -> None:
        for line in process.stdout or []:
            lines.put(line)
        lines.put("")  # the harness ended

    threading.Thread(target=read_lines, daemon=True).start()
    env: dict[str, str] = {}
    operator = ""
    try:
        deadline = time.monotonic() + startup_s
        while True:
            try:
                line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                line = ""
            if not line:
                raise RuntimeError(f"the emulated {cloud} did not start: {log.read_text()[-2000:]}")
            if line.startswith("export "):
                name, _, value = line.removeprefix("export ").strip().partition("=")
                env[name] = value
            elif "--allow-from" in line:
                operator = line.rsplit(" ", 1)[-1].strip()
            elif line.strip() == "# ready":
                break
        yield EmulatedCloud(env=env, operator_cidr=operator)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=180)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=30)
        # Whatever a failed stop left (machines, bridges, rules) goes now.
        subprocess.run([sys.executable, str(HARNESS), "--cleanup", cloud], capture_output=True, timeout=300)


def cloud_env(cloud: EmulatedCloud, home: str) -> dict[str, str]:
    """A user's environment pointed at the emulated cloud; nothing of the host's cloud setup leaks in."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "OS_", "LABCTL_HOME"))}
    env.update(cloud.env)
    env.update({"LABCTL_HOME": home, "COLUMNS": "200", "AWS_CONFIG_FILE": f"{home}/no-aws-config",
                "AWS_SHARED_CREDENTIALS_FILE": f"{home}/no-aws-credentials"})
    return env


@dataclass
class CloudLab:
    """A lab on an emulated cloud, driven by the real labctl command as a user would."""

    cloud: EmulatedCloud
    home: Path
    name: str
    extra_env: dict[str, str] = field(default_factory=dict)  # the user's own settings (a Terraform CLI config, say)

    def run(self, *args: str, timeout: float = 1800) -> subprocess.CompletedProcess[str]:
        argv = [args[0], "--lab", self.name, *args[1:]]
        env = {**cloud_env(self.cloud, str(self.home)), **self.extra_env}
        return subprocess.run([sys.executable, "-m", "labctl", *argv], env=env,
                              capture_output=True, text=True, timeout=timeout, cwd=REPO, stdin=subprocess.DEVNULL)


def aws_lab_resources(cloud: EmulatedCloud, lab: str) -> list[str]:
    """Everything of LAB that the emulated AWS still holds (every resource type the provider creates)."""
    sys.path.insert(0, str(REPO / "tests" / "aws"))
    from awshelpers import Moto, lab_resources

    moto = Moto(endpoint=cloud.env["AWS_ENDPOINT_URL"], pid=0)
    return lab_resources(moto, lab, access_key=cloud.env["AWS_ACCESS_KEY_ID"], secret_key=cloud.env["AWS_SECRET_ACCESS_KEY"],
                         region=cloud.env["AWS_REGION"])


@contextmanager
def cloud_lab(cloud: str, name: str, home: Path) -> Iterator[CloudLab]:
    """The emulated CLOUD for a lab NAME (skipped where no local node can boot); the lab is the tests' to make."""
    reason = lab_unavailable()
    if reason:
        pytest.skip(reason)
    with emulated_cloud(cloud) as emulated:
        yield CloudLab(emulated, home, name)
