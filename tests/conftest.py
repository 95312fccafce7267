"""Shared test configuration. Fixtures live in tests/plugins/, loaded here as pytest plugins.

Tests are split by folder, and each test gets the folder's marker:
- tests/unit: in-process and fast (`pytest -m unit`, or `pytest tests/unit`);
- tests/integration: real servers over loopback HTTP, subprocesses, timeouts.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
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


# Loggers `stashplex.logs.setup` sets the level of: a command run in-process (cli.main) must not
# leave them quiet for the next test in the same worker (caplog sets the root level only).
_TUNED_LOGGERS = (
    "",
    "httpx",
    "httpcore",
    "alembic",
    "waitress.queue",
    "apscheduler.executors",
    "apscheduler.scheduler",
)


@pytest.fixture(autouse=True)
def _logging_restored() -> Iterator[None]:
    loggers = [logging.getLogger(name) for name in _TUNED_LOGGERS]
    levels = [logger.level for logger in loggers]
    handlers = list(logging.getLogger().handlers)
    yield
    for logger, level in zip(loggers, levels, strict=True):
        logger.setLevel(level)
    root = logging.getLogger()
    for handler in list(root.handlers):
        if handler not in handlers and getattr(handler, "_stashplex", False):
            root.removeHandler(handler)
