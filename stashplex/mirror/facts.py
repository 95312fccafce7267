"""What the mirror holds and how its syncs went, for `/health` and `/status`.

Read on the responder's own SQLite connections (`lookups.ReadConnections.get()`): small
aggregate reads, a few per page view, cached by the callers.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

COUNTED = ("scenes", "files", "performers", "studios", "tags", "groups")
_COUNTS = "SELECT " + ", ".join(f"(SELECT count(*) FROM {table})" for table in COUNTED)
_LAST_SUCCESS = "SELECT value FROM sync_state WHERE key = 'last_success'"
_RUNS = (
    "SELECT kind, started_at, finished_at, ok, added, updated, removed, error"
    " FROM sync_runs ORDER BY id DESC LIMIT ?"
)


@dataclass(frozen=True, slots=True)
class SyncRunRow:
    """One row of `sync_runs`: `finished_at` None while it runs (or if it never finished)."""

    kind: str
    started_at: float
    finished_at: float | None
    ok: bool | None
    added: int
    updated: int
    removed: int
    error: str | None


def counts(connection: sqlite3.Connection) -> dict[str, int]:
    """Rows per table of `COUNTED`."""
    row = connection.execute(_COUNTS).fetchone()
    return dict(zip(COUNTED, row, strict=True))


def last_success(connection: sqlite3.Connection) -> float | None:
    """When the last sync succeeded (epoch seconds), if one has."""
    row = connection.execute(_LAST_SUCCESS).fetchone()
    try:
        return float(row[0]) if row is not None and row[0] is not None else None
    except ValueError:
        return None


def recent_runs(connection: sqlite3.Connection, limit: int) -> list[SyncRunRow]:
    """The newest `limit` sync runs, newest first."""
    rows = connection.execute(_RUNS, (limit,)).fetchall()
    return [
        SyncRunRow(kind, started, finished, None if ok is None else bool(ok), *rest)
        for kind, started, finished, ok, *rest in rows
    ]
