"""How many small labs (1 controller + 1 worker) this host runs at once with their apps available: for each
class size N, build a class of N labs (`labctl class up --small`), leave it idle, probe every lab's apps
(nginx, guestbook read and write, once a second, as a drill's probe does) for --minutes, and print per lab
the apps' availability and longest outage, its memory, and the host's load; then remove the class.

Usage (as root, idle host, bundle built):
  .venv/bin/python benchmarks/class_capacity.py --labs 3 6 --minutes 10 [--parallel 2] [--json FILE]
A class size passes when every lab's apps answered >= 99 % of the probes.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from lab_lifecycle import lab_memory_bytes

from labctl.inventory import load_inventory
from labctl.lab import Lab
from labctl.probe import AvailabilityProbe, app_targets

TARGET_RATIO = 0.99


def labctl_json(*args: str, exit_codes: tuple[int, ...] = (0,)) -> tuple[float, Any]:
    """Seconds labctl ARGS took and what it printed; stops the benchmark on an exit code not in EXIT_CODES."""
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "labctl", *args, "--output", "json"], capture_output=True, text=True)
    if done.returncode not in exit_codes:
        raise SystemExit(f"labctl {' '.join(args)} failed: {done.stderr[-1500:]}")
    return time.monotonic() - started, json.loads(done.stdout)


def probes_for(lab_name: str) -> AvailabilityProbe:
    lab = Lab(lab_name)
    config = lab.load_config()
    host = load_inventory(lab.inventory_path).by_role("controller")[0].ansible_host
    return AvailabilityProbe(app_targets(host, config.apps.nginx.node_port, config.apps.guestbook.node_port, lab_name))


def measure(size: int, minutes: float, parallel: int, name: str) -> dict[str, Any]:
    roster = Path(tempfile.mkdtemp()) / "roster.csv"
    roster.write_text("student\n" + "".join(f"s{i}\n" for i in range(1, size + 1)))
    built_s, summary = labctl_json("class", "up", name, "--roster", str(roster), "--small", "--parallel", str(parallel))
    labs = [row["lab"] for row in summary["labs"] if row["ok"]]
    try:
        if len(labs) < size:
            return {"labs": size, "built_s": round(built_s, 1), "failed_to_build": size - len(labs), "ok": False}
        time.sleep(60)  # settle: the last lab's pods just started
        probes = {lab: probes_for(lab).start() for lab in labs}
        load_before = os.getloadavg()[1]
        time.sleep(minutes * 60)
        results = {lab: probe.stop() for lab, probe in probes.items()}
        rows = [
            {
                "lab": lab,
                "success_ratio": results[lab]["success_ratio"],
                "longest_outage_s": results[lab]["longest_outage_s"],
                "memory_gib": round(lab_memory_bytes(lab) / 2**30, 2),
            }
            for lab in labs
        ]
        return {
            "labs": size,
            "built_s": round(built_s, 1),
            "minutes": minutes,
            "load_5min": round(os.getloadavg()[1], 2),
            "load_5min_before": round(load_before, 2),
            "min_success_ratio": min(r["success_ratio"] or 0 for r in rows),
            "ok": all((r["success_ratio"] or 0) >= TARGET_RATIO for r in rows),
            "per_lab": rows,
        }
    finally:
        labctl_json("class", "down", name, "--yes", "--parallel", str(parallel))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--labs", type=int, nargs="+", default=[3])
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--parallel", type=int, default=2)
    parser.add_argument("--class-name", default="cap")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    measured = []
    for size in args.labs:
        result = measure(size, args.minutes, args.parallel, args.class_name)
        measured.append(result)
        print(f"{size} labs: built in {result['built_s']} s; ", end="")
        if "per_lab" not in result:
            print(f"{result['failed_to_build']} failed to build")
            continue
        print(f"apps available >= {result['min_success_ratio']:.2%} over {args.minutes:g} min on every lab "
              f"({'pass' if result['ok'] else 'FAIL'}); load (5 min) {result['load_5min']}")
        for row in result["per_lab"]:
            print(f"  {row['lab']}: {row['success_ratio']:.2%}, longest outage {row['longest_outage_s']} s, {row['memory_gib']} GiB")
    if args.json:
        args.json.write_text(json.dumps(measured, indent=1))


if __name__ == "__main__":
    main()
