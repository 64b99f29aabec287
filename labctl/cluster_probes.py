"""Cluster states a wait can poll for, each a (probe, predicate) pair.

Probes return small JSON-able observations (what a report shows as
"observed"); predicates judge them against what the caller expects.
"""

import ssl
import urllib.error
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from labctl.errors import UsageError
from labctl.kube import KubeClient, KubeStatusError, node_ready, pod_ready

Probe = Callable[[], Any]
Predicate = Callable[[Any], bool]


_CLIENTS: dict[tuple[str, float, str | None], KubeClient] = {}


def kube_client(kubeconfig: str, timeout: float, server: str | None = None) -> KubeClient:
    """One API client per kubeconfig, timeout and server: building one costs more than a poll.

    SERVER replaces the kubeconfig's server URL, to ask one API server of several
    directly rather than through the load balancer the kubeconfig names.
    """
    client = _CLIENTS.get((kubeconfig, timeout, server))
    if client is None:
        client = _CLIENTS[(kubeconfig, timeout, server)] = KubeClient(kubeconfig, timeout, server)
    return client


def api_probe(kubeconfig: str, timeout: float = 3.0, server: str | None = None) -> Probe:
    def probe() -> Any:
        version = kube_client(kubeconfig, timeout, server).get_json("/version")
        return {"reachable": True, "version": version.get("gitVersion", "")}

    return probe


def nodes_probe(kubeconfig: str, names: list[str] | None, timeout: float = 3.0) -> Probe:
    def probe() -> Any:
        found = {}
        for item in kube_client(kubeconfig, timeout).get_json("/api/v1/nodes")["items"]:
            name = item["metadata"]["name"]
            if names and name not in names:
                continue
            status = item.get("status", {})
            found[name] = {
                "ready": node_ready(item) == "True",
                "ready_status": node_ready(item),
                "schedulable": not item.get("spec", {}).get("unschedulable"),
                "kubelet_version": (status.get("nodeInfo") or {}).get("kubeletVersion", ""),
            }
        return found

    return probe


def deployment_probe(kubeconfig: str, name: str, namespace: str, timeout: float = 3.0) -> Probe:
    def probe() -> Any:
        d = kube_client(kubeconfig, timeout).get_json(f"/apis/apps/v1/namespaces/{namespace}/deployments/{name}")
        spec, status = d.get("spec", {}), d.get("status", {})
        return {
            "desired": spec.get("replicas") or 0,
            "available": status.get("availableReplicas") or 0,
            "ready": status.get("readyReplicas") or 0,
            "updated": status.get("updatedReplicas") or 0,
            "observed_generation_current": (status.get("observedGeneration") or 0) >= (d["metadata"].get("generation") or 0),
        }

    return probe


def pod_entry(p: dict[str, Any]) -> dict[str, Any]:
    """What a pods observation keeps of one pod (the API's JSON); owner is its controller (a ReplicaSet's name)."""
    owners = p["metadata"].get("ownerReferences") or [{}]
    return {
        "name": p["metadata"]["name"],
        "owner": str(owners[0].get("name") or ""),
        "phase": p.get("status", {}).get("phase"),
        "node": p.get("spec", {}).get("nodeName") or "",
        "ready": pod_ready(p),
        "terminating": p["metadata"].get("deletionTimestamp") is not None,
    }


def pods_summary(pods: list[dict[str, Any]], resource_version: str | None = None) -> dict[str, Any]:
    """Counts over POD entries; terminating pods are listed but never counted."""
    phases: dict[str, int] = {}
    for p in pods:
        if not p["terminating"]:
            phases[p["phase"]] = phases.get(p["phase"], 0) + 1
    return {
        "total": sum(1 for p in pods if not p["terminating"]),
        "ready": sum(1 for p in pods if p["ready"] and not p["terminating"]),
        "phases": phases,
        "unscheduled": sum(1 for p in pods if not p["node"] and not p["terminating"]),
        "pods": pods,
        "resource_version": resource_version,
    }


def pods_probe(kubeconfig: str, selector: str, namespace: str, timeout: float = 3.0) -> Probe:
    """The pods of SELECTOR, and the list's resource version (to replay what follows, see pod_watch)."""

    def probe() -> Any:
        listed = kube_client(kubeconfig, timeout).list_pods(namespace, selector)
        return pods_summary([pod_entry(p) for p in listed["items"]], listed.get("metadata", {}).get("resourceVersion"))

    return probe


