"""Build orchestration: incrementality, atomic publishing, interruption safety.

A fake catalog stands in for the real one, so no Go or Debian build runs.
"""

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from labctl import bundle
from labctl.bundle import catalog
from labctl.bundle import manifest as manifest_mod
from labctl.bundle.layout import temp_name
from labctl.bundle.spec import ArtifactSpec, BuildContext
from labctl.errors import InfraError, UsageError

KUBE = "v9.9.9"


class FakeCatalog:
    """Artifacts whose content and recipe inputs a test can change at will."""

    def __init__(self) -> None:
        self.content: dict[str, bytes] = {"alpha": b"alpha-1", "beta": b"beta-1", "gamma": b"gamma-1"}
        self.inputs: dict[str, str] = {name: "rev1" for name in self.content}
        self.makes: list[str] = []
        self.hooks: dict[str, Callable[[Path], None]] = {}

    def _spec(self, name: str, lane: str, depends: tuple[str, ...] = ()) -> ArtifactSpec:
        def inputs(ctx: BuildContext) -> dict[str, Any]:
            return {"rev": self.inputs[name]}

        def make(ctx: BuildContext, out: Path) -> None:
            self.makes.append(name)
            out.write_bytes(self.content[name])
            hook = self.hooks.get(name)
            if hook:
                hook(out)

        return ArtifactSpec(name=name, kind="binary", version="v1", relpath=f"bin/{name}",
                            source=f"fake:{name}", group="fakes" if name != "gamma" else "other",
                            lane=lane, inputs=inputs, make=make, depends=depends,
                            needed_by="some-drill" if name == "gamma" else "up")

    def specs(self, kube_version: str) -> list[ArtifactSpec]:
        return [self._spec("alpha", "go"), self._spec("beta", "debian"),
                self._spec("gamma", "go", depends=("alpha",))]


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> FakeCatalog:
    monkeypatch.setenv("LABCTL_CACHE", str(tmp_path / "cache"))
    cat = FakeCatalog()
    monkeypatch.setattr(catalog, "specs", cat.specs)
    return cat


def present(kube: str = KUBE) -> dict[str, bool]:
    return {c["name"]: c["present"] for c in bundle.status(kube)["components"]}


def test_first_build_makes_everything_and_writes_the_manifest(fake: FakeCatalog) -> None:
    steps: list[tuple[str, str]] = []
    result = bundle.build(KUBE, on_step=lambda n, e, d: steps.append((n, e)))

    assert sorted(result["built"]) == ["alpha", "beta", "gamma"]
    assert result["skipped"] == []
    assert ("alpha", "start") in steps and ("alpha", "done") in steps
    data = json.loads((bundle.bundle_dir(KUBE) / "manifest.json").read_text())
    assert data["schema"] == "labctl.bundle/v1"
    assert data["kubernetes_version"] == KUBE
    assert [a["name"] for a in data["artifacts"]] == ["alpha", "beta", "gamma"]
    alpha = data["artifacts"][0]
    assert set(alpha) == {"name", "kind", "version", "path", "sha256", "size", "source", "recipe"}
    assert alpha["path"] == "bin/alpha" and alpha["size"] == len(b"alpha-1")
    assert present() == {"alpha": True, "beta": True, "gamma": True}
    assert os.access(bundle.artifact_path(KUBE, "alpha"), os.X_OK)


def test_second_build_skips_everything(fake: FakeCatalog) -> None:
    bundle.build(KUBE)
    fake.makes.clear()
    result = bundle.build(KUBE)
    assert result["built"] == [] and sorted(result["skipped"]) == ["alpha", "beta", "gamma"]
    assert fake.makes == []


def test_changed_recipe_rebuilds_only_that_artifact(fake: FakeCatalog) -> None:
    bundle.build(KUBE)
    fake.makes.clear()
    fake.inputs["beta"] = "rev2"
    fake.content["beta"] = b"beta-2"
    result = bundle.build(KUBE)
    assert result["built"] == ["beta"]
    assert bundle.artifact_path(KUBE, "beta").read_bytes() == b"beta-2"


def test_missing_or_altered_file_is_rebuilt(fake: FakeCatalog) -> None:
    bundle.build(KUBE)
    bundle.artifact_path(KUBE, "alpha").unlink()
    bundle.artifact_path(KUBE, "beta").write_bytes(b"tampered, longer")
    assert present() == {"alpha": False, "beta": False, "gamma": True}
    result = bundle.build(KUBE)
    assert sorted(result["built"]) == ["alpha", "beta"]
    assert present() == {"alpha": True, "beta": True, "gamma": True}


def test_force_rebuilds_everything(fake: FakeCatalog) -> None:
    bundle.build(KUBE)
    assert sorted(bundle.build(KUBE, force=True)["built"]) == ["alpha", "beta", "gamma"]


def test_only_selects_by_name_or_group_and_pulls_dependencies(fake: FakeCatalog) -> None:
    assert bundle.build(KUBE, only=["beta"])["built"] == ["beta"]
    assert sorted(bundle.build(KUBE, only=["other"])["built"]) == ["alpha", "gamma"]
    with pytest.raises(UsageError, match="nope"):
        bundle.build(KUBE, only=["nope"])


