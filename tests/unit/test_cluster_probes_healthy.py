"""The healthy condition (every drill's preflight and verify): nodes, Deployments and real HTTP answers in one observation."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from fake_apiserver import FakeApiServer

from labctl import cluster_probes
from labctl.errors import UsageError


def _node(name: str, ready: bool) -> dict[str, Any]:
    return {
        "metadata": {"name": name},
        "spec": {},
        "status": {"conditions": [{"type": "Ready", "status": "True" if ready else "False"}], "nodeInfo": {"kubeletVersion": "v1.36.0"}},
    }


def _deployment(name: str, desired: int, available: int) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "generation": 1},
        "spec": {"replicas": desired},
        "status": {"availableReplicas": available, "readyReplicas": available, "updatedReplicas": desired, "observedGeneration": 1},
    }


def _nodes(*nodes: dict[str, Any]) -> dict[str, Any]:
    return {"kind": "NodeList", "metadata": {"resourceVersion": "1"}, "items": list(nodes)}


DEPLOYMENTS = "/apis/apps/v1/namespaces/default/deployments"


def _deployments(*deployments: dict[str, Any]) -> dict[str, Any]:
    return {"kind": "DeploymentList", "metadata": {"resourceVersion": "1"}, "items": list(deployments)}


@pytest.fixture
def kubeconfig(apiserver: FakeApiServer) -> str:
    apiserver.routes["/api/v1/nodes"] = _nodes(_node("c1", True), _node("w1", True))
    apiserver.routes[DEPLOYMENTS] = _deployments(_deployment("nginx", 3, 3), _deployment("redis", 1, 1))
    return str(apiserver.kubeconfig)


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


def test_a_node_not_ready_or_an_app_short_of_replicas_is_not_healthy(
    kubeconfig: str, server_url: str, apiserver: FakeApiServer
) -> None:
    probe, ok = cluster_probes.build("healthy", _params(kubeconfig, server_url))
    apiserver.routes["/api/v1/nodes"] = _nodes(_node("c1", True), _node("w1", False))
    assert not ok(probe())
    apiserver.routes["/api/v1/nodes"] = _nodes(_node("c1", True))
    apiserver.routes[DEPLOYMENTS] = _deployments(_deployment("nginx", 3, 2), _deployment("redis", 1, 1))
    observed = probe()
    assert not ok(observed)
    assert observed["apps"]["nginx"] == {"desired": 3, "available": 2}


def test_the_api_failing_is_observed_and_the_apps_still_asked(kubeconfig: str, server_url: str, apiserver: FakeApiServer) -> None:
    apiserver.routes["/api/v1/nodes"] = (503, {"kind": "Status", "code": 503})
    probe, ok = cluster_probes.build("healthy", _params(kubeconfig, server_url))
    observed = probe()
    assert not ok(observed)
    assert observed["summary"].startswith("nodes: KubeStatusError: API server answered 503")
    assert observed["serving"] == {"nginx": 200, "guestbook": 200}


def test_urls_without_a_name_or_url_are_refused(kubeconfig: str) -> None:
    with pytest.raises(UsageError, match="urls as"):
        cluster_probes.build("healthy", {"kubeconfig": kubeconfig, "names": [], "urls": [{"url": "http://x"}]})


def test_an_app_missing_from_the_list_is_not_healthy(kubeconfig: str, server_url: str, apiserver: FakeApiServer) -> None:
    apiserver.routes[DEPLOYMENTS] = _deployments(_deployment("nginx", 3, 3))
    probe, ok = cluster_probes.build("healthy", _params(kubeconfig, server_url))
    observed = probe()
    assert not ok(observed)
    assert observed["apps"]["redis"] == {"error": "deployment default/redis not found"}


def test_one_poll_reads_the_deployments_in_one_list(kubeconfig: str, server_url: str, apiserver: FakeApiServer) -> None:
    probe, _ = cluster_probes.build("healthy", _params(kubeconfig, server_url))
    probe()
    assert sorted(path for path, _ in apiserver.requests) == ["/api/v1/nodes", DEPLOYMENTS]


class _GateHandler(BaseHTTPRequestHandler):
    """Answers 200 only once two requests wait at once: a prober that asks one after another never passes."""

    gate = threading.Barrier(2, timeout=3)

    def do_GET(self) -> None:
        try:
            self.gate.wait()
            code = 200
        except threading.BrokenBarrierError:
            code = 504
        self.send_response(code)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *_: object) -> None:
        pass


def test_the_parts_of_a_poll_are_asked_at_once(kubeconfig: str) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _GateHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        probe, ok = cluster_probes.build(
            "healthy", {"kubeconfig": kubeconfig, "names": ["nginx"], "urls": [{"name": "a", "url": url}, {"name": "b", "url": url}]}
        )
        observed = probe()
    finally:
        server.shutdown()
        server.server_close()
    assert observed["serving"] == {"a": 200, "b": 200}
    assert ok(observed)
