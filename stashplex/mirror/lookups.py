"""The responder's reads of the mirror: index seeks on per-thread SQLite connections.

These are the hottest reads of the service (every Plex request makes a few), so they skip
SQLAlchemy: a statement the stdlib module has prepared and cached on a thread's own connection
costs a few microseconds, where building and compiling a Core statement costs tens. Every query
is a primary-key or index seek (tests check the query plans), bounded by LIMIT, so a request
never scans the mirror.

Paths are matched by the keys `pathkeys` computes when the writer stores them: `rpath` (the
components reversed and joined by "/") turns "the longest common path suffix" into prefix
searches on one index, `basename_cf` is the folded basename and `stem_key` the basename without
extension or quality tags.
"""

from __future__ import annotations

import sqlite3
import threading
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args

from stashplex.mirror.generation import GENERATION_SQL
from stashplex.plex import pathkeys
from stashplex.plex.matching import Hit, NamedFile, SameName

ROW_LIMIT = 64  # more files than this with one name are not worth ranking
BUSY_TIMEOUT_MS = 5_000  # readers never wait for writers in WAL mode; this is a safety net
STATEMENT_CACHE = 128  # prepared statements kept per connection: every lookup's, with room

_PRAGMAS = (
    f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}",
    "PRAGMA query_only=1",
    "PRAGMA cache_size=-4000",  # KB per connection: point lookups need few pages
    "PRAGMA mmap_size=0",  # mapped pages would count as the responder's memory
    "PRAGMA temp_store=MEMORY",
)

Row = tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class Query:
    """One read statement. `one`: it reads one row at most (a primary key, a test for one), so
    the first row is all there is to fetch."""

    sql: str
    one: bool = False


# What has an image in Stash: its version (Stash's `t`) is read by `image_version`.
ImageKind = Literal["scene", "performer", "studio", "group"]
IMAGE_KINDS: tuple[ImageKind, ...] = get_args(ImageKind)
# `s.doc IS NULL`: a scene stored without a document fails a gate (`[metadata] require_*`).
_FILE_HIT = (
    "SELECT f.scene_id, s.organized, s.date, s.doc IS NULL FROM files AS f "
    "JOIN scenes AS s ON s.id = f.scene_id WHERE"
)
# Row limits are written into the statements (constants, never request text).
_LIMIT = f"LIMIT {ROW_LIMIT}"
# Depth d of a reversed path p: the path is p itself, or p is a whole-component prefix.
# '0' follows '/' in byte order, so the range holds exactly the strings starting "p/".
_UNDER = "(f.rpath = ?1 OR (f.rpath >= ?1 || '/' AND f.rpath < ?1 || '0'))"
QUERIES: dict[str, Query] = {
    "by_rpath": Query(f"{_FILE_HIT} f.rpath = ? {_LIMIT}"),
    "suffix_exists": Query(f"SELECT 1 FROM files AS f WHERE {_UNDER} LIMIT 1", one=True),
    "by_suffix": Query(f"{_FILE_HIT} {_UNDER} {_LIMIT}"),
    # Depth 1 with the documents: one read that decides the full-path and suffix tiers.
    "files_ending": Query(
        "SELECT f.scene_id, s.organized, s.date, s.doc, f.rpath FROM files AS f "
        f"JOIN scenes AS s ON s.id = f.scene_id WHERE {_UNDER} {_LIMIT}"
    ),
    # The exact and the folded basename tiers from one read: the exact one filters by basename.
    "files_named": Query(
        "SELECT f.scene_id, s.organized, s.date, s.doc IS NULL, f.basename FROM files AS f "
        f"JOIN scenes AS s ON s.id = f.scene_id WHERE f.basename_cf = ? {_LIMIT}"
    ),
    "by_stem": Query(f"{_FILE_HIT} f.stem_key = ? {_LIMIT}"),
    "scene": Query(
        "SELECT s.id, s.organized, s.date, s.doc IS NULL FROM scenes AS s WHERE s.id = ?",
        one=True,
    ),
    "by_title": Query(
        "SELECT s.id, s.organized, s.date, s.doc IS NULL FROM scenes AS s"
        f" WHERE s.title_key = ? {_LIMIT}"
    ),
    "doc": Query("SELECT doc FROM scenes WHERE id = ?", one=True),
    "generation": Query(GENERATION_SQL, one=True),
    "scene_image": Query("SELECT screenshot_version FROM scenes WHERE id = ?", one=True),
    "performer_image": Query("SELECT image_version FROM performers WHERE id = ?", one=True),
    "studio_image": Query("SELECT image_version FROM studios WHERE id = ?", one=True),
    "group_image": Query("SELECT front_image_version FROM groups WHERE id = ?", one=True),
}


