"""Stash's filter semantics against the hard file names (ids: see stashplex.samplestash)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from stashplex.samplestash import SampleStash

Gql = Callable[..., dict[str, Any]]
TRAPS = "/data/stash/Sample Traps/"
QUERY = """query($f: SceneFilterType) {
  findScenes(scene_filter: $f, filter: {per_page: -1, sort: "id"}) { count scenes { id } } }"""


@pytest.fixture
def find(stash_gql: Gql) -> Callable[[dict[str, Any]], set[int]]:
    def run(scene_filter: dict[str, Any]) -> set[int]:
        body = stash_gql(QUERY, {"f": scene_filter})
        assert "errors" not in body, body
        found = {int(s["id"]) for s in body["data"]["findScenes"]["scenes"]}
        assert body["data"]["findScenes"]["count"] == len(found)
        return found

    return run


def path(value: str, modifier: str) -> dict[str, Any]:
    return {"path": {"value": value, "modifier": modifier}}


ALL = set(range(1, 61))


@pytest.mark.parametrize(
    ("value", "modifier", "expected"),
    [
        # EQUALS is a case-insensitive LIKE on folder + separator + basename
        (TRAPS + "CamelCase Regex Target.mp4", "EQUALS", {14}),
        (TRAPS + "camelcase regex target.mp4", "EQUALS", {14}),
        (TRAPS + "mixed case name.mp4", "EQUALS", {30}),
        (TRAPS + "O'Brien's \"Big\" Night.mp4", "EQUALS", {1}),
        (TRAPS + "東京の夜 – 花子と雪.mkv", "EQUALS", {3}),
        (TRAPS + "[Studio X] Scene {Extended} (2020).mp4", "EQUALS", {4}),
        (TRAPS + "LOUD NAME.MP4", "EQUALS", {6}),
        # % and _ are wildcards: the decoys match too, so clients must re-check
        (TRAPS + "100% Real_Deal.mp4", "EQUALS", {8, 9}),
        (TRAPS + "underscore_only_name.mp4", "EQUALS", {24, 25}),
        (TRAPS + "percent%20encoded.mp4", "EQUALS", {23}),
        # only ASCII letters fold case
        (TRAPS + "Ünïcödé UPPER ÄÖÜ.mp4", "EQUALS", {27}),
        (TRAPS + "ünïcödé upper äöü.mp4", "EQUALS", set()),
        # NFC and NFD spellings are different strings
        (TRAPS + "Café Decomposed.mp4", "EQUALS", set()),
        (TRAPS + "Cafe\u0301 Decomposed.mp4", "EQUALS", {18}),
        (TRAPS + "CamelCase Regex Target.mp4", "NOT_EQUALS", ALL - {14}),
        # INCLUDES: words OR-ed unless the whole value is quoted
        ("ostrich pelican", "INCLUDES", {15, 16, 17}),
        ('"ostrich pelican"', "INCLUDES", {17}),
        ("ostrich pelican", "EXCLUDES", ALL - {15, 16, 17}),
        ('"ostrich pelican"', "EXCLUDES", ALL - {17}),
        ("marmalade", "INCLUDES", {13}),  # any file counts, not only the primary
        ('"duplicate name.mp4"', "INCLUDES", {11, 12}),
        ('"/Dup B/duplicate name.mp4"', "INCLUDES", {12}),
        ("🎬", "INCLUDES", {20}),
        ("back\\slash", "INCLUDES", {21}),
        ("Q&A #1 + more=yes; 50$", "INCLUDES", ALL),  # "+" alone is a word matching nothing...
        # regex: unanchored, case-sensitive unless (?i)
        ("camelcase", "MATCHES_REGEX", set()),
        ("(?i)camelcase", "MATCHES_REGEX", {14}),
        ("CamelCase Regex", "MATCHES_REGEX", {14}),
        (r"/LOUD [A-Z]+\.MP4$", "MATCHES_REGEX", {6}),
        (r"(?i)ünïcödé upper äöü", "MATCHES_REGEX", {27}),
        (r"/Sample Traps/", "NOT_MATCHES_REGEX", ALL - set(range(1, 31))),
        ("", "IS_NULL", set()),
        ("", "NOT_NULL", ALL),
    ],
)
def test_path_modifiers(
    find: Callable[[dict[str, Any]], set[int]], value: str, modifier: str, expected: set[int]
) -> None:
    if value.startswith("Q&A"):
        # "#1", "+" and "more=yes;" are LIKE words too; "+" alone appears in no other name,
        # but OR-ing means every word matching anything (like "50$") widens the result.
        assert 19 in find(path(value, modifier))
        return
    assert find(path(value, modifier)) == expected


def test_long_name_and_deep_folder(find: Callable[[dict[str, Any]], set[int]]) -> None:
    assert find(path("%with many words with many words%", "EQUALS")) == {10}
    assert find(path(TRAPS + "a/b/c/d/e/deep file.mp4", "EQUALS")) == {29}


def test_negative_modifiers_hold_if_any_file_differs(
    find: Callable[[dict[str, Any]], set[int]],
) -> None:
    # Scene 13's second file does not contain "Primary": like Stash's join, EXCLUDES keeps it.
    assert 13 in find(path("Primary", "EXCLUDES"))
    assert 13 in find(path(TRAPS + "Two Files Primary.mp4", "NOT_EQUALS"))


def test_invalid_regex_is_a_resolver_error(stash_gql: Gql) -> None:
    body = stash_gql(QUERY, {"f": path("(unclosed", "MATCHES_REGEX")})
    assert body["data"] is None
    assert "error parsing regexp" in body["errors"][0]["message"]


def updated_stamps(gql: Gql) -> dict[int, str]:
    body = gql(
        """{ findScenes(filter: {per_page: -1, sort: "id"}) { scenes { id updated_at } } }"""
    )
    return {int(s["id"]): s["updated_at"] for s in body["data"]["findScenes"]["scenes"]}


def test_updated_at_compares_raw_strings(
    stash_gql: Gql, find: Callable[[dict[str, Any]], set[int]]
) -> None:
    stamps = updated_stamps(stash_gql)
    pivot = stamps[40]
    assert pivot.endswith("+02:00")
    greater = find({"updated_at": {"value": pivot, "modifier": "GREATER_THAN"}})
    assert greater == {i for i, s in stamps.items() if s > pivot}
    assert 40 not in greater and 41 not in greater  # batches of four share a second
    assert greater and min(greater) == 44
    # Stash's first 19 characters work too (no offset: compares as a prefix-shorter string)
    short = find({"updated_at": {"value": pivot[:19], "modifier": "GREATER_THAN"}})
    assert short == {i for i, s in stamps.items() if s > pivot[:19]}
    less = find({"updated_at": {"value": pivot, "modifier": "LESS_THAN"}})
    assert less == {i for i, s in stamps.items() if s < pivot}
    between = find(
        {"updated_at": {"value": stamps[8], "value2": stamps[20], "modifier": "BETWEEN"}}
    )
    assert between == {i for i, s in stamps.items() if stamps[8] <= s <= stamps[20]}
    assert {8, 20} <= between


def test_updated_at_in_utc_is_compared_as_text_not_time(
    stash_gql: Gql, find: Callable[[dict[str, Any]], set[int]]
) -> None:
    stamps = updated_stamps(stash_gql)
    local = stamps[40]  # e.g. 2022-01-03T09:01:37+02:00
    hour = int(local[11:13]) - 2
    as_utc = f"{local[:11]}{hour:02d}{local[13:19]}Z"  # the same instant, in UTC
    found = find({"updated_at": {"value": as_utc, "modifier": "GREATER_THAN"}})
    assert found == {i for i, s in stamps.items() if s > as_utc}
    assert found == ALL  # "...T09" > "...T07": every scene looks newer than the UTC value


def test_id_criteria_and_boolean_combinations(
    stash_gql: Gql, find: Callable[[dict[str, Any]], set[int]]
) -> None:
    assert find({"id": {"value": 5, "value2": 8, "modifier": "BETWEEN"}}) == {5, 6, 7, 8}
    assert find({"id": {"value": 5, "value2": 8, "modifier": "NOT_BETWEEN"}}) == ALL - {5, 6, 7, 8}
    assert find({"id": {"value": 58, "modifier": "GREATER_THAN"}}) == {59, 60}
    either = {
        "id": {"value": 3, "modifier": "EQUALS"},
        "OR": {"id": {"value": 7, "modifier": "EQUALS"}},
    }
    assert find(either) == {3, 7}
    both = {
        "id": {"value": 50, "modifier": "GREATER_THAN"},
        "AND": path("Sample Traps", "INCLUDES"),
    }
    assert find(both) == set()
    negated = {
        "id": {"value": 55, "modifier": "GREATER_THAN"},
        "NOT": {"id": {"value": 57, "modifier": "EQUALS"}},
    }
    assert find(negated) == {56, 58, 59, 60}
    body = stash_gql(
        QUERY,
        {"f": {"AND": {"organized": True}, "OR": {"organized": False}}},
    )
    assert body["errors"][0]["message"] == "cannot have AND and OR in the same filter"


def test_other_scene_criteria(stash_gql: Gql, find: Callable[[dict[str, Any]], set[int]]) -> None:
    unorganized = find({"organized": False})
    assert {8, 9, 11, 12} <= unorganized and 14 not in unorganized
    assert find({"title": {"value": "", "modifier": "IS_NULL"}}) >= {8, 9, 11, 12}
    assert find({"file_count": {"value": 1, "modifier": "GREATER_THAN"}}) >= {13}
    assert find({"is_missing": "cover"}) >= {2, 6, 19}
    assert find({"date": {"value": "2019", "modifier": "EQUALS"}}) >= {5}
    body = stash_gql("""{ findScene(id: "13") { tags { id } performers { id } studio { id } } }""")
    scene = body["data"]["findScene"]
    if scene["tags"]:
        tag = scene["tags"][0]["id"]
        assert 13 in find({"tags": {"value": [tag], "modifier": "INCLUDES"}})
        assert 13 not in find({"tags": {"value": [tag], "modifier": "EXCLUDES"}})
    if scene["studio"]:
        studio = scene["studio"]["id"]
        assert 13 in find({"studios": {"value": [studio], "modifier": "INCLUDES", "depth": -1}})
    no_performers = find({"performers": {"modifier": "IS_NULL"}})
    assert no_performers == find({"performer_count": {"value": 0, "modifier": "EQUALS"}})


def test_keyset_with_updated_at_sees_changed_scenes(
    sample_stash: SampleStash, find: Callable[[dict[str, Any]], set[int]]
) -> None:
    lib = sample_stash.library
    cutoff = lib.scene(60)["updated_at"]
    assert find({"updated_at": {"value": cutoff, "modifier": "GREATER_THAN"}}) == set()
    lib.advance(5)
    lib.edit_scene(3, title="Changed")
    (new_id,) = lib.add_scenes()
    assert find({"updated_at": {"value": cutoff, "modifier": "GREATER_THAN"}}) == {3, new_id}


def test_find_filter_q_searches_titles_and_paths(stash_gql: Gql) -> None:
    query = """query($q: String) { findScenes(filter: {q: $q, per_page: -1}) { scenes { id } } }"""

    def search(q: str) -> set[int]:
        return {int(s["id"]) for s in stash_gql(query, {"q": q})["data"]["findScenes"]["scenes"]}

    assert search("ostrich") == {15, 17}  # words must all match (title or path)
    assert search("ostrich -phrase") == {15}
    assert search("ostrich or pelican") == {15, 16, 17}
    assert search("marmalade") == {13}


def test_path_lookup_of_generated_names(sample_stash_factory: Callable[..., SampleStash]) -> None:
    stash = sample_stash_factory(scenes=3000)
    lib = stash.library

    def found(value: str, modifier: str) -> set[int]:
        body = stash.graphql(QUERY, {"f": path(value, modifier)})
        return {int(s["id"]) for s in body["data"]["findScenes"]["scenes"]}

    for sid in (31, 1500, 2999):
        full = lib.scene(sid)["files"][0]["path"]
        assert found(full, "EQUALS") == {sid}
        assert sid in found('"' + full.rsplit("/", 1)[1] + '"', "INCLUDES")
    lib.move_file(2 * 100 - 1, basename="copy of SP-001500.mp4")
    assert found('"copy of SP-001500."', "INCLUDES") == {100}  # renamed files stay findable
    assert found("SP-001500", "INCLUDES") == {100, 1500}
    assert found("%SP-0015__%", "EQUALS") >= {100, 1500}  # wildcards: no shortcut, a scan
