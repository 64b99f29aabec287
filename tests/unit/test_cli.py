"""The CLI contract: every command answers, bad input exits 2 with one clear line."""

import json
from pathlib import Path

import pytest
import yaml
from clihelp import run_cli

from labctl.drills import CATALOG

COMMANDS = ["up", "down", "status", "deploy", "drill", "results", "report", "recover", "kubectl", "ssh", "env", "doctor",
            "bundle build", "bundle fetch", "bundle status", "bundle verify", "inventory from-terraform"]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command: str, labctl_home: Path) -> None:
    done = run_cli(*command.split(), "--help", home=labctl_home)
    assert done.returncode == 0, done.stderr
    assert "Usage:" in done.stdout


def test_top_level_help_documents_exit_codes(labctl_home: Path) -> None:
    done = run_cli("--help", home=labctl_home)
    assert "2 usage or input error" in done.stdout
    assert "3 infrastructure error" in done.stdout


def test_drill_list_json_matches_catalog(labctl_home: Path) -> None:
    done = run_cli("drill", "--list", "--output", "json", home=labctl_home)
    assert done.returncode == 0, done.stderr
    drills = json.loads(done.stdout)
    assert [d["id"] for d in drills] == [d.id for d in CATALOG]
    catalog_text = (Path(__file__).resolve().parents[3] / "shared" / "notes" / "drills.md")
    if catalog_text.exists():
        ids_in_catalog = {line.split("`")[1] for line in catalog_text.read_text().splitlines() if line.startswith("| `")}
        assert {d["id"] for d in drills} == ids_in_catalog
    for d in drills:
        assert d == next(c for c in CATALOG if c.id == d["id"]).to_json()  # the whole spec
        assert d["seeds"] and d["description"] and d["target"] in ("controller", "worker")


def test_unknown_drill_lists_valid_ones(labctl_home: Path) -> None:
    done = run_cli("drill", "no-such-drill", home=labctl_home)
    assert done.returncode == 2
    assert "unknown drill 'no-such-drill'" in done.stderr
    assert "pod-kill" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_unknown_provider_lists_valid_ones(labctl_home: Path) -> None:
    done = run_cli("up", "vagrant", home=labctl_home)
    assert done.returncode == 2
    assert "unknown provider 'vagrant'" in done.stderr or "provider" in done.stderr
    assert "local" in done.stderr and "aws" in done.stderr


def test_missing_lab(labctl_home: Path) -> None:
    for command in (["status"], ["drill", "pod-kill"], ["recover"], ["kubectl", "get", "nodes"], ["env"]):
        done = run_cli(*command, "--lab", "ghost", home=labctl_home)
        assert done.returncode == 2, (command, done.stderr)
        assert "no lab named ghost: run `labctl up`" in done.stderr


def test_down_of_a_missing_lab_has_nothing_to_do(labctl_home: Path) -> None:
    # As `kind delete cluster` does: the wanted end state (no such lab) already holds.
    done = run_cli("down", "--lab", "ghost", home=labctl_home)
    assert done.returncode == 0, done.stderr
    assert "no lab named ghost: nothing to remove" in done.stdout
    done = run_cli("down", "--lab", "ghost", "--output", "json", home=labctl_home)
    assert json.loads(done.stdout) == {"lab": "ghost", "removed": False, "seconds": 0.0}
    assert not labctl_home.exists()


def test_malformed_config_is_one_line(labctl_home: Path, tmp_path: Path) -> None:
    bad = tmp_path / "labctl.yaml"
    bad.write_text("topology: [1, 2\n")
    done = run_cli("up", "--config", str(bad), home=labctl_home)
    assert done.returncode == 2
    assert "not valid YAML" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_config_unknown_key_names_field(labctl_home: Path, tmp_path: Path) -> None:
    bad = tmp_path / "labctl.yaml"
    bad.write_text(yaml.safe_dump({"topology": {"workers": 2, "wrokers": 3}}))
    done = run_cli("up", "--config", str(bad), home=labctl_home)
    assert done.returncode == 2
    assert "unknown key 'topology.wrokers'" in done.stderr


def test_impossible_topology(labctl_home: Path) -> None:
    done = run_cli("up", "--controllers", "2", home=labctl_home)
    assert done.returncode == 2
    assert "topology.controllers" in done.stderr and "odd" in done.stderr


def test_bad_lab_name(labctl_home: Path) -> None:
    done = run_cli("status", "--lab", "Bad_Name", home=labctl_home)
    assert done.returncode == 2
    assert "invalid lab name" in done.stderr


def test_status_from_state_when_cluster_down(labctl_home: Path) -> None:
    lab_dir = labctl_home / "labs" / "offline"
    lab_dir.mkdir(parents=True)
    (lab_dir / "state.json").write_text(json.dumps({"provider": "local", "phase": "ready", "kubelet_versions": {"worker-1": "v1.36.3"}}))
    (lab_dir / "inventory.yml").write_text(yaml.safe_dump({
        "all": {"vars": {"lab_name": "offline", "lab_provider": "local"},
                "children": {"controllers": {"hosts": {"controller-1": {"ansible_host": "10.9.0.10", "node_ip": "10.9.0.10"}}},
                             "workers": {"hosts": {"worker-1": {"ansible_host": "10.9.0.11", "node_ip": "10.9.0.11"}}}}}
    }))
    done = run_cli("status", "--lab", "offline", "--output", "json", home=labctl_home)
    assert done.returncode == 0, done.stderr
    status = json.loads(done.stdout)
    assert status["lab"] == "offline" and status["provider"] == "local"
    assert status["nodes"] == [
        {"name": "controller-1", "role": "controller", "ip": "10.9.0.10", "ready": False, "kubelet_version": ""},
        {"name": "worker-1", "role": "worker", "ip": "10.9.0.11", "ready": False, "kubelet_version": "v1.36.3"},
    ]
    assert {a["name"] for a in status["apps"]} >= {"nginx", "guestbook-frontend"}
    assert all(set(a) == {"name", "desired", "available"} for a in status["apps"])


