"""The sample Stash's GraphQL behaviour over real HTTP: errors, paging, sorting, versions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from stashplex.samplestash import SampleStash
from stashplex.samplestash.engine import Engine, row_resolver

Gql = Callable[..., dict[str, Any]]
PAGE = """
query Page($filter: FindFilterType, $scene_filter: SceneFilterType) {
  findScenes(filter: $filter, scene_filter: $scene_filter) { count scenes { id } }
}
"""


def ids_of(body: dict[str, Any]) -> list[int]:
    return [int(s["id"]) for s in body["data"]["findScenes"]["scenes"]]


def post(
    stash: SampleStash, query: str, accept: str = "application/json", **kw: Any
) -> httpx.Response:
    return httpx.post(
        stash.url + "/graphql", json={"query": query, **kw}, headers={"Accept": accept}
    )


# -- request errors ------------------------------------------------------------------------


def test_unknown_field_is_422_with_validation_code(sample_stash: SampleStash) -> None:
    response = post(sample_stash, "{ findScenes { scenes { id groupz } } }")
    assert response.status_code == 422
    body = response.json()
    assert body["data"] is None
    error = body["errors"][0]
    assert error["message"].startswith('Cannot query field "groupz" on type "Scene".')
    assert error["extensions"] == {"code": "GRAPHQL_VALIDATION_FAILED"}
    assert error["locations"] == [{"line": 1, "column": 28}]


def test_unknown_argument_fails_validation(sample_stash: SampleStash) -> None:
    response = post(sample_stash, "{ findScenes(scene_filter: {nope: true}) { count } }")
    assert response.status_code == 422
    assert "nope" in response.json()["errors"][0]["message"]


@pytest.mark.parametrize(("version", "status"), [("v0.28.1", 422), ("v0.29.0", 400)])
def test_accept_any_answers_400_from_v029(
    sample_stash_factory: Callable[..., SampleStash], version: str, status: int
) -> None:
    stash = sample_stash_factory(stash_version=version)
    assert post(stash, "{ nope }", accept="*/*").status_code == status
    assert post(stash, "{ nope }").status_code == 422


def test_syntax_error_is_parse_failed(sample_stash: SampleStash) -> None:
    response = post(sample_stash, "{ findScenes( { count } }")
    assert response.status_code == 422
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"
    assert response.json()["data"] is None


def test_non_json_body_is_400(sample_stash: SampleStash) -> None:
    response = httpx.post(sample_stash.url + "/graphql", content=b"query=1")
    assert response.status_code == 400
    assert response.json()["data"] is None


def test_bad_variable_is_a_request_error(sample_stash: SampleStash) -> None:
    response = post(sample_stash, PAGE, variables={"filter": {"per_page": "many"}})
    assert response.status_code == 422
    assert response.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


def test_invalid_sort_is_a_resolver_error(stash_gql: Gql) -> None:
    body = stash_gql(PAGE, {"filter": {"sort": "nope"}})
    assert body["data"] is None
    assert body["errors"][0]["message"] == "invalid sort: nope"
    assert body["errors"][0]["path"] == ["findScenes"]


# -- paging --------------------------------------------------------------------------------


def keyset(gql: Gql, per_page: int, direction: str = "ASC") -> list[int]:
    seen: list[int] = []
    last = 0 if direction == "ASC" else 1 << 30
    modifier = "GREATER_THAN" if direction == "ASC" else "LESS_THAN"
    while True:
        body = gql(
            PAGE,
            {
                "filter": {"per_page": per_page, "sort": "id", "direction": direction},
                "scene_filter": {"id": {"value": last, "modifier": modifier}},
            },
        )
        page = ids_of(body)
        if not page:
            return seen
        seen.extend(page)
        last = page[-1]


def test_keyset_paging_returns_every_scene_once(stash_gql: Gql, sample_stash: SampleStash) -> None:
    expected = sample_stash.library.scene_ids()
    assert keyset(stash_gql, 7) == expected
    assert keyset(stash_gql, 11, "DESC") == expected[::-1]


def test_page_is_one_based_offset(stash_gql: Gql) -> None:
    first = ids_of(stash_gql(PAGE, {"filter": {"per_page": 10, "page": 1, "sort": "id"}}))
    second = ids_of(stash_gql(PAGE, {"filter": {"per_page": 10, "page": 2, "sort": "id"}}))
    zero = ids_of(stash_gql(PAGE, {"filter": {"per_page": 10, "page": 0, "sort": "id"}}))
    assert first == list(range(1, 11)) == zero
    assert second == list(range(11, 21))


def test_per_page_default_all_and_none(stash_gql: Gql) -> None:
    assert len(ids_of(stash_gql(PAGE, {"filter": {"sort": "id"}}))) == 25
    everything = stash_gql(PAGE, {"filter": {"per_page": -1, "sort": "id"}})
    assert ids_of(everything) == list(range(1, 61))
    nothing = stash_gql(PAGE, {"filter": {"per_page": 0}})
    assert ids_of(nothing) == []
    assert nothing["data"]["findScenes"]["count"] == 60


def test_count_duration_and_filesize(stash_gql: Gql) -> None:
    body = stash_gql(
        """{ findScenes(scene_filter: {id: {value: 5, value2: 8, modifier: BETWEEN}}) {
             count duration filesize } }"""
    )
    result = body["data"]["findScenes"]
    assert result["count"] == 4  # BETWEEN is inclusive
    assert result["duration"] > 0
    assert result["filesize"] > 0


def test_sort_and_direction(stash_gql: Gql) -> None:
    query = """query($f: FindFilterType) { findScenes(filter: $f) {
        scenes { id title updated_at files { path } } } }"""
    newest = stash_gql(query, {"f": {"per_page": -1, "sort": "updated_at", "direction": "DESC"}})
    stamps = [s["updated_at"] for s in newest["data"]["findScenes"]["scenes"]]
    assert stamps == sorted(stamps, reverse=True)
    titled = stash_gql(query, {"f": {"per_page": -1, "sort": "title"}})
    titles = [s["title"].casefold() for s in titled["data"]["findScenes"]["scenes"]]
    assert titles[0] == ""  # empty titles first, like Stash's COALESCE(title, basename)
    by_path = stash_gql(query, {"f": {"per_page": -1, "sort": "path", "direction": "DESC"}})
    assert len(by_path["data"]["findScenes"]["scenes"]) == 60
    seeded = stash_gql(query, {"f": {"per_page": 5, "sort": "random_42"}})
    assert seeded == stash_gql(query, {"f": {"per_page": 5, "sort": "random_42"}})


def test_no_sort_is_stable_but_not_id_order(stash_gql: Gql) -> None:
    first = ids_of(stash_gql(PAGE, {"filter": {"per_page": -1}}))
    assert first == ids_of(stash_gql(PAGE, {"filter": {"per_page": -1}}))
    assert sorted(first) == list(range(1, 61))
    assert first != sorted(first)


def test_ids_ignore_filter_and_paging(stash_gql: Gql) -> None:
    query = """query($ids: [ID!]) { findScenes(ids: $ids, filter: {per_page: 1},
        scene_filter: {id: {value: 1, modifier: EQUALS}}) { count scenes { id } } }"""
    body = stash_gql(query, {"ids": ["9", "3", "40"]})
    assert ids_of(body) == [9, 3, 40]
    assert body["data"]["findScenes"]["count"] == 3


def test_one_missing_id_fails_the_whole_query(stash_gql: Gql) -> None:
    body = stash_gql('{ findScenes(ids: ["3", "9999"]) { scenes { id } } }')
    assert body["data"] is None
    assert "9999" in body["errors"][0]["message"]


def test_find_scene_is_null_when_missing(stash_gql: Gql) -> None:
    body = stash_gql('{ a: findScene(id: "7") { id } b: findScene(id: "7000") { id } }')
    assert body["data"] == {"a": {"id": "7"}, "b": None}
    assert "errors" not in body


# -- content -------------------------------------------------------------------------------

FULL = """
query($ids: [ID!]) { findScenes(ids: $ids) { scenes {
  id title code details director urls date rating100 organized o_counter created_at updated_at
  files { id path basename size duration width height frame_rate bit_rate video_codec
          audio_codec mod_time updated_at fingerprints { type value } }
  paths { screenshot }
  studio { id name parent_studio { id name } image_path urls details updated_at }
  performers { id name disambiguation gender image_path updated_at }
  tags { id name updated_at image_path }
  groups { scene_index group { id name date synopsis front_image_path updated_at } }
  stash_ids { endpoint stash_id }
  scene_markers { id title seconds end_seconds primary_tag { id name } }
  __typename
} } }
"""


def test_full_scene_fields(stash_gql: Gql, sample_stash: SampleStash) -> None:
    scenes = stash_gql(FULL, {"ids": [str(i) for i in range(1, 61)]})["data"]["findScenes"]
    by_id = {int(s["id"]): s for s in scenes["scenes"]}
    assert by_id[13]["files"][0]["basename"] == "Two Files Primary.mp4"
    assert by_id[13]["files"][1]["path"].endswith("/Extras/second copy marmalade.mkv")
    assert by_id[8]["title"] == "" and by_id[8]["organized"] is False
    assert by_id[1]["updated_at"].endswith("+02:00")
    assert by_id[1]["paths"]["screenshot"].startswith(sample_stash.url + "/scene/1/screenshot?t=")
    assert {
        fp["type"] for s in scenes["scenes"] for f in s["files"] for fp in f["fingerprints"]
    } == {
        "oshash",
        "md5",
        "phash",
    }
    assert any(s["groups"] for s in scenes["scenes"])
    assert any(s["scene_markers"] for s in scenes["scenes"])
    assert any(s["studio"] and s["studio"]["parent_studio"] for s in scenes["scenes"])
    assert isinstance(by_id[1]["files"][0]["size"], int)


def test_projection_matches_the_plain_executor(sample_stash: SampleStash) -> None:
    """The fast projecting executor must answer exactly like graphql-core's own."""
    from graphql import execute, parse

    from stashplex.samplestash.gql_rows import RowBuilder
    from stashplex.samplestash.resolvers import Context

    engine: Engine = sample_stash.app.engine
    lib = sample_stash.library
    variables = {"ids": [str(i) for i in range(1, 61)]}
    fast = engine.run({"query": FULL, "variables": variables}, "http://h", None, True)[1]
    context = Context(lib, RowBuilder(lib, "http://h", None))
    plain = execute(
        engine.schema, parse(FULL), context_value=context, variable_values=variables,
        field_resolver=row_resolver,
    )  # fmt: skip
    assert plain.errors is None
    assert fast == {"data": plain.data}


