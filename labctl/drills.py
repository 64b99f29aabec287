"""The drill catalog: one entry per drill of ../shared/notes/drills.md.

Each drill is the role `drill_<id with _>`, whose meta/drill.yml says what the CLI, the runner
and the reports need to know about it without running Ansible; this module reads those specs.
"""

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal, NamedTuple

import yaml

from labctl.errors import UsageError
from labctl.paths import ROLES_DIR


class Span(NamedTuple):
    """A reported duration: from one recorded instant to another."""

    name: str
    start: str
    end: str


@dataclass(frozen=True)
class Drill:
    id: str
    seeds: tuple[str, ...]
    description: str
    # The catalog demands the apps stay up for the whole drill: an outage fails it.
    apps_must_stay_up: bool = False
    # Needs the HA topology (3 controllers, load balancer).
    needs_ha: bool = False
    # Touches the cluster so deeply that it runs last in `drill all`.
    disruptive: bool = False
    # Durations the drill reports an expected value for (from the cluster's own settings): the
    # resilience score compares them, and a run that misses one is scored as late, not excused.
    timed: tuple[str, ...] = ()
    # Every duration the drill reports, in order: what a student can predict.
    spans: tuple[Span, ...] = ()
    # The node the drill acts on: the first controller, or the worker the runner picks.
    target: Literal["controller", "worker"] = "controller"
    # What its restore undoes, written to the undo journal before the fault ('' when there is nothing to undo).
    undo: str = ""
    # A fault labctl makes itself, through the lab's provider, between the engine's stages rather than
    # in a task: "add_worker" adds one worker, and the restore removes the workers that were not there before.
    provider_change: Literal["", "add_worker"] = ""
    # The nodes the drill's tasks run on (NODE_GROUPS), reached all at once before its preflight: the first
    # task on a node starts Python there (about 0.7 s), one node after another when the tasks reach them.
    nodes: tuple[str, ...] = ()

    @property
    def role(self) -> str:
        return role_of(self.id)

    @property
    def durations(self) -> tuple[str, ...]:
        return tuple(span.name for span in self.spans)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "seeds": list(self.seeds),
            "description": self.description,
            "apps_must_stay_up": self.apps_must_stay_up,
            "needs_ha": self.needs_ha,
            "disruptive": self.disruptive,
            "timed": list(self.timed),
            "durations": list(self.durations),
            "spans": {span.name: [span.start, span.end] for span in self.spans},
            "target": self.target,
            "undo": self.undo,
            "provider_change": self.provider_change,
            "nodes": list(self.nodes),
        }


def role_of(drill_id: str) -> str:
    return "drill_" + drill_id.replace("-", "_")


PROVIDER_CHANGES = ("", "add_worker")
# What a spec's `nodes` may name: the drill's target, the first controller or worker, every controller,
# every worker, every node.
NODE_GROUPS = ("target", "first_controller", "first_worker", "controllers", "workers", "all")
SPEC_KEYS = {
    "id", "seeds", "description", "apps_must_stay_up", "needs_ha", "disruptive", "timed", "durations", "target", "undo",
    "provider_change", "nodes",
}


def load_spec(path: Path) -> Drill:
    """One drill's meta/drill.yml; a spec labctl cannot use is a bug in the role, named with its path."""
    data = yaml.safe_load(path.read_text())
    problems = []
    if not isinstance(data, dict):
        raise ValueError(f"{path}: a drill spec is a mapping")
    if set(data) - SPEC_KEYS:
        problems.append(f"unknown keys {sorted(set(data) - SPEC_KEYS)}")
    if not {"id", "seeds", "description"} <= set(data):
        problems.append("id, seeds and description are required")
    if data.get("target", "controller") not in ("controller", "worker"):
        problems.append("target is controller or worker")
    if data.get("provider_change", "") not in PROVIDER_CHANGES:
        problems.append(f"provider_change is one of {', '.join(c for c in PROVIDER_CHANGES if c)}")
    nodes = data.get("nodes") or []
    if not isinstance(nodes, list) or set(nodes) - set(NODE_GROUPS):
        problems.append(f"nodes is a list of {', '.join(NODE_GROUPS)}")
        nodes = []
    durations = data.get("durations") or {}
    if not isinstance(durations, dict) or not all(isinstance(v, list) and len(v) == 2 for v in durations.values()):
        problems.append("durations map each name to [from instant, to instant]")
        durations = {}
    timed = tuple(data.get("timed") or ())
    if set(timed) - set(durations):
        problems.append(f"timed {sorted(set(timed) - set(durations))} not among the durations")
    if problems:
        raise ValueError(f"{path}: " + "; ".join(problems))
    return Drill(
        id=str(data["id"]),
        seeds=tuple(str(s) for s in data["seeds"]),
        description=" ".join(str(data["description"]).split()),
        apps_must_stay_up=bool(data.get("apps_must_stay_up", False)),
        needs_ha=bool(data.get("needs_ha", False)),
        disruptive=bool(data.get("disruptive", False)),
        timed=timed,
        spans=tuple(Span(str(name), str(a), str(b)) for name, (a, b) in durations.items()),
        target=data.get("target", "controller"),
        undo=str(data.get("undo") or ""),
        provider_change=data.get("provider_change", ""),
        nodes=tuple(str(n) for n in nodes),
    )


# `drill all` order: checks first, gentle before disruptive, restores last.
SUITE_ORDER: tuple[str, ...] = (
    "pki-check",
    "pod-kill",
    "apiserver-kill",
    "apiserver-down",
    "scheduler-down",
    "controller-manager-down",
    "worker-drain",
    "worker-failure",
    "node-partition",
    "etcd-outage",
    "etcd-backup-restore",
    "kubelet-version",
    "scale-up",
    "apiserver-ha",
)


@cache
def _catalog() -> tuple[Drill, ...]:
    drills = tuple(load_spec(ROLES_DIR / role_of(drill_id) / "meta" / "drill.yml") for drill_id in SUITE_ORDER)
    for drill_id, drill in zip(SUITE_ORDER, drills, strict=True):
        if drill.id != drill_id:
            raise ValueError(f"roles/{role_of(drill_id)}/meta/drill.yml names itself {drill.id!r}")
    return drills


CATALOG = _catalog()
BY_ID = {drill.id: drill for drill in CATALOG}



def get(drill_id: str) -> Drill:
    try:
        return BY_ID[drill_id]
    except KeyError:
        valid = ", ".join(BY_ID)
        raise UsageError(f"unknown drill '{drill_id}': valid drills are {valid}, or 'all'") from None


def resolve(names: list[str]) -> list[Drill]:
    """Expand `all` and validate names, keeping the order given."""
    if not names:
        raise UsageError("name a drill to run (see `labctl drill --list`), or 'all'")
    if "all" in names:
        return [BY_ID[i] for i in SUITE_ORDER]
    return [get(name) for name in names]
