"""What the provider's machines say about a lab's recorded phase."""

from labctl.status import machines_summary


def _machines(*states: str) -> list[dict[str, str]]:
    return [{"name": f"n{i}", "state": state} for i, state in enumerate(states)]


def test_a_local_lab_without_running_nodes_is_stopped() -> None:
    summary = machines_summary("lab", "local", "ready", _machines("stopped", "stopped"))
    assert summary["phase"] == "stopped" and summary["nodes_running"] == 0
    assert "`labctl up --lab lab` starts them again" in summary["hint"]


def test_some_nodes_down_is_degraded() -> None:
    summary = machines_summary("lab", "local", "ready", _machines("running", "stopped"))
    assert summary["phase"] == "degraded" and "n1 stopped" in summary["hint"]


def test_running_labs_and_cloud_states_need_no_hint() -> None:
    assert "hint" not in machines_summary("lab", "local", "ready", _machines("running", "running"))
    assert machines_summary("lab", "openstack", "ready", _machines("active", "active"))["nodes_running"] == 2
    assert "hint" not in machines_summary("lab", "aws", "ready", _machines("stopped"))
    assert machines_summary("lab", "local", "ready", [{"error": "no API"}]) == {}
