"""A class of two students on this host: `class up` builds their small labs in parallel, a second
`class up` changes nothing, `class drill` runs pod-kill on both at once (one student guessed its time first),
`class status` shows it, `class report` sets the guess against the run, `class reset`
puts one student's lab back (and makes the other's anew with --rebuild), a student taken off the roster is
reported and then pruned, and `class down` leaves the host as it was.

Tests run in file order against the class (module fixture); the last removes it and compares the host.
"""

import csv
import ipaddress
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from e2ehelpers import CLASS, CLASS_LABS, REPO, host_snapshot, lab_unavailable

pytestmark = [pytest.mark.e2e, pytest.mark.full]


class ClassHandle:
    def __init__(self, home: Path, roster: Path) -> None:
        self.home = home
        self.roster = roster
        self.up_summary: subprocess.CompletedProcess[str] | None = None

    def run(self, *args: str, timeout: float = 2400) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "LABCTL_HOME": str(self.home), "COLUMNS": "200"}
        return subprocess.run([sys.executable, "-m", "labctl", "class", *args], capture_output=True, text=True,
                              env=env, timeout=timeout, cwd=REPO)

    def labctl(self, *args: str) -> subprocess.CompletedProcess[str]:
        """A single-lab labctl command (`kubectl --lab k8s-ann ...`)."""
        env = {**os.environ, "LABCTL_HOME": str(self.home), "COLUMNS": "200"}
        return subprocess.run([sys.executable, "-m", "labctl", *args], capture_output=True, text=True, env=env, timeout=600, cwd=REPO)

    def json(self, *args: str, expect_exit: int = 0) -> Any:
        done = self.run(*args, "--output", "json")
        assert done.returncode == expect_exit, f"labctl class {' '.join(args)} exited {done.returncode}: {done.stderr[-3000:]}"
        return json.loads(done.stdout)

    def roster_of(self, *students: str) -> Path:
        self.roster.write_text("student,name\n" + "".join(f"{s},{s.title()}\n" for s in students))
        return self.roster


@pytest.fixture(scope="module")
def class_host_before(_no_stale_labs: None) -> dict[str, Any]:
    return host_snapshot(CLASS_LABS)


@pytest.fixture(scope="module")
def klass(tmp_path_factory: pytest.TempPathFactory, class_host_before: dict[str, Any]) -> Iterator[ClassHandle]:
    reason = lab_unavailable()
    if reason:
        pytest.skip(reason)
    home = tmp_path_factory.mktemp("labctl-home-class")
    handle = ClassHandle(home, home.parent / "roster.csv")
    handle.up_summary = handle.run("up", CLASS, "--roster", str(handle.roster_of("ann", "bob")), "--small", "--fast-failover",
                                   "--parallel", "2", "--output", "json")
    yield handle
    if (home / "classes" / CLASS / "class.json").exists():
        handle.run("recover", CLASS, timeout=600)
        handle.run("down", CLASS, "--yes", timeout=600)


def test_class_up_builds_one_lab_per_student(klass: ClassHandle) -> None:
    done = klass.up_summary
    assert done is not None and done.returncode == 0, done.stderr[-3000:]
    summary = json.loads(done.stdout)
    assert [(row["lab"], row["ok"]) for row in summary["labs"]] == [(CLASS_LABS[0], True), (CLASS_LABS[1], True)]
    # Each student's own lab log holds that lab's progress.
    assert all("deploy and check apps" in Path(row["log"]).read_text() for row in summary["labs"])


def test_each_student_has_a_ready_small_lab_on_a_subnet_of_its_own(klass: ClassHandle) -> None:
    status = klass.json("status", CLASS)
    rows = {row["student"]: row for row in status["labs"]}
    for student in ("ann", "bob"):
        row = rows[student]
        assert (row["phase"], row["nodes_ready"], row["nodes"]) == ("ready", 2, 2), row
        assert row["apps"] > 0 and row["apps_available"] == row["apps"], row
        assert row["name"] == student.title()
    subnets = [json.loads((klass.home / "labs" / lab / "state.json").read_text())["local"]["subnet"] for lab in CLASS_LABS[:2]]
    assert not ipaddress.ip_network(subnets[0]).overlaps(ipaddress.ip_network(subnets[1])), subnets


