"""Where a scene sits in a TV library (pure rules): show by mode, season, index base."""

from __future__ import annotations

import datetime as dt

import pytest

from stashplex.plex import tv_shape
from stashplex.records import Group, SceneGroup, Studio
from tests.plugins.tvkit import HAND_GROUPS, HAND_STUDIOS, tv_scene

STUDIOS = {s.id: s for s in HAND_STUDIOS}
GROUPS = {g.id: g for g in HAND_GROUPS}


def place(scene, show_by="studio", studios=STUDIOS, groups=GROUPS):
    return tv_shape.placement(scene, show_by, studios, groups)


def test_studio_mode_uses_the_scene_studio() -> None:
    p = place(tv_scene(1, "2024-05-01", studio_id=3, title="x"))
    assert (p.show, p.show_title, p.season, p.base, p.aired, p.title) == (
        "studio-3",
        "Sub A",
        2024,
        50100,
        "2024-05-01",
        "x",
    )


def test_parent_studio_mode_climbs_to_the_top() -> None:
    assert place(tv_scene(1, "2024-05-01", studio_id=3), "parent_studio").show == "studio-1"
    assert place(tv_scene(1, "2024-05-01", studio_id=4), "parent_studio").show == "studio-4"


def test_parent_chain_with_a_cycle_or_a_missing_parent_stops() -> None:
    cyclic = {1: Studio(1, "A", parent_id=2), 2: Studio(2, "B", parent_id=1)}
    assert place(tv_scene(1, "2024-01-01", studio_id=1), "parent_studio", cyclic).show in (
        "studio-1",
        "studio-2",
    )
    orphan = {5: Studio(5, "Child", parent_id=77)}
    assert place(tv_scene(1, "2024-01-01", studio_id=5), "parent_studio", orphan).show == "studio-5"


def test_group_mode_takes_the_first_known_group() -> None:
    scene = tv_scene(1, "2024-01-01", groups=(SceneGroup(99), SceneGroup(2), SceneGroup(1)))
    p = place(scene, "group")
    assert (p.show, p.show_title) == ("group-2", "Series Two")
    assert place(tv_scene(1, "2024-01-01"), "group") is None


def test_no_studio_or_unknown_studio_is_no_episode() -> None:
    assert place(tv_scene(1, "2024-01-01", studio_id=None)) is None
    assert place(tv_scene(1, "2024-01-01", studio_id=42)) is None
    with pytest.raises(ValueError):
        place(tv_scene(1, "2024-01-01"), "performer")


@pytest.mark.parametrize(
    ("date", "season", "base", "aired"),
    [
        ("2024-05-01", 2024, 50100, "2024-05-01"),
        ("2024-12-31", 2024, 123100, "2024-12-31"),
        ("2019", 2019, 10100, "2019-01-01"),  # read as Jan 1st, as the movie mapping does
        ("2019-07", 2019, 70100, "2019-07-01"),
        (None, 0, 0, "2024-07-15"),  # Specials, aired the day it was added
        ("", 0, 0, "2024-07-15"),
        ("2024-02-30", 0, 0, "2024-07-15"),  # not a date
        ("someday", 0, 0, "2024-07-15"),
    ],
)
def test_season_and_index_base(date, season, base, aired) -> None:
    p = place(tv_scene(1, date))
    assert (p.season, p.base, p.aired) == (season, base, aired)


def test_undated_without_created_at_uses_the_update_day() -> None:
    p = place(tv_scene(1, None, created_at=None, updated_at="2024-09-09T01:02:03Z"))
    assert p.aired == "2024-09-09"
    assert place(tv_scene(1, None, created_at="junk", updated_at="junk")).aired is None


def test_titles_fall_back_like_movies() -> None:
    assert place(tv_scene(1, "2024-01-01", title=None, code="ABC-1")).title == "ABC-1"
    untitled = place(tv_scene(1, "2024-01-01", title=None, files=()))
    assert untitled.title == "Scene 1"
    blank = Group(3, "  ")
    assert tv_shape.show_of(
        tv_scene(1, None, groups=(SceneGroup(3),)), "group", STUDIOS, {3: blank}
    ) == ("group-3", "Group 3")


def test_assign_takes_the_smallest_free_index_above_the_base() -> None:
    assert tv_shape.assign(50100, set()) == 50101
    assert tv_shape.assign(50100, {50101, 50102, 50104}) == 50103
    # A day past 99 episodes runs into the next day's numbers without colliding.
    full = set(range(50101, 50200))
    assert tv_shape.assign(50100, full) == 50200
    assert tv_shape.assign(50100, full | {50200, 50201}) == 50202
    assert tv_shape.day_base(dt.date(2024, 1, 9)) == 10900
