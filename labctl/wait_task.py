"""What the module labctl.lab.wait does: build the condition, wait, judge the outcome.

Kept in the package, not the module file: under mitogen the module runs in one persistent Python
per host, where this and the Kubernetes client stay imported from one wait to the next."""

from typing import Any

from labctl import cluster_probes
from labctl.wait import wait_until


def run(params: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    """The task's result and, when it fails, why (a setup problem, or a timeout with fail_on_timeout)."""
    try:
        probe, predicate = cluster_probes.build(params["condition"], params)
    except Exception as error:  # noqa: BLE001 - report any setup problem as a task failure
        return {}, str(error)
    if params.get("since_resource_version"):
        if params["condition"] != "pods":
            return {}, "since_resource_version replays pods only: use it with condition pods"
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
        waited = wait_until(probe, predicate, timeout_s=params["timeout"], interval_s=params["interval"], stable_for=params["stable_for"])
    outcome = waited.to_dict()
    outcome.pop("history", None)
    if not outcome["met"] and params["fail_on_timeout"]:
        return outcome, (
            f"{params['condition']} did not reach {params['expect'] or 'the expected state'} within {params['timeout']:.0f}s;"
            f" last observed: {outcome['observed']}"
        )
    return outcome, None
