"""The node_pods wait condition (worker drills): pods split by node, judged with dotted expect keys."""

from types import SimpleNamespace
from typing import Any, ClassVar

import pytest

from labctl import cluster_probes
from labctl.errors import UsageError


def _pod(name: str, node: str, phase: str = "Running", ready: bool = True, terminating: bool = False) -> Any:
    return SimpleNamespace(
        metadata=SimpleNamespace(name=name, deletion_timestamp="2026-01-01T00:00:00Z" if terminating else None),
        spec=SimpleNamespace(node_name=node),
        status=SimpleNamespace(phase=phase, conditions=[SimpleNamespace(type="Ready", status="True" if ready else "False")]),
    )


class FakeCore:
    pods: ClassVar[list[Any]] = []
    selectors: ClassVar[list[Any]] = []

    def __init__(self, api_client: Any) -> None:
        pass

    def list_namespaced_pod(self, namespace: str, label_selector: Any = None, _request_timeout: Any = None) -> Any:
        FakeCore.selectors.append(label_selector)
        return SimpleNamespace(items=FakeCore.pods)


@pytest.fixture
def fake_api(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> str:
    fake_client = SimpleNamespace(CoreV1Api=FakeCore)
    monkeypatch.setattr(cluster_probes, "api_clients", lambda kubeconfig, timeout, server=None: (fake_client, object(), timeout))
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text("{}")
    FakeCore.selectors = []
    return str(kubeconfig)


def test_node_pods_splits_by_node(fake_api: str) -> None:
    FakeCore.pods = [
        _pod("nginx-a", "worker-2"),
        _pod("nginx-b", "worker-2", ready=False),
        _pod("nginx-c", "worker-1"),
        _pod("nginx-d", "worker-2", terminating=True),
        _pod("nginx-e", ""),  # not scheduled: on no node
        _pod("nginx-f", "worker-1", phase="Pending", ready=False),
    ]
    probe, _ = cluster_probes.build("node_pods", {"kubeconfig": fake_api, "names": ["worker-2"], "selector": "app=nginx"})
    observed = probe()
    assert observed["on_nodes"] == {"total": 2, "running": 2, "ready": 1, "terminating": 1, "pods": ["nginx-a", "nginx-b"]}
    assert observed["elsewhere"] == {"total": 2, "running": 1, "ready": 1, "terminating": 0, "pods": ["nginx-c", "nginx-f"]}
    assert FakeCore.selectors == ["app=nginx"]


def test_node_pods_dotted_expectations(fake_api: str) -> None:
    FakeCore.pods = [_pod("a", "worker-2", terminating=True), _pod("b", "worker-1"), _pod("c", "worker-1")]
    params = {"kubeconfig": fake_api, "names": ["worker-2"], "expect": {"on_nodes.total_at_most": 0, "elsewhere.ready_at_least": 2}}
    probe, predicate = cluster_probes.build("node_pods", params)
    assert predicate(probe())
    params["expect"] = {"on_nodes.terminating_at_most": 0}
    probe, predicate = cluster_probes.build("node_pods", params)
    assert not predicate(probe())


def test_node_pods_without_selector_lists_all(fake_api: str) -> None:
    FakeCore.pods = []
    probe, predicate = cluster_probes.build("node_pods", {"kubeconfig": fake_api, "names": ["worker-1"], "expect": {"on_nodes.total": 0}})
    assert predicate(probe())
    assert FakeCore.selectors == [None]


def test_node_pods_needs_names(fake_api: str) -> None:
    with pytest.raises(UsageError, match="needs names"):
        cluster_probes.build("node_pods", {"kubeconfig": fake_api})


def test_node_pods_error_observation_is_unmet(fake_api: str) -> None:
    _, predicate = cluster_probes.build("node_pods", {"kubeconfig": fake_api, "names": ["w"], "expect": {}})
    assert not predicate({"error": "connection refused"})
