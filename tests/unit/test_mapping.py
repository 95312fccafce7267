"""Stash records -> Plex JSON: every field rule, on hand-built records and random ones."""

from __future__ import annotations

import dataclasses
import json
import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stashplex.plex.identity import MAX_ID, MOVIE_PROVIDER_ID, parse_scene_rating_key
from stashplex.plex.mapping import (
    MappingOptions,
    container,
    group_front_path,
    image_container,
    match_candidate,
    parse_stash_date,
    performer_image_path,
    scene_images,
    scene_metadata,
    scene_poster_path,
    scene_screenshot_path,
    stash_box_scheme,
    studio_image_path,
    trim_metadata,
)
from stashplex.records import (
    Group,
    Performer,
    Scene,
    SceneBundle,
    SceneGroup,
    StashId,
    Studio,
    Tag,
    VideoFile,
)

BASE = "http://192.168.1.81:7979"
OPTS = MappingOptions(base_url=BASE)
UPDATED = "2024-06-01T10:00:00+02:00"


def make_scene(**fields: Any) -> Scene:
    fields.setdefault("id", 42)
    fields.setdefault("updated_at", UPDATED)
    return Scene(**fields)


def video(basename: str = "Clip.Name.mkv", duration: float | None = 60.0, **kw: Any) -> VideoFile:
    path = f"/private/library/{basename}"
    return VideoFile(id=1, path=path, basename=basename, duration=duration, **kw)


def bundle(scene: Scene | None = None, **fields: Any) -> SceneBundle:
    return SceneBundle(scene=scene or make_scene(), **fields)


def meta(b: SceneBundle, opts: MappingOptions = OPTS) -> dict[str, Any]:
    return scene_metadata(b, opts)


def full_bundle() -> SceneBundle:
    scene = make_scene(
        title="A Title",
        code="ABC-123",
        details="Some details.",
        director="Jane Roe, John Doe & Max Mustermann",
        date="2023-04-05",
        rating100=87,
        created_at="2023-05-01T12:00:00+02:00",
        screenshot_version="1700000000",
        files=(video(duration=1234.5678), video("second.mp4")),
        studio_id=7,
        performer_ids=(1, 2),
        tag_ids=(1, 2, 3),
        groups=(SceneGroup(3, 2),),
        stash_ids=(
            StashId("https://stashdb.org/graphql", "0b8a3a3e-1111-2222-3333-444455556666"),
            StashId("https://api.theporndb.net/graphql", "tpdb-id"),
        ),
    )
    return SceneBundle(
        scene=scene,
        studio=Studio(7, "Studio Seven", parent_id=8, image_version="5"),
        parent_studio=Studio(8, "Network Eight"),
        performers=(
            Performer(1, "Alice", disambiguation="the first", image_version="111"),
            Performer(2, "Bob"),
        ),
        tags=(Tag(1, "Outdoor"), Tag(2, "Kissing"), Tag(3, "outdoor")),
        groups=((Group(3, "Series One", front_image_version="77"), 2),),
    )


