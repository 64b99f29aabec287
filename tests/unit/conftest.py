from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture
def labctl_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    home = tmp_path / "home"
    monkeypatch.setenv("LABCTL_HOME", str(home))
    yield home
