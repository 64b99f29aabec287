"""labctl.profile from recorded ansible-runner event streams (tests/fixtures/events/README.md)."""

import gzip
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from rich.console import Console

from labctl.paths import PLAYBOOKS_DIR
from labctl.profile import PHASE_OF_PLAY, PHASE_OF_ROLE, PlaybookTimer, Profile, render

EVENTS = Path(__file__).resolve().parents[1] / "fixtures" / "events"
DEMO_PHASES = {"demo": "demo work"}
DEMO_PLAYS = {"Second play": "pausing"}


def recorded(name: str) -> tuple[float, list[dict[str, Any]]]:
    with gzip.open(EVENTS / f"{name}.jsonl.gz", "rt") as fh:
        head, *events = [json.loads(line) for line in fh if line.strip()]
    return float(head["playbook_seconds"]), events


def replay(name: str, **tables: Any) -> tuple[PlaybookTimer, float]:
    seconds, events = recorded(name)
    forwarded: list[dict[str, Any]] = []
    timer = PlaybookTimer(forwarded.append, **tables)
    for event in events:
        timer(event)
    assert forwarded == events, "every event reaches the progress view unchanged"
    return timer, seconds


def demo_tasks() -> dict[str, Any]:
    timer, _ = replay("two-plays-local", phase_of_role=DEMO_PHASES, phase_of_play=DEMO_PLAYS)
    return {t.task: t for t in timer.tasks()}


def test_every_task_is_timed_in_order_and_the_tasks_cover_the_whole_run() -> None:
    timer, _ = replay("two-plays-local", phase_of_role=DEMO_PHASES, phase_of_play=DEMO_PLAYS)
    tasks = timer.tasks()
    assert [t.task for t in tasks] == [
        "Validating arguments against arg spec 'main' - demo",
        "Copy a file",
        "Poll until the third look",
        "Wait http for two paths",
        "Say done",
        "Pause",
    ]
    # From the playbook's first event to its stats: nothing falls between two tasks.
    assert sum(t.seconds for t in tasks) == pytest.approx(timer.span, abs=1e-6)
    assert timer.span == pytest.approx(14.084, abs=0.001)
    assert tasks[1].seconds == pytest.approx(42.807 - 41.293, abs=0.001)


def test_the_wait_module_waits_for_as_long_as_it_says_it_polled() -> None:
    wait = demo_tasks()["Wait http for two paths"]
    # Two loop items: 4.017 s until the path appeared, then 0.003 s; the rest is Ansible's.
    assert wait.waiting == pytest.approx(4.020, abs=1e-6)
    assert wait.seconds == pytest.approx(53.171 - 47.000, abs=0.001)
    assert wait.ansible == pytest.approx(wait.seconds - 4.020, abs=1e-6)


def test_a_task_that_polls_with_until_waits_from_its_first_retry_on_its_slowest_host() -> None:
    poll = demo_tasks()["Poll until the third look"]
    # Host a: first retry 43.398, done 46.791; b and localhost waited a little less.
    assert poll.waiting == pytest.approx(46.791 - 43.398, abs=0.002)


def test_tasks_that_never_polled_are_all_ansible() -> None:
    tasks = demo_tasks()
    for name in ("Copy a file", "Say done", "Pause", "Validating arguments against arg spec 'main' - demo"):
        assert tasks[name].waiting == 0.0, name
        assert tasks[name].ansible == tasks[name].seconds


def test_phases_come_from_the_role_then_the_play_else_other() -> None:
    tasks = demo_tasks()
    assert tasks["Copy a file"].phase == "demo work"
    assert tasks["Say done"].phase == "demo work", "a role's handler belongs to the role's phase"
    assert tasks["Pause"].phase == "pausing"
    timer, _ = replay("two-plays-local", phase_of_role={}, phase_of_play={})
    assert {t.phase for t in timer.tasks()} == {"other"}


def test_the_profile_adds_ansible_start_up_and_labctl_time_and_reconciles_with_the_total() -> None:
    timer, seconds = replay("two-plays-local", phase_of_role=DEMO_PHASES, phase_of_play=DEMO_PLAYS)
    profile = Profile()
    profile.add_labctl("node boot", 12.0)
    profile.add_playbook(timer, seconds)
    profile.close(total_seconds=12.0 + seconds + 0.5)
    data = profile.to_dict()
    rows = {p["phase"]: p for p in data["phases"]}
    assert [p["phase"] for p in data["phases"]] == ["node boot", "demo work", "pausing", "Ansible start-up", "labctl other"]
    assert rows["node boot"] == {"phase": "node boot", "seconds": 12.0, "waiting_s": 0.0, "ansible_s": 0.0, "labctl_s": 12.0, "tasks": 0}
    assert rows["demo work"]["tasks"] == 5
    assert rows["demo work"]["waiting_s"] == pytest.approx(4.02 + 3.393, abs=0.11)
    assert rows["Ansible start-up"]["ansible_s"] == pytest.approx(seconds - 14.084, abs=0.1)
    assert rows["labctl other"]["labctl_s"] == pytest.approx(0.5, abs=0.1)
    assert data["total_s"] == pytest.approx(12.0 + seconds + 0.5, abs=0.1)
    for row in data["phases"]:
        assert row["seconds"] == pytest.approx(row["waiting_s"] + row["ansible_s"] + row["labctl_s"], abs=0.15)
    assert data["waiting_s"] + data["ansible_s"] + data["labctl_s"] == pytest.approx(data["total_s"], abs=0.15)