def walk(value: Any, path: str = "$") -> list[str]:
    """Paths of every None, empty string, empty list or empty dict inside value."""
    bad = []
    if value is None or value == "" or value == [] or value == {}:
        bad.append(path)
    if isinstance(value, dict):
        for key, item in value.items():
            bad += walk(item, f"{path}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            bad += walk(item, f"{path}[{i}]")
    return bad


# --- options and routes -----------------------------------------------------------------------


def test_options_normalise_and_validate() -> None:
    opts = MappingOptions(base_url=BASE + "/", ignore_tags=frozenset({" Foo ", "", "BAR"}))
    assert opts.base_url == BASE
    assert opts.ignore_tags == frozenset({"foo", "bar"})
    for bad in ("", "/", "http://h/?a=1", "http://h#x", "http://h /x"):
        with pytest.raises(ValueError):
            MappingOptions(base_url=bad)
    with pytest.raises(ValueError):
        MappingOptions(base_url=BASE, provider_id="tv.plex.agents.custom.stash-plex")
    with pytest.raises(TypeError):
        MappingOptions(base_url=BASE, ignore_tags="foo")  # type: ignore[arg-type]


def test_placeholder_base_url() -> None:
    # The mirror stores documents with a NUL token as base and substitutes it per request.
    m = meta(bundle(), MappingOptions(base_url="\x00"))
    assert m["thumb"] == "\x00/stash/scene/42/screenshot"
    assert all(image["url"].startswith("\x00/stash/") for image in m["Image"])


def test_image_routes_and_versions() -> None:
    assert scene_screenshot_path(5) == "/stash/scene/5/screenshot"
    assert scene_screenshot_path(5, "1700") == "/stash/scene/5/screenshot?v=1700"
    assert scene_screenshot_path(5, "") == "/stash/scene/5/screenshot"
    assert scene_poster_path(5, "9") == "/stash/scene/5/poster?v=9"
    assert performer_image_path(6, "1") == "/stash/performer/6/image?v=1"
    assert studio_image_path(7) == "/stash/studio/7/image"
    assert group_front_path(8, "2") == "/stash/group/8/front?v=2"
    # A version is opaque text from Stash: it must not break out of the query string.
    assert scene_poster_path(5, "a b&c=d#e") == "/stash/scene/5/poster?v=a%20b%26c%3Dd%23e"
    for bad in (0, -3, True, MAX_ID + 1):
        with pytest.raises(ValueError):
            studio_image_path(bad)


# --- identity and title -----------------------------------------------------------------------


def test_identity_fields() -> None:
    m = meta(bundle(make_scene(id=123)))
    assert m["type"] == "movie"
    assert m["ratingKey"] == "scene-123"
    assert m["key"] == "/library/metadata/scene-123"
    assert m["guid"] == "tv.plex.agents.custom.stashplex://movie/scene-123"
    assert list(m)[:5] == ["type", "ratingKey", "key", "guid", "title"]


def test_guid_uses_configured_provider() -> None:
    opts = MappingOptions(base_url=BASE, provider_id="tv.plex.agents.custom.stashplex2")
    assert meta(bundle(), opts)["guid"] == "tv.plex.agents.custom.stashplex2://movie/scene-42"


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"title": "  Real Title \n", "code": "C-1", "files": (video(),)}, "Real Title"),
        ({"title": "   ", "code": " C-1 ", "files": (video(),)}, "C-1"),
        ({"title": "", "code": "", "files": (video("My.Clip.Name.mkv"),)}, "My.Clip.Name"),
        ({"title": None, "files": (video("noext"),)}, "noext"),
        ({"title": None, "files": (video(".hidden"),)}, ".hidden"),
        ({"title": None, "files": (video("   .mkv"),)}, "Scene 42"),
        ({"title": None, "files": (video("first.mkv"), video("second.mkv"))}, "first"),
        ({"title": " ", "code": " "}, "Scene 42"),
        ({}, "Scene 42"),
    ],
)
def test_title_fallbacks(fields: dict[str, Any], expected: str) -> None:
    assert meta(bundle(make_scene(**fields)))["title"] == expected


def test_title_from_path_when_basename_is_missing() -> None:
    file = VideoFile(id=1, path=r"D:\lib\Windows Name.mp4", basename="")
    assert meta(bundle(make_scene(files=(file,))))["title"] == "Windows Name"


def test_no_file_path_in_metadata() -> None:
    m = meta(full_bundle())
    assert "/private/library" not in json.dumps(m)
    assert "Clip.Name.mkv" not in json.dumps(m)


# --- dates ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("date", "expected", "year"),
    [
        ("2023-04-05", "2023-04-05", 2023),
        ("2023-04", "2023-04-01", 2023),
        ("2023", "2023-01-01", 2023),
        (" 2023-04-05 ", "2023-04-05", 2023),
        ("2024-02-29", "2024-02-29", 2024),
    ],
)
def test_dates(date: str, expected: str, year: int) -> None:
    m = meta(bundle(make_scene(date=date, created_at="2020-01-02T03:04:05Z")))
    assert m["originallyAvailableAt"] == expected
    assert m["year"] == year