def test_what_up_needs_is_built_first_and_a_drills_extras_when_asked(fake: FakeCatalog) -> None:
    assert sorted(bundle.build(KUBE, needed_by="up")["built"]) == ["alpha", "beta"]
    report = bundle.status(KUBE)
    assert bundle.missing_for_a_lab(report) == [] and bundle.missing_for(report, "some-drill") == ["gamma"]
    assert {c["name"]: c["needed_by"] for c in report["components"]} == {"alpha": "up", "beta": "up", "gamma": "some-drill"}
    assert bundle.build(KUBE, needed_by="some-drill")["built"] == ["gamma"]
    assert bundle.missing_for(bundle.status(KUBE), "some-drill") == []
    with pytest.raises(UsageError, match="nothing in the bundle is needed by 'pod-kill' alone: choose from some-drill, up"):
        bundle.build(KUBE, needed_by="pod-kill")


def test_a_drill_builds_its_own_extras_when_it_first_runs(fake: FakeCatalog, capsys: pytest.CaptureFixture[str]) -> None:
    from labctl.drill_runner import build_what_the_drill_needs
    from labctl.drills import Drill
    from labctl.ui import Ui

    bundle.build(KUBE, needed_by="up")
    build_what_the_drill_needs(Drill("some-drill", (), "a drill with an extra"), KUBE, Ui())
    assert "drill some-drill needs gamma, not in the bundle yet: building now" in capsys.readouterr().err
    assert present() == {"alpha": True, "beta": True, "gamma": True}
    build_what_the_drill_needs(Drill("some-drill", (), "a drill with an extra"), KUBE, Ui())
    assert capsys.readouterr().err == "" and fake.makes.count("gamma") == 1


def test_the_real_catalog_leaves_only_the_older_kubelet_and_the_flatcar_python_out_of_up() -> None:
    extras = {s.name: s.needed_by for s in catalog.specs(catalog.KUBERNETES_VERSION) if s.needed_by != "up"}
    assert extras.pop("python/node-python") == "flatcar"
    assert extras and set(extras.values()) == {"kubelet-version"}
    assert all(name.startswith("skew/") for name in extras)


def test_failed_step_raises_infra_error_naming_the_artifact(fake: FakeCatalog) -> None:
    def boom(out: Path) -> None:
        raise InfraError("bundle: beta: go build failed; see log")

    fake.hooks["beta"] = boom
    events: list[tuple[str, str]] = []
    with pytest.raises(InfraError, match="beta"):
        bundle.build(KUBE, on_step=lambda n, e, d: events.append((n, e)))
    assert ("beta", "fail") in events
    assert not bundle.artifact_path(KUBE, "beta").exists()
    assert not temp_name(bundle.artifact_path(KUBE, "beta")).exists()
    assert present()["beta"] is False


def test_interrupted_step_leaves_nothing_present(fake: FakeCatalog) -> None:
    def interrupt(out: Path) -> None:
        raise KeyboardInterrupt

    bundle.build(KUBE)
    fake.inputs["alpha"] = "rev2"
    fake.content["alpha"] = b"alpha-2-partial"
    fake.hooks["alpha"] = interrupt
    with pytest.raises(KeyboardInterrupt):
        bundle.build(KUBE, only=["alpha"])
    # The old artifact is still whole and recorded; the new one never appeared.
    assert bundle.artifact_path(KUBE, "alpha").read_bytes() == b"alpha-1"
    assert present()["alpha"] is True
    assert bundle.verify(KUBE) == []


def test_crash_between_rename_and_manifest_update_is_not_present(
    fake: FakeCatalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The file is in place but the manifest never heard of it: not present."""
    bundle.build(KUBE, only=["beta"])

    def die(self: object, root: Path, order: list[str]) -> None:
        raise SystemExit("killed")

    monkeypatch.setattr(manifest_mod.Manifest, "save", die)
    with pytest.raises(SystemExit):
        bundle.build(KUBE, only=["alpha"])
    assert bundle.artifact_path(KUBE, "alpha").exists()
    assert present()["alpha"] is False
    assert "alpha" in bundle.verify(KUBE)


def test_stale_temp_files_are_never_artifacts_and_get_cleaned(fake: FakeCatalog) -> None:
    bundle.build(KUBE)
    stale = bundle.bundle_dir(KUBE) / "bin" / ".alpha.tmp-99999"
    stale.write_bytes(b"half")
    assert present()["alpha"] is True
    bundle.build(KUBE)
    assert not stale.exists()


def test_verify_catches_a_flipped_byte_that_status_cache_misses(fake: FakeCatalog) -> None:
    bundle.build(KUBE)
    path = bundle.artifact_path(KUBE, "gamma")
    st = path.stat()
    data = bytearray(path.read_bytes())
    data[0] ^= 0x01
    path.write_bytes(bytes(data))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    # status trusts size+mtime (cheap); verify always rehashes.
    assert present()["gamma"] is True
    assert bundle.verify(KUBE) == ["gamma"]
    assert present()["gamma"] is False


def test_status_of_an_empty_cache(fake: FakeCatalog) -> None:
    st = bundle.status(KUBE)
    assert st["kubernetes_version"] == KUBE
    assert st["path"] == str(bundle.bundle_dir(KUBE))
    assert [c["present"] for c in st["components"]] == [False, False, False]
    assert bundle.verify(KUBE) == ["alpha", "beta", "gamma"]
