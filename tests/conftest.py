"""The full suite: tests marked `full` (the long end-to-end cases) run only with LABCTL_FULL=1
(`scripts/test.sh --full`); CI runs the rest."""

import os

import pytest


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("LABCTL_FULL") == "1":
        return
    skip = pytest.mark.skip(reason="full suite only: scripts/test.sh --full")
    for item in items:
        if "full" in item.keywords:
            item.add_marker(skip)
