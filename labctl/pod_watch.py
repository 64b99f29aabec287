"""Wait for a pods state by replaying the API's events from a resource version.

A poll only sees the instants it happens to sample; a dip that lasts a second
(one replica of three gone before its replacement is Ready) is missed by a poll
that starts late, and a loaded host starts everything late. The API keeps the
history instead: list the pods as they were at a resource version taken before
the fault, then apply every later event in order and judge the state after each.
The wait can then start after the fault and still see the whole of it.
"""

import time
from collections.abc import Callable
from typing import Any

from labctl import cluster_probes
from labctl.cluster_probes import pod_entry, pods_summary
from labctl.timestamps import iso
from labctl.wait import WaitOutcome


def wait_since(
    kubeconfig: str,
    selector: str,
    namespace: str,
    resource_version: str,
    predicate: Callable[[Any], bool],
    *,
    timeout_s: float,
    clock: Callable[[], float] = time.time,
) -> WaitOutcome:
    """Replay SELECTOR's pods from RESOURCE_VERSION until PREDICATE holds on the state after an event.

    `at` is when the event that met it was read (for a replayed event, that can
    be after it happened); `polls` counts the states judged.
    """
    started = clock()
    judged = 0

    def holds(observed: Any) -> bool:
        try:
            return bool(predicate(observed))
        except Exception:  # noqa: BLE001 - a predicate that cannot judge means "not yet"
            return False

    def outcome(met: bool, observed: Any, error: str | None = None) -> WaitOutcome:
        at = iso(clock()) if met else None
        return WaitOutcome(met, observed, at, iso(started) or "", round(clock() - started, 3), judged, error)

    try:
        # Exact: the state as it was then, not as it is now.
        listed = cluster_probes.kube_client(kubeconfig, 5.0).list_pods(
            namespace, selector, resourceVersion=resource_version, resourceVersionMatch="Exact"
        )
    except Exception as error:  # noqa: BLE001 - a failed list is what was observed
        message = f"{error.__class__.__name__}: {error}"
        return outcome(False, {"error": message}, message)
    pods = {p["metadata"]["name"]: pod_entry(p) for p in listed["items"]}
    observed = pods_summary(sorted(pods.values(), key=lambda p: p["name"]), resource_version)
    judged += 1
    if holds(observed):
        return outcome(True, observed)

    remaining = timeout_s - (clock() - started)
    try:
        events = cluster_probes.kube_client(kubeconfig, 5.0).watch_pods(
            namespace, selector, max(1, int(remaining)), resourceVersion=resource_version, allowWatchBookmarks="false"
        )
        for event in events:
            pod = event.get("object") or {}
            if event.get("type") == "ERROR":
                # e.g. 410 Gone: the version is older than the API server keeps
                message = f"watch error {pod.get('code', '?')}: {pod.get('message', '')}"
                return outcome(False, {**observed, "error": message}, message)
            if event.get("type") == "DELETED":
                pods.pop(pod["metadata"]["name"], None)
            else:
                pods[pod["metadata"]["name"]] = pod_entry(pod)
            observed = pods_summary(sorted(pods.values(), key=lambda p: p["name"]), pod["metadata"].get("resourceVersion"))
            judged += 1
            if holds(observed):
                return outcome(True, observed)
            if clock() - started > timeout_s:
                break
    except Exception as error:  # noqa: BLE001 - a broken or expired watch is what was observed
        message = f"{error.__class__.__name__}: {error}"
        return outcome(False, {**observed, "error": message}, message)
    return outcome(False, observed)
