"""The healthy condition (every drill's preflight and verify): nodes, Deployments and real HTTP answers in one observation."""

from pathlib import Path
from types import SimpleNamespace
from typing import Any, ClassVar

import pytest

from labctl import cluster_probes
from labctl.errors import UsageError


def _node(name: str, ready: bool) -> Any:
    return SimpleNamespace(
        metadata=SimpleNamespace(name=name),
        spec=SimpleNamespace(unschedulable=False),
        status=SimpleNamespace(conditions=[SimpleNamespace(type="Ready", status="True" if ready else "False")],
                               node_info=SimpleNamespace(kubelet_version="v1.36.0")),
    )


def _deployment(desired: int, available: int) -> Any:
    return SimpleNamespace(
        spec=SimpleNamespace(replicas=desired),
        status=SimpleNamespace(available_replicas=available, ready_replicas=available, updated_replicas=desired, observed_generation=1),
        metadata=SimpleNamespace(generation=1),
    )


class FakeApi:
    nodes: ClassVar[list[Any] | Exception] = []
    deployments: ClassVar[dict[str, Any]] = {}

    def __init__(self, _api_client: Any) -> None:
        pass

    def list_node(self, _request_timeout: float) -> Any:
        if isinstance(FakeApi.nodes, Exception):
            raise FakeApi.nodes
        return SimpleNamespace(items=FakeApi.nodes)

    def read_namespaced_deployment(self, name: str, namespace: str, _request_timeout: float) -> Any:
        return FakeApi.deployments[name]


@pytest.fixture
def kubeconfig(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    path = tmp_path / "admin.kubeconfig"
    path.write_text("{}")
    fake = SimpleNamespace(CoreV1Api=FakeApi, AppsV1Api=FakeApi)
    monkeypatch.setattr(cluster_probes, "api_clients", lambda _k, t, _server=None: (fake, object(), t))
    FakeApi.nodes = [_node("c1", True), _node("w1", True)]
    FakeApi.deployments = {"nginx": _deployment(3, 3), "redis": _deployment(1, 1)}
    return str(path)


def _params(kubeconfig: str, server_url: str, path: str = "/ok") -> dict[str, Any]:
    return {"kubeconfig": kubeconfig, "names": ["nginx", "redis"],
            "urls": [{"name": "nginx", "url": f"{server_url}{path}"}, {"name": "guestbook", "url": f"{server_url}/ok"}]}


def test_healthy_when_all_three_hold(kubeconfig: str, server_url: str) -> None:
    probe, ok = cluster_probes.build("healthy", _params(kubeconfig, server_url))
    observed = probe()
    assert ok(observed)
    assert observed["serving"] == {"nginx": 200, "guestbook": 200}
    assert observed["summary"] == "c1 ready=True, w1 ready=True; nginx available=3, redis available=1; nginx 200, guestbook 200"


def test_an_app_that_does_not_answer_200_is_not_healthy(kubeconfig: str, server_url: str) -> None:
    probe, ok = cluster_probes.build("healthy", _params(kubeconfig, server_url, "/denied"))
    observed = probe()
    assert not ok(observed)
    assert observed["serving"]["nginx"] == 401


def test_a_refused_port_is_no_answer(kubeconfig: str) -> None:
    params = _params(kubeconfig, "http://127.0.0.1:9")
    probe, ok = cluster_probes.build("healthy", params)
    observed = probe()
    assert not ok(observed)
    assert "nginx no answer" in observed["summary"]


def test_a_node_not_ready_or_an_app_short_of_replicas_is_not_healthy(kubeconfig: str, server_url: str) -> None:
    probe, ok = cluster_probes.build("healthy", _params(kubeconfig, server_url))
    FakeApi.nodes = [_node("c1", True), _node("w1", False)]
    assert not ok(probe())
    FakeApi.nodes = [_node("c1", True)]
    FakeApi.deployments["nginx"] = _deployment(3, 2)
    observed = probe()
    assert not ok(observed)
    assert observed["apps"]["nginx"] == {"desired": 3, "available": 2}


def test_the_api_down_is_observed_and_the_apps_still_asked(kubeconfig: str, server_url: str) -> None:
    FakeApi.nodes = ConnectionRefusedError("refused")
    probe, ok = cluster_probes.build("healthy", _params(kubeconfig, server_url))
    observed = probe()
    assert not ok(observed)
    assert observed["summary"].startswith("nodes: ConnectionRefusedError: refused")
    assert observed["serving"] == {"nginx": 200, "guestbook": 200}


def test_urls_without_a_name_or_url_are_refused(kubeconfig: str) -> None:
    with pytest.raises(UsageError, match="urls as"):
        cluster_probes.build("healthy", {"kubeconfig": kubeconfig, "names": [], "urls": [{"url": "http://x"}]})
