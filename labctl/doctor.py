"""`labctl doctor`: can this host run a lab? Each failed check names its fix."""

import os
import shutil
from pathlib import Path
from typing import Any

from labctl.paths import HOME_FIX, data_home, data_home_problem

MIN_FREE_DISK_GIB = 10
MIN_FREE_MEMORY_GIB = 4


def _check(name: str, ok: bool, detail: str, fix: str) -> dict[str, Any]:
    return {"name": name, "ok": ok, "detail": detail, "fix": fix}


def _mem_available_gib() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) / 1024 / 1024
    return 0.0


def _cgroup_controllers() -> set[str]:
    root = Path("/sys/fs/cgroup")
    found = {p.name for p in root.iterdir()} if root.is_dir() else set()
    controllers = Path("/sys/fs/cgroup/cgroup.controllers")
    if controllers.exists():
        found |= set(controllers.read_text().split())
    return found


def data_home_check() -> dict[str, Any]:
    home = data_home()
    problem = data_home_problem(home)
    return _check("data directory", problem is None, problem or f"{home} is writable", HOME_FIX)


def bundle_check() -> dict[str, Any]:
    from labctl.bundle import missing_for_a_lab, status
    from labctl.config import DEFAULT_KUBERNETES_VERSION

    report = status(DEFAULT_KUBERNETES_VERSION)
    missing = missing_for_a_lab(report)
    needed = missing_for_a_lab({"components": [{**c, "present": False} for c in report["components"]]})
    if len(missing) == len(needed):
        detail = f"missing: nothing built at {report['path']}"
    elif missing:
        detail = f"incomplete at {report['path']} (missing: {', '.join(missing[:6])}{'…' if len(missing) > 6 else ''})"
    else:
        detail = f"complete at {report['path']}"
    fix = "labctl bundle build (about 30 minutes on 2 cores), or labctl bundle fetch on a machine with internet"
    return _check("offline bundle", not missing, detail, fix)


def local_checks() -> list[dict[str, Any]]:
    checks = [
        _check("root", os.geteuid() == 0, f"running as uid {os.geteuid()}", "run labctl as root (sudo -E labctl …)"),
        _check(
            "systemd-nspawn",
            shutil.which("systemd-nspawn") is not None,
            shutil.which("systemd-nspawn") or "not found",
            "apt-get install systemd-container",
        ),
    ]
    for tool, package in (
        ("ip", "iproute2"),
        ("iptables", "iptables"),
        ("ssh", "openssh-client"),
        ("ssh-keygen", "openssh-client"),
        ("tar", "tar"),
        ("zstd", "zstd"),
    ):
        found = shutil.which(tool)
        checks.append(_check(f"tool {tool}", found is not None, found or "not found", f"apt-get install {package}"))
    filesystems = Path("/proc/filesystems").read_text()
    checks.append(
        _check(
            "overlayfs",
            "overlay" in filesystems,
            "overlay in /proc/filesystems" if "overlay" in filesystems else "missing",
            "load the overlay module (modprobe overlay)",
        )
    )
    checks.append(
        _check(
            "bridge netfilter", Path("/proc/sys/net/bridge").is_dir(), "/proc/sys/net/bridge", "load br_netfilter (modprobe br_netfilter)"
        )
    )
    controllers = _cgroup_controllers()
    needed = {"cpu", "memory", "pids"}
    missing = needed - controllers
    checks.append(
        _check(
            "cgroup controllers",
            not missing,
            ", ".join(sorted(controllers & (needed | {"cpuset", "devices", "freezer"}))),
            f"enable the {', '.join(sorted(missing))} cgroup controller(s)",
        )
    )
    home = data_home()
    probe_dir = home if home.is_dir() else Path(home.anchor)
    free_gib = shutil.disk_usage(probe_dir).free / 1024**3
    checks.append(
        _check(
            "free disk",
            free_gib >= MIN_FREE_DISK_GIB,
            f"{free_gib:.0f} GiB free at {probe_dir}",
            f"free at least {MIN_FREE_DISK_GIB} GiB or set LABCTL_HOME to a larger disk",
        )
    )
    mem = _mem_available_gib()
    checks.append(
        _check(
            "free memory",
            mem >= MIN_FREE_MEMORY_GIB,
            f"{mem:.1f} GiB available",
            f"a lab needs about 3 GiB: free at least {MIN_FREE_MEMORY_GIB} GiB",
        )
    )
    checks.append(data_home_check())
    checks.append(bundle_check())
    return checks


def cloud_checks(provider: str) -> list[dict[str, Any]]:
    checks = [
        _check("ssh", shutil.which("ssh") is not None, shutil.which("ssh") or "not found", "apt-get install openssh-client"),
        data_home_check(),
    ]
    if provider == "aws":
        has_creds = bool(
            os.environ.get("AWS_ACCESS_KEY_ID") or os.environ.get("AWS_PROFILE") or Path("~/.aws/credentials").expanduser().exists()
        )
        checks.append(
            _check(
                "AWS credentials",
                has_creds,
                "found" if has_creds else "none in the environment or ~/.aws",
                "export AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY",
            )
        )
    if provider == "openstack":
        paths = [Path("clouds.yaml"), Path("~/.config/openstack/clouds.yaml").expanduser(), Path("/etc/openstack/clouds.yaml")]
        env_file = os.environ.get("OS_CLIENT_CONFIG_FILE")
        found = [str(p) for p in paths if p.exists()] + ([env_file] if env_file and Path(env_file).exists() else [])
        checks.append(
            _check(
                "clouds.yaml",
                bool(found),
                found[0] if found else "not found",
                "write ~/.config/openstack/clouds.yaml or set OS_CLIENT_CONFIG_FILE",
            )
        )
    return checks


def run_checks(provider: str = "local") -> list[dict[str, Any]]:
    from labctl.config import PROVIDERS
    from labctl.errors import UsageError

    if provider not in PROVIDERS:
        raise UsageError(f"unknown provider '{provider}': valid providers are {', '.join(PROVIDERS)}")
    return local_checks() if provider == "local" else cloud_checks(provider)


def failed_checks(provider: str) -> list[dict[str, Any]]:
    return [c for c in run_checks(provider) if not c["ok"]]
