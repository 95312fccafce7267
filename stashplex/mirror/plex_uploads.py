"""What stashplex uploaded into Plex Media Server (`plex_uploads` table).

One row per PMS item (its key there) and kind of image (`poster`, `art`): our item's guid, the
image's source (our URL path, which carries its version) and a hash of the bytes sent. Stored in
the mirror so a restart uploads nothing again, and so a reconciliation skips what PMS has.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from stashplex.mirror import writer
from stashplex.mirror.db import Database
from stashplex.mirror.scene_reader import marked_chunks


@dataclass(frozen=True, slots=True)
class Upload:
    plex_key: str
    kind: str
    item: str
    source: str
    digest: str
    uploaded_at: float


class PlexUploads:
    def __init__(self, db: Database, clock: Callable[[], float] = time.time) -> None:
        self.db = db
        self.clock = clock
        self._write_lock = threading.Lock()

    def for_keys(self, plex_keys: Iterable[str]) -> dict[tuple[str, str], Upload]:
        """(plex key, kind) -> the upload recorded, for those of these keys that have any."""
        found: dict[tuple[str, str], Upload] = {}
        with self.db.reader.connect() as connection:
            for marks, chunk in marked_chunks(plex_keys):
                for row in connection.exec_driver_sql(
                    "SELECT plex_key, kind, item, source, digest, uploaded_at FROM plex_uploads "
                    f"WHERE plex_key IN ({marks})",
                    chunk,
                ):
                    upload = Upload(*row)
                    found[upload.plex_key, upload.kind] = upload
        return found

    def key_of(self, item: str) -> str | None:
        """The PMS key that last received an upload for our item (a guid), if any."""
        with self.db.reader.connect() as connection:
            return connection.exec_driver_sql(
                "SELECT plex_key FROM plex_uploads WHERE item = ? "
                "ORDER BY uploaded_at DESC LIMIT 1",
                (item,),
            ).scalar()

    def known_items(self, items: Iterable[str]) -> set[str]:
        """Those of these guids that some PMS item received an upload for."""
        found: set[str] = set()
        with self.db.reader.connect() as connection:
            for marks, chunk in marked_chunks(items):
                found.update(
                    connection.exec_driver_sql(
                        f"SELECT DISTINCT item FROM plex_uploads WHERE item IN ({marks})",
                        chunk,
                    ).scalars()
                )
        return found

    def record(self, plex_key: str, kind: str, item: str, source: str, digest: str) -> None:
        self._write(
            "INSERT INTO plex_uploads (plex_key, kind, item, source, digest, uploaded_at) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (plex_key, kind) DO UPDATE SET "
            "item = excluded.item, source = excluded.source, digest = excluded.digest, "
            "uploaded_at = excluded.uploaded_at",
            (plex_key, kind, item, source, digest, self.clock()),
        )

    def forget(self, plex_key: str) -> None:
        """PMS no longer has that key (the item was deleted or re-added under a new one)."""
        self._write("DELETE FROM plex_uploads WHERE plex_key = ?", (plex_key,))

    def count(self) -> int:
        with self.db.reader.connect() as connection:
            return connection.exec_driver_sql("SELECT count(*) FROM plex_uploads").scalar() or 0

    def get_state(self, key: str) -> str | None:
        """A value kept in `sync_state` (the reconciliation's position)."""
        with self.db.reader.connect() as connection:
            return writer.get_state(connection, key)

    def set_state(self, key: str, value: str | None) -> None:
        with self._write_lock, self.db.writer.begin() as connection:
            writer.set_state(connection, {key: value})

    def _write(self, sql: str, params: tuple[Any, ...]) -> None:
        with self._write_lock, self.db.writer.begin() as connection:
            connection.exec_driver_sql(sql, params)
