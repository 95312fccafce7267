"""POST /tv/library/metadata/matches: every tier for shows, seasons and episodes; bad input."""

from __future__ import annotations

import json

import pytest

from tests.plugins.tvkit import EPISODE_GUID, SEASON_GUID, SHOW_GUID, TV, TvMirror


@pytest.fixture
def m(tv_mirror) -> TvMirror:
    return tv_mirror(STASHPLEX_MATCH_PATH_MAP="/volume1/media = /data/stash")


def best(m: TvMirror, **body) -> tuple[str, int] | None:
    found = m.match(**body)
    assert len(found) <= 1
    return (found[0]["ratingKey"], found[0]["score"]) if found else None


# --- episodes -----------------------------------------------------------------------------------


def test_episode_by_file_first(m: TvMirror) -> None:
    plex_path = "/volume1/media/S2/0001 2024-05-01.mp4"
    assert best(m, type=4, filename=plex_path) == ("scene-1", 100)
    # The file wins over whatever the scanner parsed from the name.
    assert best(m, type=4, filename=plex_path, grandparentTitle="Site A", date="2024-05-01") == (
        "scene-1",
        100,
    )
    assert best(m, type=4, filename="Z:\\elsewhere\\0002 2024-05-01.mp4") == ("scene-2", 100)
    (episode,) = m.match(type=4, filename=plex_path)
    assert episode["type"] == "episode"
    assert episode["guid"] == EPISODE_GUID + "scene-1"
    assert (episode["parentRatingKey"], episode["grandparentTitle"]) == ("studio-2-2024", "Site A")
    assert (episode["index"], episode["parentIndex"]) == (50102, 2024)


def test_episode_by_our_guid(m: TvMirror) -> None:
    assert best(m, type=4, guid=EPISODE_GUID + "scene-6") == ("scene-6", 100)
    assert best(m, type=4, guid="tv.plex.agents.custom.stashplex://movie/scene-6") == (
        "scene-6",
        100,
    )
    assert best(m, type=4, guid=SHOW_GUID + "studio-2") is None


def test_episode_by_show_and_date(m: TvMirror) -> None:
    assert best(m, type=4, grandparentTitle="Site A", date="2019-01-01") == ("scene-5", 100)
    assert best(m, type=4, grandparentTitle="site a!", date="2019-01-01T00:00:00Z") == (
        "scene-5",
        100,
    )
    # Two episodes that day: the one whose title the scanner read comes first.
    assert best(m, type=4, grandparentTitle="Site A", date="2024-05-01", title="Bravo") == (
        "scene-1",
        100,
    )
    ranked = m.match(type=4, grandparentTitle="Site A", date="2024-05-01", manual=1)
    assert [(c["ratingKey"], c["score"]) for c in ranked] == [("scene-2", 90), ("scene-1", 88)]
    ranked = m.match(type=4, grandparentTitle="Site A", date="2024-05-01", title="bravo", manual=1)
    assert [(c["ratingKey"], c["score"]) for c in ranked] == [("scene-1", 100), ("scene-2", 88)]
    # Specials have no air date to match on: the day they were added is not one.
    assert best(m, type=4, grandparentTitle="Site A", date="2024-07-15") is None
    assert best(m, type=4, grandparentTitle="Nobody", date="2024-05-01") is None


def test_episode_by_show_season_and_index(m: TvMirror) -> None:
    assert best(m, type=4, grandparentTitle="Site A", parentIndex=2024, index=50102) == (
        "scene-1",
        100,
    )
    assert best(m, type=4, grandparentTitle="Site A", parentIndex="0", index="1") == (
        "scene-4",
        100,
    )
    assert best(m, type=4, grandparentTitle="Site A", parentIndex=2024, index=3) is None


def test_a_file_of_a_scene_without_a_show_matches_nothing(m: TvMirror) -> None:
    assert best(m, type=4, filename="/volume1/media/S0/0007 2024-05-01.mp4") is None
    assert best(m, type=4, filename="/nowhere/unknown.mp4", title="x") is None
    misses = [miss.filename for miss in m.app.context.misses.recent()]
    assert "/nowhere/unknown.mp4" in misses


def test_fix_match_reads_the_file_tiers_once(m: TvMirror, monkeypatch) -> None:
    lookups = m.app.context.lookups
    calls = []
    real = lookups.files_ending
    monkeypatch.setattr(lookups, "files_ending", lambda name: calls.append(name) or real(name))
    found = m.match(type=4, manual=1, filename="/volume1/media/S2/no such file.mp4", title="x")
    assert calls == ["no such file.mp4"] and found == []  # no second pass over the file tiers


def test_fix_match_gathers_every_tier_best_first(m: TvMirror) -> None:
    found = m.match(
        type=4,
        manual=1,
        filename="/volume1/media/S2/no such file.mp4",
        guid=EPISODE_GUID + "scene-6",
        grandparentTitle="Site A",
        date="2024-05-01",
        parentIndex=2019,
        index=10101,
    )
    scores = [c["score"] for c in found]
    assert [c["ratingKey"] for c in found] == ["scene-6", "scene-2", "scene-1", "scene-5"]
    assert scores == sorted(scores, reverse=True) and scores[0] == 100
    assert len(set(scores)) == len(scores)


