"""pod_watch replays a selector's pods from a resource version: a dip over before the wait began is still seen."""

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any, ClassVar

import kubernetes.watch
import pytest

from labctl import cluster_probes, pod_watch


def _pod(name: str, ready: bool = True, terminating: bool = False, rv: str = "100") -> Any:
    return SimpleNamespace(
        metadata=SimpleNamespace(name=name, resource_version=rv, deletion_timestamp="2026-01-01T00:00:00Z" if terminating else None),
        spec=SimpleNamespace(node_name="worker-1"),
        status=SimpleNamespace(phase="Running", conditions=[SimpleNamespace(type="Ready", status="True" if ready else "False")]),
    )


class FakeCore:
    at_version: ClassVar[list[Any]] = []
    lists: ClassVar[list[dict[str, Any]]] = []

    def __init__(self, api_client: Any) -> None:
        pass

    def list_namespaced_pod(self, namespace: str, **kwargs: Any) -> Any:
        FakeCore.lists.append(kwargs)
        return SimpleNamespace(items=FakeCore.at_version, metadata=SimpleNamespace(resource_version="100"))


class FakeWatch:
    events: ClassVar[list[dict[str, Any]]] = []
    error: ClassVar[Exception | None] = None
    streamed: ClassVar[list[dict[str, Any]]] = []

    def __init__(self) -> None:
        self.stopped = False

    def stream(self, func: Any, *args: Any, **kwargs: Any) -> Iterator[dict[str, Any]]:
        FakeWatch.streamed.append(kwargs)
        for event in FakeWatch.events:
            if self.stopped:
                return
            yield event
        if FakeWatch.error is not None:
            raise FakeWatch.error

    def stop(self) -> None:
        self.stopped = True


@pytest.fixture(autouse=True)
def fake_api(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_client = SimpleNamespace(CoreV1Api=FakeCore)
    monkeypatch.setattr(cluster_probes, "api_clients", lambda kubeconfig, timeout, server=None: (fake_client, object(), timeout))
    monkeypatch.setattr(kubernetes.watch, "Watch", FakeWatch)
    FakeCore.at_version = [_pod("nginx-a"), _pod("nginx-b"), _pod("nginx-c")]
    FakeCore.lists = []
    FakeWatch.events = []
    FakeWatch.error = None
    FakeWatch.streamed = []


def _dipped(observed: Any) -> bool:
    return observed["ready"] <= 2


def test_the_dip_is_seen_in_events_that_came_before_the_wait() -> None:
    FakeWatch.events = [
        {"type": "MODIFIED", "object": _pod("nginx-a", terminating=True, rv="101")},
        {"type": "ADDED", "object": _pod("nginx-d", ready=False, rv="102")},
        {"type": "MODIFIED", "object": _pod("nginx-d", rv="103")},
    ]
    outcome = pod_watch.wait_since("kc", "app=nginx", "default", "100", _dipped, timeout_s=10)
    assert outcome.met
    assert outcome.observed["ready"] == 2
    assert outcome.observed["resource_version"] == "101"
    assert [p["name"] for p in outcome.observed["pods"] if p["terminating"]] == ["nginx-a"]
    assert outcome.polls == 2  # the state at 100, then after the first event; the rest is not read
    assert FakeCore.lists == [
        {"label_selector": "app=nginx", "resource_version": "100", "resource_version_match": "Exact", "_request_timeout": 5.0}
    ]
    assert FakeWatch.streamed[0]["resource_version"] == "100"


def test_a_deleted_pod_leaves_the_state() -> None:
    FakeWatch.events = [{"type": "DELETED", "object": _pod("nginx-b", rv="101")}]
    outcome = pod_watch.wait_since("kc", "app=nginx", "default", "100", lambda o: o["total"] == 2, timeout_s=10)
    assert outcome.met
    assert [p["name"] for p in outcome.observed["pods"]] == ["nginx-a", "nginx-c"]


def test_no_dip_is_not_met() -> None:
    FakeWatch.events = [{"type": "ADDED", "object": _pod("nginx-d", rv="101")}]
    outcome = pod_watch.wait_since("kc", "app=nginx", "default", "100", _dipped, timeout_s=10)
    assert not outcome.met
    assert outcome.at is None
    assert outcome.observed["ready"] == 4


def test_a_state_already_met_at_the_version_needs_no_watch() -> None:
    FakeCore.at_version = [_pod("nginx-a"), _pod("nginx-b", ready=False)]
    outcome = pod_watch.wait_since("kc", "app=nginx", "default", "100", _dipped, timeout_s=10)
    assert outcome.met
    assert FakeWatch.streamed == []


def test_an_expired_version_is_observed_as_the_error() -> None:
    FakeWatch.error = kubernetes.client.ApiException(status=410, reason="Expired: too old resource version")
    outcome = pod_watch.wait_since("kc", "app=nginx", "default", "100", _dipped, timeout_s=10)
    assert not outcome.met
    assert "410" in str(outcome.error)
    assert outcome.observed["ready"] == 3


def test_a_predicate_that_cannot_judge_means_not_yet() -> None:
    FakeWatch.events = [{"type": "MODIFIED", "object": _pod("nginx-a", ready=False, rv="101")}]
    outcome = pod_watch.wait_since("kc", "app=nginx", "default", "100", lambda o: o["ready"] <= "2", timeout_s=10)
    assert not outcome.met


def test_the_pods_probe_reports_the_lists_resource_version(tmp_path: Any) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text("{}")
    probe, _ = cluster_probes.build("pods", {"kubeconfig": str(kubeconfig), "selector": "app=nginx"})
    observed = probe()
    assert observed["resource_version"] == "100"
    assert observed["ready"] == 3
