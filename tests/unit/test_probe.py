"""The availability probe against a real local HTTP server that goes down and comes back."""

import http.server
import threading
import time
from collections.abc import Iterator

import pytest

from labctl.probe import AvailabilityProbe, Target, TargetSeries


class Flaky(http.server.BaseHTTPRequestHandler):
    healthy = True

    def do_GET(self) -> None:
        self.send_response(200 if Flaky.healthy else 503)
        self.end_headers()
        self.wfile.write(b"nginx ok")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Flaky)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    Flaky.healthy = True


def test_probe_measures_an_outage(server: str) -> None:
    probe = AvailabilityProbe([Target("web", server, expect_contains="nginx")], interval_s=0.2).start()
    time.sleep(0.7)
    Flaky.healthy = False
    time.sleep(0.9)
    Flaky.healthy = True
    time.sleep(0.7)
    summary = probe.stop()
    target = summary["targets"][0]
    assert target["samples"] >= 8
    assert 0 < target["success_ratio"] < 1
    assert 0.5 <= target["longest_outage_s"] <= 1.5
    assert any(sample[3] == "HTTP 503" for sample in target["timeline"])
    assert summary["longest_outage_s"] == target["longest_outage_s"]


def test_refused_connection_is_a_failure() -> None:
    probe = AvailabilityProbe([Target("gone", "http://127.0.0.1:9/")], interval_s=0.2).start()
    time.sleep(0.5)
    summary = probe.stop()
    assert summary["targets"][0]["successes"] == 0
    assert summary["success_ratio"] == 0


def test_outage_runs_to_the_last_sample_when_never_recovered() -> None:
    series = TargetSeries(Target("x", "http://x/"), samples=[[0.0, True, 1, None], [1.0, False, None, "e"], [2.0, False, None, "e"]])
    assert series.summary(1.0)["longest_outage_s"] == 2.0


class Slow(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        time.sleep(0.3)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"nginx ok")

    def log_message(self, *args: object) -> None:
        pass


def test_a_fifth_of_a_second_never_oversamples_and_a_slow_answer_is_no_outage(server: str) -> None:
    # At 0.2 s a healthy answer slower than the interval must count as up, and the probe must not
    # sample faster than the interval: at most one sample per interval since the start, per target.
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Slow)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        slow = Target("slow", f"http://127.0.0.1:{httpd.server_address[1]}/", expect_contains="nginx")
        probe = AvailabilityProbe([slow, Target("fast", server, expect_contains="nginx")], interval_s=0.2).start()
        time.sleep(1.5)
        summary = probe.stop()
    finally:
        httpd.shutdown()
    assert summary["interval_s"] == 0.2
    for target in summary["targets"]:
        assert target["samples"] >= 2 and target["success_ratio"] == 1.0 and target["longest_outage_s"] == 0.0
        offsets = [s[0] for s in target["timeline"]]
        assert offsets == sorted(offsets)
        # Half a sample of slack for clock rounding; sampling back to back would take hundreds.
        assert target["samples"] <= offsets[-1] / 0.2 + 1.5, target["name"]
