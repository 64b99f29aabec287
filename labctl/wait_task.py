"""What the module labctl.lab.wait does: build the condition, wait, judge the outcome.

Kept in the package, not the module file: under mitogen the module runs in one persistent Python
per host, where this and the Kubernetes client stay imported from one wait to the next."""

from pathlib import Path
from typing import Any

from labctl import cluster_probes
from labctl.cluster_probes import Probe
from labctl.wait import wait_until


def run(params: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    """The task's result and, when it fails, why (a setup problem, or a timeout with fail_on_timeout)."""
    try:
        probe, predicate = cluster_probes.build(params["condition"], params)
    except Exception as error:  # noqa: BLE001 - report any setup problem as a task failure
        return {}, str(error)
    if params.get("started_file"):
        probe = _announcing_first_poll(probe, Path(params["started_file"]))
    if params.get("since_resource_version"):
        if params["condition"] != "pods":
            return {}, "since_resource_version replays pods only: use it with condition pods"
        if params.get("started_file") or params.get("stop_file"):
            return {}, "since_resource_version replays a history: started_file and stop_file belong to polling waits"
        from labctl.pod_watch import wait_since

        waited = wait_since(
            params["kubeconfig"],
            params.get("selector") or "",
            params.get("namespace") or "default",
            params["since_resource_version"],
            predicate,
            timeout_s=params["timeout"],
        )
    else:
        stop_file = Path(params["stop_file"]) if params.get("stop_file") else None
        waited = wait_until(probe, predicate, timeout_s=params["timeout"], interval_s=params["interval"], stable_for=params["stable_for"],
                            stop=(lambda: _told_to_stop(stop_file)) if stop_file else None)
    outcome = waited.to_dict()
    outcome.pop("history", None)
    if not outcome["met"] and not outcome.get("stopped") and params["fail_on_timeout"]:
        return outcome, (
            f"{params['condition']} did not reach {params['expect'] or 'the expected state'} within {params['timeout']:.0f}s;"
            f" last observed: {outcome['observed']}"
        )
    return outcome, None


def _announcing_first_poll(probe: Probe, started_file: Path) -> Probe:
    """A wait started in the background (async) says when its first poll has answered, so the task that
    breaks something waits for the watch instead of a guessed pause."""
    announced = False

    def probe_then_announce() -> Any:
        nonlocal announced
        try:
            return probe()
        finally:
            # A first poll that failed (an API refusing) is a poll too: the watch is running.
            if not announced:
                started_file.touch()
                announced = True

    return probe_then_announce


def _told_to_stop(stop_file: Path) -> bool:
    """The stop file exists, or its directory is gone: whoever owned the watch (a drill's restore) has moved on."""
    return stop_file.exists() or not stop_file.parent.is_dir()
