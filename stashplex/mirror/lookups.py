"""The responder's reads of the mirror: index seeks on plain sqlite3 connections, one per thread.

These are the hottest reads of the service (every Plex request makes a few), so they skip
SQLAlchemy: a prepared statement on a thread's own connection costs a few microseconds, where
building and compiling a Core statement costs tens. Every query is a primary-key or index seek
(tests check the query plans), bounded by LIMIT, so a request never scans the mirror.

Paths are matched by the keys `pathkeys` computes when the writer stores them: `rpath` (the
components reversed and joined by "/") turns "the longest common path suffix" into prefix
searches on one index, `basename_cf` is the folded basename and `stem_key` the basename without
extension or quality tags.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path

from stashplex.mirror import pathkeys
from stashplex.plex.matching import Hit

ROW_LIMIT = 64  # more files than this with one name are not worth ranking
BUSY_TIMEOUT_MS = 5_000  # readers never wait for writers in WAL mode; this is a safety net

_PRAGMAS = (
    f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}",
    "PRAGMA query_only=1",
    "PRAGMA cache_size=-4000",  # KB per connection: point lookups need few pages
    "PRAGMA mmap_size=0",  # mapped pages would count as the responder's memory
    "PRAGMA temp_store=MEMORY",
)

_FILE_HIT = (
    "SELECT f.scene_id, s.organized, s.date FROM files AS f "
    "JOIN scenes AS s ON s.id = f.scene_id WHERE "
)
SQL: dict[str, str] = {
    "by_rpath": _FILE_HIT + "f.rpath = ? LIMIT ?",
    # Depth d of a reversed path p: the path is p itself, or p is a whole-component prefix.
    # '0' follows '/' in byte order, so the range holds exactly the strings starting "p/".
    "suffix_exists": (
        "SELECT 1 FROM files AS f WHERE f.rpath = ?1 OR (f.rpath >= ?2 AND f.rpath < ?3) LIMIT 1"
    ),
    "by_suffix": _FILE_HIT + "(f.rpath = ?1 OR (f.rpath >= ?2 AND f.rpath < ?3)) LIMIT ?4",
    "by_basename": _FILE_HIT + "f.basename_cf = ? AND f.basename = ? LIMIT ?",
    "by_basename_folded": _FILE_HIT + "f.basename_cf = ? LIMIT ?",
    "by_stem": _FILE_HIT + "f.stem_key = ? LIMIT ?",
    "scene": "SELECT s.id, s.organized, s.date FROM scenes AS s WHERE s.id = ?",
    "by_title": "SELECT s.id, s.organized, s.date FROM scenes AS s WHERE s.title_key = ? LIMIT ?",
    "doc": "SELECT doc FROM scenes WHERE id = ?",
    "scene_image": "SELECT screenshot_version FROM scenes WHERE id = ?",
    "performer_image": "SELECT image_version FROM performers WHERE id = ?",
    "studio_image": "SELECT image_version FROM studios WHERE id = ?",
    "group_image": "SELECT front_image_version FROM groups WHERE id = ?",
}


class ReadConnections:
    """One read-only sqlite3 connection per thread (waitress runs a fixed set of threads)."""

    def __init__(self, path: Path | str) -> None:
        self.path = str(path)
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._closed = False

    def get(self) -> sqlite3.Connection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = self._open()
            self._local.connection = connection
        return connection

    def _open(self) -> sqlite3.Connection:
        if self._closed:
            raise RuntimeError("the mirror's read connections are closed")
        # Autocommit: each statement reads the newest committed state of the WAL.
        connection = sqlite3.connect(
            self.path,
            timeout=BUSY_TIMEOUT_MS / 1000,
            isolation_level=None,
            check_same_thread=False,  # only so close() can run on another thread
            cached_statements=64,
        )
        for pragma in _PRAGMAS:
            connection.execute(pragma)
        with self._lock:
            self._all.append(connection)
        return connection

    def close(self) -> None:
        with self._lock:
            self._closed = True
            connections, self._all = self._all, []
        for connection in connections:
            connection.close()


def _hits(rows: list[tuple[int, int, str | None]]) -> list[Hit]:
    return [Hit(scene_id, bool(organized), date) for scene_id, organized, date in rows]


class MirrorLookups:
    """`plex.matching.Lookups` over the mirror, plus the other per-request reads."""

    def __init__(self, connections: ReadConnections, limit: int = ROW_LIMIT) -> None:
        self.connections = connections
        self.limit = limit

    def _rows(self, name: str, *params: object) -> list:
        return self.connections.get().execute(SQL[name], params).fetchall()

    # --- match tiers --------------------------------------------------------------------------

    def by_path(self, components: Sequence[str]) -> list[Hit]:
        return _hits(self._rows("by_rpath", "/".join(reversed(components)), self.limit))

    def _suffix_params(self, reversed_parts: Sequence[str], depth: int) -> tuple[str, str, str]:
        prefix = "/".join(reversed_parts[:depth])
        return prefix, prefix + "/", prefix + "0"

    def by_longest_suffix(self, components: Sequence[str], min_depth: int) -> list[Hit]:
        reversed_parts = list(reversed(components))
        connection = self.connections.get()

        def exists(depth: int) -> bool:
            params = self._suffix_params(reversed_parts, depth)
            return connection.execute(SQL["suffix_exists"], params).fetchone() is not None

        # A suffix shared at depth d is shared at every smaller depth: binary search the
        # largest depth, a handful of index seeks for any path length.
        low, high = min_depth, len(reversed_parts)
        if high < low or not exists(low):
            return []
        while low < high:
            middle = (low + high + 1) // 2
            if exists(middle):
                low = middle
            else:
                high = middle - 1
        params = (*self._suffix_params(reversed_parts, low), self.limit)
        return _hits(connection.execute(SQL["by_suffix"], params).fetchall())

    def by_basename(self, name: str) -> list[Hit]:
        return _hits(self._rows("by_basename", pathkeys.fold(name), name, self.limit))

    def by_basename_folded(self, name: str) -> list[Hit]:
        return _hits(self._rows("by_basename_folded", pathkeys.fold(name), self.limit))

    def by_stem(self, name: str) -> list[Hit]:
        key = pathkeys.stem_key(name)
        return _hits(self._rows("by_stem", key, self.limit)) if key else []

    def scene(self, scene_id: int) -> Hit | None:
        rows = self._rows("scene", scene_id)
        return _hits(rows)[0] if rows else None

    def by_title(self, title: str) -> list[Hit]:
        key = pathkeys.title_key(title)
        return _hits(self._rows("by_title", key, self.limit)) if key else []

    # --- documents and images -----------------------------------------------------------------

    def doc(self, scene_id: int) -> str | None:
        """The stored Plex document of a scene (image URLs still relative to the base token)."""
        row = self.connections.get().execute(SQL["doc"], (scene_id,)).fetchone()
        return row[0] if row else None

    def image_version(self, kind: str, entity_id: int) -> tuple[bool, str | None]:
        """(known to the mirror, image version) for an image route's entity.

        The version is Stash's `t` value; None for a known performer, studio or group means
        Stash only has its default picture.
        """
        row = self.connections.get().execute(SQL[f"{kind}_image"], (entity_id,)).fetchone()
        return (False, None) if row is None else (True, row[0])
