"""Shared test configuration. Fixtures live in tests/plugins/, loaded here as pytest plugins.

Tests are split by folder, and each test gets the folder's marker:
- tests/unit: in-process and fast (`pytest -m unit`, or `pytest tests/unit`);
- tests/integration: real servers over loopback HTTP, subprocesses, timeouts.
"""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = [
    "tests.plugins.net",
    "tests.plugins.daemon",
    "tests.plugins.fake_pms",
    "tests.plugins.mirror",
    "tests.plugins.plexkit",
    "tests.plugins.sample_stash",
    "tests.plugins.webkit",
    "tests.plugins.tvkit",
]

_FOLDERS = {"unit", "integration"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        folder = Path(str(item.path)).parent.name
        # A test file outside both folders counts as integration until someone files it.
        item.add_marker(folder if folder in _FOLDERS else "integration")
