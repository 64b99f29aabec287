"""A cloud lab whose local state is gone: `labctl down aws --lab X` finds it by its tags and removes it."""

import shutil
from pathlib import Path

from awshelpers import ALLOW_FROM, Moto, flat, lab_resources, labctl, labctl_env


def test_down_finds_a_lab_by_its_tags_when_the_local_state_is_gone(moto: Moto, tmp_path: Path) -> None:
    lab = "lost"
    env = labctl_env(moto, tmp_path)
    up = labctl(env, "up", "aws", "--provision-only", "--yes", "--allow-from", ALLOW_FROM, "--lab", lab)
    assert up.returncode == 0, up.stderr
    assert lab_resources(moto, lab)
    shutil.rmtree(tmp_path / "labs" / lab)

    # Without a provider, down cannot know where to look: it says so, and how.
    plain = labctl(env, "down", "--lab", lab)
    assert plain.returncode == 0, plain.stderr
    assert "labctl down aws|openstack --lab NAME" in flat(plain.stdout + plain.stderr)
    assert lab_resources(moto, lab)

    swept = labctl(env, "down", "aws", "--lab", lab)
    assert swept.returncode == 0, swept.stderr
    said = flat(swept.stdout + swept.stderr)
    assert "found on aws by its tags" in said and "instance" in said
    assert lab_resources(moto, lab) == []
    assert not (tmp_path / "labs" / lab).exists()

    again = labctl(env, "down", "aws", "--lab", lab)
    assert again.returncode == 0, again.stderr
    assert "nothing found on aws" in flat(again.stdout + again.stderr)
