"""The TV provider's routes through falcon.testing over a hand-built mirror."""

from __future__ import annotations

import re

import pytest
from falcon import testing

from stashplex.web.app import create_app
from tests.plugins.tvkit import EPISODE_GUID, SEASON_GUID, SHOW_GUID, TvMirror

RATING_KEY = re.compile(r"[A-Za-z0-9_-]+")
HOST = {"Host": "plex-helper.lan:7979"}


@pytest.fixture
def m(tv_mirror) -> TvMirror:
    return tv_mirror()


def json_error(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.json["error"]["status"] == status
    return response.json["error"]


def one(response) -> dict:
    assert response.status_code == 200, response.text
    container = response.json["MediaContainer"]
    assert container["identifier"] == "tv.plex.agents.custom.stashplex.tv"
    (item,) = container["Metadata"]
    assert item["guid"].rsplit("/", 1)[1] == item["ratingKey"]
    assert RATING_KEY.fullmatch(item["ratingKey"])
    return item


def keys(response) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["ratingKey"] for item in response.json["MediaContainer"]["Metadata"]]


# --- provider ---------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/tv", "/tv/"])
def test_provider_description(m: TvMirror, path: str) -> None:
    response = m.client.simulate_get(path, params={"includePreferences": "1"})
    assert response.status_code == 200
    media = response.json["MediaProvider"]
    assert media["identifier"] == "tv.plex.agents.custom.stashplex.tv"
    scheme = [{"scheme": media["identifier"]}]
    assert media["Types"] == [{"type": t, "Scheme": scheme} for t in (2, 3, 4)]
    # Relative to the registered base (`…/tv`): PMS appends them to it.
    assert {f["type"]: f["key"] for f in media["Feature"]} == {
        "metadata": "/library/metadata",
        "match": "/library/metadata/matches",
    }


def test_the_movie_provider_is_unchanged(m: TvMirror) -> None:
    media = m.client.simulate_get("/").json["MediaProvider"]
    assert media["identifier"] == "tv.plex.agents.custom.stashplex"
    assert [t["type"] for t in media["Types"]] == [1]
    assert m.client.simulate_get("/library/metadata/scene-1").status_code == 200


def test_status_page_names_the_tv_url(m: TvMirror) -> None:
    page = m.client.simulate_get("/status", headers=HOST).text
    assert "http://plex-helper.lan:7979/tv" in page


# --- metadata ---------------------------------------------------------------------------------


def test_show(m: TvMirror) -> None:
    show = one(m.get("/studio-2", headers=HOST))
    assert show["type"] == "show"
    assert show["guid"] == SHOW_GUID + "studio-2"
    assert show["key"] == "/library/metadata/studio-2/children"
    assert show["title"] == "Site A"
    assert show["originallyAvailableAt"] == "2019-01-01"
    assert {g["tag"] for g in show["Genre"]} == {"Outdoor", "Indoor"}
    assert show["thumb"].startswith("http://plex-helper.lan:7979/stash/scene/")  # no own image
    network = one(m.get("/studio-1"))
    assert network["thumb"].endswith("/stash/studio/1/image?v=3")
    assert network["summary"] == "The network."


def test_season(m: TvMirror) -> None:
    season = one(m.get("/studio-2-2024"))
    assert season["type"] == "season"
    assert season["guid"] == SEASON_GUID + "studio-2-2024"
    assert season["key"] == "/library/metadata/studio-2-2024/children"
    assert (season["index"], season["title"], season["parentRatingKey"]) == (
        2024,
        "2024",
        "studio-2",
    )
    assert season["originallyAvailableAt"] == "2024-05-01"
    specials = one(m.get("/studio-2-0"))
    assert (specials["title"], specials["index"]) == ("Specials", 0)


def test_episode(m: TvMirror) -> None:
    episode = one(m.get("/scene-2", headers=HOST))
    assert episode["type"] == "episode"
    assert episode["guid"] == EPISODE_GUID + "scene-2"
    assert episode["key"] == "/library/metadata/scene-2"
    assert (episode["title"], episode["index"], episode["parentIndex"]) == ("Alpha", 50101, 2024)
    assert episode["parentRatingKey"] == "studio-2-2024"
    assert episode["grandparentRatingKey"] == "studio-2"
    assert episode["grandparentTitle"] == "Site A"
    assert episode["originallyAvailableAt"] == "2024-05-01"
    assert episode["duration"] == 90000
    assert [r["tag"] for r in episode["Role"]] == ["Jane", "John"]
    assert episode["Role"][0]["thumb"] == "http://plex-helper.lan:7979/stash/performer/1/image?v=11"
    assert episode["thumb"] == "http://plex-helper.lan:7979/stash/scene/2/screenshot?v=170000"
    assert [i["type"] for i in episode["Image"]] == ["snapshot", "background"]
    assert "Genre" not in episode


