from __future__ import annotations

import re

import pytest

from stashplex.stash import features, operations, parse
from stashplex.stash.errors import StashBadResponse

SCENE = {
    "id": "42",
    "title": " A\x00 title\x07 ",
    "code": "ABC-1",
    "details": "line one\nline two",
    "director": None,
    "urls": ["https://example.invalid/a", "", None],
    "date": "2024-05",
    "rating100": 85,
    "organized": True,
    "o_counter": 3,
    "created_at": "2024-05-01T10:00:00+02:00",
    "updated_at": "2024-05-02T11:00:00+02:00",
    "paths": {"screenshot": "http://stash:9999/scene/42/screenshot?t=1714640400"},
    "files": [
        {
            "id": "7",
            "path": "/data/Site/A title.mp4",
            "basename": "A title.mp4",
            "size": 123456789012,
            "duration": 1800.5,
            "width": 1920,
            "height": 1080,
            "frame_rate": 29.97,
            "bit_rate": 8000000,
            "video_codec": "h264",
            "audio_codec": "aac",
            "mod_time": "2024-05-01T09:00:00+02:00",
            "fingerprints": [{"type": "oshash", "value": "abc"}, {"type": "phash", "value": 12}],
        }
    ],
    "studio": {"id": "3"},
    "performers": [{"id": "5"}, {"id": "4"}, {"id": "5"}],
    "tags": [{"id": "9"}],
    "groups": [{"scene_index": 2, "group": {"id": "11"}}],
    "stash_ids": [{"endpoint": "https://stashdb.org/graphql", "stash_id": "uuid-1"}],
}


def test_scene_parses_every_field() -> None:
    scene = parse.scene(SCENE)
    assert scene.id == 42
    assert scene.title == "A title"  # control characters gone, trimmed
    assert scene.details == "line one\nline two"
    assert scene.urls == ("https://example.invalid/a",)
    assert scene.screenshot_version == "1714640400"
    assert scene.files[0].size == 123456789012
    assert scene.files[0].fingerprints[1].value == "12"
    assert scene.studio_id == 3
    assert scene.performer_ids == (5, 4)  # Stash order, duplicates dropped
    assert scene.groups[0].group_id == 11 and scene.groups[0].scene_index == 2
    assert scene.stash_ids[0].stash_id == "uuid-1"


def test_legacy_movies_parse_as_groups() -> None:
    legacy = {k: v for k, v in SCENE.items() if k != "groups"}
    legacy["movies"] = [{"scene_index": None, "movie": {"id": "8"}}]
    assert parse.scene(legacy).groups[0].group_id == 8


@pytest.mark.parametrize(
    "change",
    [
        {"id": "abc"},
        {"id": "-1"},
        {"id": "0"},
        {"id": True},
        {"id": "٣"},
        {"id": "99999999999999999999"},
        {"updated_at": None},
        {"files": {"id": "1"}},
        {"files": [{"id": "1"}]},
        {"performers": [{"name": "x"}]},
        {"title": 5},
        {"rating100": "high"},
        {"studio": ["3"]},
    ],
)
def test_garbage_raises_bad_response(change: dict) -> None:
    with pytest.raises(StashBadResponse):
        parse.scene({**SCENE, **change})


def test_out_of_range_rating_and_nan_are_dropped() -> None:
    assert parse.scene({**SCENE, "rating100": 500}).rating100 is None
    bad_file = {**SCENE["files"][0], "duration": float("nan")}
    assert parse.scene({**SCENE, "files": [bad_file]}).files[0].duration is None


@pytest.mark.parametrize(
    ("url", "version"),
    [
        ("http://s/performer/1/image?t=1700000000", "1700000000"),
        ("http://s/performer/1/image?t=1700000000&default=true", None),
        ("http://s/performer/1/image?default=true", None),
        ("http://s/performer/1/image", "0"),
        ("http://s/performer/1/image?t=../../etc", "0"),
        (None, None),
        ("", None),
    ],
)
def test_image_version(url: str | None, version: str | None) -> None:
    assert parse.image_version(url) == version


def test_entities() -> None:
    studio = parse.studio(
        {"id": "3", "name": "Site", "parent_studio": {"id": "1"}, "image_path": "x?t=5"}
    )
    assert (studio.parent_id, studio.image_version) == (1, "5")
    assert parse.performer({"id": "2", "name": ""}).name == "Performer 2"
    assert (
        parse.group({"id": "4", "name": "G", "front_image_path": None}).front_image_version is None
    )


def test_every_operation_is_a_document_with_its_fragments() -> None:
    for name in operations.OPERATIONS:
        for version in ((0, 24, 0), (0, 26, 0), (0, 30, 1)):
            found = features.for_version(version)
            if not operations.sendable(name, found):
                with pytest.raises(operations.Unsupported, match=name):
                    operations.document(name, found)
                continue
            doc = operations.document(name, found)
            assert re.search(rf"\bquery {name}\b", doc), name
            for spread in re.findall(r"\.\.\.\s*(\w+)", doc):
                assert f"fragment {spread} on" in doc
    old = features.for_version((0, 26, 2))
    assert "movies {" in operations.document("FindScenesPage", old)
    assert "groups {" in operations.document("FindScenesPage")
    with pytest.raises(KeyError):
        operations.document("Nope")
