"""The strict Plex identity rules: ratingKeys, guids, keys and ids in file names."""

from __future__ import annotations

import re

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from stashplex.plex.identity import (
    MAX_ID,
    MOVIE_PROVIDER_ID,
    TV_PROVIDER_ID,
    is_valid_provider_id,
    is_valid_rating_key,
    make_guid,
    metadata_key,
    parse_scene_guid,
    parse_scene_rating_key,
    scene_guid,
    scene_id_in_filename,
    scene_key,
    scene_rating_key,
    split_guid,
)

ids = st.integers(min_value=1, max_value=MAX_ID)
RATING_KEY_RE = re.compile(r"[A-Za-z0-9_-]+")


def test_provider_ids_follow_the_identifier_rule() -> None:
    assert MOVIE_PROVIDER_ID == "tv.plex.agents.custom.stashplex"
    assert is_valid_provider_id(MOVIE_PROVIDER_ID)
    assert is_valid_provider_id(TV_PROVIDER_ID)
    for bad in (
        "tv.plex.agents.custom.stash-plex",
        "tv.plex.agents.custom.stash_plex",
        "stashplex",
    ):
        assert not is_valid_provider_id(bad)


def test_scene_builders() -> None:
    assert scene_rating_key(123) == "scene-123"
    assert scene_guid(123) == "tv.plex.agents.custom.stashplex://movie/scene-123"
    assert scene_key(123) == "/library/metadata/scene-123"


@given(ids)
def test_rating_key_is_the_guid_last_segment_and_round_trips(scene_id: int) -> None:
    rating_key = scene_rating_key(scene_id)
    assert RATING_KEY_RE.fullmatch(rating_key)
    assert scene_guid(scene_id).rsplit("/", 1)[1] == rating_key
    assert scene_key(scene_id).rsplit("/", 1)[1] == rating_key
    assert parse_scene_rating_key(rating_key) == scene_id
    assert parse_scene_guid(scene_guid(scene_id)) == scene_id
    assert parse_scene_rating_key(f"stash-video-{scene_id}") == scene_id


@pytest.mark.parametrize("bad", [0, -1, MAX_ID + 1, True, "5", 5.0, None])
def test_builders_reject_non_ids(bad: object) -> None:
    with pytest.raises(ValueError):
        scene_rating_key(bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        scene_guid(bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        scene_key(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("scene-1", 1),
        ("scene-123", 123),
        ("stash-video-7", 7),
        (f"scene-{MAX_ID}", MAX_ID),
        (f"stash-video-{MAX_ID}", MAX_ID),
    ],
)
def test_parse_rating_key_accepts(text: str, expected: int) -> None:
    assert parse_scene_rating_key(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "scene-",
        "scene",
        "123",
        "scene-0",
        "scene-007",  # not canonical: would give two keys for one scene
        "scene--1",
        "scene-+1",
        "scene-1-",
        "scene- 1",
        " scene-1",
        "scene-1 ",
        "scene-1\n",
        "scene-١٢٣",  # Arabic-Indic digits
        "scene-1٢٣",  # ASCII first digit, then Arabic-Indic
        "stash-video-9٣",
        "scene-۱۲",  # extended Arabic-Indic digits
        "scene-１２",  # fullwidth digits
        "scene-²",
        f"scene-{MAX_ID + 1}",
        "scene-99999999999999999999",
        "scene-" + "9" * 5000,  # beyond int()'s digit limit: must not raise
        "Scene-1",
        "SCENE-1",
        "movie-1",
        "stash-1",
        "stash-video-",
        "stash-video-0",
        "scene-1x",
        "scene-1.0",
        "scene-1/2",
        "scene-0x1f",
        "stash-video-scene-1",
    ],
)
def test_parse_rating_key_rejects(text: str) -> None:
    assert parse_scene_rating_key(text) is None


def test_parse_rating_key_rejects_non_strings() -> None:
    assert parse_scene_rating_key(None) is None  # type: ignore[arg-type]
    assert parse_scene_rating_key(123) is None  # type: ignore[arg-type]


@given(st.text())
@example("scene-" + "1" * 4500)
@example("stash-video-00000000000000000000001")
def test_parse_rating_key_never_raises_and_is_canonical(text: str) -> None:
    scene_id = parse_scene_rating_key(text)
    if scene_id is not None:
        assert text in (scene_rating_key(scene_id), f"stash-video-{scene_id}")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("tv.plex.agents.custom.stashplex://movie/scene-123", 123),
        ("tv.plex.agents.custom.stashplex://movie/stash-video-9", 9),
        # Legacy agents stored guids with "?lang=xx": the ratingKey is still unambiguous.
        ("tv.plex.agents.custom.stashplex://movie/scene-123?lang=en", 123),
        ("tv.plex.agents.custom.stashplex://movie/scene-123#x", 123),
    ],
)
def test_parse_guid_accepts(text: str, expected: int) -> None:
    assert parse_scene_guid(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "scene-123",
        "plex://movie/5d776b59ad5437001f79c6f8",
        "imdb://tt0111161",
        "tmdb://278",
        "com.plexapp.agents.imdb://tt0111161?lang=en",
        "tv.plex.agents.custom.stashplex.tv://movie/scene-1",  # TV scheme extends ours
        "tv.plex.agents.custom.stashplex.tv://episode/scene-1",
        "tv.plex.agents.custom.stashplexx://movie/scene-1",
        "TV.PLEX.AGENTS.CUSTOM.STASHPLEX://movie/scene-1",
        "tv.plex.agents.custom.stashplex://episode/scene-1",
        "tv.plex.agents.custom.stashplex://Movie/scene-1",
        "tv.plex.agents.custom.stashplex://movie/scene-1/",
        "tv.plex.agents.custom.stashplex://movie/scene-1/extra",
        "tv.plex.agents.custom.stashplex://movie/",
        "tv.plex.agents.custom.stashplex://movie",
        "tv.plex.agents.custom.stashplex://movie/scene-0",
        "tv.plex.agents.custom.stashplex://movie/studio-12",
        "tv.plex.agents.custom.stashplex:/movie/scene-1",
        " tv.plex.agents.custom.stashplex://movie/scene-1",
        "tv.plex.agents.custom.stashplex://movie/scene-1 ",
        "tv.plex.agents.custom.stashplex://movie//scene-1",
    ],
)
def test_parse_guid_rejects(text: str) -> None:
    assert parse_scene_guid(text) is None