def test_seasons_and_episodes_do_not_ask_again_whether_their_show_exists(
    m: TvMirror, monkeypatch
) -> None:
    from stashplex.mirror.tv_lookups import TvLookups

    asked: list[str] = []
    real = TvLookups._first

    def first(self: TvLookups, name: str, *params: object) -> tuple | None:
        asked.append(name)
        return real(self, name, *params)

    monkeypatch.setattr(TvLookups, "_first", first)
    assert one(m.get("/studio-2-2024"))["type"] == "season"
    assert one(m.get("/scene-2"))["type"] == "episode"
    assert "show_has_episodes" not in asked  # a season or an episode row proves it
    assert one(m.get("/studio-2"))["type"] == "show"
    assert "show_has_episodes" in asked


def test_trim_hints(m: TvMirror) -> None:
    episode = one(m.get("/scene-2", params={"excludeElements": "Role,Image", "includeFields": "x"}))
    assert "Role" not in episode and "Image" not in episode and "summary" not in episode
    assert {"ratingKey", "key", "guid", "type", "title"} <= episode.keys()


BAD_KEYS = [
    "studio-99",  # no such studio
    "studio-1-1999",  # no such season
    "studio-99-2024",
    "group-1",  # a group is no show when shows are studios
    "scene-7",  # a scene without a studio is no episode
    "scene-999",
    "scene-02",
    "stash-video-1",
    "studio-2x",
    "movie-1",
    "a" * 300,
    "%20",
]


def test_unknown_and_malformed_keys_are_json_404(m: TvMirror) -> None:
    for key in BAD_KEYS:
        for suffix in ("", "/children", "/grandchildren", "/images", "/extras"):
            json_error(m.get(f"/{key}{suffix}"), 404)


# --- children ---------------------------------------------------------------------------------


def test_children_of_a_show_are_its_seasons(m: TvMirror) -> None:
    response = m.get("/studio-2/children")
    assert keys(response) == ["studio-2-0", "studio-2-2019", "studio-2-2024"]
    container = response.json["MediaContainer"]
    assert (container["offset"], container["size"], container["totalSize"]) == (0, 3, 3)
    assert response.headers["X-Plex-Container-Total-Size"] == "3"
    assert all(s["type"] == "season" for s in container["Metadata"])


def test_children_of_a_season_are_its_episodes_in_index_order(m: TvMirror) -> None:
    response = m.get("/studio-2-2024/children")
    assert keys(response) == ["scene-2", "scene-1"]
    assert [e["index"] for e in response.json["MediaContainer"]["Metadata"]] == [50101, 50102]


def test_grandchildren_of_a_show_are_all_its_episodes(m: TvMirror) -> None:
    response = m.get("/studio-2/grandchildren")
    assert keys(response) == ["scene-4", "scene-5", "scene-2", "scene-1"]
    assert response.headers["X-Plex-Container-Total-Size"] == "4"


def test_leaves_have_no_children(m: TvMirror) -> None:
    for path in ("/scene-1/children", "/scene-1/grandchildren", "/studio-2-2024/grandchildren"):
        response = m.get(path)
        assert keys(response) == []
        assert response.json["MediaContainer"]["totalSize"] == 0


@pytest.mark.parametrize(
    ("start", "size", "expected"),
    [
        ("0", "2", ["scene-4", "scene-5"]),
        ("2", "2", ["scene-2", "scene-1"]),
        ("3", "20", ["scene-1"]),
        ("4", "20", []),  # just past the end
        ("400", "20", []),
        ("1", "0", []),  # size 0: the total alone
        ("", "", ["scene-4", "scene-5", "scene-2", "scene-1"]),  # blank is absent
        (" 1", "1 ", ["scene-5"]),
    ],
)
def test_paging(m: TvMirror, start: str, size: str, expected: list[str]) -> None:
    for how in ("headers", "params"):
        window = {"X-Plex-Container-Start": start, "X-Plex-Container-Size": size}
        response = m.get("/studio-2/grandchildren", **{how: window})
        assert keys(response) == expected
        container = response.json["MediaContainer"]
        assert container["totalSize"] == 4 and container["size"] == len(expected)
        assert container["offset"] == int(start or 0)
        assert response.headers["X-Plex-Container-Total-Size"] == "4"


def test_bad_paging_values_are_400(m: TvMirror) -> None:
    for name in ("X-Plex-Container-Start", "X-Plex-Container-Size"):
        for value in ("-1", "abc", "1.5", "0x10", "1e3", "١", "9" * 10, "+3"):
            error = json_error(m.get("/studio-2/children", params={name: value}), 400)
            assert name in error["reason"]
            json_error(m.get("/studio-2-2024/children", headers={name: value}), 400)
            json_error(m.get("/studio-2/grandchildren", headers={name: value}), 400)


