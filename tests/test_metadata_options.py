"""The `[metadata]` options, seen through the provider's routes over a hand-built mirror."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from falcon import testing

from stashplex.mirror import documents
from stashplex.mirror.db import Database
from stashplex.mirror.kinds import GROUPS, PERFORMERS, STUDIOS, TAGS
from stashplex.mirror.writer import MirrorWriter
from stashplex.records import Group, Performer, SceneGroup, StashId, Studio, Tag
from stashplex.web.app import create_app
from tests.webkit import Provider, hand_scene, hand_settings

STUDIOS_ = [Studio(1, "Site", parent_id=2), Studio(2, "Network", parent_id=3), Studio(3, "Corp")]
PERFORMERS_ = [
    Performer(1, "Zed", disambiguation="the tall one", gender="MALE"),
    Performer(2, "Ann", gender="FEMALE"),
    Performer(3, "Bea", disambiguation="2010s", gender="TRANSGENDER_FEMALE"),
]
TAGS_ = [Tag(1, "Outdoor"), Tag(2, "Pool"), Tag(3, "Studio Tag")]
GROUPS_ = [Group(1, "Series", front_image_version="7")]
STASHDB = StashId("https://stashdb.org/graphql", "0b5c1f6e-0000-4000-8000-000000000001")
SCENES = (
    hand_scene(
        1,
        "/data/Site/pool.day.1080p.mp4",
        title="Pool Day",
        code="ABC-1",
        date="2024-05-01",
        rating100=87,
        organized=True,
        performer_ids=(1, 2, 3),
        tag_ids=(1, 2, 3),
        groups=(SceneGroup(1, 1),),
        stash_ids=(STASHDB,),
    ),
    hand_scene(
        2,
        "/data/Site/untitled.clip.mp4",
        title=None,
        code=None,
        studio_id=None,
        date=None,
        rating100=None,
        organized=False,
        performer_ids=(),
        tag_ids=(),
        groups=(),
    ),
)


@pytest.fixture
def provider(tmp_path: Path) -> Iterator[Callable[..., Provider]]:
    """`make(**env)`: an app over a mirror of SCENES rendered with these settings."""
    made: list[Provider] = []

    def make(**env: str) -> Provider:
        settings = hand_settings(tmp_path / f"p{len(made)}", **env)
        db = Database.open(settings.mirror.database)
        writer = MirrorWriter(db, documents.mapping_options(settings))
        writer.apply_entities(STUDIOS, STUDIOS_)
        writer.apply_entities(PERFORMERS, PERFORMERS_)
        writer.apply_entities(TAGS, TAGS_)
        writer.apply_entities(GROUPS, GROUPS_)
        writer.apply_scenes(SCENES)
        app = create_app(settings, db=db)
        made.append(Provider(settings, db, app, testing.TestClient(app)))
        return made[-1]

    yield make
    for p in made:
        p.app.close()
        p.db.close()


def metadata(p: Provider, scene_id: int) -> dict[str, Any]:
    response = p.client.simulate_get(f"/library/metadata/scene-{scene_id}")
    assert response.status_code == 200, response.text
    (item,) = response.json["MediaContainer"]["Metadata"]
    return item


def env(**values: str) -> dict[str, str]:
    return {f"STASHPLEX_METADATA_{k.upper()}": v for k, v in values.items()}


# --- title_format -------------------------------------------------------------------------------


def test_default_title_is_title_else_code_else_file_name(provider) -> None:
    p = provider()
    assert metadata(p, 1)["title"] == "Pool Day"
    assert metadata(p, 2)["title"] == "untitled.clip"


@pytest.mark.parametrize(
    ("template", "first", "second"),
    [
        ("[{studio} - ]{title|filename}", "Site - Pool Day", "untitled.clip"),
        ("{parent_studio} / {code|title}", "Network / ABC-1", "/"),
        ("[{date} ]{title}[ ({performers})]", "2024-05-01 Pool Day (Zed, Ann, Bea)", "Scene 2"),
        ("{year} {filename}", "2024 pool.day.1080p", "untitled.clip"),
    ],
)
def test_title_format_shapes_the_title(provider, template: str, first: str, second: str) -> None:
    p = provider(**env(title_format=template))
    item = metadata(p, 1)
    assert item["title"] == first
    assert all(image["alt"] == first for image in item["Image"])
    assert metadata(p, 2)["title"] == second


def test_title_format_in_the_images_route(provider) -> None:
    p = provider(**env(title_format="[{studio} - ]{title}"))
    response = p.client.simulate_get("/library/metadata/scene-1/images")
    assert {image["alt"] for image in response.json["MediaContainer"]["Image"]} == {
        "Site - Pool Day",
        "Series",  # the group's front cover keeps the group's name
    }


def test_matches_carry_the_formatted_title(provider) -> None:
    p = provider(**env(title_format="{code} {title}"))
    (candidate,) = p.match(filename="/mnt/Site/pool.day.1080p.mp4")
    assert candidate["title"] == "ABC-1 Pool Day"


# --- rating -------------------------------------------------------------------------------------


def test_rating_is_an_audience_rating_by_default(provider) -> None:
    item = metadata(provider(), 1)
    assert item["Rating"] == [
        {"type": "audience", "value": 8.7, "image": "themoviedb://image.rating"}
    ]
    assert "userRating" not in item
    assert "Rating" not in metadata(provider(), 2)


def test_rating_as_user_rating(provider) -> None:
    p = provider(**env(rating="user"))
    item = metadata(p, 1)
    assert item["userRating"] == 8.7 and "Rating" not in item
    assert "userRating" not in metadata(p, 2)


def test_rating_off(provider) -> None:
    item = metadata(provider(**env(rating="OFF")), 1)
    assert "Rating" not in item and "userRating" not in item


# --- cast ---------------------------------------------------------------------------------------


def roles(item: dict[str, Any]) -> list[tuple[str, str | None, int]]:
    return [(r["tag"], r.get("role"), r["order"]) for r in item["Role"]]


def test_cast_defaults_to_stash_order_with_disambiguation(provider) -> None:
    assert roles(metadata(provider(), 1)) == [
        ("Zed", "the tall one", 1),
        ("Ann", None, 2),
        ("Bea", "2010s", 3),
    ]


@pytest.mark.parametrize(
    ("role", "order", "expected"),
    [
        ("none", "name", [("Ann", None, 1), ("Bea", None, 2), ("Zed", None, 3)]),
        (
            "Performer",
            "female_first",
            [("Ann", "Performer", 1), ("Bea", "Performer", 2), ("Zed", "Performer", 3)],
        ),
        (
            "disambiguation",
            "male_first",
            [("Zed", "the tall one", 1), ("Ann", None, 2), ("Bea", "2010s", 3)],
        ),
    ],
)
def test_cast_role_and_order(provider, role: str, order: str, expected: list) -> None:
    assert roles(metadata(provider(**env(cast_role=role, cast_order=order)), 1)) == expected


def test_cast_order_also_orders_performers_in_the_title(provider) -> None:
    p = provider(**env(cast_order="name", title_format="{title} ({performers})"))
    assert metadata(p, 1)["title"] == "Pool Day (Ann, Bea, Zed)"