@pytest.mark.parametrize(
    "date",
    [
        None,
        "",
        "2024-13-45",
        "2023-02-29",
        "2024-00",
        "2024-01-00",
        "0000",
        "24-01-01",
        "2024/01/01",
        "2024-1-1",
        "2024-01-01T10:00:00",
        "yesterday",
        "２０２４",
        "١٩٩٩",
    ],
)
def test_unusable_date_falls_back_to_created_at_without_year(date: str | None) -> None:
    m = meta(bundle(make_scene(date=date, created_at="2021-07-08T23:30:00-05:00")))
    assert m["originallyAvailableAt"] == "2021-07-08"  # Stash's local date, not converted
    assert "year" not in m


def test_date_fallback_order() -> None:
    m = meta(bundle(make_scene(created_at="garbage", updated_at="2022-03-04T05:06:07+00:00")))
    assert m["originallyAvailableAt"] == "2022-03-04"
    assert "year" not in m
    m = meta(bundle(make_scene(created_at="2021-02-30T00:00:00Z", updated_at="nope")))
    assert "originallyAvailableAt" not in m
    m = meta(bundle(make_scene(created_at="2021-02-03X", updated_at="2020-01-01")))
    assert m["originallyAvailableAt"] == "2020-01-01"


def test_parse_stash_date() -> None:
    assert parse_stash_date("1999") is not None
    assert parse_stash_date("99999") is None
    assert parse_stash_date(None) is None


# --- scalars ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "ms"),
    [
        (60.0, 60000),
        (1234.5678, 1234568),
        (0.0015, 2),  # half up, not banker's rounding
        (0.0025, 3),
        (12.3454, 12345),
        (0.0004, None),
        (2_147_483.647, 2_147_483_647),
        (2_147_483.648, None),  # beyond a 32-bit millisecond count: corrupt metadata
        (1.7976931348623157e305, None),
        (0.0, None),
        (-5.0, None),
        (float("nan"), None),
        (float("inf"), None),
        (None, None),
    ],
)
def test_duration_in_milliseconds(seconds: float | None, ms: int | None) -> None:
    m = meta(bundle(make_scene(files=(video(duration=seconds),))))
    assert m.get("duration") == ms
    if ms is not None:
        assert type(m["duration"]) is int


def test_duration_comes_from_the_primary_file() -> None:
    scene = make_scene(files=(video(duration=None), video(duration=30.0)))
    assert "duration" not in meta(bundle(scene))


def test_text_fields_and_content_rating() -> None:
    m = meta(full_bundle())
    assert m["summary"] == "Some details."
    assert m["tagline"] == "ABC-123"
    assert m["studio"] == "Studio Seven"
    assert m["contentRating"] == "XXX"
    assert m["isAdult"] is True
    m = meta(bundle(make_scene(details="  ", code="")), MappingOptions(BASE, content_rating=""))
    for key in ("summary", "tagline", "studio", "contentRating"):
        assert key not in m
    assert meta(bundle(), MappingOptions(BASE, content_rating="NC-17"))["contentRating"] == "NC-17"


# --- images -----------------------------------------------------------------------------------


def test_thumb_art_and_images_default() -> None:
    m = meta(full_bundle())
    shot = f"{BASE}/stash/scene/42/screenshot?v=1700000000"
    assert m["thumb"] == shot
    assert m["art"] == shot
    assert m["Image"] == [
        {"type": "coverPoster", "url": shot, "alt": "A Title"},
        {"type": "background", "url": shot, "alt": "A Title"},
        {"type": "snapshot", "url": shot, "alt": "A Title"},
    ]


