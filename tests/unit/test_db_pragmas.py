"""The mirror's writers checkpoint the WAL in large steps; readers leave checkpoints alone."""

from __future__ import annotations

from pathlib import Path

from stashplex.mirror.db import WRITER_CHECKPOINT_PAGES, make_engine


def test_writers_checkpoint_less_often_than_sqlite_by_default(tmp_path: Path) -> None:
    writer = make_engine(tmp_path / "m.db", write=True, pool_size=1)
    reader = make_engine(tmp_path / "m.db", pool_size=1)
    try:
        with writer.connect() as connection:
            pages = connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar()
        assert pages == WRITER_CHECKPOINT_PAGES > 1000
        with reader.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 1000
    finally:
        writer.dispose()
        reader.dispose()
