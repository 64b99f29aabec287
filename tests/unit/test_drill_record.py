"""The drill record (labctl.drill_record) and the action that changes it (labctl.lab.drill_record) in a real playbook run."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from labctl import drill_record as dr

REPO = Path(__file__).resolve().parents[2]


def test_phases_open_and_close_in_order() -> None:
    record = dr.apply(None, {"phase": "preflight"}, 10.0)
    record = dr.apply(record, {"phase": "inject"}, 12.5)
    record = dr.apply(record, {"phase": "done"}, 13.0)
    assert record["phases"] == [
        {"name": "preflight", "started": 10.0, "ended": 12.5, "status": "ok"},
        {"name": "inject", "started": 12.5, "ended": 13.0, "status": "ok"},
    ]


def test_preflight_starts_a_new_record() -> None:
    record = dr.apply(None, {"phase": "preflight"}, 1.0)
    record = dr.apply(record, {"mark": "injected"}, 2.0)
    record = dr.apply(record, {"phase": "preflight"}, 3.0)
    assert record["instants"] == {}
    assert [p["name"] for p in record["phases"]] == ["preflight"]


def test_a_failure_closes_the_open_phase_failed_and_stays_failed() -> None:
    record = dr.apply(None, {"phase": "preflight"}, 1.0)
    record = dr.apply(record, {"phase": "inject"}, 2.0)
    record = dr.apply(record, {"fail": "x" * 500}, 3.0)
    record = dr.apply(record, {"phase": "restore"}, 4.0)
    inject = record["phases"][1]
    assert inject["status"] == "failed" and inject["ended"] == 3.0
    assert len(inject["message"]) == dr.MESSAGE_LIMIT and inject["message"].endswith("...")
    assert record["error"] == inject["message"]
    assert record["events"][-1]["kind"] == "error"
    assert record["phases"][-1]["name"] == "restore"


def test_marks_take_a_waits_iso_time_epoch_seconds_or_now() -> None:
    record = dr.apply(None, {"mark": "detected", "at": "2026-12-05T13:00:00.500Z"}, 99.0)
    record = dr.apply(record, {"mark": "injected", "at": "1796475590.25"}, 99.0)
    record = dr.apply(record, {"mark": "recovered", "at": ""}, 99.0)
    record = dr.apply(record, {"mark": "naive", "at": "2026-12-05T13:00:00"}, 99.0)
    assert record["instants"] == {"detected": 1796475600.5, "injected": 1796475590.25, "recovered": 99.0, "naive": 1796475600.0}


def test_a_mark_at_a_time_that_is_no_time_is_refused() -> None:
    with pytest.raises(dr.RecordError, match="neither epoch seconds nor an ISO 8601 time"):
        dr.apply(None, {"mark": "detected", "at": "soon"}, 1.0)


def test_an_expectation_judged_by_a_wait_takes_its_met_observed_and_at() -> None:
    record = dr.apply(None, {"phase": "preflight"}, 1.0)
    record = dr.apply(record, {"phase": "observe"}, 2.0)
    wait = {"met": True, "observed": {"ready": 2}, "at": "2026-12-05T13:00:01.000Z"}
    record = dr.apply(record, {"expect": "the dip", "expected": "ready ≤ 2", "result": wait}, 5.0)
    missed = {"met": False, "observed": {"ready": 3}, "at": None}
    record = dr.apply(record, {"expect": "another", "expected": "ready ≤ 2", "result": missed}, 6.0)
    first, second = record["expectations"]
    assert first == {"description": "the dip", "phase": "observe", "expected": "ready ≤ 2", "observed": {"ready": 2}, "met": True,
                     "at": 1796475601.0}
    assert second["met"] is False and second["at"] is None and second["observed"] == {"ready": 3}


def test_a_plain_check_is_met_as_ansible_hands_it_over_and_timed_now() -> None:
    record = dr.apply(None, {"expect": "a", "expected": "x", "met": "True", "observed": "y"}, 7.0)
    record = dr.apply(record, {"expect": "b", "expected": "x", "met": "False"}, 8.0)
    assert [(e["met"], e["at"]) for e in record["expectations"]] == [(True, 7.0), (False, None)]


def test_an_expectation_that_holds_marks_its_instant_when_it_was_seen() -> None:
    wait = {"met": True, "observed": {}, "at": "2026-12-05T13:00:01.000Z"}
    record = dr.apply(None, {"expect": "back", "expected": "x", "result": wait, "then_mark": "recovered"}, 9.0)
    record = dr.apply(record, {"expect": "moved", "expected": "x", "met": "true", "at": 4.5, "then_mark": "evicted"}, 9.0)
    record = dr.apply(record, {"expect": "checked", "expected": "x", "met": True, "then_mark": "checked"}, 9.0)
    missed = {"met": False, "observed": {}, "at": "2026-12-05T13:00:02.000Z"}
    record = dr.apply(record, {"expect": "never", "expected": "x", "result": missed, "then_mark": "detected"}, 9.0)
    assert record["instants"] == {"recovered": 1796475601.0, "evicted": 4.5, "checked": 9.0}
    assert [e["at"] for e in record["expectations"]] == [1796475601.0, 4.5, 9.0, None]


def test_an_expectation_that_verifies_the_restore_sets_verified_either_way() -> None:
    healthy = dr.apply(None, {"expect": "healthy", "expected": "x", "met": True, "verifies_restore": "true"}, 1.0)
    assert healthy["restore"]["verified"] is True
    sick = dr.apply(healthy, {"expect": "healthy", "expected": "x", "met": False, "verifies_restore": True}, 2.0)
    assert sick["restore"]["verified"] is False
    before = dr.apply(sick, {"expect": "healthy before", "expected": "x", "met": True, "verifies_restore": False}, 3.0)
    assert before["restore"]["verified"] is False


def test_restore_and_expected_seconds_merge() -> None:
    record = dr.apply(None, {"restore": {"performed": True}}, 1.0)
    record = dr.apply(record, {"restore": {"verified": "true"}}, 2.0)
    record = dr.apply(record, {"expected_s": {"time_to_detect": "20", "time_to_evict": 50}}, 3.0)
    assert record["restore"] == {"performed": True, "verified": True}
    assert record["expected_s"] == {"time_to_detect": 20.0, "time_to_evict": 50.0}


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        ({}, "name exactly one of"),
        ({"mark": "a", "phase": "inject"}, "got phase, mark"),
        ({"phase": "lunch"}, "unknown phase 'lunch'"),
        ({"expect": "a"}, "expect needs expected"),
        ({"restore": "yes"}, "restore takes"),
        ({"expected_s": {"t": "soon"}}, "expected_s takes seconds"),
    ],
)
def test_calls_it_cannot_use_are_refused_with_the_reason(args: dict[str, object], problem: str) -> None:
    with pytest.raises(dr.RecordError, match=problem):
        dr.apply(None, args, 1.0)


def test_steps_apply_several_actions_in_order_at_one_time() -> None:
    steps = [{"resume": {"instants": {"earlier": 2.0}}}, {"phase": "inject"}, {"mark": "injected"}]
    record = dr.apply_steps({"instants": {"old": 1.0}}, steps, 5.0)
    assert record["instants"] == {"earlier": 2.0, "injected": 5.0}
    assert [(p["name"], p["status"]) for p in record["phases"]] == [("inject", "")]
    assert dr.apply_steps(None, [], 5.0) == dr.empty()


@pytest.mark.parametrize(
    ("steps", "problem"),
    [
        ("phase: inject", "steps takes a list"),
        ([{"phase": "inject"}, "mark"], "steps takes a list"),
        ([{"mark": "a", "event": "b"}], "got mark, event"),
    ],
)
def test_steps_it_cannot_use_are_refused_with_the_reason(steps: object, problem: str) -> None:
    with pytest.raises(dr.RecordError, match=problem):
        dr.apply_steps(None, steps, 1.0)


def test_elapsed_between_two_formats() -> None:
    assert dr.elapsed_s(1796475600.0, "2026-12-05T13:00:12.340Z") == 12.3
    assert dr.elapsed_s(None, 5) is None


PLAYBOOK = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: Start a drill
      labctl.lab.drill_record: {phase: preflight}
    - name: Fail inside a block
      block:
        - labctl.lab.drill_record: {phase: inject}
        - labctl.lab.drill_record: {mark: injected, at: "2026-12-05T13:00:00.000Z"}
        - ansible.builtin.fail: {msg: the fault could not be injected}
      rescue:
        - labctl.lab.drill_record: {fail: "{{ ansible_failed_result.msg }}"}
    - labctl.lab.drill_record: {phase: restore}
    - name: Compute with the filter
      ansible.builtin.set_fact:
        since_injected: "{{ ansible_facts.drill_record.instants.injected | labctl.lab.elapsed_s('2026-12-05T13:00:02.000Z') }}"
    - labctl.lab.drill_record: {steps: [{mark: restored, at: "2026-12-05T13:00:03.000Z"}, {phase: done}], report: true}
    - ansible.builtin.debug: {msg: "since={{ since_injected }}"}
"""