def test_status_after_power_loss_says_nodes_are_not_running(labctl_home: Path) -> None:
    lab_dir = labctl_home / "labs" / "offline"
    lab_dir.mkdir(parents=True)
    (lab_dir / "state.json").write_text(json.dumps({"provider": "local", "phase": "ready"}))
    (lab_dir / "inventory.yml").write_text(yaml.safe_dump({
        "all": {"vars": {"lab_name": "offline", "lab_provider": "local"},
                "children": {"controllers": {"hosts": {"controller-1": {"ansible_host": "10.9.0.10", "node_ip": "10.9.0.10"}}},
                             "workers": {"hosts": {"worker-1": {"ansible_host": "10.9.0.11", "node_ip": "10.9.0.11"}}}}}
    }))
    # Nodes that ran once: pid files naming processes that are gone.
    for node in ("controller-1", "worker-1"):
        (lab_dir / "nodes" / node).mkdir(parents=True)
        (lab_dir / "nodes" / node / "nspawn.pid").write_text("999999\n")
    done = run_cli("status", "--lab", "offline", home=labctl_home)
    assert done.returncode == 0, done.stderr
    first = done.stdout.splitlines()[0]
    assert "ready" not in first
    assert "nodes not running (0 of 2)" in first and "`labctl up --lab offline` starts them again" in done.stdout
    done = run_cli("status", "--lab", "offline", "--output", "json", home=labctl_home)
    status = json.loads(done.stdout)
    assert status["phase"] == "stopped" and status["nodes_running"] == 0
    assert "labctl up --lab offline" in status["hint"]


def test_second_concurrent_up_is_refused(labctl_home: Path) -> None:
    from lockholder import hold, stop

    from labctl.lab import Lab

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LABCTL_HOME", str(labctl_home))
        lock_path = Lab("busy").lock_path
    holder = hold(lock_path, "up")
    try:
        done = run_cli("up", "--lab", "busy", home=labctl_home)
        assert done.returncode == 2
        assert f"lab busy is busy: up (pid {holder.pid})" in done.stderr
    finally:
        stop(holder)


def test_results_and_report_without_results(labctl_home: Path) -> None:
    done = run_cli("results", home=labctl_home)
    assert done.returncode == 0
    assert "no results" in done.stdout
    done = run_cli("report", home=labctl_home)
    assert done.returncode == 2
    assert "no drill results" in done.stderr


def test_results_show_unknown_id(labctl_home: Path) -> None:
    done = run_cli("results", "nope", home=labctl_home)
    assert done.returncode == 2
    assert "no result with id nope" in done.stderr


def test_completion_of_drills_labs_and_nodes(labctl_home: Path) -> None:
    for lab in ("alpha", "beta"):
        (labctl_home / "labs" / lab).mkdir(parents=True)
    (labctl_home / "labs" / "alpha" / "inventory.yml").write_text(yaml.safe_dump({
        "all": {"vars": {"lab_name": "alpha", "lab_provider": "local"},
                "children": {"controllers": {"hosts": {"controller-1": {"ansible_host": "10.9.0.10", "node_ip": "10.9.0.10"}}},
                             "workers": {"hosts": {"worker-1": {"ansible_host": "10.9.0.11", "node_ip": "10.9.0.11"}}}}}
    }))

    def complete(*words: str) -> list[str]:
        line = ["labctl", *words]
        done = run_cli(home=labctl_home, env={"_LABCTL_COMPLETE": "complete_bash", "COMP_WORDS": " ".join(line),
                                               "COMP_CWORD": str(len(line) - 1)})
        assert done.returncode == 0, done.stderr
        return done.stdout.split()

    assert complete("drill", "pod") == ["pod-kill"]
    assert "worker-failure" in complete("drill", "")
    assert complete("status", "--lab", "") == ["alpha", "beta"]
    assert complete("ssh", "--lab", "alpha", "w") == ["worker-1"]
    assert complete("node", "remove", "--lab", "alpha", "") == ["controller-1", "worker-1"]
    assert complete("ssh", "--lab", "nosuchlab", "") == []
    done = run_cli("--show-completion", "bash", home=labctl_home, env={"_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1"})
    assert done.returncode == 0, done.stderr
    assert "_LABCTL_COMPLETE=complete_bash" in done.stdout and "complete -o default -F _labctl_completion labctl" in done.stdout


HEAVY = ("pydantic", "yaml", "ansible_runner", "boto3", "rich.table", "openstack", "labctl.config")

IMPORTS_OF_HELP = (
    "import sys\n"
    "sys.argv = ['labctl', '--help']\n"
    "from labctl.cli import main\n"
    "try:\n"
    "    main()\n"
    "except SystemExit:\n"
    "    pass\n"
    "sys.stderr.write(' '.join(m for m in sys.modules if m.split('.')[0] in {h.split('.')[0] for h in sys.argv[1:]}) + '\\n')\n"
)


def test_help_loads_no_heavy_module(labctl_home: Path) -> None:
    # `labctl --help` must answer fast: the heavy libraries load only in the commands that use them.
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", IMPORTS_OF_HELP.replace("sys.argv[1:]", repr(list(HEAVY)))],
                          capture_output=True, text=True, cwd=Path(__file__).resolve().parents[2], timeout=60)
    loaded = set(done.stderr.split())
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))
