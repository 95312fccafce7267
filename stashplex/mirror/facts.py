"""What the mirror holds and how its syncs went, for `/health` and `/status`.

Read on the responder's own SQLite connections (`lookups.ReadConnections.get()`): small
aggregate reads, a few per page view, cached by the callers.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Literal

COUNTED = ("scenes", "files", "performers", "studios", "tags", "groups")
_COUNTS = "SELECT " + ", ".join(f"(SELECT count(*) FROM {table})" for table in COUNTED)
_LAST_SUCCESS = "SELECT value FROM sync_state WHERE key = 'last_success'"
# Text read as bytes and decoded leniently: a page must render whatever the file holds, even
# bytes that are not UTF-8 (another tool's write, a damaged page), which sqlite3 cannot decode.
_RUNS = (
    "SELECT CAST(kind AS BLOB), started_at, finished_at, ok, added, updated, removed,"
    " CAST(error AS BLOB) FROM sync_runs ORDER BY id DESC LIMIT ?"
)


# A run not finished is running (or was cut short by a crash: the next pass starts anew).
RunResult = Literal["running", "ok", "failed"]


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

    @property
    def result(self) -> RunResult:
        if self.finished_at is None:
            return "running"
        return "ok" if self.ok else "failed"


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
        SyncRunRow(
            _text(kind) or "",
            started,
            finished,
            None if ok is None else bool(ok),
            added,
            updated,
            removed,
            _text(error),
        )
        for kind, started, finished, ok, added, updated, removed, error in rows
    ]


def _text(value: bytes | None) -> str | None:
    return None if value is None else bytes(value).decode("utf-8", "replace")