def node_pods_probe(kubeconfig: str, nodes: list[str], selector: str, namespace: str, timeout: float = 3.0) -> Probe:
    """Pods (of SELECTOR, or all in NAMESPACE) split into those bound to NODES and those elsewhere."""

    def probe() -> Any:
        groups: dict[str, dict[str, Any]] = {
            side: {"total": 0, "running": 0, "ready": 0, "terminating": 0, "pods": []} for side in ("on_nodes", "elsewhere")
        }
        for p in kube_client(kubeconfig, timeout).list_pods(namespace, selector)["items"]:
            pod = pod_entry(p)
            if not pod["node"]:
                continue
            side = groups["on_nodes" if pod["node"] in nodes else "elsewhere"]
            if pod["terminating"]:
                side["terminating"] += 1
                continue
            side["total"] += 1
            side["running"] += int(pod["phase"] == "Running")
            side["ready"] += int(pod["ready"])
            side["pods"].append(pod["name"])
        for side in groups.values():
            side["pods"].sort()
        return groups

    return probe


def api_read_probe(kubeconfig: str, timeout: float = 3.0, server: str | None = None, path: str | None = None) -> Probe:
    """A request the API server must answer from etcd (GET PATH, by default the default namespace; no cache).

    /version (condition api) is served without etcd; this one fails when etcd is down:
    an API error is observed as ok=False with its status, a refused or timed-out
    connection raises (observed as an error). With a PATH of its own the caller wants
    the object too: the observation keeps it.
    """
    def probe() -> Any:
        try:
            read = kube_client(kubeconfig, timeout, server).get_json(path or "/api/v1/namespaces/default")
        except KubeStatusError as error:
            return {"reachable": True, "ok": False, "status": error.status, "reason": error.reason[:200]}
        return {"reachable": True, "ok": True, "status": 200, **({"object": read} if path else {})}

    return probe


def http_probe(url: str, timeout: float = 2.0, ca_file: str | None = None, needle: str | None = None) -> Probe:
    context = ssl.create_default_context(cafile=ca_file) if url.startswith("https") else None

    def probe() -> Any:
        try:
            with urllib.request.urlopen(url, timeout=timeout, context=context) as response:
                body = response.read(4 * 1024 * 1024).decode(errors="replace")
                status = response.status
        except urllib.error.HTTPError as error:
            body, status = "", error.code
        # The whole body is searched, only its start is kept: observations end up in reports.
        observed: dict[str, Any] = {"status": status, "body": body[:200]}
        if needle is not None:
            observed["found"] = needle in body
        return observed

    return probe


def healthy_probe(kubeconfig: str, deployments: list[str], urls: list[dict[str, str]], namespace: str = "default") -> Probe:
    """Every node Ready, every one of DEPLOYMENTS available, every URL answering 200: a drill's "healthy".

    One observation of the three (the API's view and the data plane's: after a control plane
    restart kube-proxy can lag behind the API), each part kept even when another fails, with a
    one-line summary for the record. The parts are asked at once: a poll takes as long as its
    slowest answer, not their sum (an API server catching up after etcd returns answers in a
    second or more, and a confirmation polls three times).
    """
    nodes = nodes_probe(kubeconfig, None)
    serving = {str(u["name"]): http_probe(str(u["url"])) for u in urls}

    def apps() -> Any:
        listed = kube_client(kubeconfig, 3.0).deployments(namespace)
        return {name: listed.get(name, {"error": f"deployment {namespace}/{name} not found"}) for name in deployments}

    def attempt(probe: Probe) -> Any:
        try:
            return probe()
        except Exception as error:  # noqa: BLE001 - one part failing is what was observed of it
            return {"error": f"{error.__class__.__name__}: {str(error)[:120]}"}

    def probe() -> Any:
        with ThreadPoolExecutor(max_workers=2 + len(serving), thread_name_prefix="healthy") as pool:
            asked_nodes = pool.submit(attempt, nodes)
            asked_apps = pool.submit(attempt, apps) if deployments else None
            asked_urls = {name: pool.submit(attempt, p) for name, p in serving.items()}
            seen_nodes = asked_nodes.result()
            listed = asked_apps.result() if asked_apps else {}
            seen_serving = {name: asked.result() for name, asked in asked_urls.items()}
        # The list failing is each app's observation.
        seen_apps = {name: listed for name in deployments} if "error" in listed else listed
        nodes_ok = "error" not in seen_nodes and bool(seen_nodes) and all(n["ready"] for n in seen_nodes.values())
        apps_ok = all("error" not in d and d["available"] >= d["desired"] > 0 and d["updated"] >= d["desired"] for d in seen_apps.values())
        serving_ok = all(r.get("status") == 200 for r in seen_serving.values())
        node_text = (f"nodes: {seen_nodes['error']}" if "error" in seen_nodes
                     else ", ".join(f"{name} ready={n['ready']}" for name, n in sorted(seen_nodes.items())))
        app_text = ", ".join(f"{name} available={d.get('available', d.get('error'))}" for name, d in seen_apps.items())
        serving_text = ", ".join(f"{name} {r.get('status', 'no answer')}" for name, r in seen_serving.items())
        return {
            "healthy": nodes_ok and apps_ok and serving_ok,
            "nodes": seen_nodes,
            "apps": {name: {k: d.get(k) for k in ("desired", "available", "error") if k in d} for name, d in seen_apps.items()},
            "serving": {name: r.get("status", "no answer") for name, r in seen_serving.items()},
            "summary": "; ".join(part for part in (node_text, app_text, serving_text) if part),
        }

    return probe