class ReadConnections:
    """Per-thread read connections to the mirror (waitress runs a fixed set of threads).

    `rows()` runs a `Query` on the thread's connection; `get()` is that connection, for reads
    that are not in a table of queries.
    """

    def __init__(self, path: Path | str) -> None:
        self.path = str(path)
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._closed = False

    def get(self) -> sqlite3.Connection:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = self._open()
            self._local.connection = connection
        return connection

    def rows(self, query: Query, params: Sequence[object] = ()) -> list[Row]:
        """The rows of a short indexed read."""
        cursor = self.get().execute(query.sql, params)
        if query.one:
            row = cursor.fetchone()
            cursor.close()
            return [row] if row is not None else []
        return cursor.fetchall()

    def _open(self) -> sqlite3.Connection:
        # Autocommit: each statement reads the newest committed state of the WAL. mode=rw: a
        # mirror deleted under the service must not come back as an empty file ("no such
        # table") when a thread opens its first connection; the daemon reopens it properly.
        memory = self.path == ":memory:"
        connection = sqlite3.connect(
            self.path if memory else f"file:{urllib.parse.quote(self.path)}?mode=rw",
            uri=not memory,
            timeout=BUSY_TIMEOUT_MS / 1000,
            isolation_level=None,
            check_same_thread=False,  # only so close() can run on another thread
            cached_statements=STATEMENT_CACHE,
        )
        for pragma in _PRAGMAS:
            connection.execute(pragma)
        with self._lock:
            if self._closed:
                connection.close()
                raise RuntimeError("the mirror's read connections are closed")
            self._all.append(connection)
        return connection

    def close(self) -> None:
        with self._lock:
            self._closed = True
            connections, self._all = self._all, []
        for connection in connections:
            connection.close()


def _hits(rows: list[tuple[int, int, str | None, int]]) -> list[Hit]:
    return [
        Hit(scene_id, bool(organized), date, hidden=bool(hidden))
        for scene_id, organized, date, hidden in rows
    ]


class MirrorLookups:
    """`plex.matching.Lookups` over the mirror, plus the other per-request reads."""

    def __init__(self, connections: ReadConnections) -> None:
        self.connections = connections

    def _rows(self, name: str, *params: object) -> list[Row]:
        return self.connections.rows(QUERIES[name], params)

    # --- match tiers --------------------------------------------------------------------------

    def files_ending(self, component: str) -> tuple[list[NamedFile], bool]:
        rows = self._rows("files_ending", component)
        named = [
            NamedFile(Hit(scene_id, bool(organized), date, doc, hidden=doc is None), rpath)
            for scene_id, organized, date, doc, rpath in rows
        ]
        return named, len(rows) < ROW_LIMIT

    def by_path(self, components: Sequence[str]) -> list[Hit]:
        return _hits(self._rows("by_rpath", "/".join(reversed(components))))

    def by_longest_suffix(self, components: Sequence[str], min_depth: int) -> list[Hit]:
        reversed_parts = list(reversed(components))

        def exists(depth: int) -> bool:
            return bool(self._rows("suffix_exists", "/".join(reversed_parts[:depth])))

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
        return _hits(self._rows("by_suffix", "/".join(reversed_parts[:low])))

    def files_named(self, name: str) -> list[SameName]:
        return [
            SameName(Hit(scene_id, bool(organized), date, hidden=bool(hidden)), basename)
            for scene_id, organized, date, hidden, basename in self._rows(
                "files_named", pathkeys.fold(name)
            )
        ]

    def by_stem(self, name: str) -> list[Hit]:
        key = pathkeys.stem_key(name)
        return _hits(self._rows("by_stem", key)) if key else []

    def scene(self, scene_id: int) -> Hit | None:
        rows = self._rows("scene", scene_id)
        return _hits(rows)[0] if rows else None

    def by_title(self, title: str) -> list[Hit]:
        key = pathkeys.title_key(title)
        return _hits(self._rows("by_title", key)) if key else []

    # --- documents and images -----------------------------------------------------------------

    def generation(self) -> int:
        """The mirror's generation (see `mirror.generation`): answers read under one
        generation stay true until it changes."""
        rows = self._rows("generation")
        return int(rows[0][0]) if rows and rows[0][0] is not None else 0

    def doc(self, scene_id: int) -> str | None:
        """The stored Plex document of a scene (image URLs still relative to the base token)."""
        rows = self._rows("doc", scene_id)
        return rows[0][0] if rows else None

    def image_version(self, kind: ImageKind, entity_id: int) -> tuple[bool, str | None]:
        """(known to the mirror, image version) for an image route's entity.

        The version is Stash's `t` value; None for a known performer, studio or group means
        Stash only has its default picture.
        """
        rows = self._rows(f"{kind}_image", entity_id)
        return (True, rows[0][0]) if rows else (False, None)
