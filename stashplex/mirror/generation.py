"""The mirror's generation: a number that every write able to change an answer raises, in the
same transaction as the change.

The responder keeps the encoded answers to repeated requests (`web.answers`), each tagged with
the generation it was read under, and serves one again only while that number stands. The
number lives in the mirror (the `generation` row of `sync_state`), so a write by another
process (`stashplex sync`, a `db` command) counts as well as this process's syncs, live
fallback upserts, deletions and TV layout changes. Writes that no answer shows (sync cursors,
runs, poster and Plex bookkeeping) leave it alone.
"""

from __future__ import annotations

from sqlalchemy import Connection

KEY = "generation"
GENERATION_SQL = f"SELECT value FROM sync_state WHERE key = '{KEY}'"
_BUMP = (
    f"INSERT INTO sync_state (key, value) VALUES ('{KEY}', '1') ON CONFLICT (key)"
    " DO UPDATE SET value = CAST(COALESCE(value, '0') AS INTEGER) + 1"
)


def bump(connection: Connection) -> None:
    """Raise the generation inside the caller's write transaction."""
    connection.exec_driver_sql(_BUMP)
