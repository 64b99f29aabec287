"""The api_read condition (control-plane drills: etcd-outage and friends)."""

from pathlib import Path
from typing import Any

import pytest

from labctl import cluster_probes


class FakeApiException(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class FakeCore:
    outcome: Any = None

    def __init__(self, _api_client: Any) -> None:
        pass

    def read_namespace(self, name: str, _request_timeout: float) -> Any:
        assert name == "default"
        if isinstance(FakeCore.outcome, BaseException):
            raise FakeCore.outcome
        return FakeCore.outcome


class FakeClient:
    ApiException = FakeApiException
    CoreV1Api = FakeCore


@pytest.fixture
def kubeconfig(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    path = tmp_path / "admin.kubeconfig"
    path.write_text("{}")
    monkeypatch.setattr(cluster_probes, "api_clients", lambda _k, t, _server=None: (FakeClient, object(), t))
    return str(path)


def observe(probe: cluster_probes.Probe) -> Any:
    """As labctl.wait does: a raising probe is observed as its error."""
    try:
        return probe()
    except Exception as error:  # noqa: BLE001
        return {"error": f"{error.__class__.__name__}: {error}"}


def test_api_read_answered(kubeconfig: str) -> None:
    FakeCore.outcome = object()
    probe, ok = cluster_probes.build("api_read", {"kubeconfig": kubeconfig, "expect": {}})
    observed = observe(probe)
    assert observed == {"reachable": True, "ok": True, "status": 200}
    assert ok(observed)
    _, down = cluster_probes.build("api_read", {"kubeconfig": kubeconfig, "expect": {"ok": False}})
    assert not down(observed)


def test_api_read_server_error_counts_as_down(kubeconfig: str) -> None:
    FakeCore.outcome = FakeApiException(500, "etcdserver: request timed out")
    probe, down = cluster_probes.build("api_read", {"kubeconfig": kubeconfig, "expect": {"ok": False}})
    observed = observe(probe)
    assert observed["ok"] is False and observed["status"] == 500 and "etcdserver" in observed["reason"]
    assert down(observed)
    _, up = cluster_probes.build("api_read", {"kubeconfig": kubeconfig, "expect": {"ok": True}})
    assert not up(observed)


def test_api_read_connection_failure_counts_as_down(kubeconfig: str) -> None:
    FakeCore.outcome = ConnectionRefusedError("connection refused")
    probe, down = cluster_probes.build("api_read", {"kubeconfig": kubeconfig, "expect": {"ok": False}})
    observed = observe(probe)
    assert "connection refused" in observed["error"]
    assert down(observed)
    _, up = cluster_probes.build("api_read", {"kubeconfig": kubeconfig})
    assert not up(observed)


def test_api_read_needs_a_kubeconfig(tmp_path: Path) -> None:
    with pytest.raises(Exception, match="not found"):
        cluster_probes.build("api_read", {"kubeconfig": str(tmp_path / "missing")})


def test_existing_api_condition_unchanged(kubeconfig: str) -> None:
    _, reachable = cluster_probes.build("api", {"kubeconfig": kubeconfig, "expect": {}})
    assert reachable({"reachable": True, "version": "v1"})
    assert not reachable({"error": "refused"})


def test_server_overrides_the_kubeconfigs(tmp_path: Path) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: lab\n"
        "clusters: [{name: lab, cluster: {server: 'https://10.213.20.15:6443', insecure-skip-tls-verify: true}}]\n"
        "users: [{name: admin, user: {token: not-a-secret}}]\n"
        "contexts: [{name: lab, context: {cluster: lab, user: admin}}]\n"
    )
    _, through_lb, _ = cluster_probes.api_clients(str(kubeconfig), 1.0)
    _, direct, _ = cluster_probes.api_clients(str(kubeconfig), 1.0, "https://10.213.20.10:6443")
    assert through_lb.configuration.host == "https://10.213.20.15:6443"
    assert direct.configuration.host == "https://10.213.20.10:6443"
    assert through_lb is not direct
