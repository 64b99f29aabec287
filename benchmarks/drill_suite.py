"""Run the whole drill catalog on a fresh --fast-failover lab and print each drill's duration and the suite's.

Usage (as root): .venv/bin/python benchmarks/drill_suite.py [--lab suite] [--subnet 10.213.78.0/24] [--keep]
"""

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lab", default="suite")
    parser.add_argument("--subnet", default="10.213.78.0/24")
    parser.add_argument("--keep", action="store_true", help="leave the lab running afterwards")
    args = parser.parse_args()
    config = Path(tempfile.mkdtemp()) / "labctl.yaml"
    config.write_text(f"local:\n  subnet: {args.subnet}\n")
    base = [sys.executable, "-m", "labctl"]
    subprocess.run([*base, "up", "--lab", args.lab, "--config", str(config), "--fast-failover"], check=True)
    started = time.monotonic()
    done = subprocess.run([*base, "drill", "all", "--lab", args.lab, "--output", "json"], capture_output=True, text=True)
    suite_s = time.monotonic() - started
    results = json.loads(done.stdout) if done.stdout.strip() else []
    for r in results:
        print(f"{r['drill']:<26} {r['verdict']:<6} {r['duration_s']:7.1f} s  availability {r['availability']['success_ratio']}")
    print(f"suite: {len(results)} drills, {sum(r['verdict'] == 'pass' for r in results)} pass, {suite_s:.0f} s (target <= 900 s)")
    if not args.keep:
        subprocess.run([*base, "down", "--lab", args.lab], check=True)


if __name__ == "__main__":
    main()
