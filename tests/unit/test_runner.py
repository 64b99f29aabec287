"""Real ansible-runner runs of small playbooks (connection local): events, set_stats, failures, secrets, CPUs."""

import os
from pathlib import Path

import pytest

from labctl.runner import run_playbook

OK_PLAYBOOK = """
- name: Small play
  hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: Say hello
      ansible.builtin.debug:
        msg: hello
    - name: Change something
      ansible.builtin.copy:
        dest: "{{ out }}"
        content: "x"
        mode: "0644"
    - name: Hand back data
      ansible.builtin.set_stats:
        aggregate: false
        data:
          answer: 42
          nested: {ok: true}
"""

FAIL_PLAYBOOK = """
- name: Failing play
  hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: Break on purpose
      ansible.builtin.fail:
        msg: the widget is broken
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "play.yml"
    path.write_text(text)
    return path


def test_success_returns_stats_and_counts(tmp_path: Path) -> None:
    events: list[str] = []
    result = run_playbook(
        str(write(tmp_path, OK_PLAYBOOK)),
        logs_dir=tmp_path / "logs",
        inventory="localhost,",
        extravars={"out": str(tmp_path / "out.txt")},
        sink=lambda e: events.append(e.get("event", "")),
    )
    assert result.succeeded
    assert result.stats == {"answer": 42, "nested": {"ok": True}}
    assert result.total_changed == 1
    assert "playbook_on_task_start" in events and "runner_on_ok" in events
    assert result.artifacts_dir is not None and (result.artifacts_dir / "job_events").is_dir()
    again = run_playbook(str(write(tmp_path, OK_PLAYBOOK)), logs_dir=tmp_path / "logs", inventory="localhost,",
                         extravars={"out": str(tmp_path / "out.txt")})
    assert again.total_changed == 0


def test_failure_names_host_task_and_message(tmp_path: Path) -> None:
    result = run_playbook(str(write(tmp_path, FAIL_PLAYBOOK)), logs_dir=tmp_path / "logs", inventory="localhost,")
    assert not result.succeeded
    assert result.failures[0].host == "localhost"
    assert result.failures[0].task == "Break on purpose"
    assert result.failures[0].message == "the widget is broken"
    assert result.failures[0].line() == "localhost: task 'Break on purpose' failed: the widget is broken"


def test_secrets_in_environment_never_reach_artifacts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "s3cr3t-value-that-must-not-leak"
    # Well-known cloud names and any other secret a user may have exported.
    for name in ("AWS_SECRET_ACCESS_KEY", "OS_PASSWORD", "GITHUB_TOKEN", "VAULT_TOKEN", "SOME_APP_PASSWORD"):
        monkeypatch.setenv(name, secret)
    result = run_playbook(str(write(tmp_path, OK_PLAYBOOK)), logs_dir=tmp_path / "logs", inventory="localhost,",
                          extravars={"out": str(tmp_path / "o.txt")})
    assert result.succeeded
    leaked = [p for p in (tmp_path / "logs").rglob("*") if p.is_file() and secret in p.read_text(errors="replace")]
    assert leaked == []
    import os

    assert os.environ["GITHUB_TOKEN"] == secret  # the caller's environment is untouched


ENV_PLAYBOOK = """
- name: Environment
  hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: Hand back what the play sees
      ansible.builtin.set_stats:
        aggregate: false
        data:
          passed: "{{ lookup('env', 'LABCTL_PASSED') }}"
          pointer: "{{ lookup('env', 'AWS_SHARED_CREDENTIALS_FILE') }}"
          home: "{{ lookup('env', 'HOME') }}"
          other: "{{ lookup('env', 'UNRELATED_SETTING') }}"
          host_key_checking: "{{ lookup('ansible.builtin.config', 'HOST_KEY_CHECKING') }}"
"""


def test_playbooks_see_an_allowlisted_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UNRELATED_SETTING", "x")
    result = run_playbook(str(write(tmp_path, ENV_PLAYBOOK)), logs_dir=tmp_path / "logs", inventory="localhost,",
                          env={"LABCTL_PASSED": "yes", "AWS_SHARED_CREDENTIALS_FILE": "/proc/1/fd/3"})
    assert result.succeeded, result.failures
    assert result.stats["passed"] == "yes" and result.stats["pointer"] == "/proc/1/fd/3"
    assert result.stats["home"] and result.stats["other"] == ""
    # ansible-runner would turn it off; the lab's pinned host keys are only worth anything checked.
    assert result.stats["host_key_checking"] in (True, "True")


CPUS_PLAYBOOK = """
- name: Where a command on this host may run
  hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: Read this command's CPU affinity
      ansible.builtin.command: grep Cpus_allowed_list /proc/self/status
      register: affinity
      changed_when: false
    - name: Hand it back
      ansible.builtin.set_stats:
        aggregate: false
        data: {cpus: "{{ affinity.stdout.split()[-1] }}"}
"""


def parse_cpu_list(text: str) -> set[int]:
    """/proc's list form: '0-1,3' is {0, 1, 3}."""
    cpus: set[int] = set()
    for part in text.split(","):
        first, _, last = part.partition("-")
        cpus.update(range(int(first), int(last or first) + 1))
    return cpus


def test_commands_on_this_host_may_use_every_cpu_labctl_may(tmp_path: Path) -> None:
    # mitogen's own strategy pins what it starts to one CPU of a small host (CPU 1 of two): labctl's does not.
    result = run_playbook(str(write(tmp_path, CPUS_PLAYBOOK)), logs_dir=tmp_path / "logs", inventory="localhost,", extravars={})
    assert result.succeeded, result.failures
    assert parse_cpu_list(result.stats["cpus"]) == os.sched_getaffinity(0)
