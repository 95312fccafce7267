"""Opening the mirror: SQLite pragmas, transactions that mean what they say, migrations.

SQLite runs in WAL mode so the responder's readers never wait for the syncer. Writers start
their transactions with BEGIN IMMEDIATE: they queue on the busy timeout up front instead of
failing with "database is locked" when a read transaction tries to upgrade to a write.
pysqlite's own transaction handling is switched off (it would not wrap DDL), so migrations run
in one real transaction and a kill mid-migration leaves the previous schema intact.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 30_000
_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    # NORMAL in WAL mode is crash-safe (consistent); only the last commits may be lost on
    # power loss, and the next sync fetches them again.
    "PRAGMA synchronous=NORMAL",
    "PRAGMA foreign_keys=ON",
    f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}",
    "PRAGMA temp_store=MEMORY",
    # No memory mapping: mapped pages count as the process's memory (RSS) on a NAS that has
    # little of it, and the OS page cache serves the same reads anyway.
    "PRAGMA mmap_size=0",
)
# Page cache per connection: the syncer's writer walks large indexes; readers do point lookups.
WRITER_CACHE_KB = 32_000
READER_CACHE_KB = 4_000
# Writers move the WAL into the mirror file (a checkpoint, with its fsyncs) once it holds this
# many pages (40 MB) instead of SQLite's 1,000: a full sync then checkpoints a tenth as often,
# and its commits cost a third less. The WAL file on disk stays at most about this size.
WRITER_CHECKPOINT_PAGES = 10_000


def make_engine(path: Path | str, *, write: bool = False, pool_size: int = 8) -> Engine:
    url = "sqlite+pysqlite:///:memory:" if str(path) == ":memory:" else f"sqlite+pysqlite:///{path}"
    engine = create_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=False,
        connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000},
    )
    begin = "BEGIN IMMEDIATE" if write else "BEGIN"

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
        cursor = dbapi_connection.cursor()
        for pragma in _PRAGMAS:
            cursor.execute(pragma)
        cursor.execute(f"PRAGMA cache_size=-{WRITER_CACHE_KB if write else READER_CACHE_KB}")
        if write:
            cursor.execute(f"PRAGMA wal_autocheckpoint={WRITER_CHECKPOINT_PAGES}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql(begin)

    return engine


class MirrorMoved(Exception):
    """The mirror file was deleted or replaced while open: what is open is no longer the
    mirror, and nothing may be written into it."""


def file_identity(path: Path | str) -> tuple[int, int] | None:
    """(device, inode) of the file at `path`; None when there is none."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_dev, info.st_ino


@dataclass
class Database:
    """The mirror file with its two engines: many readers, writers that queue."""

    path: Path
    reader: Engine
    writer: Engine
    identity: tuple[int, int] | None = None  # of the file opened; None for ":memory:"

    @classmethod
    def open(cls, path: Path, *, migrate: bool = True, readers: int = 8) -> Database:
        path = Path(path)
        if migrate:
            migrate_to_head(path)
        return cls(
            path=path,
            reader=make_engine(path, pool_size=readers),
            writer=make_engine(path, write=True, pool_size=2),
            identity=None if str(path) == ":memory:" else file_identity(path),
        )

    def moved(self) -> str | None:
        """How the file at `path` stopped being the one opened ("deleted", "replaced"), or None
        while it is the same: one stat, cheap enough to ask every few seconds.

        SQLite keeps using a deleted or renamed-over file through its open descriptors, so
        writes would go on, into a file nobody will read: callers reopen instead."""
        if self.identity is None:
            return None
        found = file_identity(self.path)
        if found == self.identity:
            return None
        return "deleted" if found is None else "replaced by another file"

    def check_not_moved(self) -> None:
        """Raise MirrorMoved if the file was deleted or replaced since it was opened."""
        how = self.moved()
        if how is not None:
            raise MirrorMoved(f"the mirror {self.path} was {how} while in use")

    def close(self) -> None:
        self.reader.dispose()
        self.writer.dispose()


# --- migrations ----------------------------------------------------------------------------


def alembic_config(path: Path | None = None) -> Config:
    script_location = str(resources.files("stashplex_migrations"))
    config = Config()
    config.set_main_option("script_location", script_location)
    if path is not None:
        config.set_main_option("sqlalchemy.url", f"sqlite+pysqlite:///{path}")
    return config


def head_revision() -> str:
    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    if len(heads) != 1:
        raise RuntimeError(f"the migrations have {len(heads)} heads; expected one")
    return heads[0]


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def migrate_to_head(path: Path) -> str:
    """Create or upgrade the mirror file to the newest schema; cheap when already there."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    head = head_revision()
    engine = make_engine(path, write=True, pool_size=1)
    try:
        current = current_revision(engine)
        if current == head:
            return head
        log.info("migrating mirror %s from %s to %s", path, current or "empty", head)
        config = alembic_config(path)
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
        return head
    finally:
        engine.dispose()
