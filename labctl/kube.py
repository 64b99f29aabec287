"""A small read-mostly view of a lab's cluster through its kubeconfig."""

from pathlib import Path
from typing import Any

from kubernetes import client, config
from kubernetes.client.rest import ApiException
from urllib3.exceptions import HTTPError


class KubeUnavailable(Exception):
    """The API server could not be reached or refused the request."""


class KubeClient:
    def __init__(self, kubeconfig: Path, timeout: float = 5.0) -> None:
        self.timeout = timeout
        try:
            api_client = config.new_client_from_config(config_file=str(kubeconfig))
        except Exception as error:  # noqa: BLE001 - any kubeconfig problem means unreachable
            raise KubeUnavailable(f"kubeconfig {kubeconfig} unusable: {error}") from None
        # The lab's API is never worth more than one quick try from status.
        api_client.configuration.retries = False
        self.core = client.CoreV1Api(api_client)
        self.apps = client.AppsV1Api(api_client)

    def _call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, _request_timeout=self.timeout, **kwargs)
        except (ApiException, HTTPError, OSError) as error:
            reason = getattr(error, "reason", None) or error.__class__.__name__
            raise KubeUnavailable(f"API server unavailable: {reason}") from None

    def nodes(self) -> dict[str, dict[str, Any]]:
        return {item.metadata.name: node_view(item) for item in self._call(self.core.list_node).items}

    def deployments(self, namespace: str) -> dict[str, dict[str, int]]:
        found: dict[str, dict[str, int]] = {}
        for item in self._call(self.apps.list_namespaced_deployment, namespace).items:
            found[item.metadata.name] = {
                "desired": item.spec.replicas or 0,
                "available": item.status.available_replicas or 0,
            }
        return found


def node_view(item: Any) -> dict[str, Any]:
    """A V1Node as labctl shows it (status, watch)."""
    conditions = {c.type: c.status for c in (item.status.conditions or [])}
    labels = item.metadata.labels or {}
    addresses = {a.type: a.address for a in (item.status.addresses or [])}
    return {
        "ready": conditions.get("Ready") == "True",
        "kubelet_version": item.status.node_info.kubelet_version if item.status.node_info else "",
        "role": "controller" if "node-role.kubernetes.io/control-plane" in labels else "worker",
        "ip": addresses.get("InternalIP", ""),
        "unschedulable": bool(item.spec.unschedulable),
    }


def pod_view(item: Any) -> dict[str, Any]:
    """A V1Pod with the status kubectl's STATUS column would print (Terminating, ContainerCreating…)."""
    labels = item.metadata.labels or {}
    status = item.status.phase or "Unknown"
    if item.metadata.deletion_timestamp is not None:
        status = "Terminating"
    else:
        for container in item.status.container_statuses or []:
            waiting = container.state.waiting if container.state else None
            if waiting is not None and waiting.reason:
                status = waiting.reason
                break
    return {
        "node": item.spec.node_name,
        "status": status,
        "app": labels.get("app", ""),
    }