def _compare(observed: Any, expect: dict[str, Any]) -> bool:
    """Every key of EXPECT must match: plain equality, or *_at_least / *_at_most / *_contains."""
    for key, want in expect.items():
        if key.endswith("_at_least"):
            if not _get(observed, key.removesuffix("_at_least")) >= want:
                return False
        elif key.endswith("_at_most"):
            if not _get(observed, key.removesuffix("_at_most")) <= want:
                return False
        elif key.endswith("_contains"):
            if str(want) not in str(_get(observed, key.removesuffix("_contains"))):
                return False
        elif _get(observed, key) != want:
            return False
    return True


def _get(observed: Any, dotted: str) -> Any:
    node = observed
    for part in dotted.split("."):
        node = node[part] if isinstance(node, dict) else getattr(node, part)
    return node


def build(condition: str, params: dict[str, Any]) -> tuple[Probe, Predicate]:
    """Turn a condition name and its parameters into a probe and a predicate."""
    expect: dict[str, Any] = dict(params.get("expect") or {})
    kubeconfig = str(params.get("kubeconfig") or "")
    if condition == "files":
        paths = [Path(name) for name in params.get("names") or []]
        if not paths:
            raise UsageError("condition files needs names: the paths that must exist")
        return (lambda: {"missing": [str(path) for path in paths if not path.exists()]}), (lambda o: not o["missing"])
    if condition != "http" and not Path(kubeconfig).exists():
        raise UsageError(f"kubeconfig {kubeconfig!r} not found")
    if condition == "api":
        reachable = expect.get("reachable", True)
        probe = api_probe(kubeconfig, server=params.get("server") or None)
        return probe, (lambda o: bool(o.get("reachable")) == reachable and ("error" not in o) == reachable)
    if condition == "nodes":
        names = params.get("names") or None
        probe = nodes_probe(kubeconfig, names)

        def nodes_ok(observed: Any) -> bool:
            if "error" in observed:
                return False
            if names and set(names) - set(observed):
                return False
            count = params.get("count")
            if count is not None and len(observed) != int(count):
                return False
            return all(_compare(v, expect) for v in observed.values())

        return probe, nodes_ok
    if condition == "deployment":
        probe = deployment_probe(kubeconfig, str(params["name"]), str(params.get("namespace") or "default"))
        if not expect:
            return probe, (lambda o: "error" not in o and o["available"] >= o["desired"] > 0 and o["updated"] >= o["desired"])
        return probe, (lambda o: "error" not in o and _compare(o, expect))
    if condition == "pods":
        probe = pods_probe(kubeconfig, str(params.get("selector") or ""), str(params.get("namespace") or "default"))
        return probe, (lambda o: "error" not in o and _compare(o, expect))
    if condition == "node_pods":
        nodes = list(params.get("names") or [])
        if not nodes:
            raise UsageError("condition node_pods needs names: the node(s) whose pods to count")
        probe = node_pods_probe(kubeconfig, nodes, str(params.get("selector") or ""), str(params.get("namespace") or "default"))
        return probe, (lambda o: "error" not in o and _compare(o, expect))
    if condition == "api_read":
        want_ok = bool(expect.get("ok", True))
        probe = api_read_probe(kubeconfig, server=params.get("server") or None, path=params.get("path") or None)
        if want_ok:
            return probe, (lambda o: "error" not in o and o.get("ok") is True)
        return probe, (lambda o: "error" in o or o.get("ok") is False)
    if condition == "healthy":
        urls = list(params.get("urls") or [])
        if not all(isinstance(u, dict) and u.get("name") and u.get("url") for u in urls):
            raise UsageError("condition healthy takes urls as [{name: NAME, url: URL}, ...]")
        probe = healthy_probe(kubeconfig, list(params.get("names") or []), urls, str(params.get("namespace") or "default"))
        return probe, (lambda o: bool(o.get("healthy")))
    if condition == "http":
        needle = expect.pop("body_contains", None)
        probe = http_probe(str(params["url"]), ca_file=params.get("ca_file"), needle=None if needle is None else str(needle))
        want = expect or {"status": 200}
        if needle is not None:
            want["found"] = True
        return probe, (lambda o: "error" not in o and _compare(o, want))
    raise UsageError(
        f"unknown wait condition '{condition}': use api, api_read, nodes, deployment, pods, node_pods, healthy, http or files"
    )
