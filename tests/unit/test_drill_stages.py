"""A drill whose fault labctl makes through the provider runs in stages around labctl's own steps: the
order of stages and steps, what each stage is handed, and that the restore and verify always run."""

from pathlib import Path
from typing import Any

import pytest

from labctl import drill_record, drill_stages
from labctl.drill_record import Record
from labctl.drills import BY_ID
from labctl.errors import InfraError
from labctl.inventory import Inventory, Node
from labctl.lab import Lab
from labctl.ui import Ui

SCALE_UP = BY_ID["scale-up"]


class Stages:
    """Stands in for the engine's playbook runs: records what each stage got and acts out its phases."""

    def __init__(self, fail_in: str = "") -> None:
        self.fail_in = fail_in
        self.calls: list[tuple[list[str], dict[str, Any]]] = []

    def __call__(self, phases: list[str], resume: Record, more: dict[str, Any]) -> tuple[Record, str | None]:
        self.calls.append((phases, more))
        record = resume
        for phase in phases:
            record = drill_record.apply(record, {"phase": phase}, 1.0)
            if phase == self.fail_in:
                record = drill_record.apply(record, {"fail": f"{phase} failed"}, 1.0)
        return record, None


@pytest.fixture
def lab(labctl_home: Path) -> Lab:
    the_lab = Lab("st")
    the_lab.create()
    nodes = [Node("controller-1", "controller", "10.0.0.2", "10.0.0.2"), Node("worker-1", "worker", "10.0.0.3", "10.0.0.3")]
    Inventory(lab="st", provider="local", nodes=nodes).write(the_lab.inventory_path)
    return the_lab


@pytest.fixture
def steps(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    done: list[str] = []

    def join(lab: Lab, ui: Ui) -> dict[str, Any]:
        done.append("add")
        return {"node": "worker-2", "ip": "10.0.0.4", "seconds": 9.0}

    def remove(lab: Lab, ui: Ui, since: list[str] | None = None) -> list[str]:
        # Only what the drill added: the workers not there before it.
        assert since == ["controller-1", "worker-1"]
        done.append("remove")
        return ["worker-2"]

    monkeypatch.setattr(drill_stages.nodes, "join_worker", join)
    monkeypatch.setattr(drill_stages.nodes, "remove_added_workers", remove)
    return done


def test_labctl_adds_the_worker_between_preflight_and_observe_and_removes_it_before_verify(lab: Lab, steps: list[str]) -> None:
    play = Stages()
    record, error = drill_stages.run(SCALE_UP, lab, Ui(), play, skip_inject=False, show=lambda *_: None)
    assert error is None and record["error"] == ""
    assert [phases for phases, _ in play.calls] == [["preflight"], ["observe", "restore"], ["verify"]]
    assert steps == ["add", "remove"]
    assert play.calls[1][1] == {"drill_added_node": "worker-2", "drill_nodes_before": ["controller-1", "worker-1"]}
    assert play.calls[2][1] == {"drill_nodes_before": ["controller-1", "worker-1"]}
    assert [p["name"] for p in record["phases"]] == ["preflight", "inject", "observe", "restore", "verify"]
    assert set(record["instants"]) == set(drill_stages.MARKS)
    assert record["restore"]["performed"] is True
    assert any("worker-2" in e["message"] for e in record["events"])


def test_a_failed_preflight_adds_nothing_and_still_restores_and_verifies(lab: Lab, steps: list[str]) -> None:
    play = Stages(fail_in="preflight")
    record, _ = drill_stages.run(SCALE_UP, lab, Ui(), play, skip_inject=False, show=lambda *_: None)
    assert [phases for phases, _ in play.calls] == [["preflight"], ["restore"], ["verify"]]
    assert steps == ["remove"]
    assert record["error"] == "preflight failed"


def test_a_worker_the_provider_cannot_add_is_the_drills_failure_in_inject(lab: Lab, steps: list[str],
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(lab: Lab, ui: Ui) -> dict[str, Any]:
        raise InfraError("quota exceeded")

    monkeypatch.setattr(drill_stages.nodes, "join_worker", refuse)
    play = Stages()
    shown: list[str] = []
    record, _ = drill_stages.run(SCALE_UP, lab, Ui(), play, skip_inject=False, show=lambda _, doing: shown.append(doing))
    assert [phases for phases, _ in play.calls] == [["preflight"], ["restore"], ["verify"]]
    assert {p["name"]: p["status"] for p in record["phases"]}["inject"] == "failed"
    assert record["error"] == "adding a worker: quota exceeded"
    assert steps == ["remove"]
    # The live view names labctl's own steps while they run.
    assert "labctl: add a worker through the provider and install it" in shown
    assert "labctl: drain and remove the added workers through the provider" in shown


def test_without_the_fault_labctl_adds_nothing_and_the_drill_still_observes(lab: Lab, steps: list[str]) -> None:
    play = Stages()
    drill_stages.run(SCALE_UP, lab, Ui(), play, skip_inject=True, show=lambda *_: None)
    assert steps == ["remove"]
    assert play.calls[1] == (["observe", "restore"], {"drill_added_node": "", "drill_nodes_before": ["controller-1", "worker-1"]})
