"""POST /library/metadata/matches: bad input, and every tier over a mirror of the sample Stash."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from stashplex.samplestash.names import TRAP_BY_ID
from tests.plugins.webkit import GUID_PREFIX, IDENTIFIER, Provider, synced_sample

ROUTE = "/library/metadata/matches"
ROOT = "/data/stash"  # the sample library's root folder (Linux)
PLEX_ROOT = "/mnt/media/porn"  # where a PMS on another machine mounts the same files


@pytest.fixture
def hand(hand_provider) -> Provider:
    return hand_provider()


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Provider]:
    # One synced sample for the read-only tier tests: syncing per test would be slow.
    with synced_sample(tmp_path_factory.mktemp("matches")) as provider:
        yield provider


@pytest.fixture
def provider(synced_provider) -> Provider:
    return synced_provider()


def post(provider: Provider, body, **kwargs):
    if isinstance(body, (dict, list)):
        return provider.client.simulate_post(ROUTE, json=body, **kwargs)
    return provider.client.simulate_post(ROUTE, body=body, **kwargs)


def reason(response) -> str:
    assert response.headers["content-type"].startswith("application/json")
    return response.json["error"]["reason"]


# --- bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("{", "not valid JSON"),
        (b"\xff\xfe{", "not valid JSON"),
        ("", "empty"),
        ("[1]", "JSON object"),
        ('"text"', "JSON object"),
        ("[" * 100_000, "not valid JSON"),
        ({}, "'type' is required"),
        ({"type": None}, "'type' is required"),
        ({"type": "1"}, "'type' must be an integer"),
        ({"type": 1.0}, "'type' must be an integer"),
        ({"type": True}, "'type' must be an integer"),
        ({"type": 2}, "type 2 (show) is not supported"),
        ({"type": 3}, "type 3 (season)"),
        ({"type": 4}, "type 4 (episode)"),
        ({"type": 9}, "unknown type 9"),
        ({"type": 1, "filename": 5}, "'filename' must be a string"),
        ({"type": 1, "title": ["a"]}, "'title' must be a string"),
        ({"type": 1, "guid": {"a": 1}}, "'guid' must be a string"),
        ({"type": 1, "year": "nineteen"}, "'year' must be an integer"),
        ({"type": 1, "year": 2020.5}, "'year' must be an integer"),
        ({"type": 1, "manual": "yes"}, "'manual' must be an integer"),
        ({"type": 1, "filename": "x" * 5000}, "longer than"),
    ],
)
def test_bad_bodies_are_json_400(hand: Provider, body, expected: str) -> None:
    response = post(hand, body)
    assert response.status_code == 400, response.text
    assert expected in reason(response)


def test_a_body_over_one_megabyte_is_413(hand: Provider) -> None:
    big = json.dumps({"type": 1, "title": "x" * (1024 * 1024)})
    response = post(hand, big)
    assert response.status_code == 413
    assert "larger than" in reason(response)
    # Exactly at the limit still parses (and is then refused for its content, not its size).
    padded = '{"type": 1}' + " " * (1024 * 1024 - len('{"type": 1}'))
    assert post(hand, padded).status_code == 200


def test_a_lying_content_length_is_refused_up_front(hand: Provider) -> None:
    response = hand.client.simulate_post(
        ROUTE, body=b'{"type": 1}', headers={"Content-Length": str(50 * 1024 * 1024)}
    )
    assert response.status_code == 413


def test_tolerated_shapes(hand: Provider) -> None:
    body = {
        "type": 1,
        "title": None,
        "year": "2020",
        "manual": "1",
        "filename": "/x/First.mp4",
        "includeAdult": 1,
        "unknownField": {"deep": [1, 2]},
        "parentTitle": "ignored",
    }
    response = post(hand, body, params={"X-Plex-Language": "de", "whatever": "1"})
    assert response.status_code == 200
    assert response.json["MediaContainer"]["Metadata"][0]["ratingKey"] == "scene-1"


def test_no_match_is_an_empty_200(hand: Provider) -> None:
    response = post(hand, {"type": 1, "filename": "/nowhere/unknown file.mp4", "title": "zzz"})
    assert response.status_code == 200
    assert response.json == {
        "MediaContainer": {
            "offset": 0,
            "totalSize": 0,
            "identifier": IDENTIFIER,
            "size": 0,
            "Metadata": [],
        }
    }


def test_candidate_shape(hand: Provider) -> None:
    response = post(
        hand, {"type": 1, "filename": "/x/Site/2020/First.mp4"}, headers={"Host": "h:2"}
    )
    (item,) = response.json["MediaContainer"]["Metadata"]
    assert item == {
        "type": "movie",
        "ratingKey": "scene-1",
        "key": "/library/metadata/scene-1",
        "guid": GUID_PREFIX + "scene-1",
        "title": "Scene 1",
        "year": 2024,
        "originallyAvailableAt": "2024-01-02",
        "thumb": "http://h:2/stash/scene/1/screenshot?v=1700000000",
        "score": 100,
    }


def test_manual_ranks_organized_then_newer(hand: Provider) -> None:
    items = hand.match(filename="/elsewhere/same.mp4", manual=1)
    assert [i["ratingKey"] for i in items] == ["scene-4", "scene-5", "scene-3"]
    scores = [i["score"] for i in items]
    assert scores == sorted(scores, reverse=True) and scores[0] < 100
    assert [i["ratingKey"] for i in hand.match(filename="/elsewhere/same.mp4")] == ["scene-4"]
    assert len(hand.match(filename="/elsewhere/same.mp4", manual=0)) == 1


def test_fix_match_reads_the_file_tiers_once(hand: Provider, monkeypatch) -> None:
    lookups = hand.app.context.lookups
    calls = []
    real = lookups.files_ending
    monkeypatch.setattr(lookups, "files_ending", lambda name: calls.append(name) or real(name))
    assert len(hand.match(filename="/elsewhere/same.mp4", manual=1)) == 3
    assert len(calls) == 1  # the title tier adds to what the file tier found: no second pass


def test_manual_may_come_as_a_query_parameter(hand: Provider) -> None:
    response = post(hand, {"type": 1, "filename": "/e/same.mp4"}, params={"manual": "1"})
    assert len(response.json["MediaContainer"]["Metadata"]) == 3


def test_path_map(hand_provider) -> None:
    provider = hand_provider(STASHPLEX_MATCH_PATH_MAP="/plex/media = /data/stash")
    items = provider.match(filename="/plex/media/A/same.mp4", manual=1)
    assert [(i["ratingKey"], i["score"]) for i in items] == [("scene-3", 100)]


def test_guid_hint_and_title(hand: Provider) -> None:
    assert hand.match(guid=GUID_PREFIX + "scene-2")[0]["ratingKey"] == "scene-2"
    assert hand.match(guid=GUID_PREFIX + "stash-video-2")[0]["ratingKey"] == "scene-2"
    assert hand.match(guid="tv.plex.agents.custom.stashplex.tv://movie/scene-2") == []
    assert hand.match(guid="imdb://tt0111161") == []
    items = hand.match(title="scene 1", year=2024)
    assert [(i["ratingKey"], i["score"]) for i in items] == [("scene-1", 90)]


# --- tiers over the sample Stash's hard file names --------------------------------------------


def trap_path(scene_id: int, root: str = ROOT, index: int = 0) -> str:
    trap = TRAP_BY_ID[scene_id]
    file = trap.files[index]
    return "/".join([root, *file.folder, file.basename])


@pytest.mark.parametrize("scene_id", sorted(TRAP_BY_ID))
def test_every_hard_name_matches_by_full_path(sample: Provider, scene_id: int) -> None:
    items = sample.match(filename=trap_path(scene_id), manual=1)
    assert [(i["ratingKey"], i["score"]) for i in items] == [(f"scene-{scene_id}", 100)]


@pytest.mark.parametrize("scene_id", sorted(TRAP_BY_ID))
def test_every_hard_name_matches_from_another_mount(sample: Provider, scene_id: int) -> None:
    items = sample.match(filename=trap_path(scene_id, PLEX_ROOT))
    assert [(i["ratingKey"], i["score"]) for i in items] == [(f"scene-{scene_id}", 100)]


def test_second_file_of_a_scene(sample: Provider) -> None:
    items = sample.match(filename=trap_path(13, PLEX_ROOT, index=1))
    assert items[0]["ratingKey"] == "scene-13"


def test_same_basename_in_two_folders(sample: Provider) -> None:
    # With the folder, the suffix decides; without it, both are candidates.
    assert sample.match(filename="/m/Dup B/duplicate name.mp4")[0]["ratingKey"] == "scene-12"
    items = sample.match(filename="/m/duplicate name.mp4", manual=1)
    assert sorted(i["ratingKey"] for i in items) == ["scene-11", "scene-12"]
    assert all(i["score"] < 100 for i in items)


@pytest.mark.parametrize(
    ("filename", "scene_id"),
    [
        ("/x/loud name.mp4", 6),  # case-insensitive basename
        ("/x/LOUD NAME.mkv", 6),  # stem: another container
        ("/x/the.scene.name.2019.720p.x264.mkv", 5),  # stem: another resolution
        ("/x/ünïcödé upper äöü.MP4", 27),  # non-ASCII case folding
        ("C:\\Plex\\Sample Traps\\O'Brien's \"Big\" Night.mp4", 1),  # Windows PMS
        ("/x/whatever {stash-14}.mp4", 14),  # id in the name
        ("/x/whatever [stash-0015].mp4", 15),
    ],
)
def test_fuzzier_tiers(sample: Provider, filename: str, scene_id: int) -> None:
    items = sample.match(filename=filename)
    assert [i["ratingKey"] for i in items] == [f"scene-{scene_id}"]


def test_like_wildcards_are_not_wildcards(sample: Provider) -> None:
    for scene_id in (8, 9, 23, 24, 25):
        items = sample.match(filename="/elsewhere/" + TRAP_BY_ID[scene_id].files[0].basename)
        assert [i["ratingKey"] for i in items] == [f"scene-{scene_id}"]


def test_nfd_and_nfc_names_stay_apart_when_exact(sample: Provider) -> None:
    nfd = sample.match(filename="/m/Sample Traps/Cafe\u0301 Decomposed.mp4")
    nfc = sample.match(filename="/m/Sample Traps/Caf\u00e9 Decomposed.mp4")
    assert nfd[0]["ratingKey"] == "scene-18"
    assert nfc[0]["ratingKey"] == "scene-18"  # via the folded basename


def test_title_tier_only_when_nothing_else(sample: Provider) -> None:
    items = sample.match(filename="/m/not there.mp4", title="CamelCase Regex Target", year=2021)
    assert [(i["ratingKey"], i["score"]) for i in items] == [("scene-14", 90)]
