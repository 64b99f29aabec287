"""Nodes as systemd-nspawn containers booted from the bundle's Debian root filesystem.

Each node: an overlay of the shared, read-only root filesystem (its own upper
dir), real directories bind-mounted where a filesystem on overlay would not do
(containerd's snapshots, the kubelet's and etcd's state), its own network
namespace on the lab bridge, systemd as PID 1, sshd with the lab key.
The host has no systemd, so each nspawn runs detached and is tracked by PID.
"""

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from labctl.errors import InfraError
from labctl.log_tail import last_lines
from labctl.mounts import mount_points, mounts_under
from labctl.providers.local.hostnet import route_to

# Bind-mounted from real directories: containerd's overlay snapshotter cannot
# stack on the node's own overlay root, and etcd wants a plain filesystem.
STATE_DIRS = ("var/lib/containerd", "var/lib/kubelet", "var/lib/etcd")

# The kubelet and runc need these; the rest of @system-service is nspawn's default.
SYSCALL_FILTER = "@system-service @mount @privileged bpf keyctl add_key"

# Inside a node the v1 cgroup controllers are mounted read-only; the kubelet and
# runc must create child cgroups, so each controller is remounted read-write
# before containerd starts (kind's node entrypoint does the same fix-up).
CGROUP_RW_SCRIPT = """#!/bin/sh
set -e
for dir in /sys/fs/cgroup/*/; do
  name=$(basename "$dir")
  case "$name" in unified) continue;; esac
  if grep -q " /sys/fs/cgroup/$name .*ro," /proc/self/mountinfo; then
    opts=$name
    [ "$name" = systemd ] && opts="none,name=systemd"
    case "$name" in cpu,cpuacct|cpuacct,cpu) opts="cpu,cpuacct";; esac
    # systemd may still hold the mount for a moment after boot: retry a busy umount.
    tries=0
    until umount "/sys/fs/cgroup/$name" 2>/dev/null; do
      tries=$((tries + 1)); [ "$tries" -ge 20 ] && { echo "umount /sys/fs/cgroup/$name: busy" >&2; exit 1; }
      sleep 0.5
    done
    mount -t cgroup -o "rw,nosuid,nodev,noexec,$opts" cgroup "/sys/fs/cgroup/$name"
  fi
done
mount -o remount,rw /sys/fs/cgroup 2>/dev/null || true
"""

HOST0_SCRIPT = """#!/bin/sh
set -e
. /etc/labctl/host0.env
ip link set lo up
ip link set host0 up
ip addr replace "$NODE_ADDRESS" dev host0
ip route replace default via "$NODE_GATEWAY" dev host0
sysctl -qw net.ipv4.ip_forward=1
"""

HOST0_UNIT = """[Unit]
Description=Address and default route of the node's link to the lab bridge (labctl node)
DefaultDependencies=no
Before=network.target ssh.service
Wants=network.target

[Service]
Type=oneshot
RemainAfterExit=yes
EnvironmentFile=/etc/labctl/host0.env
ExecStart=/usr/local/sbin/labctl-host0

[Install]
WantedBy=multi-user.target
"""

CGROUP_RW_UNIT = """[Unit]
Description=Make cgroup controllers writable for the container runtime (labctl node)
DefaultDependencies=no
Before=containerd.service kubelet.service
After=local-fs.target

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/local/sbin/labctl-cgroup-rw

[Install]
WantedBy=multi-user.target
"""


@dataclass(frozen=True)
class NodeSpec:
    lab: str
    name: str
    ip: str
    prefixlen: int
    gateway: str
    bridge: str
    base: Path  # the node's directory in the lab state

    @property
    def machine(self) -> str:
        return f"{self.lab}-{self.name}"

    @property
    def root(self) -> Path:
        return self.base / "root"

    @property
    def upper(self) -> Path:
        return self.base / "upper"

    @property
    def work(self) -> Path:
        return self.base / "work"

    @property
    def pid_file(self) -> Path:
        return self.base / "nspawn.pid"

    @property
    def log_file(self) -> Path:
        return self.base / "console.log"


def _run(cmd: list[str]) -> None:
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise InfraError(f"`{' '.join(cmd)}` failed: {done.stderr.strip()}")


def is_mounted(path: Path) -> bool:
    return str(path.resolve()) in mount_points()


def mount_root(spec: NodeSpec, lower: Path) -> None:
    for d in (spec.root, spec.upper, spec.work):
        d.mkdir(parents=True, exist_ok=True)
    if not is_mounted(spec.root):
        _run(
            [
                "mount",
                "-t",
                "overlay",
                "overlay",
                "-o",
                f"lowerdir={lower},upperdir={spec.upper},workdir={spec.work}",
                str(spec.root),
            ]
        )


def unmount_all(spec: NodeSpec) -> None:
    """Unmount everything below the node's root, deepest first."""
    for target in sorted(set(mounts_under(str(spec.root.resolve()))), key=len, reverse=True):
        subprocess.run(["umount", "-l", target], capture_output=True)