def test_poster_mode() -> None:
    m = meta(full_bundle(), MappingOptions(BASE, poster_mode=True))
    poster = f"{BASE}/stash/scene/42/poster?v=1700000000"
    assert m["thumb"] == poster
    assert m["art"] == f"{BASE}/stash/scene/42/screenshot?v=1700000000"
    assert m["Image"][0] == {"type": "coverPoster", "url": poster, "alt": "A Title"}


def test_images_without_version() -> None:
    m = meta(bundle())
    assert m["thumb"] == f"{BASE}/stash/scene/42/screenshot"


def test_scene_images_lists_everything() -> None:
    b = full_bundle()
    shot = f"{BASE}/stash/scene/42/screenshot?v=1700000000"
    poster = f"{BASE}/stash/scene/42/poster?v=1700000000"
    images = scene_images(b, OPTS)
    assert images == [
        {"type": "coverPoster", "url": shot, "alt": "A Title"},
        {"type": "coverPoster", "url": poster, "alt": "A Title"},
        {"type": "background", "url": shot, "alt": "A Title"},
        {"type": "snapshot", "url": shot, "alt": "A Title"},
        {"type": "coverPoster", "url": f"{BASE}/stash/group/3/front?v=77", "alt": "Series One"},
    ]
    swapped = scene_images(b, MappingOptions(BASE, poster_mode=True))
    assert [i["url"] for i in swapped[:2]] == [poster, shot]
    # Every Image of the metadata is also offered by /images.
    for image in meta(b)["Image"]:
        assert image in images


def test_group_without_front_image_gives_no_image() -> None:
    b = bundle(groups=((Group(3, "G"), None),))
    assert all("/group/" not in i["url"] for i in scene_images(b, OPTS))


# --- tag-like arrays --------------------------------------------------------------------------


def test_genres_order_dedupe_and_ignore() -> None:
    tags = (Tag(1, "Zeta"), Tag(2, "alpha"), Tag(3, "ZETA"), Tag(4, " "), Tag(5, "Hidden"))
    opts = MappingOptions(BASE, ignore_tags=frozenset({"hidden"}))
    assert meta(bundle(tags=tags), opts)["Genre"] == [{"tag": "Zeta"}, {"tag": "alpha"}]
    opts = MappingOptions(BASE, ignore_tags=frozenset({"HIDDEN ", "ALPHA"}))
    assert meta(bundle(tags=tags), opts)["Genre"] == [{"tag": "Zeta"}]
    assert meta(bundle(tags=tags))["Genre"][-1] == {"tag": "Hidden"}


def test_ignore_tags_uses_unicode_casefold() -> None:
    opts = MappingOptions(BASE, ignore_tags=frozenset({"STRASSE"}))
    assert "Genre" not in meta(bundle(tags=(Tag(1, "Straße"),)), opts)


def test_all_genres_ignored_omits_the_key() -> None:
    opts = MappingOptions(BASE, ignore_tags=frozenset({"a"}))
    assert "Genre" not in meta(bundle(tags=(Tag(1, "A"),)), opts)


def test_roles() -> None:
    performers = (
        Performer(9, "Zed", image_version="t9"),
        Performer(3, " ", image_version="x"),  # blank name: skipped, leaves no gap
        Performer(4, "Amy", disambiguation="  "),
        Performer(5, "Amy", disambiguation="other one", image_version=""),
        Performer(9, "Zed", image_version="t9"),  # same performer twice
    )
    assert meta(bundle(performers=performers))["Role"] == [
        {"tag": "Zed", "thumb": f"{BASE}/stash/performer/9/image?v=t9", "order": 1},
        {"tag": "Amy", "order": 2},
        {"tag": "Amy", "role": "other one", "order": 3},
    ]


def test_full_roles() -> None:
    assert meta(full_bundle())["Role"] == [
        {
            "tag": "Alice",
            "role": "the first",
            "thumb": f"{BASE}/stash/performer/1/image?v=111",
            "order": 1,
        },
        {"tag": "Bob", "order": 2},
    ]


