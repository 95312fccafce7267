"""`stashplex serve` killed with SIGKILL at the worst moments, then started again on its files.

The kill points are reached with test-only hooks run in the child before the CLI (see
`tests.plugins.daemon`): each hook pauses the child at a precise point and drops a marker file,
and the test kills it there. Production code has no hooks. After every kill the mirror opens,
passes SQLite's integrity check, serves what it had, nothing served is truncated or
half-written, and the next pass completes.
"""

from __future__ import annotations

import contextlib
import io
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from PIL import Image

from stashplex.mirror.db import alembic_config, head_revision
from stashplex.samplestash import SampleStash
from tests.plugins.daemon import Daemon, wait_until

# Pause forever (the test kills the child) once `when` is true, after writing `marker`.
_PAUSE = """
import os as _os, pathlib as _pathlib, time as _time
def _pause_here(marker):
    _pathlib.Path(marker).write_text(str(_os.getpid()))
    _time.sleep(600)
"""


@contextlib.contextmanager
def mirror(path: Path) -> Iterator[sqlite3.Connection]:
    connection = sqlite3.connect(path)
    try:
        yield connection
    finally:
        connection.close()


def integrity_ok(path: Path) -> bool:
    with mirror(path) as connection:
        return connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def scene_count(path: Path) -> int:
    with mirror(path) as connection:
        return connection.execute("SELECT count(*) FROM scenes").fetchone()[0]


def revision(path: Path) -> str | None:
    with mirror(path) as connection:
        row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
        return row[0] if row else None


def kill_at(daemon: Daemon, marker: Path, what: str) -> None:
    wait_until(marker.exists, timeout=60, what=what)
    daemon.kill()


# --- during a sync ---------------------------------------------------------------------------


def test_killed_during_a_full_sync(sample_stash_factory, daemon_factory, tmp_path) -> None:
    stash = sample_stash_factory(scenes=300)
    marker = tmp_path / "paused-in-sync"
    # After the third page of scenes was committed, in the middle of the pass.
    hook = (
        _PAUSE
        + f"""
import stashplex.mirror.sync as _sync
_apply = _sync.Syncer._apply_page
_pages = []
def _apply_page(self, *args, **kwargs):
    _apply(self, *args, **kwargs)
    _pages.append(1)
    if len(_pages) == 3:
        _pause_here({str(marker)!r})
_sync.Syncer._apply_page = _apply_page
"""
    )
    env = {"STASHPLEX_SYNC_PAGE_SIZE": "50"}
    daemon = daemon_factory(stash.url, hook=hook, **env)
    kill_at(daemon, marker, "the third page")
    assert integrity_ok(daemon.database)
    assert scene_count(daemon.database) == 150  # three committed pages, nothing half-done

    again = daemon_factory(stash.url, data=daemon.data, **env)
    assert again.scenes() == 150  # serving what was committed, at once
    assert again.match(stash.library.scene_paths(42)[0])[0]["ratingKey"] == "scene-42"
    wait_until(lambda: again.scenes() == stash.library.live_count(), what="the resumed pass")
    # Page three was committed with its resume point: the pass goes on after it.
    assert "resuming an interrupted full sync after scene 150" in again.log()
    assert again.metadata(300)["ratingKey"] == "scene-300"
    assert again.terminate() == 0
    assert integrity_ok(again.database)


# --- during a poster write -------------------------------------------------------------------