def run_play(tmp_path: Path, text: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "play.yml").write_text(text)
    (tmp_path / "ansible.cfg").write_text("[defaults]\n")  # not the project's: its timing callback would break the JSON
    env = {
        **os.environ,
        "ANSIBLE_CONFIG": str(tmp_path / "ansible.cfg"),
        "ANSIBLE_COLLECTIONS_PATH": str(REPO / "collections"),
        "ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.json",
        "ANSIBLE_SHOW_CUSTOM_STATS": "true",
        "ANSIBLE_LOCAL_TEMP": str(tmp_path / "tmp"),
    }
    return subprocess.run(
        [str(Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,", "-c", "local", "play.yml"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False,
    )


def test_the_action_keeps_the_record_across_tasks_and_reports_it_through_stats(tmp_path: Path) -> None:
    done = run_play(tmp_path, PLAYBOOK)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    out = json.loads(done.stdout)
    record = out["global_custom_stats"]["drill"]
    assert [(p["name"], p["status"]) for p in record["phases"]] == [("preflight", "ok"), ("inject", "failed"), ("restore", "ok")]
    assert record["error"] == "the fault could not be injected"
    assert record["instants"] == {"injected": 1796475600.0, "restored": 1796475603.0}
    messages = [t["hosts"]["localhost"].get("msg") for p in out["plays"] for t in p["tasks"]]
    assert "since=2.0" in messages


def test_the_action_names_an_option_that_belongs_in_a_step(tmp_path: Path) -> None:
    done = run_play(tmp_path, """
- name: Report with an action beside it
  hosts: localhost
  gather_facts: false
  tasks:
    - labctl.lab.drill_record: {phase: inject, report: true}
""")
    assert done.returncode != 0
    failed = [t["hosts"]["localhost"] for p in json.loads(done.stdout)["plays"] for t in p["tasks"]]
    assert failed[-1]["msg"] == "steps and report take no other option: put phase in a step"
