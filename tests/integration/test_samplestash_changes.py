"""Changing the sample library while it runs: Stash's timestamp rules, seen over HTTP."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from stashplex.samplestash import NotFound, SampleStash

Gql = Callable[..., dict[str, Any]]
SCENE = """query($id: ID) { findScene(id: $id) {
  id title updated_at paths { screenshot }
  files { id path basename updated_at }
  performers { id name updated_at } tags { id name } studio { id name updated_at } } }"""


def scene(gql: Gql, sid: int) -> dict[str, Any]:
    return gql(SCENE, {"id": str(sid)})["data"]["findScene"]


def all_updated(gql: Gql) -> dict[str, str]:
    body = gql("""{ findScenes(filter: {per_page: -1}) { scenes { id updated_at } } }""")
    return {s["id"]: s["updated_at"] for s in body["data"]["findScenes"]["scenes"]}


def test_edit_scene_bumps_only_that_scene(stash_gql: Gql, sample_stash: SampleStash) -> None:
    lib = sample_stash.library
    before = all_updated(stash_gql)
    old = scene(stash_gql, 31)
    lib.advance(90)
    stamp = lib.edit_scene(31, title="Renamed", tag_ids=[1, 2])
    after = all_updated(stash_gql)
    new = scene(stash_gql, 31)
    assert new["title"] == "Renamed" and [t["id"] for t in new["tags"]] == ["1", "2"]
    assert new["updated_at"] == stamp == lib.now() > old["updated_at"]
    assert new["paths"]["screenshot"] != old["paths"]["screenshot"]  # ?t= follows updated_at
    assert {k: v for k, v in after.items() if k != "31"} == {
        k: v for k, v in before.items() if k != "31"
    }


def test_clock_has_second_resolution(sample_stash: SampleStash) -> None:
    lib = sample_stash.library
    first = lib.edit_scene(1, title="a")
    lib.advance(0.4)
    assert lib.edit_scene(1, title="b") == first  # same second, same stamp
    lib.advance(1)
    assert lib.edit_scene(1, title="c") > first


def test_cover_changes(
    stash_client: httpx.Client, stash_gql: Gql, sample_stash: SampleStash
) -> None:
    lib = sample_stash.library
    assert stash_client.get("/scene/2/screenshot").headers["content-type"] == "image/svg+xml"
    t_before = scene(stash_gql, 2)["paths"]["screenshot"]
    lib.advance(10)
    lib.set_cover(2)
    first = stash_client.get("/scene/2/screenshot")
    assert first.headers["content-type"] == "image/jpeg"
    t_after = scene(stash_gql, 2)["paths"]["screenshot"]
    assert t_after != t_before
    lib.advance(10)
    lib.set_cover(2)  # a different cover: different bytes and ETag
    second = stash_client.get("/scene/2/screenshot")
    assert second.headers["etag"] != first.headers["etag"]
    lib.remove_cover(2)
    assert stash_client.get("/scene/2/screenshot").headers["content-type"] == "image/svg+xml"


def test_renames_bump_only_the_entity(stash_gql: Gql, sample_stash: SampleStash) -> None:
    lib = sample_stash.library
    target = next(s for s in range(31, 61) if scene(stash_gql, s)["performers"])
    before = scene(stash_gql, target)
    performer = before["performers"][0]
    lib.advance(60)
    stamp = lib.rename_performer(int(performer["id"]), "Renamed Person")
    after = scene(stash_gql, target)
    renamed = next(p for p in after["performers"] if p["id"] == performer["id"])
    assert renamed["name"] == "Renamed Person"
    assert renamed["updated_at"] == stamp > performer["updated_at"]
    assert after["updated_at"] == before["updated_at"]
    found = stash_gql(
        """query($v: String!) { findPerformers(performer_filter: {updated_at: {
             value: $v, modifier: GREATER_THAN}}) { performers { id } } }""",
        {"v": performer["updated_at"]},
    )["data"]["findPerformers"]["performers"]
    assert {"id": performer["id"]} in found
    for kind in ("studio", "tag", "group"):
        assert lib.rename(kind, 1, f"New {kind}") == lib.now()
    body = stash_gql(
        '{ findStudios(studio_filter: {name: {value: "New studio", modifier: EQUALS}}) { count } }'
    )
    assert body["data"]["findStudios"]["count"] == 1


def test_delete_performer_and_tag_unlink_without_bumping(
    stash_gql: Gql, sample_stash: SampleStash
) -> None:
    lib = sample_stash.library
    before = all_updated(stash_gql)
    target = next(
        s
        for s in range(31, 61)
        if scene(stash_gql, s)["performers"] and scene(stash_gql, s)["tags"]
    )
    old = scene(stash_gql, target)
    pid, tid = old["performers"][0]["id"], old["tags"][0]["id"]
    lib.advance(60)
    lib.delete_performer(int(pid))
    lib.delete_tag(int(tid))
    new = scene(stash_gql, target)
    assert pid not in {p["id"] for p in new["performers"]}
    assert tid not in {t["id"] for t in new["tags"]}
    assert all_updated(stash_gql) == before
    body = stash_gql("query($ids: [ID!]) { findPerformers(ids: $ids) { count } }", {"ids": [pid]})
    assert body["data"] is None  # a missing id fails, like findScenes(ids:)
    assert stash_gql("query($id: ID!) { findTag(id: $id) { id } }", {"id": tid})["data"] == {
        "findTag": None
    }


def test_merge_tags(stash_gql: Gql, sample_stash: SampleStash) -> None:
    lib = sample_stash.library
    before = all_updated(stash_gql)
    tagged = [s for s in range(1, 61) if scene(stash_gql, s)["tags"]]
    source = int(scene(stash_gql, tagged[0])["tags"][0]["id"])
    destination = 1 if source != 1 else 2
    lib.advance(30)
    stamp = lib.merge_tags([source], destination)
    assert all_updated(stash_gql) == before
    tags = {t["id"] for t in scene(stash_gql, tagged[0])["tags"]}
    assert str(source) not in tags and str(destination) in tags
    body = stash_gql(
        "query($id: ID!) { findTag(id: $id) { updated_at } }", {"id": str(destination)}
    )
    assert body["data"]["findTag"]["updated_at"] == stamp


def test_move_file_touches_only_the_file(stash_gql: Gql, sample_stash: SampleStash) -> None:
    lib = sample_stash.library
    before = scene(stash_gql, 14)
    lib.advance(30)
    stamp = lib.move_file(27, "/data/stash/Moved", "moved name.mp4")
    after = scene(stash_gql, 14)
    assert after["files"][0]["path"] == "/data/stash/Moved/moved name.mp4"
    assert after["files"][0]["basename"] == "moved name.mp4"
    assert after["files"][0]["updated_at"] == stamp
    assert after["updated_at"] == before["updated_at"]
    found = stash_gql(
        """{ findScenes(scene_filter: {path: {value: "/data/stash/Moved/moved name.mp4",
             modifier: EQUALS}}) { scenes { id } } }"""
    )["data"]["findScenes"]["scenes"]
    assert found == [{"id": "14"}]


def test_rename_folder_leaves_no_timestamp(stash_gql: Gql, sample_stash: SampleStash) -> None:
    lib = sample_stash.library
    before = scene(stash_gql, 29)
    lib.advance(30)
    assert lib.rename_folder("/data/stash/Sample Traps/a", "/data/stash/Sample Traps/A2") >= 1
    after = scene(stash_gql, 29)
    assert after["files"][0]["path"] == "/data/stash/Sample Traps/A2/b/c/d/e/deep file.mp4"
    assert after["files"][0]["updated_at"] == before["files"][0]["updated_at"]
    assert after["updated_at"] == before["updated_at"]
    with pytest.raises(NotFound):
        lib.rename_folder("/nowhere", "/x")


def test_delete_scene_leaves_no_trace(stash_gql: Gql, sample_stash: SampleStash) -> None:
    lib = sample_stash.library
    lib.delete_scene(10)
    assert scene(stash_gql, 10) is None
    body = stash_gql(
        """{ findScenes(filter: {per_page: -1, sort: "id"}) { count scenes { id } } }"""
    )
    ids = [int(s["id"]) for s in body["data"]["findScenes"]["scenes"]]
    assert 10 not in ids and body["data"]["findScenes"]["count"] == 59 == len(ids)
    assert stash_gql('{ findScenes(ids: ["10"]) { count } }')["data"] is None
    with pytest.raises(NotFound):
        lib.edit_scene(10, title="gone")


def test_add_scenes(stash_gql: Gql, sample_stash: SampleStash) -> None:
    lib = sample_stash.library
    lib.advance(120)
    ids = lib.add_scenes(2, title="Fresh")
    assert ids == [61, 62]
    new = scene(stash_gql, 61)
    assert new["title"] == "Fresh" and new["updated_at"] == lib.now()
    assert new["files"][0]["updated_at"] == lib.now()
    body = stash_gql(
        """query($v: String!) { findScenes(scene_filter: {updated_at: {value: $v,
             modifier: GREATER_THAN}}, filter: {sort: "id"}) { scenes { id } } }""",
        {"v": scene(stash_gql, 60)["updated_at"]},
    )
    assert [s["id"] for s in body["data"]["findScenes"]["scenes"]] == ["61", "62"]


def test_graphql_mutations(stash_gql: Gql, sample_stash: SampleStash) -> None:
    lib = sample_stash.library
    lib.advance(5)
    body = stash_gql(
        """mutation { sceneUpdate(input: {id: "33", title: "By mutation", cover_image: "data:x"}) {
             id title updated_at } tagUpdate(input: {id: "3", name: "Retagged"}) { name } }"""
    )
    assert body["data"]["sceneUpdate"]["title"] == "By mutation"
    assert body["data"]["sceneUpdate"]["updated_at"] == lib.now()
    assert body["data"]["tagUpdate"] == {"name": "Retagged"}
    gone = stash_gql('mutation { sceneDestroy(input: {id: "34"}) }')
    assert gone["data"] == {"sceneDestroy": True}
    assert scene(stash_gql, 34) is None
