"""Run drills on a fresh --fast-failover lab and print, per drill, the medians of its wall time, its
overhead and its phases; and the suite's wall time.

Overhead is what labctl adds to the fault's own dynamics: the drill's wall time minus the time the
cluster itself needed, from the fault injected to the drill's last recorded instant (recovered,
restarted...), plus the preparation the catalog demands before the fault, where the drill waits on
the cluster (from `preparing` to `prepared`: pods started so the target runs app pods, nginx scaled
to 5 for controller-manager-down). A drill that records no instant (pki-check) is all overhead.

Usage (as root):
  .venv/bin/python benchmarks/drill_suite.py                            # the whole catalog once
  .venv/bin/python benchmarks/drill_suite.py --drills pod-kill --runs 3 # one drill, medians of 3
Options: --lab suite --subnet 10.213.78.0/24 --keep (leave the lab up) --json FILE (every result).
"""

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from labctl.timestamps import parse_iso

PHASES = ("preflight", "inject", "observe", "restore", "verify")


def cluster_s(result: dict[str, Any]) -> float:
    """Seconds the cluster itself took: from `injected` to the latest instant recorded after it, and
    from `preparing` to `prepared` when the drill waited on the cluster before the fault."""
    instants = {k: parse_iso(v) for k, v in ((result.get("timings") or {}).get("instants") or {}).items() if v}
    injected = instants.get("injected")
    fault = 0.0
    if injected is not None:
        fault = max([0.0, *(t - injected for t in instants.values() if t is not None and t >= injected)])
    preparing, prepared = instants.get("preparing"), instants.get("prepared")
    preparation = prepared - preparing if preparing is not None and prepared is not None and prepared >= preparing else 0.0
    return fault + preparation


def phase_s(result: dict[str, Any]) -> dict[str, float]:
    out = {}
    for phase in result.get("phases") or []:
        started, ended = parse_iso(phase.get("started")), parse_iso(phase.get("ended"))
        if started is not None and ended is not None:
            out[phase["name"]] = ended - started
    return out


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lab", default="suite")
    parser.add_argument("--subnet", default="10.213.78.0/24")
    parser.add_argument("--drills", nargs="+", default=["all"])
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="leave the lab running afterwards")
    parser.add_argument("--json", type=Path, help="write every result here")
    args = parser.parse_args()
    config = Path(tempfile.mkdtemp()) / "labctl.yaml"
    config.write_text(f"local:\n  subnet: {args.subnet}\n")
    base = [sys.executable, "-m", "labctl"]
    subprocess.run([*base, "up", "--lab", args.lab, "--config", str(config), "--fast-failover"], check=True)
    by_drill: dict[str, list[dict[str, Any]]] = {}
    suites: list[float] = []
    try:
        for run in range(args.runs):
            started = time.monotonic()
            done = subprocess.run([*base, "drill", *args.drills, "--lab", args.lab, "--output", "json"],
                                  capture_output=True, text=True, check=False)
            suites.append(time.monotonic() - started)
            found = json.loads(done.stdout) if done.stdout.strip() else []
            for result in found if isinstance(found, list) else [found]:
                by_drill.setdefault(result["drill"], []).append(result)
            print(f"run {run + 1}: {len(found) if isinstance(found, list) else 1} result(s), {suites[-1]:.1f} s", file=sys.stderr)
    finally:
        if not args.keep:
            subprocess.run([*base, "down", "--lab", args.lab], check=True)
    print(f"{'drill':<26} {'verdicts':<14} {'wall':>6} {'cluster':>8} {'overhead':>9}  " + " ".join(f"{p:>9}" for p in PHASES))
    for drill, found in by_drill.items():
        walls = [r["duration_s"] for r in found]
        cluster = [cluster_s(r) for r in found]
        phases = [phase_s(r) for r in found]
        verdicts = ",".join(r["verdict"] for r in found)
        overhead = [w - c for w, c in zip(walls, cluster, strict=True)]
        row = f"{drill:<26} {verdicts:<14} {median(walls):6.1f} {median(cluster):8.1f} {median(overhead):9.1f}  "
        row += " ".join(f"{median([p[name] for p in phases if name in p]):9.1f}" for name in PHASES)
        print(row)
    print(f"suite wall: median {median(suites):.1f} s over {len(suites)} run(s): {', '.join(f'{s:.1f}' for s in suites)}")
    if args.json:
        args.json.write_text(json.dumps(by_drill, indent=1))


if __name__ == "__main__":
    main()
