"""Service.build gives back what it opened when a later step fails."""

from __future__ import annotations

from pathlib import Path

import pytest

from stashplex import daemon
from stashplex.mirror.db import Database
from tests.plugins.webkit import hand_settings


def test_a_failed_build_closes_what_it_opened(tmp_path: Path, monkeypatch) -> None:
    closed: list[str] = []
    real_close = Database.close

    def close(self: Database) -> None:
        closed.append("db")
        real_close(self)

    def broken_app(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the app cannot be built")

    monkeypatch.setattr(Database, "close", close)
    monkeypatch.setattr(daemon, "create_app", broken_app)
    with pytest.raises(RuntimeError, match="cannot be built"):
        daemon.Service.build(hand_settings(tmp_path))
    assert closed == ["db"]