@given(st.text())
def test_parse_guid_never_raises(text: str) -> None:
    parse_scene_guid(text)
    parse_scene_guid(MOVIE_PROVIDER_ID + "://movie/" + text)


def test_guid_with_another_provider_id() -> None:
    other = "tv.plex.agents.custom.stashplex2"
    guid = scene_guid(5, other)
    assert guid == "tv.plex.agents.custom.stashplex2://movie/scene-5"
    assert parse_scene_guid(guid, other) == 5
    assert parse_scene_guid(guid) is None
    assert parse_scene_guid(scene_guid(5), other) is None


def test_generic_guid_helpers_leave_room_for_tv() -> None:
    guid = make_guid(TV_PROVIDER_ID, "season", "studio-12-2024")
    assert guid == "tv.plex.agents.custom.stashplex.tv://season/studio-12-2024"
    assert split_guid(guid, TV_PROVIDER_ID) == ("season", "studio-12-2024")
    assert split_guid(guid, MOVIE_PROVIDER_ID) is None
    assert metadata_key("studio-12") == "/library/metadata/studio-12"


@pytest.mark.parametrize(
    ("provider_id", "kind", "rating_key"),
    [
        ("tv.plex.agents.custom.stash-plex", "movie", "scene-1"),
        ("plex", "movie", "scene-1"),
        (MOVIE_PROVIDER_ID, "album", "scene-1"),
        (MOVIE_PROVIDER_ID, "movie", "scene 1"),
        (MOVIE_PROVIDER_ID, "movie", "scene/1"),
        (MOVIE_PROVIDER_ID, "movie", ""),
    ],
)
def test_make_guid_rejects_invalid_parts(provider_id: str, kind: str, rating_key: str) -> None:
    with pytest.raises(ValueError):
        make_guid(provider_id, kind, rating_key)  # type: ignore[arg-type]


def test_rating_key_charset() -> None:
    assert is_valid_rating_key("scene-1_a")
    for bad in ("", "scene 1", "scene/1", "scène-1", "scene-1\n", "scene?1"):
        assert not is_valid_rating_key(bad)
    with pytest.raises(ValueError):
        metadata_key("a/b")


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/media/Site/Title {stash-123}.mkv", 123),
        ("/media/Site/Title [stash-123].mkv", 123),
        ("/media/Site/Title [STASH-42].mp4", 42),
        ("/media/Site/Title {Stash-42}.mp4", 42),
        ("{stash-7}", 7),
        ("Title {stash-007}.mkv", 7),  # typed by hand: leading zeros are fine here
        (r"D:\Media\Site\Title [stash-55].mkv", 55),
        (r"\\nas\share\Title {stash-56}.mkv", 56),
        ("/media/Site [stash-1]/Title [stash-2].mkv", 2),  # folder id ignored
        (r"C:\Site {stash-1}\Title.mkv", None),
        ("/media/Site {stash-1}/Title.mkv", None),
        ("/media/Title [stash-5] copy [stash-5].mkv", 5),  # same id twice is not ambiguous
        ("/media/Title [stash-5] [stash-6].mkv", None),  # ambiguous
        ("/media/Title {stash-5} [stash-6].mkv", None),
        ("/media/Title {stash-5].mkv", None),  # mismatched brackets
        ("/media/Title (stash-5).mkv", None),
        ("/media/Title stash-5.mkv", None),
        ("/media/Title {stash-}.mkv", None),
        ("/media/Title {stash-0}.mkv", None),
        ("/media/Title {stash--5}.mkv", None),
        ("/media/Title {stash-١٢}.mkv", None),
        ("/media/Title {stash-5 }.mkv", None),
        (f"/media/Title {{stash-{MAX_ID + 1}}}.mkv", None),
        ("/media/Title {stash-0} {stash-9}.mkv", 9),  # an invalid token is no competitor
        ("/media/Title.mkv", None),
        ("", None),
    ],
)
def test_scene_id_in_filename(path: str, expected: int | None) -> None:
    assert scene_id_in_filename(path) == expected


@given(st.text(), ids)
def test_scene_id_in_filename_never_raises_and_ignores_folders(folder: str, scene_id: int) -> None:
    scene_id_in_filename(folder)
    # Whatever the folders say (even other ids), only the basename decides.
    path = f"/x/{folder} [stash-{scene_id + 1}]/Name [stash-{scene_id}].mkv"
    assert scene_id_in_filename(path) == scene_id
    assert scene_id_in_filename(path.replace("/", "\\")) == scene_id