@pytest.mark.parametrize(
    ("director", "expected"),
    [
        ("Jane Roe", ["Jane Roe"]),
        ("Jane Roe, John Doe & Max", ["Jane Roe", "John Doe", "Max"]),
        ("A; B ,, & C", ["A", "B", "C"]),
        ("Tom and Jerry Films", ["Tom and Jerry Films"]),  # " and " is not a separator
        ("A, a, A", ["A"]),
        (" , & ", None),
        ("", None),
        (None, None),
    ],
)
def test_directors(director: str | None, expected: list[str] | None) -> None:
    m = meta(bundle(make_scene(director=director)))
    assert m.get("Director") == (None if expected is None else [{"tag": n} for n in expected])


def test_studio_and_parent() -> None:
    m = meta(full_bundle())
    assert m["Studio"] == [{"tag": "Studio Seven"}, {"tag": "Network Eight"}]
    m = meta(bundle(studio=Studio(1, "Solo")))
    assert m["studio"] == "Solo"
    assert m["Studio"] == [{"tag": "Solo"}]
    m = meta(bundle(studio=Studio(1, "Same"), parent_studio=Studio(2, "SAME")))
    assert m["Studio"] == [{"tag": "Same"}]
    m = meta(bundle())
    assert "studio" not in m
    assert "Studio" not in m


def test_collections() -> None:
    groups = ((Group(1, "Series"), 1), (Group(2, "series"), None), (Group(3, "Box Set"), 4))
    b = bundle(studio=Studio(7, "Studio Seven"), groups=groups)
    assert meta(b)["Collection"] == [{"tag": "Series"}, {"tag": "Box Set"}]
    with_studio = meta(b, MappingOptions(BASE, studio_as_collection=True))
    assert with_studio["Collection"] == [
        {"tag": "Series"},
        {"tag": "Box Set"},
        {"tag": "Studio Seven"},
    ]
    no_groups = bundle(studio=Studio(7, "Studio Seven"))
    assert "Collection" not in meta(no_groups)
    assert meta(no_groups, MappingOptions(BASE, studio_as_collection=True))["Collection"] == [
        {"tag": "Studio Seven"}
    ]
    assert "Collection" not in meta(bundle(), MappingOptions(BASE, studio_as_collection=True))


@pytest.mark.parametrize(
    ("endpoint", "scheme"),
    [
        ("https://stashdb.org/graphql", "stashdb"),
        ("https://StashDB.org/graphql", "stashdb"),
        ("https://theporndb.net/graphql", "tpdb"),
        ("https://api.theporndb.net/graphql", "tpdb"),
        ("https://fansdb.cc/graphql", "fansdb"),
        ("https://pmvstash.org/graphql", "pmvstashorg"),
        ("https://www.example-box.io:8443/graphql", "exampleboxio"),
        ("http://192.168.1.5:9998/graphql", "19216815"),
        ("stashdb.org/graphql", "stashdb"),
        ("https://notstashdb.org/graphql", "notstashdborg"),
        ("https://stashdb.org.evil.net/graphql", "stashdborgevilnet"),
        ("https://[::1/graphql", ""),
        ("", ""),
    ],
)
def test_stash_box_scheme(endpoint: str, scheme: str) -> None:
    assert stash_box_scheme(endpoint) == scheme


def test_guids() -> None:
    m = meta(full_bundle())
    assert m["Guid"] == [
        {"id": "stashdb://0b8a3a3e-1111-2222-3333-444455556666"},
        {"id": "tpdb://tpdb-id"},
    ]
    stash_ids = (
        StashId("https://stashdb.org/graphql", "x"),
        StashId("https://stashdb.org/graphql/", "x"),  # same id twice
        StashId("", "no-endpoint"),
        StashId("https://fansdb.cc/graphql", " "),
        StashId("https://fansdb.cc/graphql", "has space"),
        StashId("https://fansdb.cc/graphql", "a/b?c"),
    )
    m = meta(bundle(make_scene(stash_ids=stash_ids)))
    assert m["Guid"] == [{"id": "stashdb://x"}]
    assert "Guid" not in meta(bundle())


