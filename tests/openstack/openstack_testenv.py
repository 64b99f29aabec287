"""Shared by the OpenStack tests: the fake cloud's credentials, a clouds.yaml for it, the real labctl command."""

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml
from fake_openstack import FakeOpenStack

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
USERNAME = "lab-operator"
# Unique enough that finding it anywhere on disk can only mean it leaked there.
PASSWORD = "fake-Pa55word-7f3c9e1d"


def write_clouds_yaml(path: Path, fake: FakeOpenStack, password: str = PASSWORD) -> Path:
    auth = {
        "auth_url": fake.auth_url,
        "username": USERNAME,
        "password": password,
        "project_name": "lab",
        "user_domain_name": "Default",
        "project_domain_name": "Default",
    }
    clouds = {"clouds": {"fake": {"auth": auth, "region_name": "RegionOne", "interface": "public", "identity_api_version": 3}}}
    path.write_text(yaml.safe_dump(clouds))
    path.chmod(0o600)
    return path


@dataclass
class Labctl:
    """Runs the real `labctl` command against the fake cloud, in a private LABCTL_HOME and HOME."""

    home: Path
    env: dict[str, str]

    def run(self, *args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
        # This checkout's labctl, not whichever one the virtualenv has installed (editable, maybe elsewhere).
        env = {**self.env, "PYTHONPATH": str(REPO)}
        return subprocess.run(
            [sys.executable, "-m", "labctl", *args], env=env, cwd=self.home, capture_output=True, text=True, timeout=timeout, check=False
        )
