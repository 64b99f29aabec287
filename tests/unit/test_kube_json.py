"""labctl.kube reads the API's JSON (no generated models): views, lists and the watch the live view keeps."""

import json
import socket
import time
from pathlib import Path
from typing import Any

import pytest
from fake_apiserver import FakeApiServer, write_kubeconfig
from loopback import serve_each

from labctl.cluster_watch import ClusterWatch
from labctl.kube import KubeClient, KubeStatusError, KubeUnavailable, node_view, pod_view


def _node(name: str, ready: str, control_plane: bool = False) -> dict[str, Any]:
    labels = {"node-role.kubernetes.io/control-plane": ""} if control_plane else {}
    return {
        "metadata": {"name": name, "labels": labels},
        "spec": {"unschedulable": True} if name == "worker-2" else {},
        "status": {
            "conditions": [{"type": "MemoryPressure", "status": "False"}, {"type": "Ready", "status": ready}],
            "addresses": [{"type": "InternalIP", "address": "10.213.0.11"}, {"type": "Hostname", "address": name}],
            "nodeInfo": {"kubeletVersion": "v1.36.3"},
        },
    }


def _pod(name: str, node: str, **status: Any) -> dict[str, Any]:
    return {"metadata": {"name": name, "labels": {"app": "nginx"}}, "spec": {"nodeName": node}, "status": status}


def test_views_read_the_apis_json() -> None:
    assert node_view(_node("controller-1", "True", control_plane=True)) == {
        "ready": True, "kubelet_version": "v1.36.3", "role": "controller", "ip": "10.213.0.11", "unschedulable": False,
    }
    assert node_view(_node("worker-2", "Unknown"))["ready"] is False
    assert node_view(_node("worker-2", "Unknown"))["unschedulable"] is True
    waiting = {"phase": "Pending", "containerStatuses": [{"state": {"waiting": {"reason": "ContainerCreating"}}}]}
    assert pod_view(_pod("a", "worker-1", **waiting)) == {"node": "worker-1", "status": "ContainerCreating", "app": "nginx"}
    deleted = _pod("b", "worker-1", phase="Running")
    deleted["metadata"]["deletionTimestamp"] = "2026-12-06T06:00:00Z"
    assert pod_view(deleted)["status"] == "Terminating"


def test_the_client_lists_and_names_an_error_status(apiserver: FakeApiServer) -> None:
    apiserver.routes["/api/v1/nodes"] = {"items": [_node("controller-1", "True", control_plane=True)]}
    apiserver.routes["/apis/apps/v1/namespaces/default/deployments"] = {
        "items": [{"metadata": {"name": "nginx"}, "spec": {"replicas": 3}, "status": {"availableReplicas": 2, "updatedReplicas": 3}}]
    }
    client = KubeClient(apiserver.kubeconfig, timeout=2)
    assert client.nodes()["controller-1"]["role"] == "controller"
    assert client.deployments("default") == {"nginx": {"desired": 3, "available": 2, "updated": 3}}
    apiserver.routes["/api/v1/nodes"] = (403, {"kind": "Status", "message": 'nodes is forbidden: User "student-a" cannot list'})
    try:
        client.nodes()
    except KubeStatusError as error:
        assert error.status == 403 and "forbidden" in str(error)
    else:
        raise AssertionError("a 403 was taken for an answer")
    # The kubeconfig's token went with every request (no anonymous access).
    assert {k.lower(): v for k, v in apiserver.headers[-1].items()}.get("authorization") == "Bearer not-a-secret"


def test_the_watch_lists_then_applies_each_event(apiserver: FakeApiServer) -> None:
    apiserver.routes["/api/v1/nodes"] = {"metadata": {"resourceVersion": "5"}, "items": [_node("worker-1", "True")]}
    apiserver.routes["/api/v1/namespaces/default/pods"] = {
        "metadata": {"resourceVersion": "5"}, "items": [_pod("nginx-a", "worker-1", phase="Running")],
    }
    apiserver.watches["/api/v1/nodes"] = [{"type": "MODIFIED", "object": _node("worker-1", "Unknown")}]
    apiserver.watches["/api/v1/namespaces/default/pods"] = [
        {"type": "DELETED", "object": _pod("nginx-a", "worker-1", phase="Running")},
        {"type": "ADDED", "object": _pod("nginx-b", "worker-2", phase="Pending")},
    ]
    # The fake's watch ends after its events and the view lists again, so each kind flips between the
    # listed state and the watched one: look for each kind's watched state on its own, not both in one snapshot.
    seen_nodes: dict[str, dict[str, object]] | None = None
    seen_pods: dict[str, dict[str, object]] | None = None
    watch = ClusterWatch(apiserver.kubeconfig).start()
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and (seen_nodes is None or seen_pods is None):
            nodes, pods, error = watch.snapshot()
            assert error is None
            if nodes.get("worker-1", {}).get("ready") is False:
                seen_nodes = nodes
            if "nginx-a" not in pods and pods:
                seen_pods = pods
            time.sleep(0.01)
    finally:
        watch.stop()
    assert seen_nodes is not None and seen_nodes["worker-1"]["ready"] is False
    assert seen_pods == {"nginx-b": {"node": "worker-2", "status": "Pending", "app": "nginx"}}
    watched = [q for path, q in apiserver.requests if q.get("watch") == "true"]
    assert {"resourceVersion": "5", "watch": "true"}.items() <= watched[0].items()


def test_a_request_that_times_out_is_tried_once(tmp_path: Path) -> None:
    """A wait polls again; a retried request took four times its timeout on a hung API server."""
    held: list[socket.socket] = []
    listener = serve_each(lambda connection: held.append(connection.dup()))
    kubeconfig = tmp_path / "kubeconfig"
    write_kubeconfig(kubeconfig, f"http://127.0.0.1:{listener.getsockname()[1]}")
    try:
        with pytest.raises(KubeUnavailable, match="timed out"):
            KubeClient(kubeconfig, timeout=0.5).get_json("/api/v1/nodes")
    finally:
        listener.close()
        for connection in held:
            connection.close()
    assert len(held) == 1


def test_a_connection_that_breaks_under_a_request_is_tried_again(tmp_path: Path) -> None:
    """Through a load balancer, the API server a kept-alive connection went to died: a new connection
    reaches a live one. The first connection is closed after the request is read, the second answers."""
    answer = json.dumps({"kind": "NodeList", "items": []}).encode()
    connections: list[int] = []

    def drop_then_answer(connection: socket.socket) -> None:
        connections.append(1)
        connection.recv(65536)
        if len(connections) > 1:
            connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
                               b"Content-Length: %d\r\n\r\n%s" % (len(answer), answer))

    listener = serve_each(drop_then_answer)
    kubeconfig = tmp_path / "kubeconfig"
    write_kubeconfig(kubeconfig, f"http://127.0.0.1:{listener.getsockname()[1]}")
    try:
        assert KubeClient(kubeconfig, timeout=2).get_json("/api/v1/nodes") == {"kind": "NodeList", "items": []}
    finally:
        listener.close()
    assert len(connections) == 2
