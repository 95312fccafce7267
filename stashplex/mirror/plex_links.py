"""What stashplex knows of Plex Media Server's items (`plex_items` table).

One row per scene that PMS holds: its key there (PMS's ratingKey). Stored in the mirror so a
restart does not search PMS again, and so a sync knows which changed scenes to ask PMS to
refresh. What was uploaded to each PMS item is in `plex_uploads` (`mirror.plex_uploads`); this
table's `uploaded_version` and `uploaded_at` columns are from before it and no longer written.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from stashplex.mirror.db import Database
from stashplex.mirror.scene_reader import marked_chunks


@dataclass(frozen=True, slots=True)
class PlexLink:
    scene_id: int
    plex_key: str
    uploaded_version: str | None
    found_at: float
    uploaded_at: float | None
    refreshed_at: float | None


class PlexLinks:
    def __init__(self, db: Database, clock: Callable[[], float] = time.time) -> None:
        self.db = db
        self.clock = clock
        self._write_lock = threading.Lock()

    def get(self, scene_id: int) -> PlexLink | None:
        with self.db.reader.connect() as connection:
            row = connection.exec_driver_sql(
                "SELECT scene_id, plex_key, uploaded_version, found_at, uploaded_at, refreshed_at "
                "FROM plex_items WHERE scene_id = ?",
                (scene_id,),
            ).first()
        return PlexLink(*row) if row else None

    def keys_for(self, scene_ids: Iterable[int]) -> dict[int, str]:
        """Scene id -> Plex key for those of these scenes that PMS is known to hold."""
        found: dict[int, str] = {}
        with self.db.reader.connect() as connection:
            for marks, chunk in marked_chunks(scene_ids):
                found.update(
                    connection.exec_driver_sql(
                        f"SELECT scene_id, plex_key FROM plex_items WHERE scene_id IN ({marks})",
                        chunk,
                    ).all()
                )
        return found

    def found(self, scene_id: int, plex_key: str) -> None:
        """PMS holds the scene under `plex_key`; an upload made to another key no longer counts."""
        self._write(
            "INSERT INTO plex_items (scene_id, plex_key, found_at) VALUES (?, ?, ?) "
            "ON CONFLICT (scene_id) DO UPDATE SET "
            "uploaded_version = CASE WHEN plex_key = excluded.plex_key "
            "THEN uploaded_version END, "
            "uploaded_at = CASE WHEN plex_key = excluded.plex_key THEN uploaded_at END, "
            "plex_key = excluded.plex_key, found_at = excluded.found_at",
            (scene_id, plex_key, self.clock()),
        )

    def refreshed(self, scene_ids: Iterable[int]) -> None:
        ids = [(self.clock(), scene_id) for scene_id in scene_ids]
        if ids:
            self._write("UPDATE plex_items SET refreshed_at = ? WHERE scene_id = ?", ids)

    def forget(self, scene_id: int) -> None:
        self._write("DELETE FROM plex_items WHERE scene_id = ?", (scene_id,))

    def _write(self, sql: str, params: tuple[Any, ...] | list[tuple[Any, ...]]) -> None:
        with self._write_lock, self.db.writer.begin() as connection:
            connection.exec_driver_sql(sql, params)
