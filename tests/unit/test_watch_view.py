"""The live view, rendered from recorded state: what a user sees mid-fault, and the plain lines without a TTY."""

import io
import json
from pathlib import Path

from rich.console import Console

from labctl.drill_feed import DrillFeed
from labctl.watch_view import ProbeWindow, WatchState, plain_lines, probe_window, render, sparkline

FIXTURE = Path(__file__).parent.parent / "fixtures" / "watch" / "worker-failure-mid-fault.json"


def recorded() -> WatchState:
    return WatchState.from_dict(json.loads(FIXTURE.read_text()))


def screen(state: WatchState, width: int = 160) -> str:
    console = Console(file=io.StringIO(), width=width, force_terminal=True, color_system=None, record=True)
    console.print(render(state))
    return console.export_text()


def test_nodes_show_ready_notready_and_schedulingdisabled() -> None:
    text = screen(recorded())
    lines = {line.split()[0]: line for line in text.splitlines() if line.strip().startswith("watch-")}
    assert "NotReady" in lines["watch-worker-2"]
    assert "Ready" in lines["watch-worker-1"] and "NotReady" not in lines["watch-worker-1"]
    assert "SchedulingDisabled" in lines["watch-controller-1"]


def test_pods_are_listed_under_their_node_with_their_phase() -> None:
    text = screen(recorded())
    assert "nginx-7c5d8-abcde" in text and "Terminating" in text
    assert "ContainerCreating" in text
    assert "(not scheduled)" in text and "Pending" in text
    # A pod appears in the row of the node it runs on.
    block = text[text.index("watch-worker-1"): text.index("watch-worker-2")]
    assert "nginx-7c5d8-fghij" in block and "nginx-7c5d8-abcde" not in block


def test_probes_show_a_minute_sparkline_and_the_success_ratio() -> None:
    state = recorded()
    text = screen(state)
    line = next(line for line in text.splitlines() if "guestbook-read" in line)
    assert "×" in line and "▁" in line
    assert "90%" in line


def test_drill_phase_and_instants() -> None:
    text = screen(recorded())
    assert "worker-failure" in text and "observe" in text
    assert "injected" in text and "node_not_ready" in text
    assert "+12.0s" in text  # node_not_ready, from the drill's start


def test_api_unreachable_is_said_not_hidden() -> None:
    state = recorded()
    state.api_error = "API server unavailable: ProtocolError"
    assert "unreachable (API server unavailable: ProtocolError)" in screen(state)


def test_sparkline_buckets_the_last_minute_by_second() -> None:
    # 60 slots; a failed second is ×, a second without a sample is blank, latency sets the height.
    line = sparkline([(0.0, True, 5.0), (1.0, False, None), (3.0, True, 900.0)], start=0.0, now=4.0)
    assert len(line.plain) == 60
    assert line.plain[-4:] == "▁× ▇"
    window = probe_window("nginx", [[0.0, True, 5.0, None], [1.0, False, None, "refused"], [70.0, True, 5.0, None]], 1000.0, 1071.0)
    assert window.samples == 1 and window.ratio == 1.0  # only the last minute counts


def test_plain_lines_say_what_changed() -> None:
    before = recorded()
    after = recorded()
    after.nodes["watch-worker-2"]["ready"] = True
    del after.pods["nginx-7c5d8-abcde"]
    after.drill["phase"] = "restore"
    after.drill["instants"]["restored"] = after.drill["started"] + 40
    after.probes[1] = ProbeWindow("guestbook-read", [*after.probes[1].cells[:-1], (True, 3.0)], 60, 1.0, None)
    lines = plain_lines(before, after)
    joined = "\n".join(lines)
    assert "node watch-worker-2 Ready" in joined
    assert "pod nginx-7c5d8-abcde gone" in joined
    assert "drill worker-failure phase restore" in joined
    assert "instant restored +40.0s" in joined
    assert "probe guestbook-read up" in joined
    assert plain_lines(after, after) == []


def test_first_plain_lines_describe_everything() -> None:
    lines = plain_lines(None, recorded())
    assert any(line.endswith("node watch-worker-2 NotReady") for line in lines)
    assert any("pod nginx-7c5d8-abcde on watch-worker-2 Terminating" in line for line in lines)


def test_drill_feed_reads_phase_instants_and_task_from_runner_events() -> None:
    feed = DrillFeed("worker-failure", "watch-worker-2", started=1000.0)
    feed({"event": "playbook_on_task_start", "event_data": {"task": "Stop the kubelet"}})
    phases = [{"name": "preflight", "started": 1000.5, "ended": 1003.0, "status": "ok"},
              {"name": "inject", "started": 1003.0, "ended": None, "status": ""}]
    feed({"event": "runner_on_ok", "event_data": {"res": {"ansible_facts": {"drill_record": {
        "phase": "inject", "phases": phases, "instants": {}}}}}})
    assert feed.snapshot()["phase"] == "inject"
    feed({"event": "runner_on_ok", "event_data": {"res": {"ansible_facts": {"drill_record": {
        "phase": "inject", "phases": phases, "instants": {"injected": 1004.25, "node_not_ready": 1016.0, "bad": "soon"}}}}}})
    snap = feed.snapshot()
    assert snap["phase"] == "inject" and snap["phase_started"] == 1003.0
    assert snap["instants"] == {"injected": 1004.25, "node_not_ready": 1016.0}
    assert snap["task"] == "Stop the kubelet"
    # Events without facts, or of other kinds, change nothing.
    feed({"event": "runner_on_ok", "event_data": {"res": {"changed": False}}})
    feed({"event": "verbose", "stdout": "x"})
    assert feed.snapshot()["instants"] == snap["instants"]
