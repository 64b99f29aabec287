"""The catalog is read from each drill role's meta/drill.yml; the roles' tasks and the README must agree with it."""

import re
from pathlib import Path

import pytest
import yaml

from labctl import drill_stages, drills

ROLES = Path(__file__).resolve().parents[2] / "roles"
PHASE_FILES = ("preflight", "inject", "observe", "restore", "verify")


def _records(node: object, action: str) -> set[str]:
    """The values of ACTION in every labctl.lab.drill_record call anywhere in a task tree."""
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "labctl.lab.drill_record" and isinstance(value, dict) and action in value:
                found.add(str(value[action]))
            else:
                found |= _records(value, action)
    elif isinstance(node, list):
        for item in node:
            found |= _records(item, action)
    return found


def _include_vars(node: object, name: str) -> set[str]:
    """The values an include passes as variable NAME anywhere in a task tree."""
    found: set[str] = set()
    if isinstance(node, dict):
        if "ansible.builtin.include_role" in node and name in (node.get("vars") or {}):
            found.add(str(node["vars"][name]))
        for value in node.values():
            found |= _include_vars(value, name)
    elif isinstance(node, list):
        for item in node:
            found |= _include_vars(item, name)
    return found


def _role_tasks(role: str) -> list[object]:
    return [yaml.safe_load(path.read_text()) for path in (ROLES / role / "tasks").glob("*.yml")]


def _included_roles(node: object) -> set[str]:
    found: set[str] = set()
    if isinstance(node, dict):
        spec = node.get("ansible.builtin.include_role")
        if isinstance(spec, dict) and "{{" not in str(spec.get("name", "")):
            found.add(str(spec["name"]))
        for value in node.values():
            found |= _included_roles(value)
    elif isinstance(node, list):
        for item in node:
            found |= _included_roles(item)
    return found


def _marked(drill: drills.Drill) -> set[str]:
    """Instants the drill's tasks mark (alone, or as the instant an expectation times when it holds, the health
    check's included), with those of the task files it includes from other roles (and those labctl marks itself
    around a change it makes through the provider)."""
    roles = {drill.role}
    for tree in _role_tasks(drill.role):
        roles |= _included_roles(tree)
    trees = [tree for role in roles for tree in _role_tasks(role)]
    by_labctl = set(drill_stages.MARKS) if drill.provider_change else set()
    by_tasks = {instant for tree in trees for action in ("mark", "then_mark") for instant in _records(tree, action)}
    by_health_check = {instant for tree in trees for instant in _include_vars(tree, "healthy_then_mark")}
    return by_labctl | {i for i in by_tasks | by_health_check if "{{" not in i}


@pytest.mark.parametrize("drill", drills.CATALOG, ids=lambda d: d.id)
def test_every_reported_span_runs_between_instants_the_drill_marks(drill: drills.Drill) -> None:
    marked = _marked(drill)
    for span in drill.spans:
        assert {span.start, span.end} <= marked, (span, sorted(marked))


@pytest.mark.parametrize("drill", drills.CATALOG, ids=lambda d: d.id)
def test_every_drill_role_holds_one_task_file_per_phase_and_no_main(drill: drills.Drill) -> None:
    tasks = ROLES / drill.role / "tasks"
    files = {p.stem for p in tasks.glob("*.yml")}
    if drill.provider_change:
        # labctl injects this fault itself (labctl.drill_stages): a task file for it would never run.
        assert files >= set(PHASE_FILES) - {"inject"} and "inject" not in files
    else:
        assert files >= set(PHASE_FILES)
    assert not (tasks / "main.yml").exists(), "the engine (roles/drill_engine) runs the phases"


def test_the_spec_names_its_own_role() -> None:
    for drill in drills.CATALOG:
        assert drill.role == "drill_" + drill.id.replace("-", "_")
        assert (ROLES / drill.role / "meta" / "drill.yml").is_file()


