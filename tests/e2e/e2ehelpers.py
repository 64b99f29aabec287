"""Helpers for the end-to-end tests: the lab handle, host snapshots, availability of a local lab."""

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
LAB = "e2e"
SUBNET = "10.213.99.0/24"
HA_LAB = "e2eha"
HA_SUBNET = "10.213.97.0/24"
# Two labs up at once with no subnet configured (test_side_by_side.py).
PAIR = ("pair-a", "pair-b")
# A class of students' labs (test_class.py).
CLASS = "e2ec"
CLASS_LABS = (f"{CLASS}-ann", f"{CLASS}-bob")


def host_snapshot(labs: tuple[str, ...] = (LAB,)) -> dict[str, Any]:
    """What LABS may touch on the host: links, routes, iptables rules, mounts, nspawn processes, node inits."""
    def out(cmd: list[str]) -> list[str]:
        return sorted(subprocess.run(cmd, capture_output=True, text=True).stdout.splitlines())

    links = [line.split(":")[1].strip().split("@")[0] for line in out(["ip", "-o", "link", "show"]) if ":" in line]
    mounts = [line.split()[1] for line in Path("/proc/self/mounts").read_text().splitlines()]
    nspawn = [p.name for p in Path("/proc").iterdir()
              if p.name.isdigit() and _cmd(p).startswith("systemd-nspawn") and any(f"{lab}-" in _cmd(p) for lab in labs)]
    snapshot = {
        "links": sorted(links),
        "routes": out(["ip", "-4", "route", "show"]),
        "iptables": out(["iptables", "-S"]),
        "mounts": sorted(m for m in mounts if "labctl" in m),
        "nspawn": sorted(nspawn),
        "node_inits": node_inits(),
    }
    # Other labs on the same host (a developer's, say) come and go on their own.
    other_lab = other_labs_pattern(labs)
    return {key: [item for item in items if not other_lab.search(item)] for key, items in snapshot.items()}


def node_inits() -> list[str]:
    """Every node init on the host, by its node's directory in a lab (the source of its state binds).

    An init that outlives its nspawn keeps a node running after `down`: the nspawn list
    does not show it.
    """
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            status = (proc / "status").read_text().splitlines()
            nspid = next((line.split()[1:] for line in status if line.startswith("NSpid:")), [])
            if len(nspid) != 2 or nspid[-1] != "1":
                continue
            sources = [line.split()[3] for line in (proc / "mountinfo").read_text().splitlines()]
        except OSError:
            continue
        found += sorted({m.group(0) for m in map(re.compile(r".*/labs/[^/]+/nodes/[^/]+").match, sources) if m})
    return sorted(found)


def other_labs_pattern(labs: tuple[str, ...]) -> re.Pattern[str]:
    """What names a lab other than LABS: its bridge, its node veths, its state directory, its rule comments."""
    ours = "|".join(re.escape(lab) for lab in labs)
    return re.compile(rf"\blc-(?!(?:{ours})\b)[a-z0-9-]+|\bvb-(?!(?:{ours})-)[a-z0-9]+-|/labs/(?!(?:{ours})/)|labctl:(?!(?:{ours})\b)")


def _cmd(proc: Path) -> str:
    try:
        return (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


@dataclass
class E2ELab:
    name: str
    home: Path
    up_summary: dict[str, Any]

    def run(self, *args: str, timeout: float = 900, check: bool = False) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "LABCTL_HOME": str(self.home), "COLUMNS": "200"}
        # --lab right after the command: anything after `--` belongs to ssh/kubectl.
        split = 2 if args[:1] == ("bundle",) else 1
        argv = [*args[:split], "--lab", self.name, *args[split:]]
        done = subprocess.run([sys.executable, "-m", "labctl", *argv], capture_output=True, text=True,
                              env=env, timeout=timeout, cwd=REPO)
        if check and done.returncode != 0:
            raise AssertionError(f"labctl {' '.join(args)} exited {done.returncode}: {done.stderr[-2000:]}")
        return done

    def json(self, *args: str, timeout: float = 900) -> Any:
        done = self.run(*args, "--output", "json", timeout=timeout)
        try:
            return json.loads(done.stdout)
        except ValueError:
            raise AssertionError(f"labctl {' '.join(args)} printed no JSON (exit {done.returncode}): {done.stderr[-2000:]}") from None

    def drill(self, drill_id: str, *extra: str, timeout: float = 900) -> dict[str, Any]:
        result = self.json("drill", drill_id, *extra, timeout=timeout)
        assert isinstance(result, dict), result
        return result


def stale_labs(pytest_root: Path) -> list[tuple[str, Path]]:
    """(lab, LABCTL_HOME) of the e2e labs earlier test sessions left running."""
    return sorted((state.parent.name, state.parents[2]) for name in (LAB, HA_LAB, *PAIR, *CLASS_LABS)
                  for state in pytest_root.glob(f"pytest-*/labctl-home*/labs/{name}/state.json"))


def lab_unavailable() -> str | None:
    if os.geteuid() != 0:
        return "end-to-end tests need root (systemd-nspawn nodes)"
    if shutil.which("systemd-nspawn") is None:
        return "systemd-nspawn missing: run scripts/setup.sh"
    from labctl.bundle import status
    from labctl.config import DEFAULT_KUBERNETES_VERSION

    missing = [c["name"] for c in status(DEFAULT_KUBERNETES_VERSION)["components"] if not c["present"]]
    if missing:
        return f"offline bundle incomplete ({', '.join(missing[:4])}): run `labctl bundle build`"
    return None


