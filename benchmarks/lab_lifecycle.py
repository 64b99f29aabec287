"""Time `labctl up` (cold, bundle built), a second `up`, `down`, and the running lab's memory.

Usage (as root): .venv/bin/python benchmarks/lab_lifecycle.py [--runs 3] [--lab bench] [--subnet 10.213.77.0/24]
                 [--timings] [--controllers 3] [--reconcile]
Prints each run and the medians. Memory is the summed PSS of every process inside the lab's nodes.
--timings adds each run's profile of the first `up` (`labctl up --timings`) and each phase's median.
--controllers 3 measures the HA topology (3 controllers, the load balancer, 2 workers).
--reconcile also times `up --reconcile` after the second `up` and prints what it changed (nothing, expected).
"""

import argparse
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil


def labctl(*args: str) -> float:
    return labctl_output(*args)[0]


def labctl_output(*args: str) -> tuple[float, str]:
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "labctl", *args], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"labctl {' '.join(args)} failed: {done.stderr[-1500:]}")
    return time.monotonic() - started, done.stdout


def phase_medians(profiles: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Each phase's median wall, waiting and Ansible seconds over the runs (0 in a run that lacked it)."""
    names = list(dict.fromkeys(p["phase"] for profile in profiles for p in profile["phases"]))
    medians: dict[str, dict[str, float]] = {}
    for name in names:
        rows = [next((p for p in profile["phases"] if p["phase"] == name), None) for profile in profiles]
        keys = ("seconds", "waiting_s", "ansible_s", "labctl_s")
        medians[name] = {key: round(statistics.median(r[key] if r else 0.0 for r in rows), 1) for key in keys}
    return medians


def lab_memory_bytes(lab: str) -> int:
    """PSS of every process descended from the lab's nspawn processes (the nodes and all they run)."""
    # The machine name is <lab>-<node>; lab names may hold '-' themselves (a class's <class>-<student>).
    machine = re.compile(rf"^{re.escape(lab)}-(controller|worker)-\d+$")
    roots = [
        p
        for p in psutil.process_iter(["cmdline"])
        if p.info["cmdline"]
        and "systemd-nspawn" in p.info["cmdline"][0]
        and any(machine.match(arg) for arg in p.info["cmdline"])
    ]
    total = 0
    for root in roots:
        for proc in [root, *root.children(recursive=True)]:
            try:
                total += proc.memory_full_info().pss
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
    return total


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--lab", default="bench")
    parser.add_argument("--subnet", default="10.213.77.0/24")
    parser.add_argument("--timings", action="store_true", help="Profile each first up and print each phase's median.")
    parser.add_argument("--controllers", type=int, default=1)
    parser.add_argument("--reconcile", action="store_true", help="Also time `up --reconcile` with nothing changed.")
    args = parser.parse_args()
    config = Path(tempfile.mkdtemp()) / "labctl.yaml"
    config.write_text(f"local:\n  subnet: {args.subnet}\ntopology:\n  controllers: {args.controllers}\n")
    rows = []
    profiles: list[dict[str, Any]] = []
    for run in range(1, args.runs + 1):
        if args.timings:
            up, out = labctl_output("up", "--lab", args.lab, "--config", str(config), "--timings", "--output", "json")
            profiles.append(json.loads(out)["profile"])
            print("profile " + json.dumps(profiles[-1]), flush=True)
        else:
            up = labctl("up", "--lab", args.lab, "--config", str(config))
        time.sleep(5)
        memory = lab_memory_bytes(args.lab)
        again = labctl("up", "--lab", args.lab)
        row = {"run": run, "up_s": round(up, 1), "re_up_s": round(again, 1)}
        if args.reconcile:
            reconcile, out = labctl_output("up", "--lab", args.lab, "--reconcile", "--output", "json")
            row |= {"reconcile_s": round(reconcile, 1), "reconcile_changed": json.loads(out)["changed"]}
        down = labctl("down", "--lab", args.lab)
        rows.append(row | {"down_s": round(down, 1), "memory_gib": round(memory / 2**30, 2)})
        print(json.dumps(rows[-1]), flush=True)
    timed = ["up_s", "re_up_s", *(["reconcile_s"] if args.reconcile else []), "down_s", "memory_gib"]
    medians = {k: statistics.median(r[k] for r in rows) for k in timed}
    print("median " + json.dumps(medians))
    if profiles:
        for name, median in phase_medians(profiles).items():
            print(f"median phase {name}: " + json.dumps(median))
    print("targets (issue #13): up <= 60 s (HA <= 90 s), re-up <= 5 s, up --reconcile <= 60 s, down <= 5 s, memory <= 1.2 GiB")


if __name__ == "__main__":
    main()