@pytest.mark.parametrize(
    ("rating100", "value"),
    [(1, 0.1), (50, 5.0), (85, 8.5), (87, 8.7), (100, 10.0), (0, None), (101, None), (None, None)],
)
def test_rating(rating100: int | None, value: float | None) -> None:
    m = meta(bundle(make_scene(rating100=rating100)))
    if value is None:
        assert "Rating" not in m
    else:
        assert m["Rating"] == [
            {"type": "audience", "value": value, "image": "themoviedb://image.rating"}
        ]


@pytest.mark.parametrize("rating100", range(1, 101))
def test_rating_has_one_decimal(rating100: int) -> None:
    value = meta(bundle(make_scene(rating100=rating100)))["Rating"][0]["value"]
    assert json.dumps(value) == f"{rating100 // 10}.{rating100 % 10}"


# --- whole-object properties ------------------------------------------------------------------


def test_full_metadata_has_no_empty_values_and_is_json() -> None:
    for b in (full_bundle(), bundle(), bundle(make_scene(title=" ", files=(video(" .x"),)))):
        for opts in (OPTS, MappingOptions(BASE, poster_mode=True, studio_as_collection=True)):
            m = meta(b, opts)
            assert walk(m) == []
            assert json.loads(json.dumps(m, allow_nan=False)) == m


def test_minimal_metadata_is_exactly_what_plex_needs() -> None:
    shot = f"{BASE}/stash/scene/42/screenshot"
    assert meta(bundle()) == {
        "type": "movie",
        "ratingKey": "scene-42",
        "key": "/library/metadata/scene-42",
        "guid": "tv.plex.agents.custom.stashplex://movie/scene-42",
        "title": "Scene 42",
        "originallyAvailableAt": "2024-06-01",
        "contentRating": "XXX",
        "isAdult": True,
        "thumb": shot,
        "art": shot,
        "Image": [
            {"type": "coverPoster", "url": shot, "alt": "Scene 42"},
            {"type": "background", "url": shot, "alt": "Scene 42"},
            {"type": "snapshot", "url": shot, "alt": "Scene 42"},
        ],
    }


def test_deterministic() -> None:
    first = json.dumps(meta(full_bundle()), sort_keys=False)
    second = json.dumps(meta(full_bundle()), sort_keys=False)
    assert first == second
    images = json.dumps(scene_images(full_bundle(), OPTS))
    assert images == json.dumps(scene_images(full_bundle(), OPTS))


def test_mapping_does_not_mutate_its_input() -> None:
    b = full_bundle()
    before = dataclasses.asdict(b)
    meta(b)
    scene_images(b, OPTS)
    assert dataclasses.asdict(b) == before


# --- random records ---------------------------------------------------------------------------

ids = st.integers(min_value=1, max_value=MAX_ID)
names = st.text(max_size=12)
maybe_text = st.none() | st.text(max_size=20)
versions = st.none() | st.text(max_size=6)
dates = (
    st.none()
    | st.text(max_size=12)
    | st.dates().map(lambda d: d.isoformat()[: 4 + 3 * (d.day % 3)])
)
timestamps = st.none() | st.text(max_size=25) | st.datetimes().map(lambda d: d.isoformat() + "Z")