def kubectl(kubeconfig: str, *args: str) -> subprocess.CompletedProcess[str]:
    from labctl.bundle import artifact_path
    from labctl.config import DEFAULT_KUBERNETES_VERSION

    binary = str(artifact_path(DEFAULT_KUBERNETES_VERSION, "kubectl"))
    return subprocess.run([binary, "--kubeconfig", kubeconfig, *args], capture_output=True, text=True, timeout=60)


def ssh(key: str, known_hosts: str, target: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ssh", "-i", key, "-o", f"UserKnownHostsFile={known_hosts}", "-o", "StrictHostKeyChecking=yes",
                           "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-o", "ConnectTimeout=10", target, "hostname"],
                          capture_output=True, text=True, timeout=60)


def test_each_student_has_an_identity_for_their_own_lab_only(klass: ClassHandle) -> None:
    ann, bob = (klass.json("access", CLASS, student) for student in ("ann", "bob"))
    assert oct(Path(ann["kubeconfig"]).stat().st_mode & 0o777) == "0o600"
    assert oct(Path(ann["ssh_key"]).stat().st_mode & 0o777) == "0o600"
    whoami = kubectl(ann["kubeconfig"], "auth", "whoami", "-o", "json")
    assert whoami.returncode == 0, whoami.stderr
    user = json.loads(whoami.stdout)["status"]["userInfo"]
    assert user["username"] == "ann" and "system:masters" not in user.get("groups", []), user
    assert kubectl(ann["kubeconfig"], "get", "nodes").returncode == 0
    # Ann's certificate at Bob's API server (Bob's kubeconfig, Ann's credentials): refused.
    theirs = yaml.safe_load(Path(bob["kubeconfig"]).read_text())
    theirs["users"][0]["user"] = yaml.safe_load(Path(ann["kubeconfig"]).read_text())["users"][0]["user"]
    crossed = Path(ann["dir"]) / "crossed.kubeconfig"
    crossed.write_text(yaml.safe_dump(theirs))
    crossed.chmod(0o600)
    refused = kubectl(str(crossed), "get", "nodes")
    # A 401 in kubectl's words: "Unauthorized", or "the server has asked for the client to provide credentials"
    # when its API discovery meets it first (no discovery cache for that server yet, as on a fresh machine).
    unauthorized = "Unauthorized" in refused.stderr or "asked for the client to provide credentials" in refused.stderr
    assert refused.returncode != 0 and unauthorized, refused.stderr
    # Ann's SSH key opens Ann's nodes, not Bob's.
    node = ann["nodes"][0]
    assert ssh(ann["ssh_key"], ann["known_hosts"], f"root@{node['address']}").stdout.strip() == node["name"]
    theirs_node = bob["nodes"][0]
    assert ssh(ann["ssh_key"], bob["known_hosts"], f"root@{theirs_node['address']}").returncode == 255


def test_login_cards_hold_every_student(klass: ClassHandle) -> None:
    summary = klass.json("cards", CLASS)
    html = Path(summary["cards"]).read_text()
    assert summary["without_access"] == [] and html.count('class="card"') == 2
    for student in ("ann", "bob"):
        assert f"KUBECONFIG={klass.home}/labs/{CLASS}-{student}/users/{student}/kubeconfig" in html


def test_a_second_class_up_changes_nothing(klass: ClassHandle) -> None:
    summary = klass.json("up", CLASS, "--roster", str(klass.roster))
    assert [row["changed"] for row in summary["labs"]] == [{"cluster": 0, "apps": 0}] * 2, summary


def test_class_drill_runs_on_every_lab_at_once(klass: ClassHandle) -> None:
    klass.json("predict", CLASS, "pod-kill", "--student", "ann", "time_to_recover=10")
    summary = klass.json("drill", CLASS, "pod-kill")
    assert [(row["student"], row["verdict"]) for row in summary["labs"]] == [("ann", "pass"), ("bob", "pass")], summary
    assert all(row["result_id"] and 0 < row["availability"] <= 1 and 0 < row["score"] <= 100 for row in summary["labs"]), summary
    status = klass.json("status", CLASS)
    assert [(row["last_drill"], row["last_verdict"]) for row in status["labs"]] == [("pod-kill", "pass")] * 2


