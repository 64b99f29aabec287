"""The node_pods wait condition (worker drills): pods split by node, judged with dotted expect keys."""

from typing import Any

import pytest
from fake_apiserver import FakeApiServer

from labctl import cluster_probes
from labctl.errors import UsageError


def _pod(name: str, node: str, phase: str = "Running", ready: bool = True, terminating: bool = False) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name}
    if terminating:
        metadata["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    return {
        "metadata": metadata,
        "spec": {"nodeName": node} if node else {},
        "status": {"phase": phase, "conditions": [{"type": "Ready", "status": "True" if ready else "False"}]},
    }


PODS = "/api/v1/namespaces/default/pods"


class Pods:
    def __init__(self, api: FakeApiServer) -> None:
        self.api = api

    def set(self, *pods: dict[str, Any]) -> None:
        self.api.routes[PODS] = {"kind": "PodList", "metadata": {"resourceVersion": "7"}, "items": list(pods)}

    def selectors(self) -> list[str | None]:
        return [query.get("labelSelector") for path, query in self.api.requests if path == PODS]


@pytest.fixture
def pods(apiserver: FakeApiServer) -> Pods:
    return Pods(apiserver)


@pytest.fixture
def fake_api(apiserver: FakeApiServer) -> str:
    return str(apiserver.kubeconfig)


def test_node_pods_splits_by_node(fake_api: str, pods: Pods) -> None:
    pods.set(
        _pod("nginx-a", "worker-2"),
        _pod("nginx-b", "worker-2", ready=False),
        _pod("nginx-c", "worker-1"),
        _pod("nginx-d", "worker-2", terminating=True),
        _pod("nginx-e", ""),  # not scheduled: on no node
        _pod("nginx-f", "worker-1", phase="Pending", ready=False),
    )
    probe, _ = cluster_probes.build("node_pods", {"kubeconfig": fake_api, "names": ["worker-2"], "selector": "app=nginx"})
    observed = probe()
    assert observed["on_nodes"] == {"total": 2, "running": 2, "ready": 1, "terminating": 1, "pods": ["nginx-a", "nginx-b"]}
    assert observed["elsewhere"] == {"total": 2, "running": 1, "ready": 1, "terminating": 0, "pods": ["nginx-c", "nginx-f"]}
    assert pods.selectors() == ["app=nginx"]


def test_node_pods_dotted_expectations(fake_api: str, pods: Pods) -> None:
    pods.set(_pod("a", "worker-2", terminating=True), _pod("b", "worker-1"), _pod("c", "worker-1"))
    params = {"kubeconfig": fake_api, "names": ["worker-2"], "expect": {"on_nodes.total_at_most": 0, "elsewhere.ready_at_least": 2}}
    probe, predicate = cluster_probes.build("node_pods", params)
    assert predicate(probe())
    params["expect"] = {"on_nodes.terminating_at_most": 0}
    probe, predicate = cluster_probes.build("node_pods", params)
    assert not predicate(probe())


def test_node_pods_without_selector_lists_all(fake_api: str, pods: Pods) -> None:
    pods.set()
    probe, predicate = cluster_probes.build("node_pods", {"kubeconfig": fake_api, "names": ["worker-1"], "expect": {"on_nodes.total": 0}})
    assert predicate(probe())
    assert pods.selectors() == [None]


def test_node_pods_needs_names(fake_api: str) -> None:
    with pytest.raises(UsageError, match="needs names"):
        cluster_probes.build("node_pods", {"kubeconfig": fake_api})


def test_node_pods_error_observation_is_unmet(fake_api: str) -> None:
    _, predicate = cluster_probes.build("node_pods", {"kubeconfig": fake_api, "names": ["w"], "expect": {}})
    assert not predicate({"error": "connection refused"})


def test_a_pods_observation_names_each_pods_owner(fake_api: str, pods: Pods) -> None:
    owned = _pod("nginx-7d9-abc", "worker-1")
    owned["metadata"]["ownerReferences"] = [{"kind": "ReplicaSet", "name": "nginx-7d9"}]
    pods.set(owned, _pod("static", "worker-2"))
    probe, _ = cluster_probes.build("pods", {"kubeconfig": fake_api, "expect": {}})
    assert {p["name"]: p["owner"] for p in probe()["pods"]} == {"nginx-7d9-abc": "nginx-7d9", "static": ""}
