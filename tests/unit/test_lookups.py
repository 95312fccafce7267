"""The mirror's index lookups: results, and query plans that never scan a table."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stashplex.mirror import documents, heldsqlite
from stashplex.mirror.db import Database
from stashplex.mirror.lookups import (
    BUSY_TIMEOUT_MS,
    ROW_LIMIT,
    SQL,
    MirrorLookups,
    ReadConnections,
)
from stashplex.mirror.writer import MirrorWriter
from stashplex.plex.mapping import MappingOptions
from stashplex.plex.matching import Hit
from stashplex.records import Scene, VideoFile

PATHS = {
    1: ["/data/stash/Site/2020/x.mp4"],
    2: ["/data/stash/Site 2/2020/x.mp4"],  # "Site 2" starts with "Site": must not confuse depth
    3: ["/data/stash/Site/2021/x.mp4"],
    4: ["/data/other/y.MP4", "/data/other/copy/y.mkv"],
    5: ["/data/stash/Site/z.1080p.mp4"],
    6: ["/data/stash/back\\slash name.mp4"],
    7: ["/data/stash/Site/Café.mp4"],
}
TITLES = {1: "Hello, World!", 2: "hello world", 3: "Other"}


def make_scene(scene_id: int, paths: list[str], **extra) -> Scene:
    files = tuple(
        VideoFile(id=scene_id * 10 + i, path=p, basename=p.rsplit("/", 1)[-1])
        for i, p in enumerate(paths)
    )
    return Scene(
        id=scene_id,
        updated_at="2024-01-01T00:00:00+02:00",
        title=TITLES.get(scene_id),
        date=f"20{scene_id:02d}-01-01",
        organized=scene_id % 2 == 0,
        files=files,
        **extra,
    )


@pytest.fixture(scope="module")
def mirror(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Database, MirrorLookups]]:
    path: Path = tmp_path_factory.mktemp("lookups") / "mirror.db"
    db = Database.open(path)
    writer = MirrorWriter(db, MappingOptions(base_url=documents.BASE_TOKEN))
    writer.apply_scenes([make_scene(i, p) for i, p in PATHS.items()])
    # Bulk rows, so a plan that scans would also be slow; no ANALYZE, as in a fresh mirror.
    writer.apply_scenes(
        [make_scene(100 + i, [f"/bulk/{i % 37}/file {i}.mp4"]) for i in range(2000)]
    )
    writer.apply_scenes([make_scene(5000 + i, [f"/many/{i}/many.mp4"]) for i in range(80)])
    connections = ReadConnections(path)
    yield db, MirrorLookups(connections)
    connections.close()
    db.close()


def ids(hits: list[Hit]) -> list[int]:
    return sorted({h.scene_id for h in hits})


def parts(path: str) -> list[str]:
    return [p for p in path.replace("\\", "/").split("/") if p]


def test_by_path_is_exact(mirror) -> None:
    _db, lookups = mirror
    assert ids(lookups.by_path(parts("/data/stash/Site/2020/x.mp4"))) == [1]
    assert lookups.by_path(parts("/data/stash/Site/2020")) == []
    hit = lookups.by_path(parts("/data/other/copy/y.mkv"))[0]
    assert hit == Hit(4, True, "2004-01-01")


def test_longest_suffix_finds_the_deepest_shared_folder(mirror) -> None:
    _db, lookups = mirror
    assert ids(lookups.by_longest_suffix(parts("/mnt/Site/2020/x.mp4"), 2)) == [1]
    assert ids(lookups.by_longest_suffix(parts("/mnt/Site 2/2020/x.mp4"), 2)) == [2]
    # Only "2020/x.mp4" is shared: scenes 1 and 2 both.
    assert ids(lookups.by_longest_suffix(parts("/mnt/Elsewhere/2020/x.mp4"), 2)) == [1, 2]
    # The whole stored path plus more folders in front of it.
    assert ids(lookups.by_longest_suffix(parts("/a/b/data/stash/Site/2021/x.mp4"), 2)) == [3]
    # Depth 1 (basename only) is not a suffix match.
    assert lookups.by_longest_suffix(parts("/mnt/none/x.mp4"), 2) == []
    assert lookups.by_longest_suffix(parts("x.mp4"), 2) == []


def test_basename_lookups(mirror) -> None:
    _db, lookups = mirror
    assert ids(lookups.by_basename("x.mp4")) == [1, 2, 3]
    assert lookups.by_basename("y.mp4") == []
    assert ids(lookups.by_basename_folded("y.mp4")) == [4]
    assert ids(lookups.by_basename_folded("CAFÉ.MP4")) == [7]
    assert ids(lookups.by_basename("back\\slash name.mp4")) == [6]
    assert ids(lookups.by_stem("z.mkv")) == [5]
    assert ids(lookups.by_stem("y.webm")) == [4]
    assert lookups.by_stem("...") == []


def test_scene_title_and_doc(mirror) -> None:
    _db, lookups = mirror
    assert lookups.scene(3) == Hit(3, False, "2003-01-01")
    assert lookups.scene(99_999) is None
    assert ids(lookups.by_title("HELLO world")) == [1, 2]
    assert lookups.by_title("") == []
    assert '"ratingKey":"scene-3"' in lookups.doc(3)
    assert lookups.doc(99_999) is None
    assert lookups.image_version("scene", 3) == (True, None)
    assert lookups.image_version("performer", 3) == (False, None)


def test_rows_are_limited_and_a_cut_short_name_set_says_so(mirror) -> None:
    _db, lookups = mirror
    named, complete = lookups.files_ending("many.mp4")
    assert len(named) == ROW_LIMIT and not complete
    named, complete = lookups.files_ending("x.mp4")
    assert sorted(f.hit.scene_id for f in named) == [1, 2, 3] and complete
    assert {f.rpath for f in named} >= {"x.mp4/2020/Site/stash/data"}
    assert all(f.hit.doc and f.hit.doc.startswith('{"type":"movie"') for f in named)
    assert len(lookups.by_basename_folded("many.mp4")) == ROW_LIMIT


def test_held_and_stdlib_reads_agree(mirror) -> None:
    db, _lookups = mirror
    held, stdlib = ReadConnections(db.path), ReadConnections(db.path, held=False)
    assert held.held == heldsqlite.available()
    try:
        for name, params in (
            ("files_ending", ["x.mp4"]),
            ("by_basename", ["café.mp4", "Café.mp4"]),
            ("doc", [3]),
            ("scene", [99999]),
            ("by_title", ["hello world"]),
        ):
            assert held.rows(SQL[name], params) == stdlib.rows(SQL[name], params), name
    finally:
        held.close()
        stdlib.close()


def test_a_failing_held_read_is_repeated_on_the_stdlib_connection(mirror, monkeypatch) -> None:
    db, _lookups = mirror
    connections = ReadConnections(db.path)
    try:
        if not connections.held:
            pytest.skip("no shared SQLite library on this platform")
        lookups = MirrorLookups(connections)
        assert lookups.scene(3) is not None

        def busy(*args, **kwargs):
            raise heldsqlite.HeldSqliteError("read failed (SQLite error 5)")

        monkeypatch.setattr(heldsqlite.HeldConnection, "rows", busy)
        assert lookups.scene(3) == Hit(3, False, "2003-01-01")
    finally:
        connections.close()


def test_held_connection_reads_every_column_type(tmp_path: Path) -> None:
    if not heldsqlite.available():
        pytest.skip("no shared SQLite library on this platform")
    path = tmp_path / "types.db"
    setup = sqlite3.connect(path)
    setup.execute("CREATE TABLE t (i INTEGER, r REAL, s TEXT, b BLOB, n)")
    setup.execute("INSERT INTO t VALUES (?, ?, ?, ?, NULL)", (2**62, 1.5, "é ✓ 🎬", b"\x00\x01"))
    setup.commit()
    setup.close()
    held = heldsqlite.HeldConnection(path)
    try:
        assert held.rows("SELECT i, r, s, b, n FROM t WHERE s = ?", ["é ✓ 🎬"]) == [
            (2**62, 1.5, "é ✓ 🎬", b"\x00\x01", None)
        ]
        assert held.rows("SELECT i FROM t WHERE r > ? AND n IS ?", [1.0, None]) == [(2**62,)]
        assert held.rows("SELECT i FROM t WHERE i = ?", [1]) == []
        with pytest.raises(heldsqlite.HeldSqliteError):
            held.rows("SELECT nothing FROM nowhere")
    finally:
        held.close()


def test_close_from_another_thread_waits_for_a_read_in_progress(tmp_path: Path) -> None:
    """The app closing its connections while a background lookup reads must not free the
    statement under it (SQLite would then work on freed memory and stale descriptors)."""
    if not heldsqlite.available():
        pytest.skip("no shared SQLite library on this platform")
    path = tmp_path / "many.db"
    setup = sqlite3.connect(path)
    setup.execute("CREATE TABLE t (i INTEGER)")
    setup.executemany("INSERT INTO t VALUES (?)", [(i,) for i in range(50)])
    setup.commit()
    setup.close()
    held = heldsqlite.HeldConnection(path)
    real_step = held._step
    closer = threading.Thread(target=held.close)
    freed_mid_read = []

    def step(statement):
        if not closer.is_alive() and not freed_mid_read:
            closer.start()
            time.sleep(0.2)  # the closer gets every chance to run now
        if not held._statements:  # closed under us: stepping now would be a use-after-free
            freed_mid_read.append(True)
            return heldsqlite._DONE
        return real_step(statement)

    real_reset = held._reset
    held._step = step
    held._reset = lambda statement: held._statements and real_reset(statement)
    try:
        rows = held.rows("SELECT i FROM t ORDER BY i")
        closer.join(5)
        assert not freed_mid_read
        assert rows == [(i,) for i in range(50)]
        assert not held._db  # closed once the read was done
        with pytest.raises(heldsqlite.HeldSqliteError):
            held.rows("SELECT i FROM t")
    finally:
        closer.join(5)
        held.close()


@pytest.mark.parametrize("name", sorted(SQL))
def test_every_lookup_is_an_index_seek(mirror, name: str) -> None:
    db, _lookups = mirror
    params = ["a"] if "?1" in SQL[name] else [1] * SQL[name].count("?")
    source = sqlite3.connect(db.path)
    analyzed = sqlite3.connect(":memory:")
    try:
        source.backup(analyzed)
        analyzed.execute("ANALYZE")  # with statistics the planner may choose differently
        for connection in (source, analyzed):
            plan = connection.execute("EXPLAIN QUERY PLAN " + SQL[name], params).fetchall()
            details = [row[-1] for row in plan]
            assert details, name
            assert not [d for d in details if d.startswith("SCAN")], (name, details)
            allowed = ("SEARCH", "MULTI-INDEX OR", "INDEX ")
            assert all(d.startswith(allowed) for d in details), details
    finally:
        source.close()
        analyzed.close()


# Components of the stored paths, and near misses that sort right next to them.
_COMPONENT = st.sampled_from(
    [
        *("data", "stash", "Site", "Site 2", "Site2", "Site.", "2020", "2021", "x.mp4"),
        *("x.mp", "other", "copy", "y.mkv", "bulk", "5", "file 5.mp4", "mnt"),
    ]
)


@settings(max_examples=60, deadline=None)
@given(request=st.lists(_COMPONENT, min_size=1, max_size=6))
def test_suffix_search_agrees_with_brute_force(mirror, request: list[str]) -> None:
    """Binary search over depth == the longest suffix found by comparing every path."""
    _db, lookups = mirror
    stored = {
        (scene_id, path)
        for scene_id, paths in {
            **PATHS,
            **{100 + i: [f"/bulk/{i % 37}/file {i}.mp4"] for i in range(2000)},
            **{5000 + i: [f"/many/{i}/many.mp4"] for i in range(80)},
        }.items()
        for path in paths
    }
    best, expected = 0, set()
    for scene_id, path in stored:
        mine = parts(path)
        depth = 0
        while depth < min(len(mine), len(request)) and mine[-1 - depth] == request[-1 - depth]:
            depth += 1
        if depth >= 1 and depth >= best:
            if depth > best:
                best, expected = depth, set()
            expected.add(scene_id)
    assert set(ids(lookups.by_longest_suffix(request, 1))) == expected


def test_held_reads_do_not_wait_for_a_writer(tmp_path: Path) -> None:
    """WAL: a write transaction in progress (as during a sync page) never blocks the reads."""
    db = Database.open(tmp_path / "m.db")
    writer = MirrorWriter(db, MappingOptions(base_url=documents.BASE_TOKEN))
    writer.apply_scenes([make_scene(1, ["/a/b/x.mp4"])])
    connections = ReadConnections(db.path)
    lookups = MirrorLookups(connections)
    try:
        with db.writer.begin() as connection:
            connection.exec_driver_sql("DELETE FROM files")
            started = time.monotonic()
            assert [h.scene_id for h in lookups.by_path(parts("/a/b/x.mp4"))] == [1]
            assert lookups.doc(1) is not None
            # A read that waited would wait the busy timeout (5 s), then fail.
            assert time.monotonic() - started < BUSY_TIMEOUT_MS / 1000 / 2
        assert lookups.by_path(parts("/a/b/x.mp4")) == []  # committed: seen at once
    finally:
        connections.close()
        db.close()
