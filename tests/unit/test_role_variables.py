"""No role reads another role's defaults without a fallback of its own: include_role keeps an included role's defaults to itself, so such a
read is undefined at run time (worker-drain once failed on node_failure_watch's node_failure_namespace)."""

import re
from pathlib import Path

import pytest
import yaml

ROLES = Path(__file__).resolve().parents[2] / "roles"
JINJA = re.compile(r"{{(.*?)}}|{%(.*?)%}", re.S)
# A name read with its own fallback (`x | default(...)`) cannot be undefined: not counted.
NAME = re.compile(r"(?<![\w.'\"])([a-z_][a-z0-9_]*)(?!\w|\s*\|\s*default\b)")


def _defaults(role: Path) -> set[str]:
    path = role / "defaults" / "main.yml"
    return set(yaml.safe_load(path.read_text()) or {}) if path.exists() else set()


def _walk(node: object, parent_key: str = "") -> tuple[set[str], set[str]]:
    """(names read in Jinja or `when`, names the tasks define: set_fact, register, vars, loop_var)."""
    read: set[str] = set()
    defined: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("ansible.builtin.set_fact", "vars") and isinstance(value, dict):
                defined |= {str(k) for k in value}
            if key in ("register", "loop_var") and isinstance(value, str):
                defined.add(value)
            if key in ("when", "until", "changed_when", "failed_when") and isinstance(value, str | list):
                for condition in value if isinstance(value, list) else [value]:
                    read |= set(NAME.findall(str(condition)))
            more_read, more_defined = _walk(value, str(key))
            read |= more_read
            defined |= more_defined
    elif isinstance(node, list):
        for item in node:
            more_read, more_defined = _walk(item, parent_key)
            read |= more_read
            defined |= more_defined
    elif isinstance(node, str):
        for match in JINJA.finditer(node):
            read |= set(NAME.findall(match.group(1) or match.group(2) or ""))
    return read, defined


def _tasks(role: Path) -> tuple[set[str], set[str]]:
    read: set[str] = set()
    defined: set[str] = set()
    for path in sorted((role / "tasks").glob("*.yml")) + sorted((role / "handlers").glob("*.yml")):
        more_read, more_defined = _walk(yaml.safe_load(path.read_text()))
        read |= more_read
        defined |= more_defined
    return read, defined


def foreign_defaults(roles_dir: Path, role_name: str) -> dict[str, str]:
    """Names ROLE reads that only another role's defaults define, with that role."""
    roles = [r for r in sorted(roles_dir.iterdir()) if (r / "tasks").is_dir()]
    role = roles_dir / role_name
    read, defined = _tasks(role)
    # Facts other roles set are global (set_fact, register), unlike their defaults.
    facts = set().union(*(_tasks(r)[1] for r in roles))
    mine = _defaults(role) | defined
    found: dict[str, str] = {}
    for other in roles:
        if other == role:
            continue
        for name in (_defaults(other) & read) - mine - facts:
            found[name] = other.name
    return found


@pytest.mark.parametrize("role", sorted(r.name for r in ROLES.iterdir() if (r / "tasks").is_dir()))
def test_no_role_reads_another_roles_defaults(role: str) -> None:
    assert foreign_defaults(ROLES, role) == {}


def test_the_check_finds_a_read_of_another_roles_default(tmp_path: Path) -> None:
    for name, defaults, tasks in (
        ("watch", "watch_namespace: default\n", "- name: Use it\n  ansible.builtin.debug: {msg: '{{ watch_namespace }}'}\n"),
        ("drill", "drill_timeout: 5\n",
         "- name: Include the watch\n  ansible.builtin.include_role: {name: watch}\n"
         "- name: Read the watch's default\n  ansible.builtin.debug: {msg: '{{ watch_namespace }} {{ drill_timeout }}'}\n"),
    ):
        (tmp_path / name / "defaults").mkdir(parents=True)
        (tmp_path / name / "tasks").mkdir()
        (tmp_path / name / "defaults" / "main.yml").write_text(defaults)
        (tmp_path / name / "tasks" / "main.yml").write_text(tasks)
    assert foreign_defaults(tmp_path, "drill") == {"watch_namespace": "watch"}
    assert foreign_defaults(tmp_path, "watch") == {}
