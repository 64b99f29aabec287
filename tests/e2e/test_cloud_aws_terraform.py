"""`labctl up aws --engine terraform --offline` on the emulated AWS, whose instances are real local machines:
Terraform (terraform/aws, providers from the local mirror) makes the lab → the same roles install
Kubernetes → the four proofs → `labctl down` (terraform destroy, then the tag sweep) → nothing of the
lab in the cloud. Full suite only (Terraform's fixed waits for the load balancer make it slow).
"""

import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cloudharness import CloudLab, aws_lab_resources, cloud_lab
from e2ehelpers import REPO

pytestmark = [pytest.mark.e2e, pytest.mark.full]

LAB = "e2etf"
MIRROR = Path(os.environ.get("LABCTL_TF_MIRROR", "/opt/tf-plugins"))


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CloudLab]:
    sys.path.insert(0, str(REPO / "tests" / "aws"))
    from awshelpers import offline_terraformrc

    home = tmp_path_factory.mktemp("labctl-home-aws-terraform")
    rc = offline_terraformrc(home / "terraformrc", MIRROR)
    if rc is None:
        pytest.skip(f"needs terraform on PATH and a provider mirror at {MIRROR}")
    with cloud_lab("aws", LAB, home) as the_lab:
        the_lab.extra_env = {"TF_CLI_CONFIG_FILE": str(rc), "CHECKPOINT_DISABLE": "1"}
        yield the_lab
        if (home / "labs" / LAB).exists():
            # The last test normally removes the lab; a failed one leaves it to this.
            the_lab.run("down", timeout=900)


def test_terraform_engine_installs_a_cluster_on_cloud_machines(lab: CloudLab) -> None:
    done = lab.run("up", "aws", "--engine", "terraform", "--offline", "--yes", "--allow-from", lab.cloud.operator_cidr,
                   "--fast-failover", "--output", "json")
    assert done.returncode == 0, done.stderr[-3000:]
    summary: dict[str, Any] = json.loads(done.stdout)
    assert summary["phase"] == "ready" and summary["provider"] == "aws"
    assert set(summary["checks"]) == {"apps_available", "nginx_nodeport", "guestbook_roundtrip", "cluster_dns"}
    # Terraform, not the aws_lab role, made the machines: its state holds them.
    state = json.loads((lab.home / "labs" / LAB / "terraform" / "terraform.tfstate").read_text())
    made = {r["type"] for r in state["resources"] if r["mode"] == "managed"}
    assert {"aws_instance", "aws_autoscaling_group", "aws_lb"} <= made, made
    status = json.loads(lab.run("status", "--output", "json").stdout)
    nodes = status["nodes"]
    assert len(nodes) == 3 and all(n["ready"] for n in nodes), nodes


def test_down_leaves_nothing(lab: CloudLab) -> None:
    assert aws_lab_resources(lab.cloud, LAB), "the lab's resources should be listed before down"
    done = lab.run("down", timeout=900)
    assert done.returncode == 0, done.stderr[-2000:]
    assert aws_lab_resources(lab.cloud, LAB) == []
    assert not (lab.home / "labs" / LAB).exists()
