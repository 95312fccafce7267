"""Poster state in the mirror (`posters` table): reads and writes, one short statement each.

A row says what a scene's cover was when last checked (Stash's ETag, a hash of its bytes, the
scene's screenshot `t`) and what became of it: a poster (`ok`, with the style and a hash of the
JPEG), no cover (Stash's SVG placeholder), a corrupt cover, or a scene Stash no longer has.
Plain SQL on the mirror's engines: these run once per poster, and SQLAlchemy's statement
compilation would cost more than SQLite's work.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, get_args

from stashplex.mirror.db import Database
from stashplex.mirror.scene_reader import marked_chunks

PosterState = Literal["ok", "no_cover", "corrupt", "missing"]
OK: PosterState = "ok"
NO_COVER: PosterState = "no_cover"
CORRUPT: PosterState = "corrupt"
MISSING: PosterState = "missing"  # Stash answered 404: the scene is gone; the next sync removes it
STATES: tuple[PosterState, ...] = get_args(PosterState)

_COLUMNS = (
    "scene_id",
    "state",
    "scene_version",
    "cover_etag",
    "cover_hash",
    "style",
    "poster_version",
    "reason",
    "checked_at",
    "rendered_at",
)
_SELECT = f"SELECT {', '.join('p.' + c for c in _COLUMNS)}"
_UPSERT = (
    f"INSERT INTO posters ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))}) "
    "ON CONFLICT (scene_id) DO UPDATE SET " + ", ".join(f"{c} = excluded.{c}" for c in _COLUMNS[1:])
)
# The scene (if mirrored) and its poster row (if any) in one read. The scene's screenshot `t`
# is NULL both for "no such scene" and "no version": `known` tells them apart.
_CURRENT = (
    f"{_SELECT}, s.id IS NOT NULL, s.screenshot_version FROM (SELECT ? AS id) AS q "
    "LEFT JOIN scenes AS s ON s.id = q.id LEFT JOIN posters AS p ON p.scene_id = q.id"
)
_SCAN = (
    f"{_SELECT}, s.id, s.screenshot_version FROM scenes AS s "
    "LEFT JOIN posters AS p ON p.scene_id = s.id WHERE s.id > ? ORDER BY s.id LIMIT ?"
)
_ORPHANS = (
    "SELECT p.scene_id FROM posters AS p LEFT JOIN scenes AS s ON s.id = p.scene_id "
    "WHERE s.id IS NULL AND p.scene_id > ? ORDER BY p.scene_id LIMIT ?"
)


@dataclass(frozen=True, slots=True)
class PosterRecord:
    scene_id: int
    state: PosterState
    scene_version: str | None = None
    cover_etag: str | None = None
    cover_hash: bytes | None = None
    style: str | None = None
    poster_version: str | None = None
    reason: str | None = None
    checked_at: float = 0.0
    rendered_at: float | None = None

    def values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, c) for c in _COLUMNS)


@dataclass(frozen=True, slots=True)
class SceneView:
    """A scene as the poster code sees it: is it mirrored, its cover's `t`, its poster row."""

    scene_id: int
    known: bool
    scene_version: str | None
    record: PosterRecord | None


def _record(row: Sequence[Any]) -> PosterRecord | None:
    if row[0] is None:
        return None
    return PosterRecord(*row[: len(_COLUMNS)])


class PosterStates:
    def __init__(self, db: Database) -> None:
        self.db = db
        # One of our writes at a time: they are tiny, and the mirror's writer pool is small and
        # shared with the syncer.
        self._write_lock = threading.Lock()

    def view(self, scene_id: int) -> SceneView:
        with self.db.reader.connect() as connection:
            row = connection.exec_driver_sql(_CURRENT, (scene_id,)).one()
        n = len(_COLUMNS)
        return SceneView(scene_id, bool(row[n]), row[n + 1], _record(row))

    def get(self, scene_id: int) -> PosterRecord | None:
        return self.view(scene_id).record

    def scan(self, after: int, limit: int) -> list[SceneView]:
        """Mirrored scenes with id > after, in id order, each with its poster row (keyset page)."""
        with self.db.reader.connect() as connection:
            rows = connection.exec_driver_sql(_SCAN, (after, limit)).all()
        n = len(_COLUMNS)
        return [SceneView(row[n], True, row[n + 1], _record(row)) for row in rows]

    def orphans(self, after: int = 0, limit: int = 1000) -> list[int]:
        """Scene ids that have a poster row but are no longer mirrored."""
        with self.db.reader.connect() as connection:
            return list(connection.exec_driver_sql(_ORPHANS, (after, limit)).scalars())

    def save(self, *records: PosterRecord) -> None:
        if not records:
            return
        with self._write_lock, self.db.writer.begin() as connection:
            connection.exec_driver_sql(_UPSERT, [r.values() for r in records])

    def delete(self, scene_ids: Iterable[int]) -> None:
        ids = list(scene_ids)
        if not ids:
            return
        with self._write_lock, self.db.writer.begin() as connection:
            for marks, chunk in marked_chunks(ids):
                connection.exec_driver_sql(
                    f"DELETE FROM posters WHERE scene_id IN ({marks})", chunk
                )

    def counts(self) -> dict[str, int]:
        """How many scenes are in each state (for status pages and the CLI)."""
        with self.db.reader.connect() as connection:
            rows = connection.exec_driver_sql(
                "SELECT state, COUNT(*) FROM posters GROUP BY state"
            ).all()
        return {state: count for state, count in rows}