def test_entity_queries(stash_gql: Gql) -> None:
    body = stash_gql(
        """{
      findPerformers(filter: {per_page: -1, sort: "id"}) {
        count performers { id name disambiguation image_path } }
      findStudios(filter: {per_page: 3}) { count studios { id name parent_studio { id } } }
      findTags(tag_filter: {updated_at: {value: "2000-01-01", modifier: GREATER_THAN}}) {
        count tags { id } }
      findGroups(filter: {sort: "name"}) { count groups { id name front_image_path } }
    }"""
    )["data"]
    performers = body["findPerformers"]["performers"]
    assert body["findPerformers"]["count"] == len(performers) > 20
    assert any(p["disambiguation"] for p in performers)
    assert any(p["image_path"].endswith("&default=true") for p in performers)
    assert any("&default=true" not in p["image_path"] for p in performers)
    assert len(body["findStudios"]["studios"]) == 3
    assert body["findTags"]["count"] >= len(body["findTags"]["tags"]) > 0
    assert body["findGroups"]["count"] >= 6


def test_introspection(stash_gql: Gql) -> None:
    body = stash_gql('{ __type(name: "Scene") { fields { name } } }')
    names = {f["name"] for f in body["data"]["__type"]["fields"]}
    assert {"groups", "files", "paths", "stash_ids"} <= names