def test_class_report_sets_each_guess_against_the_drill(klass: ClassHandle) -> None:
    report = klass.json("report", CLASS)
    assert report["drills"] == ["pod-kill"]
    ranks = {row["student"]: (row["rank"], row["passed"]) for row in report["students"]}
    assert ranks == {"ann": (1, 1), "bob": (None, 1)}, report
    files = {kind: Path(path) for kind, path in report["files"].items()}
    page = files["html"].read_text()
    assert 'id="student-ann"' in page and 'id="student-bob"' in page and "guess 10.0 s" in page
    lines = list(csv.DictReader(files["csv"].open()))
    guessed = [line for line in lines if line["student"] == "ann" and line["duration"] == "time_to_recover"]
    assert guessed and guessed[0]["predicted_s"] == "10.0" and guessed[0]["observed_s"], lines
    suites = ET.parse(files["junit"]).getroot().findall("testsuite")
    assert [(s.get("name"), s.get("tests"), s.get("failures")) for s in suites] == [
        (f"labctl class {CLASS}: ann", "1", "0"), (f"labctl class {CLASS}: bob", "1", "0")]


def test_class_reset_puts_one_students_lab_back(klass: ClassHandle) -> None:
    """Ann scales nginx down and deletes the guestbook's frontend; a reset redeploys both. Bob's lab, with a mark of
    his own in it, is made anew by --rebuild: the mark is gone and his own identity works again."""
    ann, bob = f"{CLASS}-ann", f"{CLASS}-bob"
    for change in (["scale", "deployment/nginx", "--replicas", "1"], ["delete", "deployment/guestbook-frontend"]):
        assert klass.labctl("kubectl", "--lab", ann, *change).returncode == 0
    assert klass.labctl("kubectl", "--lab", bob, "create", "configmap", "bobs-mark").returncode == 0
    broken = {row["student"]: row for row in klass.json("status", CLASS)["labs"]}
    assert broken["ann"]["apps_available"] < broken["ann"]["apps"], broken
    reset = klass.json("reset", CLASS, "ann")
    assert [(step["step"], step["ok"]) for step in reset["steps"]] == [("recover", True), ("deploy", True)], reset
    apps = {a["name"]: a for a in json.loads(klass.labctl("status", "--lab", ann, "--output", "json").stdout)["apps"]}
    assert apps["nginx"]["available"] == 3 and apps["guestbook-frontend"]["available"] >= 1, apps
    rebuilt = klass.json("reset", CLASS, "bob", "--rebuild", "--yes")
    assert [(step["step"], step["ok"]) for step in rebuilt["steps"]] == [("down", True), ("up", True), ("user", True)], rebuilt
    gone = klass.labctl("kubectl", "--lab", bob, "get", "configmap", "bobs-mark")
    assert gone.returncode != 0 and "NotFound" in gone.stderr, gone.stderr
    whoami = kubectl(klass.json("access", CLASS, "bob")["kubeconfig"], "auth", "whoami", "-o", "json")
    assert whoami.returncode == 0 and json.loads(whoami.stdout)["status"]["userInfo"]["username"] == "bob", whoami.stderr
    assert [row["phase"] for row in klass.json("status", CLASS)["labs"]] == ["ready", "ready"]


def test_a_student_off_the_roster_is_reported_then_pruned(klass: ClassHandle) -> None:
    kept = klass.json("up", CLASS, "--roster", str(klass.roster_of("ann")))
    assert kept["not_on_roster"] == ["bob"] and (klass.home / "labs" / f"{CLASS}-bob").exists()
    pruned = klass.json("up", CLASS, "--roster", str(klass.roster), "--prune")
    assert [(row["student"], row["ok"]) for row in pruned["pruned"]] == [("bob", True)], pruned
    assert not (klass.home / "labs" / f"{CLASS}-bob").exists()
    assert [row["student"] for row in klass.json("status", CLASS)["labs"]] == ["ann"]


def test_class_down_leaves_the_host_as_before(klass: ClassHandle, class_host_before: dict[str, Any]) -> None:
    summary = klass.json("down", CLASS, "--yes")
    assert [(row["lab"], row["ok"]) for row in summary["labs"]] == [(f"{CLASS}-ann", True)]
    # Nothing of the class is left for a later class of the same name: record, predictions, logs, scoreboard.
    assert not (klass.home / "classes" / CLASS).exists()
    assert host_snapshot(CLASS_LABS) == class_host_before