files = st.builds(
    VideoFile,
    id=ids,
    path=st.text(max_size=30),
    basename=st.text(max_size=20),
    duration=st.none() | st.floats(allow_nan=True, allow_infinity=True),
)
scenes = st.builds(
    Scene,
    id=ids,
    updated_at=st.text(max_size=25) | st.datetimes().map(lambda d: d.isoformat()),
    title=maybe_text,
    code=maybe_text,
    details=maybe_text,
    director=maybe_text,
    date=dates,
    rating100=st.none() | st.integers(min_value=-5, max_value=105),
    created_at=timestamps,
    screenshot_version=versions,
    files=st.tuples() | st.tuples(files) | st.tuples(files, files),
    stash_ids=st.lists(st.builds(StashId, endpoint=st.text(max_size=30), stash_id=names)).map(
        tuple
    ),
)
bundles = st.builds(
    SceneBundle,
    scene=scenes,
    studio=st.none() | st.builds(Studio, id=ids, name=names, image_version=versions),
    parent_studio=st.none() | st.builds(Studio, id=ids, name=names),
    performers=st.lists(
        st.builds(Performer, id=ids, name=names, disambiguation=maybe_text, image_version=versions),
        max_size=5,
    ).map(tuple),
    tags=st.lists(st.builds(Tag, id=ids, name=names), max_size=6).map(tuple),
    groups=st.lists(
        st.tuples(
            st.builds(Group, id=ids, name=names, front_image_version=versions),
            st.none() | st.integers(0, 10),
        ),
        max_size=3,
    ).map(tuple),
)
options = st.builds(
    MappingOptions,
    base_url=st.just(BASE),
    content_rating=st.text(max_size=5),
    poster_mode=st.booleans(),
    ignore_tags=st.frozensets(names, max_size=3),
    studio_as_collection=st.booleans(),
)
DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


@settings(max_examples=300)
@given(bundles, options)
def test_random_records_give_valid_metadata(b: SceneBundle, opts: MappingOptions) -> None:
    m = scene_metadata(b, opts)
    text = json.dumps(m, sort_keys=False, allow_nan=False)
    assert json.dumps(scene_metadata(b, opts), sort_keys=False, allow_nan=False) == text
    assert walk(m) == []
    assert m["type"] == "movie"
    assert parse_scene_rating_key(m["ratingKey"]) == b.scene.id
    assert m["guid"] == f"{MOVIE_PROVIDER_ID}://movie/{m['ratingKey']}"
    assert m["key"] == f"/library/metadata/{m['ratingKey']}"
    assert m["title"] and m["title"] == m["title"].strip()
    if "originallyAvailableAt" in m:
        assert DATE_RE.fullmatch(m["originallyAvailableAt"])
    if parse_stash_date(b.scene.date) is not None:
        assert m["year"] == int(m["originallyAvailableAt"][:4])
    else:
        assert "year" not in m
    for key in ("duration", "year"):
        assert key not in m or (type(m[key]) is int and m[key] > 0)
    for role_index, role in enumerate(m.get("Role", []), start=1):
        assert role["order"] == role_index
    for guid in m.get("Guid", []):
        assert re.fullmatch(r"[a-z0-9]+://[A-Za-z0-9._~-]+", guid["id"])
    for url in (m["thumb"], m["art"], *(i["url"] for i in scene_images(b, opts))):
        assert url.startswith(BASE + "/stash/") and " " not in url
    folded = [g["tag"].casefold() for g in m.get("Genre", [])]
    assert len(folded) == len(set(folded))
    assert not set(folded) & opts.ignore_tags


# --- match candidates, trimming, containers ---------------------------------------------------


def test_match_candidate() -> None:
    m = meta(full_bundle())
    assert match_candidate(m, 100) == {
        "type": "movie",
        "ratingKey": "scene-42",
        "key": "/library/metadata/scene-42",
        "guid": "tv.plex.agents.custom.stashplex://movie/scene-42",
        "title": "A Title",
        "year": 2023,
        "originallyAvailableAt": "2023-04-05",
        "thumb": f"{BASE}/stash/scene/42/screenshot?v=1700000000",
        "summary": "Some details.",
        "score": 100,
    }
    short = match_candidate(meta(bundle()), 0)
    assert "year" not in short and "summary" not in short
    assert short["score"] == 0


@pytest.mark.parametrize("score", [-1, 101, 50.5, True, "90"])
def test_match_candidate_rejects_bad_scores(score: Any) -> None:
    with pytest.raises(ValueError):
        match_candidate(meta(bundle()), score)


def test_match_candidate_requires_identity() -> None:
    with pytest.raises(ValueError):
        match_candidate({"type": "movie", "title": "x"}, 90)


