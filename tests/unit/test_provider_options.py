"""Provider switches are typed, and one a provider cannot honour is refused at the CLI, not ignored."""

from pathlib import Path

import pytest
from clihelp import run_cli

from labctl.providers import ProviderOptions, get_provider


def test_offline_on_the_local_provider_is_refused_before_anything_is_made(labctl_home: Path) -> None:
    done = run_cli("up", "--offline", "--lab", "off", home=labctl_home)
    assert done.returncode == 2, done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "--offline is for cloud providers" in errors[0] and "drop --offline" in errors[0]
    assert not (labctl_home / "labs" / "off").exists()


@pytest.mark.parametrize("provider", ["local", "aws", "openstack"])
def test_an_unknown_kubernetes_version_is_refused_before_any_machine(labctl_home: Path, provider: str) -> None:
    args = ["up"] + ([provider] if provider != "local" else []) + ["--kubernetes-version", "v1.99.0", "--lab", "ver", "--yes"]
    done = run_cli(*args, home=labctl_home)
    assert done.returncode == 2, done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "v1.99.0 is not a version labctl installs" in errors[0] and "v1.36.3" in errors[0]
    assert not (labctl_home / "labs" / "ver").exists()


def test_every_provider_says_whether_it_takes_offline() -> None:
    assert {name: get_provider(name).supports_offline for name in ("local", "aws", "openstack")} == {
        "local": False,
        "aws": True,
        "openstack": True,
    }
    assert ProviderOptions() == ProviderOptions(yes=False, provision_only=False, offline=False, reconcile=False)
