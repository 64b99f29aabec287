"""A lab's Kubernetes API as JSON, through its kubeconfig: reads and watches.

The kubeconfig handling (client certificates, tokens, CA) is the official client's; the
answers are the API's own JSON, not the client's generated models: importing and filling
those costs about a second on first use, many times a request, and every wait and
`labctl up` pays it in a fresh process.
"""

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from urllib3.exceptions import HTTPError, MaxRetryError
from urllib3.exceptions import TimeoutError as RequestTimeout
from urllib3.util.retry import Retry


class KubeUnavailable(Exception):
    """The API server could not be reached or refused the request."""


class KubeStatusError(KubeUnavailable):
    """The API server answered, with an error status."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(f"API server answered {status} {reason}")
        self.status = status
        self.reason = reason


class RetryBrokenConnection(Retry):
    """One more try when the connection broke (closed or reset under the request, refused), none
    after a timeout. Behind a load balancer a kept-alive connection goes to one API server; when that
    server dies the next request on it breaks, and a new connection reaches a live one (client-go
    retries so too). A timed-out try already took the whole timeout: a wait polls again instead."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**{"total": 1, "redirect": 0, "status": 0, "raise_on_status": False, **kwargs})

    def increment(self, method: str | None = None, url: str | None = None, response: Any = None,
                  error: Exception | None = None, _pool: Any = None, _stacktrace: Any = None) -> Retry:
        if isinstance(error, RequestTimeout):
            raise MaxRetryError(_pool, url or "", error) from error
        return super().increment(method, url, response, error, _pool, _stacktrace)


class KubeClient:
    def __init__(self, kubeconfig: Path | str, timeout: float = 5.0, server: str | None = None) -> None:
        """SERVER replaces the kubeconfig's server URL, to ask one API server of several directly
        rather than through the load balancer the kubeconfig names."""
        # Imported here, not at the top: the package costs about 0.3 s, and a process that
        # imports labctl.kube only to wait for an HTTP answer never builds a client.
        from kubernetes import client, config

        self.timeout = timeout
        configuration = client.Configuration()
        # Set before the client is built, whose connection pool reads it then: urllib3's default of
        # three retries made a request to a hung API server take four times its timeout (12 s, not 3,
        # during an etcd outage); none at all failed a read through the load balancer whenever an API
        # server behind it died under a kept-alive connection (apiserver-ha).
        configuration.retries = RetryBrokenConnection()
        try:
            self.api_client = config.new_client_from_config(config_file=str(kubeconfig), client_configuration=configuration)
        except Exception as error:  # noqa: BLE001 - any kubeconfig problem means unreachable
            raise KubeUnavailable(f"kubeconfig {kubeconfig} unusable: {error}") from None
        # Passed with each request: a token kubeconfig's refresh hook reloads the configured host.
        self.server = server

    @property
    def host(self) -> str:
        return self.server or str(self.api_client.configuration.host)

    def _request(self, path: str, query: dict[str, str] | None, timeout: Any) -> Any:
        from kubernetes.client.rest import ApiException

        method, url, headers, _, _ = self.api_client.param_serialize(
            "GET", path, query_params=list((query or {}).items()), header_params={"Accept": "application/json"},
            auth_settings=["BearerToken"], _host=self.server,
        )
        try:
            response = self.api_client.call_api(method, url, headers, _request_timeout=timeout)
        except (ApiException, HTTPError, OSError) as error:
            raise KubeUnavailable(f"API server unavailable: {getattr(error, 'reason', None) or error}") from None
        if not 200 <= response.status <= 299:
            raise KubeStatusError(response.status, status_message(response.read()) or str(response.reason or ""))
        return response

    def get_json(self, path: str, query: dict[str, str] | None = None) -> dict[str, Any]:
        response = self._request(path, query, self.timeout)
        try:
            return json.loads(response.read())
        except (ValueError, HTTPError, OSError) as error:
            raise KubeUnavailable(f"API server answered no JSON: {error}") from None

    def watch_json(self, path: str, query: dict[str, str], seconds: int) -> Iterator[dict[str, Any]]:
        """The events of a watch on PATH ({"type": ..., "object": ...}), for at most SECONDS
        (ended by the server); a broken stream raises KubeUnavailable."""
        response = self._request(path, {**query, "watch": "true", "timeoutSeconds": str(seconds)}, (self.timeout, seconds + 10))
        buffer = b""
        try:
            for chunk in response.response.stream(amt=None, decode_content=True):
                buffer += chunk
                *lines, buffer = buffer.split(b"\n")
                for line in lines:
                    if line.strip():
                        yield json.loads(line)
        except (HTTPError, OSError, ValueError) as error:
            raise KubeUnavailable(f"API server unavailable: {error}") from None
        finally:
            response.response.release_conn()

    def nodes(self) -> dict[str, dict[str, Any]]:
        return {item["metadata"]["name"]: node_view(item) for item in self.get_json("/api/v1/nodes")["items"]}

    def list_pods(self, namespace: str, selector: str = "", **query: str) -> dict[str, Any]:
        """The pods of SELECTOR (all in NAMESPACE when empty) as the API lists them; QUERY adds parameters."""
        return self.get_json(pods_path(namespace), pods_query(selector, query))

    def watch_pods(self, namespace: str, selector: str, seconds: int, **query: str) -> Iterator[dict[str, Any]]:
        """The events of a watch on SELECTOR's pods (see watch_json)."""
        return self.watch_json(pods_path(namespace), pods_query(selector, query), seconds)

    def deployments(self, namespace: str) -> dict[str, dict[str, int]]:
        """NAMESPACE's Deployments by name: replicas desired, available and updated to the current spec."""
        return {
            item["metadata"]["name"]: {
                "desired": item.get("spec", {}).get("replicas") or 0,
                "available": item.get("status", {}).get("availableReplicas") or 0,
                "updated": item.get("status", {}).get("updatedReplicas") or 0,
            }
            for item in self.get_json(f"/apis/apps/v1/namespaces/{namespace}/deployments")["items"]
        }