IDENTITY = ["type", "ratingKey", "key", "guid", "title"]


def test_trim_exclude_elements() -> None:
    m = meta(full_bundle())
    out = trim_metadata(m, exclude_elements="Role,Genre")
    assert "Role" not in out and "Genre" not in out
    assert out["Studio"] == m["Studio"] and out["summary"] == m["summary"]
    assert list(out) == [k for k in m if k not in ("Role", "Genre")]


def test_trim_include_elements_keeps_all_fields() -> None:
    m = meta(full_bundle())
    out = trim_metadata(m, include_elements=" Image , Role ,,")
    assert [k for k, v in out.items() if isinstance(v, list)] == ["Image", "Role"]
    assert all(k in out for k, v in m.items() if not isinstance(v, list))


def test_trim_fields_never_drop_identity() -> None:
    m = meta(full_bundle())
    out = trim_metadata(m, include_fields="summary")
    assert [k for k, v in out.items() if not isinstance(v, list)] == [*IDENTITY, "summary"]
    assert "Genre" in out  # elements are untouched by field hints
    out = trim_metadata(m, exclude_fields="title,guid,ratingKey,key,type,summary,year")
    assert all(k in out for k in IDENTITY)
    assert "summary" not in out and "year" not in out
    out = trim_metadata(m, include_fields="year", include_elements="Genre")
    assert list(out) == [*IDENTITY, "year", "Genre"]


def test_trim_hint_parsing() -> None:
    m = meta(full_bundle())
    # Case-insensitive, repeated parameters as a list, empty hints mean "no hint".
    assert "Role" not in trim_metadata(m, exclude_elements="role")
    assert trim_metadata(m, include_elements="") == m
    assert trim_metadata(m, include_elements=" , ") == m
    assert trim_metadata(m, exclude_fields=[]) == m
    out = trim_metadata(m, exclude_elements=["Role", "Genre, Director"])
    assert not {"Role", "Genre", "Director"} & out.keys()
    # A name that is a field never removes an element of the same spelling, and vice versa.
    assert "summary" in trim_metadata(m, exclude_elements="summary")
    assert "Genre" in trim_metadata(m, exclude_fields="Genre")
    # Include then exclude.
    out = trim_metadata(m, include_elements="Role,Genre", exclude_elements="Genre")
    assert [k for k, v in out.items() if isinstance(v, list)] == ["Role"]


def test_trim_does_not_mutate() -> None:
    m = meta(full_bundle())
    before = json.dumps(m)
    trim_metadata(m, exclude_elements="Role", exclude_fields="summary")
    assert json.dumps(m) == before


def test_container() -> None:
    items = [match_candidate(meta(full_bundle()), 100)]
    assert container(items, identifier=MOVIE_PROVIDER_ID) == {
        "MediaContainer": {
            "offset": 0,
            "totalSize": 1,
            "identifier": MOVIE_PROVIDER_ID,
            "size": 1,
            "Metadata": items,
        }
    }
    empty = container([], identifier=MOVIE_PROVIDER_ID)["MediaContainer"]
    assert empty["size"] == 0 and empty["totalSize"] == 0 and empty["Metadata"] == []
    paged = container(items, identifier=MOVIE_PROVIDER_ID, offset=20, total_size=21)
    assert list(paged["MediaContainer"]) == [
        "offset",
        "totalSize",
        "identifier",
        "size",
        "Metadata",
    ]
    assert paged["MediaContainer"]["offset"] == 20
    assert paged["MediaContainer"]["totalSize"] == 21
    with pytest.raises(ValueError):
        container(items, identifier=MOVIE_PROVIDER_ID, offset=-1)


def test_image_container() -> None:
    images = scene_images(full_bundle(), OPTS)
    c = image_container(images, identifier=MOVIE_PROVIDER_ID)["MediaContainer"]
    assert c["size"] == c["totalSize"] == len(images)
    assert c["Image"] == images
