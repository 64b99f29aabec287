"""Nodes and the apps' pods, kept current by long-lived API watches (list once, then watch).

One thread per kind blocks on its watch stream; a snapshot is a copy of what they last
saw. When the API goes away (the control-plane drills stop it) the watch breaks, the
error is kept for the view, and the thread lists again once a second until it answers.
"""

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from labctl.kube import KubeClient, KubeUnavailable, node_view, pod_view

# Server side end of each watch, so a silently dead connection is noticed within a minute.
WATCH_S = 30


class ClusterWatch:
    def __init__(self, kubeconfig: Path, namespace: str = "default") -> None:
        self.kubeconfig = kubeconfig
        self.namespace = namespace
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._state: dict[str, dict[str, dict[str, Any]]] = {"nodes": {}, "pods": {}}
        self._errors: dict[str, str | None] = {"nodes": None, "pods": None}
        self._threads: list[threading.Thread] = []

    def start(self) -> "ClusterWatch":
        for kind in ("nodes", "pods"):
            thread = threading.Thread(target=self._loop, args=(kind,), name=f"watch-{kind}", daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        # The threads may be blocked reading a stream; they are daemons and exit with labctl.
        self._stop.set()

    def snapshot(self) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]], str | None]:
        with self._lock:
            error = self._errors["nodes"] or self._errors["pods"]
            return dict(self._state["nodes"]), dict(self._state["pods"]), error

    def _path(self, kind: str) -> tuple[str, Callable[[dict[str, Any]], dict[str, Any]]]:
        if kind == "nodes":
            return "/api/v1/nodes", node_view
        return f"/api/v1/namespaces/{self.namespace}/pods", pod_view

    def _loop(self, kind: str) -> None:
        path, view = self._path(kind)
        while not self._stop.is_set():
            try:
                client = KubeClient(self.kubeconfig, timeout=5)
                listing = client.get_json(path)
                with self._lock:
                    self._state[kind] = {i["metadata"]["name"]: view(i) for i in listing["items"]}
                    self._errors[kind] = None
                version = listing["metadata"]["resourceVersion"]
                for event in client.watch_json(path, {"resourceVersion": version}, WATCH_S):
                    if self._stop.is_set():
                        return
                    item = event.get("object") or {}
                    if event.get("type") == "ERROR" or "metadata" not in item:
                        break  # e.g. 410 Gone: list again
                    with self._lock:
                        if event["type"] == "DELETED":
                            self._state[kind].pop(item["metadata"]["name"], None)
                        elif event["type"] != "BOOKMARK":
                            self._state[kind][item["metadata"]["name"]] = view(item)
            except KubeUnavailable as error:
                self._fail(kind, str(error))
            except Exception as error:  # noqa: BLE001 - a broken stream is an unreachable API for the view
                self._fail(kind, f"API server unavailable: {error.__class__.__name__}")

    def _fail(self, kind: str, message: str) -> None:
        with self._lock:
            self._errors[kind] = message
        self._stop.wait(1.0)
