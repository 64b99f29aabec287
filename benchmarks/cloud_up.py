"""`labctl up aws --offline` on the emulated AWS beside a local `up`: wall time and time per phase.

Usage (as root): .venv/bin/python benchmarks/cloud_up.py [--runs 3] [--subnet 10.213.78.0/24]
Each run: up (cloud), down; up (local), down. Prints every run and the medians per phase
(provision = machines until they answer, install = cluster.yml, apps_and_proofs = apps.yml).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests" / "e2e"))

from cloudharness import cloud_env, emulated_cloud  # noqa: E402

PHASES = ("provision", "install", "apps_and_proofs")


def up_and_down(env: dict[str, str], lab: str, *up_args: str) -> dict[str, Any]:
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "labctl", "up", *up_args, "--lab", lab, "--output", "json"], env=env,
                          capture_output=True, text=True, cwd=REPO)
    wall = time.monotonic() - started
    subprocess.run([sys.executable, "-m", "labctl", "down", "--lab", lab, "--yes"], env=env, capture_output=True, cwd=REPO)
    if done.returncode != 0:
        raise SystemExit(f"labctl up {' '.join(up_args)} failed: {done.stderr[-1500:]}")
    summary = json.loads(done.stdout)
    return {"wall": round(wall, 1), **summary["phases"]}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--subnet", default="10.213.78.0/24")
    args = parser.parse_args()
    home = tempfile.mkdtemp(prefix="labctl-bench-")
    config = Path(home) / "labctl.yaml"
    config.write_text(f"local:\n  subnet: {args.subnet}\n")
    rows: dict[str, list[dict[str, Any]]] = {"aws (emulated)": [], "local": []}
    with emulated_cloud("aws") as cloud:
        aws_env = cloud_env(cloud, home)
        local_env = {**os.environ, "LABCTL_HOME": home}
        for run in range(1, args.runs + 1):
            rows["aws (emulated)"].append(
                up_and_down(aws_env, "benchaws", "aws", "--offline", "--yes", "--allow-from", cloud.operator_cidr)
            )
            rows["local"].append(up_and_down(local_env, "benchlocal", "--config", str(config)))
            for name, runs in rows.items():
                print(f"run {run} {name}: " + ", ".join(f"{k} {v:.1f} s" for k, v in runs[-1].items()), flush=True)
    print(f"\nmedians of {args.runs} (seconds)")
    print(f"{'':16}" + "".join(f"{p:>17}" for p in ("wall", *PHASES)))
    for name, runs in rows.items():
        print(f"{name:16}" + "".join(f"{statistics.median(r[p] for r in runs):>17.1f}" for p in ("wall", *PHASES)))


if __name__ == "__main__":
    main()
