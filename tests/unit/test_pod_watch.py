"""pod_watch replays a selector's pods from a resource version: a dip over before the wait began is still seen."""

from typing import Any

import pytest
from fake_apiserver import FakeApiServer

from labctl import cluster_probes, pod_watch

PODS = "/api/v1/namespaces/default/pods"


def _pod(name: str, ready: bool = True, terminating: bool = False, rv: str = "100") -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name, "resourceVersion": rv, "labels": {"app": "nginx"}}
    if terminating:
        metadata["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    return {
        "metadata": metadata,
        "spec": {"nodeName": "worker-1"},
        "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True" if ready else "False"}]},
    }


class Api:
    """The pods as they were at resource version 100, and the events after it."""

    def __init__(self, server: FakeApiServer) -> None:
        self.server = server
        self.kubeconfig = str(server.kubeconfig)
        self.at_version(_pod("nginx-a"), _pod("nginx-b"), _pod("nginx-c"))

    def at_version(self, *pods: dict[str, Any]) -> None:
        self.server.routes[PODS] = {"kind": "PodList", "metadata": {"resourceVersion": "100"}, "items": list(pods)}

    def events(self, *events: dict[str, Any]) -> None:
        self.server.watches[PODS] = list(events)

    def lists(self) -> list[dict[str, str]]:
        return [q for path, q in self.server.requests if path == PODS and q.get("watch") != "true"]

    def watches(self) -> list[dict[str, str]]:
        return [q for path, q in self.server.requests if path == PODS and q.get("watch") == "true"]


@pytest.fixture
def api(apiserver: FakeApiServer) -> Api:
    return Api(apiserver)


def _dipped(observed: Any) -> bool:
    return observed["ready"] <= 2


def test_the_dip_is_seen_in_events_that_came_before_the_wait(api: Api) -> None:
    api.events(
        {"type": "MODIFIED", "object": _pod("nginx-a", terminating=True, rv="101")},
        {"type": "ADDED", "object": _pod("nginx-d", ready=False, rv="102")},
        {"type": "MODIFIED", "object": _pod("nginx-d", rv="103")},
    )
    outcome = pod_watch.wait_since(api.kubeconfig, "app=nginx", "default", "100", _dipped, timeout_s=10)
    assert outcome.met
    assert outcome.observed["ready"] == 2
    assert outcome.observed["resource_version"] == "101"
    assert [p["name"] for p in outcome.observed["pods"] if p["terminating"]] == ["nginx-a"]
    assert outcome.polls == 2  # the state at 100, then after the first event; the rest is not read
    assert api.lists() == [{"labelSelector": "app=nginx", "resourceVersion": "100", "resourceVersionMatch": "Exact"}]
    assert api.watches()[0]["resourceVersion"] == "100"
    assert api.watches()[0]["labelSelector"] == "app=nginx"


def test_a_deleted_pod_leaves_the_state(api: Api) -> None:
    api.events({"type": "DELETED", "object": _pod("nginx-b", rv="101")})
    outcome = pod_watch.wait_since(api.kubeconfig, "app=nginx", "default", "100", lambda o: o["total"] == 2, timeout_s=10)
    assert outcome.met
    assert [p["name"] for p in outcome.observed["pods"]] == ["nginx-a", "nginx-c"]


def test_no_dip_is_not_met(api: Api) -> None:
    api.events({"type": "ADDED", "object": _pod("nginx-d", rv="101")})
    outcome = pod_watch.wait_since(api.kubeconfig, "app=nginx", "default", "100", _dipped, timeout_s=10)
    assert not outcome.met
    assert outcome.at is None
    assert outcome.observed["ready"] == 4


def test_a_state_already_met_at_the_version_needs_no_watch(api: Api) -> None:
    api.at_version(_pod("nginx-a"), _pod("nginx-b", ready=False))
    outcome = pod_watch.wait_since(api.kubeconfig, "app=nginx", "default", "100", _dipped, timeout_s=10)
    assert outcome.met
    assert api.watches() == []


def test_an_expired_version_is_observed_as_the_error(api: Api) -> None:
    api.events({"type": "ERROR", "object": {"kind": "Status", "code": 410, "message": "too old resource version: 100 (250)"}})
    outcome = pod_watch.wait_since(api.kubeconfig, "app=nginx", "default", "100", _dipped, timeout_s=10)
    assert not outcome.met
    assert "410" in str(outcome.error)
    assert outcome.observed["ready"] == 3


def test_a_list_the_api_refuses_is_observed_as_the_error(api: Api) -> None:
    api.server.routes[PODS] = (410, {"kind": "Status", "code": 410, "message": "resourceVersion too old"})
    outcome = pod_watch.wait_since(api.kubeconfig, "app=nginx", "default", "100", _dipped, timeout_s=10)
    assert not outcome.met
    assert "resourceVersion too old" in str(outcome.error)


def test_a_predicate_that_cannot_judge_means_not_yet(api: Api) -> None:
    api.events({"type": "MODIFIED", "object": _pod("nginx-a", ready=False, rv="101")})
    outcome = pod_watch.wait_since(api.kubeconfig, "app=nginx", "default", "100", lambda o: o["ready"] <= "2", timeout_s=10)
    assert not outcome.met


def test_the_pods_probe_reports_the_lists_resource_version(api: Api) -> None:
    probe, _ = cluster_probes.build("pods", {"kubeconfig": api.kubeconfig, "selector": "app=nginx"})
    observed = probe()
    assert observed["resource_version"] == "100"
    assert observed["ready"] == 3