def pods_path(namespace: str) -> str:
    return f"/api/v1/namespaces/{namespace}/pods"


def pods_query(selector: str, query: dict[str, str]) -> dict[str, str]:
    return {"labelSelector": selector, **query} if selector else dict(query)


def status_message(body: bytes) -> str:
    """The message of the API's Status answer (e.g. "etcdserver: request timed out"), if it sent one."""
    try:
        return str(json.loads(body).get("message") or "")
    except (ValueError, AttributeError):
        return ""


def node_ready(item: dict[str, Any]) -> str:
    """The Ready condition's status of a node: True, False or Unknown."""
    conditions = {c["type"]: c["status"] for c in item.get("status", {}).get("conditions") or []}
    return str(conditions.get("Ready", "Unknown"))


def pod_ready(item: dict[str, Any]) -> bool:
    return any(c["type"] == "Ready" and c["status"] == "True" for c in item.get("status", {}).get("conditions") or [])


def node_view(item: dict[str, Any]) -> dict[str, Any]:
    """A node as labctl shows it (status, watch)."""
    status = item.get("status", {})
    labels = item["metadata"].get("labels") or {}
    addresses = {a["type"]: a["address"] for a in status.get("addresses") or []}
    return {
        "ready": node_ready(item) == "True",
        "kubelet_version": (status.get("nodeInfo") or {}).get("kubeletVersion", ""),
        "role": "controller" if "node-role.kubernetes.io/control-plane" in labels else "worker",
        "ip": addresses.get("InternalIP", ""),
        "unschedulable": bool(item.get("spec", {}).get("unschedulable")),
    }


def pod_view(item: dict[str, Any]) -> dict[str, Any]:
    """A pod with the status kubectl's STATUS column would print (Terminating, ContainerCreating…)."""
    labels = item["metadata"].get("labels") or {}
    pod_status = item.get("status", {})
    status = pod_status.get("phase") or "Unknown"
    if item["metadata"].get("deletionTimestamp") is not None:
        status = "Terminating"
    else:
        for container in pod_status.get("containerStatuses") or []:
            waiting = (container.get("state") or {}).get("waiting")
            if waiting and waiting.get("reason"):
                status = waiting["reason"]
                break
    return {
        "node": item.get("spec", {}).get("nodeName"),
        "status": status,
        "app": labels.get("app", ""),
    }
