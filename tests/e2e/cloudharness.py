"""The emulated cloud for end-to-end tests: tests/cloudemu/emulated_cloud.py as a child process."""

import json
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
from typing import Any

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


def openstack_lab_resources(cloud: EmulatedCloud, lab: str) -> list[str]:
    """Everything named for LAB that the emulated OpenStack still holds, asked with openstacksdk."""
    import openstack

    os.environ["OS_CLIENT_CONFIG_FILE"] = cloud.env["OS_CLIENT_CONFIG_FILE"]
    conn = openstack.connect(cloud=cloud.env["OS_CLOUD"])
    prefix = f"labctl-{lab}-"
    found = [f"server {s.name}" for s in conn.compute.servers() if s.name.startswith(prefix)]
    found += [f"port {p.name}" for p in conn.network.ports() if (p.name or "").startswith(prefix)]
    found += [f"network {n.name}" for n in conn.network.networks() if n.name.startswith(prefix)]
    found += [f"router {r.name}" for r in conn.network.routers() if r.name.startswith(prefix)]
    found += [f"floating ip {f.floating_ip_address}" for f in conn.network.ips() if f.port_id]
    found += [f"key pair {k.name}" for k in conn.compute.keypairs() if k.name.startswith(prefix)]
    return found


def check_host_keys_pinned(lab: "CloudLab") -> dict[str, Any]:
    """Every node's keys are pinned in the lab's known_hosts, and worker-1 serves a pinned key; the inventory."""
    import yaml

    lab_dir = lab.home / "labs" / lab.name
    pinned: dict[str, list[str]] = {}
    for line in (lab_dir / "ssh" / "known_hosts").read_text().splitlines():
        host, key = line.split(" ", 1)
        pinned.setdefault(host, []).append(key)
    inventory: dict[str, Any] = yaml.safe_load((lab_dir / "inventory.yml").read_text())
    hosts = {name: hv["ansible_host"] for group in inventory["all"]["children"].values() for name, hv in (group.get("hosts") or {}).items()}
    assert sorted(pinned) == sorted(hosts.values()), (pinned, hosts)
    served = lab.run("ssh", "worker-1", "--", "cat", "/etc/ssh/ssh_host_ed25519_key.pub")
    assert served.returncode == 0, served.stderr
    assert " ".join(served.stdout.split()[:2]) in pinned[hosts["worker-1"]]
    return inventory


def kill_drill_mid_fault(lab: "CloudLab", drill: str = "worker-failure") -> str:
    """Start `labctl drill DRILL`, SIGKILL it (and its playbook) once its target's kubelet is stopped; the target."""
    command = [sys.executable, "-m", "labctl", "drill", drill, "--lab", lab.name]
    proc = subprocess.Popen(command, env=cloud_env(lab.cloud, str(lab.home)),
                            cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    journal = lab.home / "labs" / lab.name / "undo-journal.json"
    try:
        deadline = time.monotonic() + 300
        while True:
            assert time.monotonic() < deadline, "the fault never appeared"
            if journal.exists() and json.loads(journal.read_text())["entries"]:
                target = str(json.loads(journal.read_text())["entries"][0]["target"])
                state = lab.run("ssh", target, "--", "systemctl", "is-active", "kubelet", timeout=60).stdout.strip()
                if state in ("inactive", "failed"):
                    return target
            time.sleep(1)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


@contextmanager
def cloud_lab(cloud: str, name: str, home: Path) -> Iterator[CloudLab]:
    """The emulated CLOUD for a lab NAME (skipped where no local node can boot); the lab is the tests' to make."""
    reason = lab_unavailable()
    if reason:
        pytest.skip(reason)
    with emulated_cloud(cloud) as emulated:
        yield CloudLab(emulated, home, name)
