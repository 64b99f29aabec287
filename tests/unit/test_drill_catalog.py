"""The catalog in labctl/drills.py says what each drill role reports; the roles must agree."""

import re
from pathlib import Path

import pytest
import yaml

from labctl import drills

ROLES = Path(__file__).resolve().parents[2] / "roles"


def _reported_durations(node: object) -> set[str]:
    """The keys of every `drill_durations` fact set anywhere in a task tree."""
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "drill_durations" and isinstance(value, dict):
                found |= set(value)
            else:
                found |= _reported_durations(value)
    elif isinstance(node, list):
        for item in node:
            found |= _reported_durations(item)
    return found


@pytest.mark.parametrize("drill", drills.CATALOG, ids=lambda d: d.id)
def test_catalog_durations_are_what_the_role_reports(drill: drills.Drill) -> None:
    tasks = ROLES / drill.role / "tasks"
    reported: set[str] = set()
    for path in tasks.glob("*.yml"):
        reported |= _reported_durations(yaml.safe_load(path.read_text()))
    assert set(drill.durations) == reported


def test_every_timed_duration_is_a_reported_one() -> None:
    for drill in drills.CATALOG:
        assert set(drill.timed) <= set(drill.durations), drill.id


def test_the_readme_lists_the_catalog_in_its_order() -> None:
    readme = (ROLES.parent / "README.md").read_text()
    listed = re.findall(r"^\| `([a-z-]+)` \|", readme, flags=re.MULTILINE)
    assert listed == [d.id for d in drills.CATALOG]

