"""Where `labctl up` spends its time: each phase's wall seconds, split into waiting on
Kubernetes, Ansible, and labctl's own Python.

A `PlaybookTimer` sits in the event sink chain of labctl.runner. Under Ansible's linear
strategy every host finishes a task before the next one starts, so a task's wall time is
the gap from its start event to the next task's (or the play's end): dispatch, templating,
module transfer and the module itself. Part of it was waiting on Kubernetes when the task
polled a cluster state: a `labctl.lab.wait` task reports how long it polled (`elapsed_s`);
a task that polls with `until` waited from its first retry to its end (a first look that
succeeds waited for nothing). Everything else in a playbook is Ansible. Phases come from one
table of roles (role-less tasks from their play), so each component's role is one phase.
"""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise
from typing import Any, Final

from rich.table import Table

PHASE_OF_ROLE: Final[Mapping[str, str]] = {
    "pki": "PKI",
    "api_lb": "API load balancer",
    "k8s_artifacts": "bundle push",
    "etcd": "etcd",
    "control_plane": "control plane",
    # RBAC for the API server's calls to kubelets: API objects of the control plane.
    "cluster_rbac": "control plane",
    "cni": "CNI",
    "containerd": "runtime + images",
    "kubelet": "kubelet",
    "kube_proxy": "proxy",
    "coredns": "CoreDNS",
    "app_nginx": "apps",
    "app_guestbook": "apps",
    "apps_check": "proofs",
}
# Tasks written in a play rather than a role.
PHASE_OF_PLAY: Final[Mapping[str, str]] = {
    "Configure the cluster": "nodes Ready",
    # playbooks/reach_hosts.yml: in apps.yml, Python started on the controller host and the proofs' node.
    "Reach the hosts the next plays run on": "apps",
}
OTHER: Final = "other"
WAIT_MODULES: Final = frozenset({"labctl.lab.wait"})

ANSIBLE_START: Final = "Ansible start-up"
LABCTL_OTHER: Final = "labctl other"
# Overheads spread over the whole run: listed after the phases, whenever they were first seen.
TRAILING: Final = (ANSIBLE_START, LABCTL_OTHER)

TASK_STARTS: Final = frozenset({"playbook_on_task_start", "playbook_on_handler_task_start"})
BOUNDARIES: Final = TASK_STARTS | {"playbook_on_start", "playbook_on_play_start", "playbook_on_stats"}
RESULTS: Final = frozenset({"runner_on_ok", "runner_on_failed", "runner_on_unreachable", "runner_on_skipped"})
RETRY: Final = "runner_retry"

EventSink = Callable[[dict[str, Any]], None]


@dataclass(frozen=True)
class TaskTime:
    phase: str
    task: str
    action: str
    seconds: float
    waiting: float
    where: str = ""  # file:line of the task, shared by every run of an included or looped file

    @property
    def ansible(self) -> float:
        return self.seconds - self.waiting


@dataclass(frozen=True)
class _Mark:
    """What the timer keeps of an event: never its result data (certificates, command output)."""

    counter: int
    kind: str
    at: datetime
    host: str
    task: str
    where: str
    action: str
    role: str
    play: str
    polled_s: float | None


def _polled_seconds(res: Any) -> float | None:
    """Seconds a labctl.lab.wait result (or a loop of them) says it polled."""
    if not isinstance(res, dict):
        return None
    if isinstance(res.get("elapsed_s"), int | float):
        return float(res["elapsed_s"])
    items = [_polled_seconds(r) for r in res.get("results") or []]
    found = [s for s in items if s is not None]
    return sum(found) if found else None


