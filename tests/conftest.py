"""Shared test fixtures. Feature-specific fixtures live in tests/plugins/."""

from __future__ import annotations

pytest_plugins = [
    "tests.plugins.net",
    "tests.plugins.daemon",
    "tests.plugins.fake_pms",
    "tests.plugins.mirror",
    "tests.plugins.sample_stash",
]