def test_the_costliest_tasks_and_modules_are_listed_first() -> None:
    timer, seconds = replay("two-plays-local", phase_of_role=DEMO_PHASES, phase_of_play=DEMO_PLAYS)
    profile = Profile()
    profile.add_playbook(timer, seconds)
    data = profile.to_dict()
    top = data["top_tasks"]
    assert top[0]["task"] == "Wait http for two paths" and top[0]["phase"] == "demo work"
    assert [t["seconds"] for t in top] == sorted((t["seconds"] for t in top), reverse=True)
    actions = {a["action"]: a for a in data["by_action"]}
    assert actions["labctl.lab.wait"]["tasks"] == 1
    assert actions["ansible.builtin.validate_argument_spec"]["seconds"] < 0.2


def test_a_task_run_several_times_is_one_cost_with_its_count() -> None:
    timer, seconds = replay("two-plays-local", phase_of_role=DEMO_PHASES, phase_of_play=DEMO_PLAYS)
    profile = Profile()
    profile.add_playbook(timer, seconds)
    profile.add_playbook(timer, seconds)
    (copy,) = [t for t in profile.to_dict()["top_tasks"] if t["task"] == "Copy a file"]
    assert copy["runs"] == 2
    assert copy["seconds"] == pytest.approx(2 * (42.807 - 41.293), abs=0.1)


def test_the_table_shows_every_phase_and_the_split() -> None:
    timer, seconds = replay("two-plays-local", phase_of_role=DEMO_PHASES, phase_of_play=DEMO_PLAYS)
    profile = Profile()
    profile.add_labctl("node boot", 12.0)
    profile.add_playbook(timer, seconds)
    profile.close(total_seconds=30.0)
    console = Console(record=True, width=160)
    for table in render(profile.to_dict()):
        console.print(table)
    text = console.export_text()
    for phase in ("node boot", "demo work", "pausing", "Ansible start-up", "total"):
        assert phase in text
    assert "waiting on Kubernetes" in text and "Wait http for two paths" in text


def roles_and_role_less_plays(playbook: Path) -> tuple[set[str], set[str]]:
    roles: set[str] = set()
    plays: set[str] = set()
    for play in yaml.safe_load(playbook.read_text()):
        imported = play.get("ansible.builtin.import_playbook") or play.get("import_playbook")
        if imported:
            more_roles, more_plays = roles_and_role_less_plays(playbook.parent / imported)
            roles |= more_roles
            plays |= more_plays
            continue
        roles |= {r["role"] if isinstance(r, dict) else r for r in play.get("roles", [])}
        if play.get("tasks") or play.get("pre_tasks") or play.get("post_tasks"):
            plays.add(play["name"])
    return roles, plays


@pytest.mark.parametrize("playbook", ["cluster.yml", "apps.yml"])
def test_every_role_and_role_less_play_of_up_has_a_phase(playbook: str) -> None:
    roles, plays = roles_and_role_less_plays(PLAYBOOKS_DIR / playbook)
    assert roles - PHASE_OF_ROLE.keys() == set(), "add the role to PHASE_OF_ROLE in labctl/profile.py"
    assert plays - PHASE_OF_PLAY.keys() == set(), "add the play to PHASE_OF_PLAY in labctl/profile.py"


def test_a_real_install_has_every_phase_and_no_task_outside_one() -> None:
    timer, seconds = replay("cluster-local-3-nodes")
    tasks = timer.tasks()
    phases = ["PKI", "bundle push", "etcd", "control plane", "CNI", "runtime + images", "kubelet", "proxy", "nodes Ready", "CoreDNS"]
    assert {t.phase for t in tasks} == set(phases)
    waits = [t for t in tasks if t.action == "labctl.lab.wait"]
    assert waits and all(t.ansible > 0 for t in waits), "a wait task's module start-up is Ansible's, not Kubernetes'"
    assert sum(t.seconds for t in tasks) == pytest.approx(timer.span, abs=1e-6)
    profile = Profile()
    profile.add_playbook(timer, seconds)
    keys = [c for c in profile.top_tasks(count=1000) if c.phase == "PKI" and c.task.startswith("Create the private key of")]
    # One row per task line however many items ran it: ca.yml's for the 2 CAs, certificate.yml's for the 14 certificates.
    assert sorted(c.runs for c in keys) == [2, 14]
    assert all(c.task.endswith(" …") for c in keys)
