"""A class of two students on the emulated AWS (whose instances are real local machines): `class up ... aws
--offline --small` makes one cloud lab per student in parallel, each student's own kubeconfig reaches their lab,
`class drill pod-kill` passes on both at once, and `class down` leaves nothing of either lab in the cloud.
Full suite only (four instances, two load balancers).
"""

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from cloudharness import EmulatedCloud, aws_lab_resources, cloud_env, emulated_cloud
from e2ehelpers import REPO, lab_unavailable

pytestmark = [pytest.mark.e2e, pytest.mark.full]

CLASS = "e2eca"
STUDENTS = ("ann", "bob")


class CloudClass:
    def __init__(self, cloud: EmulatedCloud, home: Path) -> None:
        self.cloud, self.home = cloud, home

    def labctl(self, *args: str, timeout: float = 2400) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "labctl", *args], capture_output=True, text=True, timeout=timeout,
                              env=cloud_env(self.cloud, str(self.home)), cwd=REPO, stdin=subprocess.DEVNULL)

    def json(self, *args: str) -> Any:
        done = self.labctl("class", *args, "--output", "json")
        assert done.returncode == 0, f"labctl class {' '.join(args)} exited {done.returncode}: {done.stderr[-3000:]}"
        return json.loads(done.stdout)


@pytest.fixture(scope="module")
def klass(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CloudClass]:
    reason = lab_unavailable()
    if reason:
        pytest.skip(reason)
    home = tmp_path_factory.mktemp("labctl-home-class-aws")
    with emulated_cloud("aws") as cloud:
        handle = CloudClass(cloud, home)
        yield handle
        if (home / "classes" / CLASS / "class.json").exists():
            handle.labctl("class", "down", CLASS, "--yes", timeout=1200)


def test_class_up_makes_one_cloud_lab_per_student(klass: CloudClass) -> None:
    roster = klass.home / "roster.csv"
    roster.write_text("student,name\n" + "".join(f"{s},{s.title()}\n" for s in STUDENTS))
    config = klass.home / "labctl.yaml"
    config.write_text(yaml.safe_dump({"aws": {"allow_from": klass.cloud.operator_cidr}}))
    summary = klass.json("up", CLASS, "aws", "--roster", str(roster), "--config", str(config), "--small", "--offline",
                         "--fast-failover", "--parallel", "2")
    assert [(row["lab"], row["ok"]) for row in summary["labs"]] == [(f"{CLASS}-{s}", True) for s in STUDENTS], summary
    status = klass.json("status", CLASS)
    for row in status["labs"]:
        assert (row["phase"], row["nodes_ready"], row["nodes"]) == ("ready", 2, 2), row
        assert row["apps"] > 0 and row["apps_available"] == row["apps"], row
    for student in STUDENTS:
        resources = aws_lab_resources(klass.cloud, f"{CLASS}-{student}")
        assert sum(r.startswith("instance ") for r in resources) == 2, resources


def test_each_students_kubeconfig_reaches_their_cloud_lab(klass: CloudClass) -> None:
    from labctl.bundle import artifact_path
    from labctl.config import DEFAULT_KUBERNETES_VERSION

    kubectl = str(artifact_path(DEFAULT_KUBERNETES_VERSION, "kubectl"))
    for student in STUDENTS:
        access = klass.json("access", CLASS, student)
        whoami = subprocess.run([kubectl, "--kubeconfig", access["kubeconfig"], "auth", "whoami", "-o", "json"],
                                capture_output=True, text=True, timeout=60)
        assert whoami.returncode == 0, whoami.stderr
        assert json.loads(whoami.stdout)["status"]["userInfo"]["username"] == student


def test_class_drill_passes_on_every_cloud_lab(klass: CloudClass) -> None:
    summary = klass.json("drill", CLASS, "pod-kill")
    assert [(row["student"], row["verdict"]) for row in summary["labs"]] == [(s, "pass") for s in STUDENTS], summary


def test_class_down_leaves_nothing_in_the_cloud(klass: CloudClass) -> None:
    summary = klass.json("down", CLASS, "--yes")
    assert all(row["ok"] for row in summary["labs"]), summary
    for student in STUDENTS:
        assert aws_lab_resources(klass.cloud, f"{CLASS}-{student}") == []
        assert not (klass.home / "labs" / f"{CLASS}-{student}").exists()