# --- shows and seasons --------------------------------------------------------------------------


def test_show_by_file_then_guid_then_title(m: TvMirror) -> None:
    assert best(m, type=2, filename="/volume1/media/S3/0003 2024-06-10.mp4", title="x") == (
        "studio-3",
        100,
    )
    assert best(m, type=2, guid=SHOW_GUID + "studio-4") == ("studio-4", 100)
    assert best(m, type=2, guid=SHOW_GUID + "studio-99") is None
    assert best(m, type=2, title="OTHER  site") == ("studio-4", 90)
    assert best(m, type=2, title="Nothing Like It") is None
    (show,) = m.match(type=2, title="Network")
    assert (show["type"], show["guid"], show["key"]) == (
        "show",
        SHOW_GUID + "studio-1",
        "/library/metadata/studio-1/children",
    )


def test_season_by_file_then_guid_then_show_and_index(m: TvMirror) -> None:
    assert best(m, type=3, filename="/volume1/media/S2/0002 2024-05-01.mp4") == (
        "studio-2-2024",
        100,
    )
    assert best(m, type=3, guid=SEASON_GUID + "studio-2-2019") == ("studio-2-2019", 100)
    assert best(m, type=3, guid=SEASON_GUID + "studio-2-2018") is None
    assert best(m, type=3, parentTitle="Site A", index=2019) == ("studio-2-2019", 100)
    assert best(m, type=3, parentTitle="Site A", index=0) == ("studio-2-0", 100)
    assert best(m, type=3, parentTitle="Site A", index=1999) is None
    (season,) = m.match(type=3, parentTitle="Site A", index=2024)
    assert (season["type"], season["parentTitle"], season["index"]) == ("season", "Site A", 2024)


def test_include_children_in_a_match(m: TvMirror) -> None:
    (season,) = m.match(type=3, parentTitle="Site A", index=2024, includeChildren=1)
    assert [c["ratingKey"] for c in season["Children"]["Metadata"]] == ["scene-2", "scene-1"]
    (show,) = m.match(type=2, title="Site A", includeChildren=True)
    assert show["Children"]["size"] == 3
    (episode,) = m.match(type=4, guid=EPISODE_GUID + "scene-1", includeChildren=1)
    assert "Children" not in episode
    response = m.client.simulate_post(
        TV + "/matches", params={"includeChildren": "1"}, json={"type": 2, "title": "Site A"}
    )
    assert "Children" in response.json["MediaContainer"]["Metadata"][0]


def test_manual_as_a_query_parameter(m: TvMirror) -> None:
    response = m.client.simulate_post(
        TV + "/matches",
        params={"manual": "1"},
        json={"type": 4, "grandparentTitle": "Site A", "date": "2024-05-01"},
    )
    assert len(response.json["MediaContainer"]["Metadata"]) == 2


# --- bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({}, "'type' is required"),
        ({"type": "4"}, "must be an integer"),
        ({"type": True}, "must be an integer"),
        ({"type": 1, "title": "x"}, "movie provider at /"),
        ({"type": 9}, "unknown type 9"),
        ({"type": 4, "index": "abc"}, "'index'"),
        ({"type": 4, "parentIndex": 1.5}, "'parentIndex'"),
        ({"type": 2, "title": 5}, "'title' must be a string"),
        ({"type": 4, "grandparentTitle": ["x"]}, "'grandparentTitle'"),
        ({"type": 4, "date": 20240501}, "'date' must be a string"),
        ({"type": 2, "manual": "yes"}, "'manual'"),
        ({"type": 2, "includeChildren": {}}, "'includeChildren'"),
        ({"type": 2, "filename": "x" * 5000}, "longer than"),
    ],
)
def test_bad_bodies_are_json_400(m: TvMirror, body: dict, reason: str) -> None:
    response = m.client.simulate_post(TV + "/matches", json=body)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert reason in response.json["error"]["reason"]


@pytest.mark.parametrize("raw", [b"", b"[]", b"{", b"\xff"])
def test_unreadable_bodies_are_json_400(m: TvMirror, raw: bytes) -> None:
    response = m.client.simulate_post(TV + "/matches", body=raw)
    assert response.status_code == 400


def test_nonsense_hints_are_no_hints(m: TvMirror) -> None:
    for date in ("someday", "2024-13-01", "", "2024-05"):
        body = {"type": 4, "grandparentTitle": "Site A", "date": date, "year": "2024"}
        response = m.client.simulate_post(TV + "/matches", body=json.dumps(body))
        assert response.status_code == 200
        assert response.json["MediaContainer"]["size"] == 0
    assert best(m, type=3, parentTitle="Site A", index=123456789) is None