class PlaybookTimer:
    """An event sink that times each task of one playbook run, then forwards the event."""

    def __init__(
        self,
        forward: EventSink | None = None,
        *,
        phase_of_role: Mapping[str, str] = PHASE_OF_ROLE,
        phase_of_play: Mapping[str, str] = PHASE_OF_PLAY,
    ) -> None:
        self.forward = forward
        self.phase_of_role = phase_of_role
        self.phase_of_play = phase_of_play
        self._marks: list[_Mark] = []

    def __call__(self, event: dict[str, Any]) -> None:
        kind = str(event.get("event", ""))
        if kind in BOUNDARIES or kind in RESULTS or kind == RETRY:
            data = event.get("event_data") or {}
            self._marks.append(
                _Mark(
                    counter=int(event.get("counter", 0)),
                    kind=kind,
                    at=datetime.fromisoformat(str(event["created"])),
                    host=str(data.get("host") or ""),
                    task=str(data.get("task") or ""),
                    where=str(data.get("task_path") or ""),
                    action=str(data.get("resolved_action") or data.get("task_action") or ""),
                    role=str(data.get("role") or ""),
                    play=str(data.get("play") or ""),
                    polled_s=_polled_seconds(data.get("res")) if kind in RESULTS else None,
                )
            )
        if self.forward is not None:
            self.forward(event)

    def _ordered(self) -> list[_Mark]:
        return sorted(self._marks, key=lambda m: m.counter)

    @property
    def span(self) -> float:
        """Seconds from the playbook's first event to its last boundary (its stats)."""
        bounds = [m for m in self._ordered() if m.kind in BOUNDARIES]
        return (bounds[-1].at - bounds[0].at).total_seconds() if len(bounds) > 1 else 0.0

    def phase_of(self, mark: _Mark) -> str:
        return self.phase_of_role.get(mark.role) or self.phase_of_play.get(mark.play) or OTHER

    def tasks(self) -> list[TaskTime]:
        marks = self._ordered()
        bounds = [i for i, m in enumerate(marks) if m.kind in BOUNDARIES]
        timed: list[TaskTime] = []
        lead_in = 0.0  # play start-up before a play's first task: Ansible's, charged to that task
        for here, after in pairwise(bounds):
            start, end = marks[here], marks[after]
            seconds = (end.at - start.at).total_seconds()
            if start.kind not in TASK_STARTS:
                lead_in += seconds
                continue
            waited = min(self._waiting(start, marks[here + 1 : after]), seconds)
            timed.append(TaskTime(self.phase_of(start), start.task, start.action, lead_in + seconds, waited, start.where))
            lead_in = 0.0
        return timed

    @staticmethod
    def _waiting(start: _Mark, during: list[_Mark]) -> float:
        per_host: list[float] = []
        if start.action in WAIT_MODULES:
            per_host = [m.polled_s for m in during if m.kind in RESULTS and m.polled_s is not None]
        else:
            first_retry: dict[str, datetime] = {}
            for mark in during:
                if mark.kind == RETRY:
                    first_retry.setdefault(mark.host, mark.at)
                elif mark.kind in RESULTS and mark.host in first_retry:
                    per_host.append((mark.at - first_retry[mark.host]).total_seconds())
        # Hosts poll side by side: the task waited as long as its slowest host.
        return max(per_host, default=0.0)


@dataclass
class PhaseTime:
    name: str
    waiting: float = 0.0
    ansible: float = 0.0
    labctl: float = 0.0
    tasks: int = 0

    @property
    def seconds(self) -> float:
        return self.waiting + self.ansible + self.labctl


@dataclass
class _Cost:
    phase: str
    task: str
    runs: int = 0
    seconds: float = 0.0
    waiting: float = 0.0

    def add(self, task: TaskTime) -> None:
        if task.task != self.task:
            # One task file included per certificate names each run after its item: keep what they share.
            self.task = _shared_words(self.task, task.task) + " …"
        self.runs += 1
        self.seconds += task.seconds
        self.waiting += task.waiting


