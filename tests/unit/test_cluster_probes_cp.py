"""The api_read condition (control-plane drills: etcd-outage and friends)."""

from pathlib import Path
from typing import Any

import pytest
from fake_apiserver import FakeApiServer

from labctl import cluster_probes

NAMESPACE = "/api/v1/namespaces/default"


@pytest.fixture
def kubeconfig(apiserver: FakeApiServer) -> str:
    return str(apiserver.kubeconfig)


def observe(probe: cluster_probes.Probe) -> Any:
    """As labctl.wait does: a raising probe is observed as its error."""
    try:
        return probe()
    except Exception as error:  # noqa: BLE001
        return {"error": f"{error.__class__.__name__}: {error}"}


def test_api_read_answered(kubeconfig: str, apiserver: FakeApiServer) -> None:
    apiserver.routes[NAMESPACE] = {"kind": "Namespace", "metadata": {"name": "default"}}
    probe, ok = cluster_probes.build("api_read", {"kubeconfig": kubeconfig, "expect": {}})
    observed = observe(probe)
    assert observed == {"reachable": True, "ok": True, "status": 200}
    assert ok(observed)
    _, down = cluster_probes.build("api_read", {"kubeconfig": kubeconfig, "expect": {"ok": False}})
    assert not down(observed)


def test_api_read_of_a_path_keeps_the_object(kubeconfig: str, apiserver: FakeApiServer) -> None:
    service = {"kind": "Service", "metadata": {"name": "redis-master"}, "spec": {"clusterIP": "10.96.0.20"}}
    apiserver.routes[NAMESPACE + "/services/redis-master"] = service
    probe, ok = cluster_probes.build("api_read", {"kubeconfig": kubeconfig, "path": NAMESPACE + "/services/redis-master"})
    observed = observe(probe)
    assert ok(observed)
    assert observed["object"]["spec"]["clusterIP"] == "10.96.0.20"
    assert [path for path, _ in apiserver.requests] == [NAMESPACE + "/services/redis-master"]


def test_api_read_server_error_counts_as_down(kubeconfig: str, apiserver: FakeApiServer) -> None:
    apiserver.routes[NAMESPACE] = (500, {"kind": "Status", "code": 500, "message": "etcdserver: request timed out"})
    probe, down = cluster_probes.build("api_read", {"kubeconfig": kubeconfig, "expect": {"ok": False}})
    observed = observe(probe)
    assert observed["ok"] is False and observed["status"] == 500 and "etcdserver" in observed["reason"]
    assert down(observed)
    _, up = cluster_probes.build("api_read", {"kubeconfig": kubeconfig, "expect": {"ok": True}})
    assert not up(observed)


def test_api_read_connection_failure_counts_as_down(kubeconfig: str) -> None:
    closed = {"kubeconfig": kubeconfig, "server": "http://127.0.0.1:9"}
    probe, down = cluster_probes.build("api_read", {**closed, "expect": {"ok": False}})
    observed = observe(probe)
    assert "connection refused" in observed["error"].lower()
    assert down(observed)
    _, up = cluster_probes.build("api_read", closed)
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
    through_lb = cluster_probes.kube_client(str(kubeconfig), 1.0)
    direct = cluster_probes.kube_client(str(kubeconfig), 1.0, "https://10.213.20.10:6443")
    assert through_lb.host == "https://10.213.20.15:6443"
    assert direct.host == "https://10.213.20.10:6443"
    assert through_lb is not direct
