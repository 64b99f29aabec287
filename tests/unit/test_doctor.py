import pytest

from labctl import doctor
from labctl.errors import UsageError


def test_every_check_names_a_fix() -> None:
    for check in doctor.run_checks("local"):
        assert set(check) == {"name", "ok", "detail", "fix"}
        assert check["fix"]


def test_not_root_fails_with_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(doctor.os, "geteuid", lambda: 1000)
    root = next(c for c in doctor.local_checks() if c["name"] == "root")
    assert root["ok"] is False and "as root" in root["fix"]


def test_missing_tool_names_its_package(monkeypatch: pytest.MonkeyPatch) -> None:
    real_which = doctor.shutil.which
    monkeypatch.setattr(doctor.shutil, "which", lambda name: None if name == "systemd-nspawn" else real_which(name))
    nspawn = next(c for c in doctor.local_checks() if c["name"] == "systemd-nspawn")
    assert nspawn["ok"] is False and nspawn["fix"] == "apt-get install systemd-container"


def test_unknown_provider() -> None:
    with pytest.raises(UsageError):
        doctor.run_checks("vagrant")