def test_killed_half_way_through_a_poster_write(
    sample_stash_factory, daemon_factory, tmp_path
) -> None:
    stash: SampleStash = sample_stash_factory(scenes=40)
    marker = tmp_path / "paused-in-poster-write"
    # The third poster file is left half-written: half its bytes are on disk, fsynced, under
    # its temporary name, when the process dies.
    hook = (
        _PAUSE
        + f"""
import os as _os
import stashplex.diskio as _diskio
_writes = []
class _HalfFile:
    def __init__(self, fh):
        self.fh = fh
    def __enter__(self):
        return self
    def __exit__(self, *exc):
        return self.fh.__exit__(*exc)
    def __getattr__(self, name):
        return getattr(self.fh, name)
    def write(self, data):
        self.fh.write(data[: len(data) // 2])
        self.fh.flush()
        _os.fsync(self.fh.fileno())
        _pause_here({str(marker)!r})
class _Os:
    def __getattr__(self, name):
        return getattr(_os, name)
    def fdopen(self, fd, *args, **kwargs):
        fh = _os.fdopen(fd, *args, **kwargs)
        if "/posters/" in _os.readlink(f"/proc/self/fd/{{fd}}"):
            _writes.append(fd)
            if len(_writes) == 3:
                return _HalfFile(fh)
        return fh
_diskio.os = _Os()
"""
    )
    env = {"POSTER_MODE": "true"}
    daemon = daemon_factory(stash.url, hook=hook, **env)
    kill_at(daemon, marker, "the half-written poster")
    # Other workers may have been writing too: whatever was under way is a temporary file.
    partial = [p for p in daemon.posters.rglob("*") if p.name.startswith(".tmp-")]
    assert any(p.stat().st_size > 0 for p in partial)
    assert_whole(daemon.posters)  # every file under a poster's name is a whole JPEG

    again = daemon_factory(stash.url, data=daemon.data, **env)
    # Their writer is gone: removed at start-up, not ten minutes later.
    wait_until(lambda: not any(p.exists() for p in partial), timeout=30, what="leftovers removed")
    with_cover = [i for i in stash.library.scene_ids() if stash.library.has_cover(i)]

    def rendered() -> int:
        with mirror(again.database) as connection:
            return connection.execute("SELECT count(*) FROM posters WHERE state = 'ok'").fetchone()[
                0
            ]

    wait_until(lambda: rendered() == len(with_cover), timeout=60, what="every poster")
    for scene_id in with_cover:  # every poster served is whole
        response = again.http.get(f"/stash/scene/{scene_id}/poster")
        assert response.status_code == 200
        image = Image.open(io.BytesIO(response.content))
        image.load()
        assert image.size == (600, 900)
    assert_whole(again.posters)
    assert again.terminate() == 0


def assert_whole(folder: Path) -> None:
    for path in folder.rglob("*.jpg"):
        with Image.open(path) as image:
            image.load()  # raises on a truncated file
            assert image.size == (600, 900)


# --- during a migration, and an old mirror ---------------------------------------------------

OLD_REVISION = "0001"


def old_mirror(source: Path, target: Path) -> dict[str, list[tuple]]:
    """A mirror at revision 0001, as that migration created it, holding `source`'s data (the
    tables and columns revision 0001 has); returns those rows, table by table."""
    command.upgrade(alembic_config(target), OLD_REVISION)
    rows: dict[str, list[tuple]] = {}
    with mirror(target) as connection:
        connection.execute("ATTACH DATABASE ? AS source", (str(source),))
        tables = [
            name
            for (name,) in connection.execute(
                "SELECT name FROM main.sqlite_master WHERE type = 'table'"
                " AND name NOT LIKE 'sqlite_%' AND name != 'alembic_version'"
            )
        ]
        for table in tables:
            columns = [row[1] for row in connection.execute(f"PRAGMA main.table_info({table})")]
            names = ", ".join(f'"{c}"' for c in columns)
            connection.execute(
                f'INSERT INTO main."{table}" ({names}) SELECT {names} FROM source."{table}"'
            )
            rows[table] = connection.execute(
                f'SELECT {names} FROM main."{table}" ORDER BY 1, 2'
            ).fetchall()
        connection.commit()
        connection.execute("DETACH DATABASE source")
    assert revision(target) == OLD_REVISION and rows["scenes"]
    return rows