class Profile:
    """The phases of one `up`, in the order they first ran, overheads last."""

    def __init__(self) -> None:
        self._phases: dict[str, PhaseTime] = {}
        self._tasks: list[TaskTime] = []

    def _phase(self, name: str) -> PhaseTime:
        return self._phases.setdefault(name, PhaseTime(name))

    def add_labctl(self, phase: str, seconds: float) -> None:
        """Time labctl's own Python spent in PHASE (booting nodes, deciding what to run)."""
        self._phase(phase).labctl += max(seconds, 0.0)

    def add_playbook(self, timer: PlaybookTimer, wall_seconds: float) -> None:
        """A finished run: its tasks, and the Ansible start-up and shutdown around its events."""
        for task in timer.tasks():
            phase = self._phase(task.phase)
            phase.waiting += task.waiting
            phase.ansible += task.ansible
            phase.tasks += 1
            self._tasks.append(task)
        self._phase(ANSIBLE_START).ansible += max(wall_seconds - timer.span, 0.0)

    def close(self, total_seconds: float) -> None:
        """Charge what no phase accounts for (state files, locks, imports) to labctl."""
        rest = total_seconds - sum(p.seconds for p in self._phases.values())
        if rest > 0:
            self._phase(LABCTL_OTHER).labctl += rest

    def phases(self) -> list[PhaseTime]:
        ordered = [p for p in self._phases.values() if p.name not in TRAILING]
        return ordered + [self._phases[name] for name in TRAILING if name in self._phases]

    def top_tasks(self, count: int = 10) -> list[_Cost]:
        costs: dict[tuple[str, str], _Cost] = {}
        for task in self._tasks:
            costs.setdefault((task.phase, task.where or task.task), _Cost(task.phase, task.task)).add(task)
        return sorted(costs.values(), key=lambda c: c.seconds, reverse=True)[:count]

    def by_action(self) -> list[dict[str, Any]]:
        totals: dict[str, list[float]] = {}
        for task in self._tasks:
            count_and_seconds = totals.setdefault(task.action, [0, 0.0])
            count_and_seconds[0] += 1
            count_and_seconds[1] += task.seconds
        rows = [{"action": a, "tasks": int(n), "seconds": _r(s)} for a, (n, s) in totals.items()]
        return sorted(rows, key=lambda r: r["seconds"], reverse=True)

    def to_dict(self) -> dict[str, Any]:
        phases = self.phases()
        return {
            "total_s": _r(sum(p.seconds for p in phases)),
            "waiting_s": _r(sum(p.waiting for p in phases)),
            "ansible_s": _r(sum(p.ansible for p in phases)),
            "labctl_s": _r(sum(p.labctl for p in phases)),
            "phases": [
                {
                    "phase": p.name,
                    "seconds": _r(p.seconds),
                    "waiting_s": _r(p.waiting),
                    "ansible_s": _r(p.ansible),
                    "labctl_s": _r(p.labctl),
                    "tasks": p.tasks,
                }
                for p in phases
            ],
            "top_tasks": [
                {"phase": c.phase, "task": c.task, "runs": c.runs, "seconds": _r(c.seconds), "waiting_s": _r(c.waiting)}
                for c in self.top_tasks()
            ],
            "by_action": self.by_action(),
        }


def _shared_words(one: str, other: str) -> str:
    shared: list[str] = []
    for a, b in zip(one.split(), other.split(), strict=False):
        if a != b:
            break
        shared.append(a)
    return " ".join(shared)


def _r(seconds: float) -> float:
    return round(seconds, 1)


def _share(part: float, whole: float) -> str:
    return f"{100 * part / whole:.0f}%" if whole > 0 else "-"


def render(profile: Mapping[str, Any]) -> Iterable[Table]:
    """The phase table and the costliest tasks, from a profile's JSON form (`Profile.to_dict`)."""
    total = float(profile["total_s"])
    phases = Table(title="where up spent its time (seconds)", title_justify="left")
    for column in ("phase", "wall", "share", "waiting on Kubernetes", "Ansible", "labctl", "tasks"):
        phases.add_column(column, justify="left" if column == "phase" else "right")

    def row(name: str, p: Mapping[str, Any], tasks: str) -> list[str]:
        split = [f"{p[key]:.1f}" for key in ("waiting_s", "ansible_s", "labctl_s")]
        return [name, f"{p['seconds']:.1f}", _share(p["seconds"], total), *split, tasks]

    for p in profile["phases"]:
        phases.add_row(*row(p["phase"], p, str(p["tasks"] or "")))
    count = sum(p["tasks"] for p in profile["phases"])
    phases.add_row(*row("total", {"seconds": total, **profile}, str(count)), style="bold", end_section=True)

    tasks = Table(title="costliest tasks (all hosts, all runs)", title_justify="left")
    for column in ("phase", "task", "runs", "wall", "waiting on Kubernetes"):
        tasks.add_column(column, justify="right" if column in ("runs", "wall", "waiting on Kubernetes") else "left")
    for t in profile["top_tasks"]:
        tasks.add_row(t["phase"], t["task"], str(t["runs"]), f"{t['seconds']:.1f}", f"{t['waiting_s']:.1f}")
    return [phases, tasks]