def install_machine_units(spec: NodeSpec) -> None:
    """What the node's "hardware" provides whatever the image: its address on the bridge (DHCP's
    job on a cloud) and writable cgroup controllers for the container runtime."""
    root = spec.root
    # systemd-networkd would wait forever for udev (the node's /sys is writable, so it
    # expects one); a oneshot unit configures host0 instead.
    (root / "etc/labctl").mkdir(parents=True, exist_ok=True)
    (root / "etc/labctl/host0.env").write_text(f"NODE_ADDRESS={spec.ip}/{spec.prefixlen}\nNODE_GATEWAY={spec.gateway}\n")
    for name, text in (("labctl-host0", HOST0_SCRIPT), ("labctl-cgroup-rw", CGROUP_RW_SCRIPT)):
        script = root / "usr/local/sbin" / name
        script.parent.mkdir(parents=True, exist_ok=True)
        script.write_text(text)
        os.chmod(script, 0o755)
    (root / "etc/systemd/system/labctl-host0.service").write_text(HOST0_UNIT)
    (root / "etc/systemd/system/labctl-cgroup-rw.service").write_text(CGROUP_RW_UNIT)
    wants = root / "etc/systemd/system/multi-user.target.wants"
    wants.mkdir(parents=True, exist_ok=True)
    for name, target in (
        ("labctl-cgroup-rw.service", "/etc/systemd/system/labctl-cgroup-rw.service"),
        ("labctl-host0.service", "/etc/systemd/system/labctl-host0.service"),
        ("ssh.service", "/lib/systemd/system/ssh.service"),
    ):
        link = wants / name
        if not link.is_symlink():
            link.symlink_to(target)
    for sub in STATE_DIRS:
        (spec.base / "state" / sub).mkdir(parents=True, exist_ok=True)
        (root / sub).mkdir(parents=True, exist_ok=True)


def make_host_keys(spec: NodeSpec) -> list[Path]:
    """The node's SSH host key, made once in its own filesystem so the host knows it before first boot.

    One ed25519 key, and sshd told to offer only it: a key the host never
    pinned is a key no client may be offered.
    """
    key = spec.root / "etc/ssh/ssh_host_ed25519_key"
    if not key.exists():
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"root@{spec.name}", "-f", str(key)],
                       check=True, capture_output=True)
    config = spec.root / "etc/ssh/sshd_config.d/labctl-host-key.conf"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text("HostKey /etc/ssh/ssh_host_ed25519_key\n")
    return [key.with_name(key.name + ".pub")]


def customise(spec: NodeSpec, public_key: str, hosts: dict[str, str]) -> list[Path]:
    """What cloud-init would do on a cloud machine: identity, host keys, login key, names; plus the machine's units.

    Returns the node's public host key files.
    """
    root = spec.root
    (root / "etc/hostname").write_text(spec.name + "\n")
    machine_id = root / "etc/machine-id"
    if not machine_id.exists() or not machine_id.read_text().strip():
        machine_id.write_text(os.urandom(16).hex() + "\n")
    host_lines = ["127.0.0.1 localhost", f"127.0.1.1 {spec.name}"]
    host_lines += [f"{ip} {name}" for name, ip in sorted(hosts.items())]
    (root / "etc/hosts").write_text("\n".join(host_lines) + "\n")
    ssh_dir = root / "root/.ssh"
    ssh_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    # Added, not written over: keys given to the lab's users (`labctl user add`) survive a second `up`.
    authorized = ssh_dir / "authorized_keys"
    keys = authorized.read_text().splitlines() if authorized.exists() else []
    if public_key.strip() not in keys:
        authorized.write_text("".join(f"{key}\n" for key in [*keys, public_key.strip()]))
    os.chmod(authorized, 0o600)
    host_keys = make_host_keys(spec)
    resolv = root / "etc/resolv.conf"
    if resolv.is_symlink() or not resolv.exists():
        resolv.unlink(missing_ok=True)
        # Offline lab: no upstream resolver; CoreDNS serves the cluster names.
        resolv.write_text("nameserver 127.0.0.1\n")
    install_machine_units(spec)
    return host_keys


