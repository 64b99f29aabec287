"""The http condition against a real local HTTP server: status and body."""

from labctl.cluster_probes import build
from labctl.wait import wait_until


def _wait(url: str, expect: dict[str, object]) -> bool:
    probe, predicate = build("http", {"url": url, "expect": expect})
    return wait_until(probe, predicate, timeout_s=0.5, interval_s=0.1).met


def test_status_and_body(server_url: str) -> None:
    assert _wait(f"{server_url}/ok", {})
    assert _wait(f"{server_url}/ok", {"body_contains": "hello"})
    assert not _wait(f"{server_url}/ok", {"body_contains": "goodbye"})
    assert not _wait(f"{server_url}/denied", {})
    assert _wait(f"{server_url}/denied", {"status": 401})
