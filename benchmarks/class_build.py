"""A class of N small labs (N = 1, 2, 3 …) built at once, and `class drill pod-kill` across all of them beside on one:
for each N and run, `labctl class up --small --fast-failover` (wall), then `labctl class drill pod-kill` (wall, and
every lab's verdict), then `labctl class down`. Prints every run and, per N, the medians.

Usage (as root, idle host, bundle built):
  .venv/bin/python benchmarks/class_build.py --labs 1 2 3 --runs 3 [--parallel 2] [--json FILE]
"""

import argparse
import json
import statistics
import tempfile
from pathlib import Path
from typing import Any

from class_capacity import labctl_json


def one_run(size: int, parallel: int, name: str) -> dict[str, Any]:
    roster = Path(tempfile.mkdtemp()) / "roster.csv"
    roster.write_text("student\n" + "".join(f"s{i}\n" for i in range(1, size + 1)))
    try:
        built_s, built = labctl_json("class", "up", name, "--roster", str(roster), "--small", "--fast-failover",
                                     "--parallel", str(parallel))
        # Exit 1 is a lab whose verdict is fail: a figure too.
        drill_s, drilled = labctl_json("class", "drill", name, "pod-kill", exit_codes=(0, 1))
    finally:
        labctl_json("class", "down", name, "--yes", "--parallel", str(parallel))
    return {
        "labs": size,
        "built_s": round(built_s, 1),
        "built_ok": sum(1 for row in built["labs"] if row["ok"]),
        "drill_s": round(drill_s, 1),
        "verdicts": [row["verdict"] for row in drilled["labs"]],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--labs", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--parallel", type=int, default=2)
    parser.add_argument("--class-name", default="cb")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    runs: list[dict[str, Any]] = []
    for size in args.labs:
        for _ in range(args.runs):
            run = one_run(size, args.parallel, args.class_name)
            runs.append(run)
            print(f"{size} labs: class up {run['built_s']} s ({run['built_ok']}/{size} built), "
                  f"class drill pod-kill {run['drill_s']} s, verdicts {', '.join(run['verdicts'])}", flush=True)
    print("medians:")
    for size in args.labs:
        mine = [r for r in runs if r["labs"] == size]
        passed = sum(v == "pass" for r in mine for v in r["verdicts"])
        print(f"  {size} labs: class up {statistics.median(r['built_s'] for r in mine):.1f} s, "
              f"class drill pod-kill {statistics.median(r['drill_s'] for r in mine):.1f} s, "
              f"{passed}/{size * len(mine)} drills passed")
    if args.json:
        args.json.write_text(json.dumps(runs, indent=2))


if __name__ == "__main__":
    main()