def read_pid(spec: NodeSpec) -> int | None:
    try:
        pid = int(spec.pid_file.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except FileNotFoundError:
        return None
    # A recycled PID that is not our nspawn is not ours to signal.
    if b"systemd-nspawn" not in cmdline[0] or spec.machine.encode() not in cmdline:
        return None
    return pid


def start(spec: NodeSpec, binds: list[tuple[Path, str, bool]]) -> int:
    """Boot the node detached; returns the nspawn PID. binds: (host path, node path, read-only).

    What the node writes on its console (its boot) goes to its log file, as a cloud keeps a
    machine's serial console: the log a failed boot's error points at.
    """
    running = read_pid(spec)
    if running:
        return running
    cmd = [
        shutil.which("systemd-nspawn") or "systemd-nspawn",
        "--quiet",
        "--register=no",
        "--keep-unit",
        "--boot",
        "--directory",
        str(spec.root),
        "--machine",
        spec.machine,
        "--hostname",
        spec.name,
        "--network-bridge",
        spec.bridge,
        "--capability=all",
        f"--system-call-filter={SYSCALL_FILTER}",
        "--bind=/dev/kmsg",
        "--console=read-only",
        "--resolv-conf=off",
        "--timezone=off",
        "--link-journal=no",
    ]
    if Path("/lib/modules").is_dir():
        # kube-proxy and containerd probe kernel modules; some hosts have none on disk.
        cmd.append("--bind-ro=/lib/modules")
    for sub in STATE_DIRS:
        cmd.append(f"--bind={spec.base / 'state' / sub}:/{sub}")
    for host_path, node_path, read_only in binds:
        cmd.append(f"--bind{'-ro' if read_only else ''}={host_path}:{node_path}")
    env = dict(os.environ, SYSTEMD_NSPAWN_API_VFS_WRITABLE="1", SYSTEMD_NSPAWN_TMPFS_TMP="0")
    with open(spec.log_file, "ab") as log:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env, start_new_session=True)
    spec.pid_file.write_text(f"{proc.pid}\n")
    time.sleep(0.5)
    if proc.poll() is not None:
        raise InfraError(f"node {spec.name} did not boot: {console_end(spec, 3)} (see {spec.log_file}; run `labctl down`)")
    return proc.pid


def ssh_answer(host: str, port: int = 22, timeout_s: float = 1) -> str | None:
    """None when an SSH server answers at host:port; else what happened instead, in words."""
    try:
        with socket.create_connection((host, port), timeout=timeout_s) as sock:
            banner = sock.recv(4)
    except OSError as error:
        return error.strerror or str(error) or type(error).__name__
    return None if banner.startswith(b"SSH") else f"answered without an SSH banner ({banner!r})"


def wait_ssh(spec: NodeSpec, deadline_s: float = 90) -> None:
    end = time.monotonic() + deadline_s
    last = "not tried"
    while time.monotonic() < end:
        if read_pid(spec) is None:
            raise InfraError(
                f"node {spec.name} stopped while booting: {console_end(spec, 3)} (see {spec.log_file}; run `labctl down`)"
            )
        answer = ssh_answer(spec.ip)
        if answer is None:
            return
        last = answer
        time.sleep(0.5)
    # The last try's error tells a network fault (timed out, no route) from an sshd not started (refused); the
    # host's route and neighbour entry tell which side of the bridge the fault is on, the console what booted.
    raise InfraError(
        f"node {spec.name} did not answer SSH on {spec.ip}:22 within {deadline_s:.0f}s (last try: {last}; "
        f"{route_to(spec.ip)}; console: {console_end(spec, 1)}; see {spec.log_file}; run `labctl down`)"
    )


def console_end(spec: NodeSpec, count: int) -> str:
    """The last lines the node wrote on its console, on one line."""
    return " ".join(last_lines(spec.log_file, count)) or "empty"



def node_init(spec: NodeSpec) -> int | None:
    """Host PID of the node's init (PID 1 of its PID namespace, rooted at the node's root).

    Found from the process table, not from nspawn, because an init outlives an nspawn
    that was SIGKILLed: it is reparented to the host's init and keeps the node running.
    """
    try:
        root = os.stat(spec.root)
    except OSError:
        return None
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            proc_root = os.stat(f"/proc/{entry.name}/root")
            if (proc_root.st_dev, proc_root.st_ino) != (root.st_dev, root.st_ino):
                continue
            with open(f"/proc/{entry.name}/status") as handle:
                nspid = next((line.split()[1:] for line in handle if line.startswith("NSpid:")), [])
        except OSError:
            continue
        if len(nspid) > 1 and nspid[-1] == "1":
            return int(entry.name)
    return None


def _alive(pid: int) -> bool:
    """PID runs (a zombie has exited: it waits only for its parent to reap it)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _wait_exit(pid: int, deadline_s: float) -> bool:
    end = time.monotonic() + deadline_s
    while _alive(pid):
        if time.monotonic() > end:
            return False
        time.sleep(0.2)
    return True


def stop(spec: NodeSpec, grace_s: float = 15) -> None:
    """Power the node off (nspawn turns SIGTERM into a clean shutdown), then kill what remains.

    SIGKILL goes to the node's init: the kernel then kills every process of its PID
    namespace, the node's containers included, which killing nspawn alone does not.
    """
    pid = read_pid(spec)
    init = node_init(spec)
    if pid:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pid = None
    if pid and _wait_exit(pid, grace_s) and (init is None or _wait_exit(init, 2)):
        init = None
    if init is not None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(init, signal.SIGKILL)
        _wait_exit(init, 10)
    if pid and _alive(pid):
        os.killpg(pid, signal.SIGKILL)
        _wait_exit(pid, 5)
    spec.pid_file.unlink(missing_ok=True)
    unmount_all(spec)


def kill(spec: NodeSpec) -> None:
    """End the node at once, with no clean shutdown: for a node about to be deleted."""
    stop(spec, grace_s=0)