# -- versions and platforms ----------------------------------------------------------------


def test_legacy_version_has_movies_and_studio_url(
    sample_stash_factory: Callable[..., SampleStash],
) -> None:
    stash = sample_stash_factory(stash_version="v0.26.2")
    assert post(stash, "{ findScenes { scenes { groups { scene_index } } } }").status_code == 422
    assert post(stash, "{ findStudios { studios { urls } } }").status_code == 422
    assert post(stash, "{ findGroups { count } }").status_code == 422
    files_filter = """{ findScenes(scene_filter: {files_filter: {
        basename: {value: "x", modifier: EQUALS}}}) { count } }"""
    assert post(stash, files_filter).status_code == 422
    body = post(
        stash,
        """{ findScenes(filter: {per_page: -1}) { scenes { date movies { scene_index movie {
             id name front_image_path } } } }
           findStudios { studios { url } } findMovies { count movies { id } }
           version { version } }""",
    ).json()
    assert body["data"]["version"]["version"] == "v0.26.2"
    scenes = body["data"]["findScenes"]["scenes"]
    assert any(s["movies"] for s in scenes)
    movie = next(s["movies"][0]["movie"] for s in scenes if s["movies"])
    assert "/movie/" in movie["front_image_path"]
    assert all(s["date"] is None or len(s["date"]) == 10 for s in scenes)
    introspect = post(stash, '{ __type(name: "Scene") { fields { name } } }').json()
    names = {f["name"] for f in introspect["data"]["__type"]["fields"]}
    assert "movies" in names and "groups" not in names


