"""The mirror's index lookups: results, and query plans that never scan a table."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stashplex.mirror import documents
from stashplex.mirror.db import Database
from stashplex.mirror.lookups import (
    BUSY_TIMEOUT_MS,
    QUERIES,
    ROW_LIMIT,
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

    def named(name: str) -> list[tuple[int, str]]:
        return sorted((f.hit.scene_id, f.basename) for f in lookups.files_named(name))

    assert named("x.mp4") == [(1, "x.mp4"), (2, "x.mp4"), (3, "x.mp4")]
    assert named("y.mp4") == [(4, "y.MP4")]  # folded: the exact tier sees "y.MP4"
    assert named("CAFÉ.MP4") == [(7, "Café.mp4")]
    assert named("back\\slash name.mp4") == [(6, "back\\slash name.mp4")]
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
    assert len(lookups.files_named("many.mp4")) == ROW_LIMIT


@pytest.mark.parametrize("name", sorted(QUERIES))
def test_every_lookup_is_an_index_seek(mirror, name: str) -> None:
    db, _lookups = mirror
    sql = QUERIES[name].sql
    params = ["a"] if "?1" in sql else [1] * sql.count("?")
    source = sqlite3.connect(db.path)
    analyzed = sqlite3.connect(":memory:")
    try:
        source.backup(analyzed)
        analyzed.execute("ANALYZE")  # with statistics the planner may choose differently
        for connection in (source, analyzed):
            plan = connection.execute("EXPLAIN QUERY PLAN " + sql, params).fetchall()
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


def test_reads_do_not_wait_for_a_writer(tmp_path: Path) -> None:
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
