from pathlib import Path

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


def test_missing_bundle_names_the_build(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("LABCTL_CACHE", str(tmp_path / "cache"))
    bundle = next(c for c in doctor.run_checks("local") if c["name"] == "offline bundle")
    assert bundle["ok"] is False and "missing" in bundle["detail"]
    assert "labctl bundle build" in bundle["fix"]
    assert not (tmp_path / "cache").exists()


def test_unwritable_home_names_the_fix(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for home, problem in ((tmp_path / "a-file", "is a file"), (Path("/sys/labctl-doctor-test"), "is not writable")):
        if home.parent == tmp_path:
            home.write_text("")
        monkeypatch.setenv("LABCTL_HOME", str(home))
        for provider in ("local", "aws"):
            check = next(c for c in doctor.run_checks(provider) if c["name"] == "data directory")
            assert check["ok"] is False and problem in check["detail"], check
            assert "LABCTL_HOME" in check["fix"]
    monkeypatch.setenv("LABCTL_HOME", str(tmp_path / "new"))
    assert next(c for c in doctor.run_checks("local") if c["name"] == "data directory")["ok"]
    assert not (tmp_path / "new").exists()
