"""roles/drill_engine in a real playbook run, with a drill role made for the test: the phases in order,
a failure recorded where it happened, and restore and verify run whatever happened before."""

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]

PHASE_TASKS = {
    "preflight": "- name: Note the preflight ran\n  labctl.lab.drill_record: {event: preflight ran, kind: preflight}\n",
    "inject": (
        "- name: Mark the fault injected\n  labctl.lab.drill_record: {mark: injected}\n"
        "- name: Fail when asked\n  when: fake_fail_in == 'inject'\n  ansible.builtin.fail: {msg: the fault could not be injected}\n"
    ),
    "observe": (
        "- name: Record what was seen\n  labctl.lab.drill_record: {expect: the fault is seen, expected: seen, met: true, observed: seen}\n"
        "- name: Fail when asked\n  when: fake_fail_in == 'observe'\n  ansible.builtin.fail: {msg: nothing was seen}\n"
    ),
    "restore": "- name: Undo\n  labctl.lab.drill_record: {restore: {performed: true}}\n",
    "verify": (
        "- name: Verified\n  labctl.lab.drill_record: {restore: {verified: true}}\n"
        "- name: Mark recovery\n  labctl.lab.drill_record: {mark: recovered}\n"
    ),
}


def _run(tmp_path: Path, fail_in: str, **more: Any) -> dict[str, Any]:
    tasks = tmp_path / "roles" / "drill_fake" / "tasks"
    tasks.mkdir(parents=True, exist_ok=True)
    for phase, text in PHASE_TASKS.items():
        (tasks / f"{phase}.yml").write_text("---\n" + text)
    (tmp_path / "ansible.cfg").write_text("[defaults]\n")
    env = {
        **os.environ,
        "ANSIBLE_CONFIG": str(tmp_path / "ansible.cfg"),
        "ANSIBLE_COLLECTIONS_PATH": str(REPO / "collections"),
        "ANSIBLE_ROLES_PATH": f"{tmp_path / 'roles'}:{REPO / 'roles'}",
        "ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.json",
        "ANSIBLE_SHOW_CUSTOM_STATS": "true",
        "ANSIBLE_LOCAL_TEMP": str(tmp_path / "tmp"),
    }
    # The venv Python on this host, as labctl names it for localhost (the play reaching the nodes runs ping here).
    extra = {"drill_id": "fake", "drill_role": "drill_fake", "fake_fail_in": fail_in, "ansible_python_interpreter": sys.executable, **more}
    done = subprocess.run(
        [str(Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,", "-c", "local",
         "-e", json.dumps(extra), str(REPO / "playbooks" / "drill.yml")],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    return json.loads(done.stdout)["global_custom_stats"]["drill"]


def test_a_clean_run_goes_through_every_phase(tmp_path: Path) -> None:
    record = _run(tmp_path, "nowhere")
    assert [(p["name"], p["status"]) for p in record["phases"]] == [
        ("preflight", "ok"), ("inject", "ok"), ("observe", "ok"), ("restore", "ok"), ("verify", "ok")]
    assert all(p["ended"] >= p["started"] for p in record["phases"])
    assert set(record["instants"]) == {"injected", "recovered"}
    assert record["expectations"][0]["phase"] == "observe"
    assert record["restore"] == {"performed": True, "verified": True}
    assert record["error"] == ""


@pytest.mark.parametrize("fail_in", ["inject", "observe"])
def test_a_failure_is_recorded_in_its_phase_and_the_fault_is_still_undone(tmp_path: Path, fail_in: str) -> None:
    record = _run(tmp_path, fail_in)
    statuses = {p["name"]: p["status"] for p in record["phases"]}
    assert statuses[fail_in] == "failed"
    assert statuses["restore"] == "ok" and statuses["verify"] == "ok"
    if fail_in == "inject":
        assert "observe" not in statuses
    assert record["error"] in ("the fault could not be injected", "nothing was seen")
    assert record["restore"] == {"performed": True, "verified": True}


def test_a_drill_in_stages_goes_on_with_the_record_of_the_stage_before(tmp_path: Path) -> None:
    first = _run(tmp_path, "nowhere", drill_phases=["preflight", "inject"])
    assert [(p["name"], p["status"]) for p in first["phases"]] == [("preflight", "ok"), ("inject", "")]
    # labctl's own step between the stages (here: nothing) leaves the inject phase open.
    second = _run(tmp_path, "nowhere", drill_phases=["observe", "restore"], drill_record_resume=first)
    assert [p["name"] for p in second["phases"]] == ["preflight", "inject", "observe", "restore"]
    assert second["phases"][0] == first["phases"][0] and second["events"][0] == first["events"][0]
    last = _run(tmp_path, "nowhere", drill_phases=["verify"], drill_record_resume=second)
    assert [(p["name"], p["status"]) for p in last["phases"]] == [
        ("preflight", "ok"), ("inject", "ok"), ("observe", "ok"), ("restore", "ok"), ("verify", "ok")]
    assert set(last["instants"]) == {"injected", "recovered"}
    assert last["restore"] == {"performed": True, "verified": True}


def test_a_stage_runs_only_its_phases_even_after_a_failure(tmp_path: Path) -> None:
    record = _run(tmp_path, "observe", drill_phases=["observe", "restore"])
    assert [(p["name"], p["status"]) for p in record["phases"]] == [("observe", "failed"), ("restore", "")]
    assert record["restore"] == {"performed": True, "verified": False}