def test_the_query_wins_over_the_header_and_sizes_are_capped(m: TvMirror) -> None:
    response = m.get(
        "/studio-2/grandchildren",
        headers={"X-Plex-Container-Size": "1"},
        params={"X-Plex-Container-Size": "3"},
    )
    assert len(keys(response)) == 3
    huge = m.get("/studio-2/grandchildren", params={"X-Plex-Container-Size": "999999999"})
    assert len(keys(huge)) == 4


def test_include_children(m: TvMirror) -> None:
    show = one(m.get("/studio-2", params={"includeChildren": "1"}))
    assert show["Children"]["size"] == 3
    assert [s["ratingKey"] for s in show["Children"]["Metadata"]] == [
        "studio-2-0",
        "studio-2-2019",
        "studio-2-2024",
    ]
    season = one(m.get("/studio-2-2024", params={"includeChildren": "1"}))
    children = season["Children"]["Metadata"]
    assert [(c["ratingKey"], c["index"], c["parentIndex"]) for c in children] == [
        ("scene-2", 50101, 2024),
        ("scene-1", 50102, 2024),
    ]
    assert children[0]["grandparentRatingKey"] == "studio-2"
    assert "Children" not in one(m.get("/scene-1", params={"includeChildren": "1"}))
    assert "Children" not in one(m.get("/studio-2", params={"includeChildren": "0"}))


# --- images and extras --------------------------------------------------------------------------


def test_images(m: TvMirror) -> None:
    def images(key: str) -> list[tuple[str, str]]:
        response = m.get(f"/{key}/images", headers=HOST)
        assert response.status_code == 200
        return [(i["type"], i["url"]) for i in response.json["MediaContainer"]["Image"]]

    base = "http://plex-helper.lan:7979/stash"
    assert images("studio-1") == [
        ("coverPoster", f"{base}/studio/1/image?v=3"),
        ("background", f"{base}/scene/8/screenshot?v=170000"),
    ]
    assert images("studio-2-2019") == [
        ("coverPoster", f"{base}/scene/5/screenshot?v=170000"),
        ("background", f"{base}/scene/5/screenshot?v=170000"),
    ]
    assert images("scene-3") == [
        ("snapshot", f"{base}/scene/3/screenshot?v=170000"),
        ("background", f"{base}/scene/3/screenshot?v=170000"),
    ]


@pytest.mark.parametrize("key", ["studio-2", "studio-2-2024", "scene-1"])
def test_extras_are_empty(m: TvMirror, key: str) -> None:
    response = m.get(f"/{key}/extras")
    assert response.status_code == 200
    assert response.json["MediaContainer"]["Metadata"] == []


# --- show_by modes ------------------------------------------------------------------------------


def test_parent_studio_mode(tv_mirror) -> None:
    m = tv_mirror("parent_studio")
    assert keys(m.get("/studio-1/children")) == ["studio-1-0", "studio-1-2019", "studio-1-2024"]
    assert keys(m.get("/studio-1-2024/children")) == ["scene-8", "scene-2", "scene-1", "scene-3"]
    assert one(m.get("/scene-3"))["grandparentTitle"] == "Network"
    json_error(m.get("/studio-2"), 404)  # a child studio is no show of its own now


def test_group_mode(tv_mirror) -> None:
    m = tv_mirror("group")
    show = one(m.get("/group-1"))
    assert (show["title"], show["summary"], show["originallyAvailableAt"]) == (
        "Series One",
        "A series.",
        "2019-05-01",
    )
    assert show["thumb"].endswith("/stash/group/1/front?v=7")
    assert keys(m.get("/group-1-2024/children")) == ["scene-7", "scene-3"]
    assert one(m.get("/scene-7"))["grandparentRatingKey"] == "group-1"
    json_error(m.get("/studio-2"), 404)


def test_tv_answers_tell_the_artwork_uploader(m: TvMirror) -> None:
    heard: list[str] = []
    app = create_app(m.settings, db=m.db, on_item=heard.append)
    client = testing.TestClient(app)
    try:
        for rating_key in ("studio-2", "scene-1", "no-such-item"):
            client.simulate_get(f"/tv/library/metadata/{rating_key}")
        season = client.simulate_get("/tv/library/metadata/studio-2/children").json
        season_key = season["MediaContainer"]["Metadata"][0]["ratingKey"]
        client.simulate_get(f"/tv/library/metadata/{season_key}")
    finally:
        app.close()
    # Every item answered, by guid, once per answer; lists and misses say nothing.
    assert heard == [SHOW_GUID + "studio-2", EPISODE_GUID + "scene-1", SEASON_GUID + season_key]