def test_v030_has_partial_dates_urls_and_files_filter(stash_gql: Gql) -> None:
    body = stash_gql(
        """{ a: findScenes(ids: ["5", "6"]) { scenes { date } }
             b: findScenes(scene_filter: {files_filter: {basename: {
                  value: "LOUD NAME.MP4", modifier: EQUALS}}}) { scenes { id } }
             findStudios(filter: {per_page: 1}) { studios { urls } } }"""
    )["data"]
    assert [s["date"] for s in body["a"]["scenes"]] == ["2019", "2019-07"]
    assert [s["id"] for s in body["b"]["scenes"]] == ["6"]
    assert isinstance(body["findStudios"]["studios"][0]["urls"], list)


def test_windows_paths(sample_stash_factory: Callable[..., SampleStash]) -> None:
    stash = sample_stash_factory(os_name="windows")
    body = post(
        stash,
        """{ systemStatus { os } findScenes(ids: ["1", "29"]) { scenes { files { path basename } } }
             words: findScenes(scene_filter: {path: {value: "\\\\Sample Traps\\\\a\\\\b\\\\",
               modifier: INCLUDES}}) { count }
             phrase: findScenes(scene_filter: {path: {value: "\\"\\\\Sample Traps\\\\a\\\\b\\\\\\"",
               modifier: INCLUDES}}) { scenes { id } } }""",
    ).json()["data"]
    assert body["systemStatus"]["os"] == "windows"
    first, deep = (s["files"][0] for s in body["findScenes"]["scenes"])
    assert first["path"] == "C:\\Stash\\Library\\Sample Traps\\" + first["basename"]
    assert '"' not in first["basename"]  # Windows forbids double quotes in names
    assert deep["path"].endswith("\\a\\b\\c\\d\\e\\deep file.mp4")
    assert body["words"]["count"] > 20  # unquoted: "\\Sample" OR "Traps\\a\\b\\"
    assert body["phrase"]["scenes"] == [{"id": "29"}]


def test_utc_offset_is_configurable(sample_stash_factory: Callable[..., SampleStash]) -> None:
    stash = sample_stash_factory(utc_offset="-05:00")
    body = post(stash, '{ findScene(id: "1") { created_at updated_at } }').json()
    assert body["data"]["findScene"]["updated_at"].endswith("-05:00")
    utc = sample_stash_factory(utc_offset="+00:00")
    assert (
        post(utc, '{ findScene(id: "1") { updated_at } }')
        .json()["data"]["findScene"]["updated_at"]
        .endswith("Z")
    )
