"""Match tiers over an in-memory Lookups: the rules without a database."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pytest

from stashplex.plex import pathkeys
from stashplex.plex.matching import (
    CERTAIN,
    MAX_CANDIDATES,
    Hit,
    MatchRequest,
    NamedFile,
    SameName,
    file_basenames,
    match,
    rank,
    wanted_ids,
)


@dataclass
class Row:
    scene_id: int
    path: str
    organized: bool = False
    date: str | None = None
    title: str | None = None


class FakeLookups:
    """The Lookups protocol over a list, computing keys exactly as the mirror stores them."""

    def __init__(self, rows: Sequence[Row], limit: int = 64) -> None:
        self.rows = list(rows)
        self.limit = limit
        self.calls: list[str] = []

    def _hit(self, row: Row) -> Hit:
        return Hit(row.scene_id, row.organized, row.date)

    def _basename(self, row: Row) -> str:
        return row.path.rsplit("/", 1)[-1]

    def files_ending(self, component: str) -> tuple[list[NamedFile], bool]:
        self.calls.append("files_ending")
        named = [
            NamedFile(self._hit(r), "/".join(reversed(pathkeys.components(r.path))))
            for r in self.rows
            if pathkeys.components(r.path)[-1:] == [component]
        ]
        return named[: self.limit], len(named) < self.limit

    def by_path(self, components: Sequence[str]) -> list[Hit]:
        self.calls.append("path")
        return [self._hit(r) for r in self.rows if pathkeys.components(r.path) == list(components)]

    def by_longest_suffix(self, components: Sequence[str], min_depth: int) -> list[Hit]:
        self.calls.append("suffix")
        best, hits = 0, []
        for r in self.rows:
            mine = pathkeys.components(r.path)
            depth = 0
            while (
                depth < min(len(mine), len(components))
                and mine[-1 - depth] == components[-1 - depth]
            ):
                depth += 1
            if depth < min_depth or depth < best:
                continue
            if depth > best:
                best, hits = depth, []
            hits.append(self._hit(r))
        return hits

    def files_named(self, name: str) -> list[SameName]:
        self.calls.append("files_named")
        key = pathkeys.fold(name)
        return [
            SameName(self._hit(r), self._basename(r))
            for r in self.rows
            if pathkeys.fold(self._basename(r)) == key
        ]

    def by_stem(self, name: str) -> list[Hit]:
        self.calls.append("stem")
        key = pathkeys.stem_key(name)
        return [self._hit(r) for r in self.rows if pathkeys.stem_key(self._basename(r)) == key]

    def scene(self, scene_id: int) -> Hit | None:
        self.calls.append("scene")
        return next((self._hit(r) for r in self.rows if r.scene_id == scene_id), None)

    def by_title(self, title: str) -> list[Hit]:
        self.calls.append("title")
        key = pathkeys.title_key(title)
        return [self._hit(r) for r in self.rows if r.title and pathkeys.title_key(r.title) == key]


LIBRARY = [
    Row(1, "/data/stash/Site A/2020/Hello World.mp4", True, "2020-01-02", "Hello World"),
    Row(2, "/data/stash/Site B/2021/Hello World.mp4", False, "2021-05-05", "Hello World"),
    Row(3, "/data/stash/Site A/Unique Name.MP4", True, "2019", "Another Title"),
    Row(4, "/data/stash/Site C/clip.1080p.mp4", False, None, "Clip"),
    Row(5, "/data/stash/Site C/twin.1080p.mp4", False, None, "Twin"),
    Row(6, "/data/stash/Site D/twin.mp4", True, "2022", "Twin"),
    Row(7, "/data/stash/Site E/Other.mp4", False, "2018-03", "Old Title"),
    Row(8, "/data/stash/Site E/Newer.mp4", False, "2023-03", "Old Title"),
]


def run(**request) -> tuple[str | None, list[tuple[int, int]]]:
    result = match(MatchRequest(**request), FakeLookups(LIBRARY), request.pop("_map", ()))
    return result.tier, [(c.scene_id, c.score) for c in result.candidates]


def test_full_path_is_certain_and_stops_at_the_first_tier() -> None:
    lookups = FakeLookups(LIBRARY)
    result = match(MatchRequest(filename="/data/stash/Site A/2020/Hello World.mp4"), lookups)
    assert (result.tier, [(c.scene_id, c.score) for c in result.candidates]) == ("path", [(1, 100)])
    assert lookups.calls == ["files_ending"]


def test_path_map_rewrites_the_plex_prefix() -> None:
    path_map = (("/mnt/plex", "/data/stash"),)
    lookups = FakeLookups(LIBRARY)
    result = match(
        MatchRequest(filename="/mnt/plex/Site B/2021/Hello World.mp4"), lookups, path_map
    )
    assert result.tier == "path"
    assert [c.scene_id for c in result.candidates] == [2]


def test_different_mount_point_matches_by_longest_suffix() -> None:
    assert run(filename="/volume1/video/Site B/2021/Hello World.mp4") == ("suffix", [(2, 100)])
    # A Windows PMS sees the same files under a drive letter and backslashes.
    assert run(filename="Z:\\Site A\\2020\\Hello World.mp4") == ("suffix", [(1, 100)])


def test_same_basename_elsewhere_is_ambiguous_and_ranked() -> None:
    tier, candidates = run(filename="/elsewhere/Hello World.mp4", manual=True)
    assert tier == "basename"
    # Organized scene 1 first even though scene 2 is newer.
    assert [c[0] for c in candidates] == [1, 2]
    assert all(score < CERTAIN for _, score in candidates)
    assert candidates[0][1] > candidates[1][1]
    # Without manual only the best candidate comes back.
    assert run(filename="/elsewhere/Hello World.mp4") == ("basename", [candidates[0]])


def test_basename_case_insensitive_then_stem() -> None:
    assert run(filename="/x/unique name.mp4") == ("basename_folded", [(3, 100)])
    # Another resolution of a unique stem.
    assert run(filename="/x/clip.720p.mkv") == ("stem", [(4, 100)])
    # twin.1080p.mp4 and twin.mp4 are different scenes: no stem match, title decides instead.
    tier, _ = run(filename="/x/twin.720p.mkv")
    assert tier is None


def test_id_in_file_name_and_guid() -> None:
    assert run(filename="/new/Some scene {stash-7}.mp4") == ("filename_id", [(7, 100)])
    assert run(filename="/new/Some scene [STASH-3].mp4") == ("filename_id", [(3, 100)])
    guid = "tv.plex.agents.custom.stashplex://movie/scene-8"
    assert run(filename="/new/unknown.mp4", guid=guid) == ("guid", [(8, 100)])
    assert run(guid="plex://movie/5d776b59ad5437001f79c6f8") == (None, [])
    # An id the mirror does not know falls through to later tiers.
    assert run(filename="/new/x {stash-999}.mp4", title="Clip") == ("title", [(4, 80)])


def test_title_with_year_beats_title_alone() -> None:
    assert run(title="old title", year=2023) == ("title", [(8, 90)])
    # No scene of that year: all of them, ranked, none certain.
    tier, candidates = run(title="Old Title", year=1999, manual=True)
    assert tier == "title"
    assert [c[0] for c in candidates] == [8, 7]
    assert max(s for _, s in candidates) < 80
    assert run(title="Another Title") == ("title", [(3, 80)])
    assert run(title="!!!") == (None, [])


def test_title_only_when_the_file_tiers_found_nothing() -> None:
    lookups = FakeLookups(LIBRARY)
    match(MatchRequest(filename="/data/stash/Site A/Unique Name.MP4", title="Twin"), lookups)
    assert "title" not in lookups.calls


def test_manual_adds_title_hits_below_the_file_hit() -> None:
    tier, candidates = run(filename="/data/stash/Site A/Unique Name.MP4", title="Twin", manual=True)
    assert tier == "path"
    assert candidates[0] == (3, 100)
    assert [c[0] for c in candidates[1:]] == [6, 5]
    scores = [s for _, s in candidates]
    assert scores == sorted(scores, reverse=True) and len(set(scores)) == len(scores)


def test_manual_returns_at_most_ten() -> None:
    rows = [Row(i, f"/d/{i}/same.mp4", i % 2 == 0, f"20{i:02d}") for i in range(1, 30)]
    result = match(MatchRequest(filename="/x/same.mp4", manual=True), FakeLookups(rows))
    assert len(result.candidates) == MAX_CANDIDATES
    assert all(c.scene_id % 2 == 0 for c in result.candidates[:10])
    assert [c.scene_id for c in result.candidates[:3]] == [28, 26, 24]


def test_a_scene_with_two_matching_files_counts_once() -> None:
    rows = [Row(1, "/a/x.mp4"), Row(1, "/b/x.mp4")]
    assert match(MatchRequest(filename="/c/x.mp4"), FakeLookups(rows)).candidates[0].score == 100


def test_rank_orders_partial_dates_and_missing_ones() -> None:
    hits = [
        Hit(1, False, None),
        Hit(2, False, "2019"),
        Hit(3, False, "2019-07"),
        Hit(4, True, None),
    ]
    assert [h.scene_id for h in rank(hits)] == [4, 3, 2, 1]


@pytest.mark.parametrize(
    ("filename", "expected"),
    [
        ("/a/b/c.mp4", ["c.mp4"]),
        ("C:\\a\\b\\c.mp4", ["c.mp4"]),
        ("/a/back\\slash name.mp4", ["back\\slash name.mp4", "slash name.mp4"]),
        ("c.mp4", ["c.mp4"]),
        ("/", []),
    ],
)
def test_file_basenames(filename: str, expected: list[str]) -> None:
    assert file_basenames(filename) == expected


def test_empty_requests_match_nothing() -> None:
    assert run() == (None, [])
    assert run(filename="   ") == (None, [])
    assert run(filename="/") == (None, [])


def test_wanted_ids() -> None:
    request = MatchRequest(
        filename="/x/a {stash-4}.mp4", guid="tv.plex.agents.custom.stashplex://movie/scene-9"
    )
    assert wanted_ids(request) == [4, 9]
    assert wanted_ids(MatchRequest(filename="/x/a.mp4")) == []


@pytest.mark.parametrize(
    "filename",
    [
        "/data/stash/Site A/2020/Hello World.mp4",
        "/volume1/video/Site B/2021/Hello World.mp4",
        "/elsewhere/Hello World.mp4",
        "/x/HELLO WORLD.mp4",
    ],
)
def test_cut_short_name_sets_fall_back_to_exact_seeks(filename: str) -> None:
    """When more files end in the same name than one read returns, the per-depth index seeks
    give the same answer."""
    request = MatchRequest(filename=filename, manual=True)
    whole = match(request, FakeLookups(LIBRARY))
    cut_lookups = FakeLookups(LIBRARY, limit=1)
    cut = match(request, cut_lookups)
    assert (cut.tier, cut.candidates) == (whole.tier, whole.candidates)
    if whole.tier in ("path", "suffix", "basename"):  # the name set was not empty, but cut short
        assert "path" in cut_lookups.calls


def test_a_longer_stored_path_is_not_the_full_path() -> None:
    rows = [Row(1, "/a/b/c/x.mp4")]
    result = match(MatchRequest(filename="/b/c/x.mp4"), FakeLookups(rows))
    assert result.tier == "suffix"


def test_the_basename_tiers_read_each_name_once() -> None:
    lookups = FakeLookups(LIBRARY)
    result = match(MatchRequest(filename="/x/HELLO WORLD.mp4"), lookups)
    assert result.tier == "basename_folded"
    # One read serves the exact tier (nothing) and the folded one (found).
    assert lookups.calls == ["files_ending", "files_named"]
