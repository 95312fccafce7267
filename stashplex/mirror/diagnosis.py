"""What `stashplex doctor` reads of the mirror: its schema, its last syncs, its file paths.

Read only, and careful not to create anything: a doctor run on a machine where the mirror does
not exist yet must say so, not leave an empty database behind.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

from stashplex.mirror.db import head_revision
from stashplex.mirror.scene_reader import marked_chunks


@dataclass(frozen=True, slots=True)
class LastRun:
    kind: str
    started_at: float
    finished_at: float | None
    ok: bool | None
    error: str | None


@dataclass(frozen=True, slots=True)
class MirrorFacts:
    revision: str | None  # Alembic's revision of the file; None before the first migration
    head: str  # the revision this stashplex wants
    scenes: int
    files: int
    last_success: float | None
    last_run: LastRun | None

    @property
    def migrated(self) -> bool:
        return self.revision == self.head


@contextmanager
def read_only(path: Path) -> Iterator[sqlite3.Connection]:
    """A read-only connection to an existing mirror file (never creates one)."""
    connection = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True, timeout=5)
    with closing(connection):
        yield connection


def _tables(connection: sqlite3.Connection) -> set[str]:
    rows = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
    return {name for (name,) in rows}


def facts(path: Path) -> MirrorFacts:
    """The mirror's schema revision, size and last syncs. Raises sqlite3.Error for a file that
    is not a readable SQLite database."""
    with read_only(path) as connection:
        tables = _tables(connection)
        revision = None
        if "alembic_version" in tables:
            row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
            revision = row[0] if row else None
        scenes = files = 0
        if {"scenes", "files"} <= tables:
            scenes, files = connection.execute(
                "SELECT (SELECT count(*) FROM scenes), (SELECT count(*) FROM files)"
            ).fetchone()
        last_success = None
        if "sync_state" in tables:
            row = connection.execute(
                "SELECT value FROM sync_state WHERE key = 'last_success'"
            ).fetchone()
            try:
                last_success = float(row[0]) if row and row[0] is not None else None
            except ValueError:
                last_success = None
        last_run = None
        if "sync_runs" in tables:
            row = connection.execute(
                "SELECT kind, started_at, finished_at, ok, error FROM sync_runs"
                " ORDER BY id DESC LIMIT 1"
            ).fetchone()
            if row is not None:
                kind, started, finished, ok, error = row
                last_run = LastRun(kind, started, finished, None if ok is None else bool(ok), error)
    return MirrorFacts(revision, head_revision(), scenes, files, last_success, last_run)


def scene_paths(connection: sqlite3.Connection, scene_ids: Iterable[int]) -> dict[int, list[str]]:
    """Every file path of these scenes, primary file first."""
    found: dict[int, list[str]] = {}
    for marks, chunk in marked_chunks(scene_ids):
        rows = connection.execute(
            f"SELECT scene_id, path FROM files WHERE scene_id IN ({marks})"
            " ORDER BY scene_id, position",
            chunk,
        )
        for scene_id, path in rows:
            found.setdefault(scene_id, []).append(path)
    return found


def file_paths(connection: sqlite3.Connection) -> Iterator[str]:
    """Every mirrored file's path (one pass over the table, for the folders Stash has)."""
    for (path,) in connection.execute("SELECT path FROM files"):
        yield path
