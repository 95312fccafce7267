"""TV identity: show, season and episode ratingKeys and guids, built and parsed strictly."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stashplex.plex.identity import (
    MAX_ID,
    MOVIE_PROVIDER_ID,
    TV_PROVIDER_ID,
    parse_episode_rating_key,
    parse_scene_guid,
    parse_season_rating_key,
    parse_show_rating_key,
    parse_tv_guid,
    scene_rating_key,
    season_rating_key,
    show_rating_key,
    split_guid,
    tv_guid,
    tv_kind_of,
)

ids = st.integers(min_value=1, max_value=MAX_ID)
seasons = st.integers(min_value=0, max_value=9999)
kinds = st.sampled_from(["studio", "group"])
RATING_KEY_RE = re.compile(r"[A-Za-z0-9_-]+")


def test_the_documented_examples() -> None:
    assert tv_guid("show", show_rating_key("studio", 12)) == f"{TV_PROVIDER_ID}://show/studio-12"
    assert season_rating_key("studio-12", 2024) == "studio-12-2024"
    assert tv_guid("season", "studio-12-2024") == f"{TV_PROVIDER_ID}://season/studio-12-2024"
    assert tv_guid("episode", scene_rating_key(345)) == f"{TV_PROVIDER_ID}://episode/scene-345"
    assert season_rating_key("group-7", 0) == "group-7-0"  # Specials


@given(kinds, ids, seasons)
def test_round_trips(kind: str, entity_id: int, season: int) -> None:
    show = show_rating_key(kind, entity_id)  # type: ignore[arg-type]
    season_key = season_rating_key(show, season)
    for key in (show, season_key):
        assert RATING_KEY_RE.fullmatch(key)
    assert parse_show_rating_key(show) == (kind, entity_id)
    assert parse_season_rating_key(season_key) == (show, season)
    assert tv_kind_of(show) == "show" and tv_kind_of(season_key) == "season"
    assert parse_tv_guid(tv_guid("show", show)) == ("show", show)
    assert parse_tv_guid(tv_guid("season", season_key)) == ("season", season_key)
    assert tv_guid("season", season_key).rsplit("/", 1)[1] == season_key


@given(ids)
def test_episode_round_trip(scene_id: int) -> None:
    key = scene_rating_key(scene_id)
    assert parse_episode_rating_key(key) == scene_id
    assert tv_kind_of(key) == "episode"
    assert parse_tv_guid(tv_guid("episode", key)) == ("episode", key)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "studio",
        "studio-",
        "studio-0",
        "studio-012",
        "Studio-12",
        "performer-12",
        "studio-12-",
        "studio-12-02024",
        "studio-12-10000",
        "studio-12-2024-1",
        "studio-12 ",
        "studio-12\n",
        "studio-١٢",
        "stash-video-5",
        "scene-05",
        "scene-0",
        f"studio-{MAX_ID + 1}",
        "studio-" + "9" * 5000,
        "group-7--1",
    ],
)
def test_rejections(text: str) -> None:
    assert tv_kind_of(text) is None
    assert parse_show_rating_key(text) is None
    assert parse_season_rating_key(text) is None
    assert parse_episode_rating_key(text) is None


def test_guid_kind_must_agree_with_its_rating_key() -> None:
    assert parse_tv_guid(f"{TV_PROVIDER_ID}://show/studio-12-2024") is None
    assert parse_tv_guid(f"{TV_PROVIDER_ID}://season/studio-12") is None
    assert parse_tv_guid(f"{TV_PROVIDER_ID}://episode/studio-12") is None
    assert parse_tv_guid(f"{TV_PROVIDER_ID}://movie/scene-1") is None
    assert parse_tv_guid(f"{MOVIE_PROVIDER_ID}://episode/scene-1") is None
    assert parse_tv_guid("plex://show/5d9c07f72df347001e3a70b4") is None
    assert parse_tv_guid(f"{TV_PROVIDER_ID}://show/studio-12?lang=en") == ("show", "studio-12")


def test_the_two_schemes_never_pass_for_each_other() -> None:
    tv = tv_guid("episode", "scene-9")
    assert parse_scene_guid(tv) is None
    assert split_guid(tv, MOVIE_PROVIDER_ID) is None


@pytest.mark.parametrize(
    "build",
    [
        lambda: show_rating_key("performer", 1),  # type: ignore[arg-type]
        lambda: show_rating_key("studio", 0),
        lambda: show_rating_key("studio", True),  # type: ignore[arg-type]
        lambda: season_rating_key("studio-1", -1),
        lambda: season_rating_key("studio-1", 10000),
        lambda: season_rating_key("studio-01", 2024),
        lambda: season_rating_key("scene-1", 2024),
    ],
)
def test_builders_refuse_bad_parts(build) -> None:
    with pytest.raises(ValueError):
        build()