def test_every_drill_role_is_in_the_catalog() -> None:
    on_disk = {p.parent.parent.name for p in ROLES.glob("drill_*/meta/drill.yml")}
    assert on_disk == {d.role for d in drills.CATALOG}


@pytest.mark.parametrize(
    ("spec", "problem"),
    [
        ("id: x\nseeds: ['001']\ndescription: d\ncolour: red\n", "unknown keys ['colour']"),
        ("id: x\ndescription: d\n", "id, seeds and description are required"),
        ("id: x\nseeds: []\ndescription: d\ntarget: etcd\n", "target is controller or worker"),
        ("id: x\nseeds: []\ndescription: d\ndurations: {t: [a]}\n", "durations map each name to [from instant, to instant]"),
        ("id: x\nseeds: []\ndescription: d\ndurations: {t: [a, b]}\ntimed: [u]\n", "timed ['u'] not among the durations"),
        ("id: x\nseeds: []\ndescription: d\nprovider_change: add_controller\n", "provider_change is one of add_worker"),
        ("id: x\nseeds: []\ndescription: d\nnodes: [etcd]\n", "nodes is a list of target, first_controller"),
        ("id: x\nseeds: []\ndescription: d\nnodes: target\n", "nodes is a list of"),
    ],
)
def test_a_spec_labctl_cannot_use_is_named_with_its_path(tmp_path: Path, spec: str, problem: str) -> None:
    path = tmp_path / "drill.yml"
    path.write_text(spec)
    with pytest.raises(ValueError, match=re.escape(problem)) as raised:
        drills.load_spec(path)
    assert str(path) in str(raised.value)


def test_a_spec_reads_into_the_catalogs_entry(tmp_path: Path) -> None:
    path = tmp_path / "drill.yml"
    path.write_text(
        "id: x\nseeds: ['001']\ndescription: >-\n  two\n  lines\ntarget: worker\n"
        "durations:\n  t_a: [injected, detected]\n  t_b: [restored, recovered]\ntimed: [t_a]\n"
    )
    drill = drills.load_spec(path)
    assert drill.description == "two lines"
    assert drill.durations == ("t_a", "t_b")
    assert drill.spans[1] == drills.Span("t_b", "restored", "recovered")
    assert drill.target == "worker" and drill.timed == ("t_a",)
    assert drill.provider_change == ""
    assert drills.BY_ID["scale-up"].provider_change == "add_worker"


def test_the_readme_lists_the_catalog_in_its_order() -> None:
    readme = (ROLES.parent / "README.md").read_text()
    listed = re.findall(r"^\| `([a-z-]+)` \|", readme, flags=re.MULTILINE)
    assert listed == [d.id for d in drills.CATALOG]


def test_the_nodes_a_spec_names_are_the_labs_hosts_in_inventory_order() -> None:
    from labctl.drill_runner import nodes_reached
    from labctl.inventory import Inventory, Node

    lab = Inventory("t", "local", [
        Node("controller-1", "controller", "10.0.0.10", "10.0.0.10"),
        Node("controller-2", "controller", "10.0.0.11", "10.0.0.11"),
        Node("worker-1", "worker", "10.0.0.20", "10.0.0.20"),
        Node("worker-2", "worker", "10.0.0.21", "10.0.0.21"),
        Node("api-lb", "api_lb", "10.0.0.5", "10.0.0.5"),
    ])
    assert nodes_reached(drills.BY_ID["pod-kill"], lab, "controller-1") == []
    assert nodes_reached(drills.BY_ID["worker-failure"], lab, "worker-2") == ["controller-1", "worker-2"]
    assert nodes_reached(drills.BY_ID["etcd-outage"], lab, "controller-1") == ["controller-1", "controller-2", "worker-1"]
    assert nodes_reached(drills.BY_ID["pki-check"], lab, "controller-1") == ["controller-1", "controller-2", "worker-1", "worker-2"]
