"""benchmarks/drill_suite.py's split of a drill's wall time into the cluster's own time and labctl's overhead."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

from drill_suite import cluster_s


def _result(**instants: str) -> dict[str, object]:
    return {"timings": {"instants": {k: f"2026-12-06T07:00:{v}Z" for k, v in instants.items()}}}


def test_the_cluster_time_runs_from_the_fault_to_the_last_instant_after_it() -> None:
    assert cluster_s(_result(injected="10.000", detected="30.000", recovered="41.500")) == 31.5
    assert cluster_s(_result()) == 0.0


def test_a_preparation_waited_on_before_the_fault_counts_as_the_clusters() -> None:
    timed = _result(preparing="01.000", prepared="04.500", injected="10.000", recovered="12.000")
    assert cluster_s(timed) == 5.5
    # Only a finished preparation counts: a drill that never saw it done is all overhead before the fault.
    assert cluster_s(_result(preparing="01.000", injected="10.000", recovered="12.000")) == 2.0
