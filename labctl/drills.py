"""The drill catalog: one entry per drill of ../shared/notes/drills.md.

Each drill is implemented by the role `drill_<id with _>`; this table holds
what the CLI and reports need to know about it without running Ansible.
"""

from dataclasses import asdict, dataclass
from typing import Any, Literal

from labctl.errors import UsageError


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
    # Every duration the drill reports (its role's drill_durations): what a student can predict.
    durations: tuple[str, ...] = ()
    # The node the drill acts on: the first controller, or the worker the runner picks.
    target: Literal["controller", "worker"] = "controller"
    # What its restore undoes, written to the undo journal before the fault ('' when there is nothing to undo).
    undo: str = ""

    @property
    def role(self) -> str:
        return "drill_" + self.id.replace("-", "_")

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["seeds"] = list(self.seeds)
        data["timed"] = list(self.timed)
        data["durations"] = list(self.durations)
        return data


# Seeds are named by their number in ../shared/seeds/ (000_…, 001_…).
CATALOG: tuple[Drill, ...] = (
    Drill(
        "pki-check",
        ("004",),
        "Check that every Kubernetes certificate is signed by the cluster CA and etcd's by etcd's own CA, that "
        "etcd refuses a kubelet's certificate, with sane SANs and expiry, that the admin certificate "
        "authenticates and anonymous access is refused.",
    ),
    Drill(
        "pod-kill",
        ("001", "002"),
        "Delete one app pod; the ReplicaSet creates a replacement and the app never goes down.",
        apps_must_stay_up=True,
        durations=("time_to_replacement", "time_to_recover"),
    ),
    Drill(
        "apiserver-kill",
        ("000", "001", "002", "004"),
        "SIGKILL the API server process; its supervisor restarts it by itself and the apps stay up.",
        apps_must_stay_up=True,
        timed=("time_to_recover",),
        durations=("time_to_detect", "time_to_recover"),
        undo="start kube-apiserver",
    ),
    Drill(
        "apiserver-down",
        ("003",),
        "Stop the API server service: kubectl is refused while nginx keeps serving on its NodePort; start it again.",
        apps_must_stay_up=True,
        durations=("time_to_detect", "time_to_recover", "outage"),
        undo="start kube-apiserver",
    ),
    Drill(
        "scheduler-down",
        ("003", "004"),
        "Stop the scheduler and scale nginx 3→6: new pods stay Pending until the scheduler is back.",
        durations=("time_to_schedule", "time_to_recover"),
        undo="start kube-scheduler, scale nginx back",
    ),
    Drill(
        "controller-manager-down",
        ("003", "004"),
        "Stop the controller manager: scaling down and deleting pods are not reconciled until it is back.",
        durations=("time_to_reconcile", "time_to_recover"),
        undo="start kube-controller-manager, scale nginx back",
    ),
    Drill(
        "worker-drain",
        ("003", "004"),
        "Drain one worker: its pods are evicted and run elsewhere, the app stays up; uncordon does not move them back.",
        apps_must_stay_up=True,
        durations=("time_to_evict", "time_to_schedulable", "time_to_recover"),
        target="worker",
        undo="uncordon the worker",
    ),
    Drill(
        "worker-failure",
        ("003", "004"),
        "Stop the kubelet on one worker: the node goes NotReady, its pods are evicted after the toleration and replaced elsewhere.",
        apps_must_stay_up=True,
        timed=("time_to_detect", "time_to_evict", "time_to_replacement"),
        durations=("time_to_detect", "time_to_evict", "time_to_replacement", "time_to_ready", "time_to_recover"),
        target="worker",
        undo="start the kubelet",
    ),
    Drill(
        "node-partition",
        ("000", "001", "002"),
        "Cut one worker off the API server and stop its runtime and kubelet; after restore it is Ready again almost at once.",
        apps_must_stay_up=True,
        timed=("time_to_detect", "time_to_evict", "time_to_replacement", "time_to_ready"),
        durations=("time_to_detect", "time_to_evict", "time_to_replacement", "time_to_ready", "time_to_recover"),
        target="worker",
        undo="delete the DROP rule, start containerd and the kubelet",
    ),
    Drill(
        "etcd-outage",
        ("004",),
        "Stop etcd: the API returns errors while cluster DNS still resolves and the apps still serve.",
        apps_must_stay_up=True,
        durations=("time_to_detect", "time_to_recover", "outage"),
        undo="start etcd on every etcd member",
    ),
    Drill(
        "etcd-backup-restore",
        ("003", "004"),
        "Snapshot etcd, change the cluster (delete nginx, label and delete), restore the snapshot: the state is that of the backup.",
        disruptive=True,
        durations=("restore_duration", "time_to_recover", "time_to_reconcile"),
        undo="restore the pending etcd snapshot (else start etcd and the control plane), re-apply nginx if missing",
    ),
    Drill(
        "kubelet-version",
        ("004",),
        "Replace one worker's kubelet with the older minor version: the node reports it; put the original back.",
        durations=("time_to_detect", "time_to_ready", "time_to_recover"),
        target="worker",
        undo="reinstall the original kubelet",
    ),
    Drill(
        "scale-up",
        ("004",),
        "Add one worker: it joins by its bootstrap data, becomes Ready and takes workloads.",
        durations=("time_to_ready", "time_to_schedule", "time_to_recover"),
        undo="remove the worker the drill added",
    ),
    Drill(
        "apiserver-ha",
        ("000", "001", "002"),
        "In the HA topology kill one of three API servers: clients through the load balancer see no error.",
        apps_must_stay_up=True,
        needs_ha=True,
        durations=("time_to_detect", "time_to_recover"),
        undo="start kube-apiserver",
    ),
)

BY_ID = {drill.id: drill for drill in CATALOG}

# `drill all` order: checks first, gentle before disruptive, restores last.
SUITE_ORDER = tuple(d.id for d in CATALOG)


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