def same_rows(path: Path, before: dict[str, list[tuple]]) -> None:
    with mirror(path) as connection:
        for table, rows in before.items():
            columns = [row[1] for row in connection.execute(f"PRAGMA table_info({table})")]
            old_columns = len(rows[0]) if rows else 0
            names = ", ".join(f'"{c}"' for c in columns[:old_columns] or columns)
            now = connection.execute(f'SELECT {names} FROM "{table}" ORDER BY 1, 2').fetchall()
            assert now == rows, f"table {table} changed"


@pytest.fixture
def synced_mirror(sample_stash_factory, daemon_factory, tmp_path) -> tuple[SampleStash, Path]:
    """A sample Stash and a mirror file fully synced from it by a daemon that has stopped."""
    stash = sample_stash_factory(scenes=80)
    daemon = daemon_factory(stash.url, data=tmp_path / "current")
    wait_until(lambda: daemon.scenes() == stash.library.live_count(), what="the first sync")
    assert daemon.terminate() == 0
    return stash, daemon.database


def test_an_old_mirror_is_upgraded_in_place_without_loss(
    synced_mirror, daemon_factory, tmp_path
) -> None:
    stash, source = synced_mirror
    data = tmp_path / "old"
    data.mkdir()
    before = old_mirror(source, data / "mirror.db")
    settings = tmp_path / "old.ini"
    settings.write_text(f"[mirror]\ndatabase = {data / 'mirror.db'}\n")
    upgrade = subprocess.run(
        [sys.executable, "-m", "stashplex", "db", "upgrade", "--settings", str(settings)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert upgrade.returncode == 0, upgrade.stderr
    assert revision(data / "mirror.db") == head_revision()
    # Revision 0005 drops the tag cursor on purpose: every tag is fetched again, with parents.
    before["sync_state"] = [row for row in before["sync_state"] if row[0] != "cursor:tag"]
    same_rows(data / "mirror.db", before)
    assert integrity_ok(data / "mirror.db")

    # The upgraded mirror serves at once, and the next sync carries on from its cursors.
    stash.library.advance(600)
    stash.library.edit_scene(5, title="Edited after the upgrade")
    daemon = daemon_factory(stash.url, data=data)
    assert daemon.scenes() == len(before["scenes"])
    assert daemon.match(stash.library.scene_paths(9)[0])[0]["ratingKey"] == "scene-9"
    wait_until(lambda: daemon.title(5) == "Edited after the upgrade", what="the next sync")
    assert daemon.terminate() == 0


def test_killed_during_a_migration(synced_mirror, daemon_factory, tmp_path) -> None:
    stash, source = synced_mirror
    data = tmp_path / "old"
    data.mkdir()
    before = old_mirror(source, data / "mirror.db")
    marker = tmp_path / "paused-in-migration"
    # Inside the upgrade's one transaction, after the first table of the next revision was
    # created: a kill here must leave revision 0001 as it was.
    hook = (
        _PAUSE
        + f"""
from alembic.operations import Operations as _Operations
_create_table = _Operations.create_table
def _paused_create_table(self, *args, **kwargs):
    table = _create_table(self, *args, **kwargs)
    _pause_here({str(marker)!r})
    return table
_Operations.create_table = _paused_create_table
"""
    )
    daemon = daemon_factory(stash.url, data=data, hook=hook, wait=False)
    kill_at(daemon, marker, "the paused migration")
    assert integrity_ok(data / "mirror.db")
    assert revision(data / "mirror.db") == OLD_REVISION
    with mirror(data / "mirror.db") as connection:
        tables = {name for (name,) in connection.execute("SELECT name FROM sqlite_master")}
    assert "plex_items" not in tables and "posters" not in tables  # rolled back
    same_rows(data / "mirror.db", before)

    again = daemon_factory(stash.url, data=data)
    assert revision(again.database) == head_revision()
    assert again.scenes() == len(before["scenes"])
    stash.library.advance(600)
    stash.library.edit_scene(7, title="Synced after the interrupted migration")
    wait_until(lambda: again.title(7) == "Synced after the interrupted migration")
    assert again.terminate() == 0
    assert integrity_ok(again.database)
