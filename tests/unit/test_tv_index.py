"""The TV layout kept by the writer: built in order, indexes that never renumber, moves."""

from __future__ import annotations

import dataclasses

from stashplex.mirror import documents
from stashplex.mirror.kinds import GROUPS, STUDIOS
from stashplex.mirror.writer import MirrorWriter
from stashplex.records import Group, SceneGroup, Studio
from tests.plugins.tvkit import HAND_SCENES, TvMirror, tv_scene


def test_rebuild_numbers_each_day_by_title(tv_mirror) -> None:
    m: TvMirror = tv_mirror()
    assert m.placements() == {
        2: ("studio-2", 2024, 50101),  # "Alpha" before "Bravo" on the same day
        1: ("studio-2", 2024, 50102),
        3: ("studio-3", 2024, 61001),
        4: ("studio-2", 0, 1),  # undated: Specials
        5: ("studio-2", 2019, 10101),  # "2019" reads as January 1st
        6: ("studio-4", 2023, 123101),
        8: ("studio-1", 2024, 20201),
    }  # scene 7 has no studio: no episode


def test_shows_have_titles_for_matching(tv_mirror) -> None:
    m = tv_mirror()
    with m.db.reader.connect() as connection:
        shows = dict(connection.exec_driver_sql("SELECT show, title_key FROM tv_shows").all())
    assert shows == {
        "studio-1": "network",
        "studio-2": "site a",
        "studio-3": "sub a",
        "studio-4": "other site",
    }


def test_adding_and_deleting_scenes_never_renumbers_others(tv_mirror) -> None:
    m = tv_mirror()
    before = m.placements()
    # Same show and day as 1 and 2, with a title that sorts first: it goes after them.
    m.writer.apply_scenes([tv_scene(20, "2024-05-01", title="Aardvark")])
    m.writer.apply_scenes([tv_scene(21, "2024-05-02"), tv_scene(22, None)])
    after = m.placements()
    assert {k: after[k] for k in before} == before
    assert after[20] == ("studio-2", 2024, 50103)
    assert after[21] == ("studio-2", 2024, 50201)
    assert after[22] == ("studio-2", 0, 2)
    m.writer.delete_scenes([2, 20])  # the first of the day and the newest
    again = m.placements()
    assert 2 not in again and 20 not in again
    assert {k: again[k] for k in again} == {k: after[k] for k in again}
    # A freed index may be taken by a newcomer; the others stay.
    m.writer.apply_scenes([tv_scene(23, "2024-05-01")])
    assert m.placements()[23] == ("studio-2", 2024, 50101)
    assert m.placements()[1] == ("studio-2", 2024, 50102)


def test_edits_that_keep_the_day_keep_the_index(tv_mirror) -> None:
    m = tv_mirror()
    before = m.placements()
    edited = dataclasses.replace(HAND_SCENES[0], title="Zulu", details="new", tag_ids=(3,))
    m.writer.apply_scenes([edited])
    assert m.placements() == before
    with m.db.reader.connect() as connection:
        title = connection.exec_driver_sql("SELECT title FROM tv_episodes WHERE scene_id = 1")
        assert title.scalar() == "Zulu"


def test_moves_take_a_new_index(tv_mirror) -> None:
    m = tv_mirror()
    m.writer.apply_scenes(
        [
            dataclasses.replace(HAND_SCENES[0], date="2024-05-03"),  # another day
            dataclasses.replace(HAND_SCENES[1], date="2022-05-01"),  # another season
            dataclasses.replace(HAND_SCENES[4], studio_id=4),  # another show
            dataclasses.replace(HAND_SCENES[2], studio_id=None),  # no show at all
            dataclasses.replace(HAND_SCENES[3], date="2024-05-01"),  # out of Specials
        ]
    )
    placed = m.placements()
    assert placed[1] == ("studio-2", 2024, 50301)
    assert placed[2] == ("studio-2", 2022, 50101)
    assert placed[5] == ("studio-4", 2019, 10101)
    assert 3 not in placed
    assert placed[4] == ("studio-2", 2024, 50101)  # its day is free again


def test_a_crowded_day_keeps_indexes_unique(tv_mirror) -> None:
    m = tv_mirror(scenes=[tv_scene(i, "2024-01-01", title=f"T{i:03d}") for i in range(1, 151)])
    m.writer.apply_scenes([tv_scene(200, "2024-01-02"), tv_scene(201, "2024-01-01")])
    placed = m.placements()
    indexes = [idx for _show, _season, idx in placed.values()]
    assert len(indexes) == len(set(indexes)) == 152
    assert placed[1][2] == 10101 and placed[99][2] == 10199 and placed[100][2] == 10200
    # The newcomers take the next free numbers, in day order: Jan 1st's first.
    assert placed[150][2] == 10250 and placed[201][2] == 10251 and placed[200][2] == 10252


def test_parent_studio_mode_follows_a_changed_hierarchy(tv_mirror) -> None:
    m = tv_mirror("parent_studio")
    placed = m.placements()
    assert {placed[i][0] for i in (1, 2, 3, 4, 5, 8)} == {"studio-1"}
    assert placed[6][0] == "studio-4"
    # Site A leaves the network: it and its child Sub A become one show of their own.
    m.writer.apply_entities(STUDIOS, [Studio(2, "Site A", parent_id=None)])
    moved = m.placements()
    assert {moved[i][0] for i in (1, 2, 3, 4, 5)} == {"studio-2"}
    assert moved[8] == placed[8]
    # A rename reaches the show's title.
    m.writer.apply_entities(STUDIOS, [Studio(2, "Site A Renamed", parent_id=None)])
    assert m.match(type=2, title="site a renamed")[0]["ratingKey"] == "studio-2"


def test_group_mode(tv_mirror) -> None:
    m = tv_mirror("group")
    assert m.placements() == {
        3: ("group-1", 2024, 61001),
        6: ("group-2", 2023, 123101),  # its first group
        7: ("group-1", 2024, 50101),
        8: ("group-2", 2024, 20201),  # group 99 is unknown to the mirror
    }
    m.writer.apply_entities(GROUPS, [Group(2, "Series Two, Again")])
    assert m.match(type=2, title="Series Two Again")[0]["ratingKey"] == "group-2"


def test_a_writer_without_a_live_layout_places_nothing(tv_mirror) -> None:
    m = tv_mirror()
    with m.db.writer.begin() as connection:
        connection.exec_driver_sql("UPDATE sync_state SET value = '0:x' WHERE key = 'tv_layout'")
    writer = MirrorWriter(m.db, documents.mapping_options(m.settings))
    assert not writer.tv.live
    writer.apply_scenes([tv_scene(30, "2024-05-01")])
    assert 30 not in m.placements()
    assert writer.rebuild_tv("studio") == 8
    # Laid out afresh: by title within the day ("Alpha", "Bravo", "Scene 30").
    assert writer.tv.live and m.placements()[30] == ("studio-2", 2024, 50103)


def test_rerender_places_scenes_whose_group_went_away(tv_mirror) -> None:
    m = tv_mirror("group")
    m.writer.delete_entities_except(GROUPS, {2})
    m.writer.rerender([3, 7])
    placed = m.placements()
    assert 3 not in placed and 7 not in placed
    m.writer.apply_scenes([tv_scene(40, "2024-01-01", groups=(SceneGroup(2),))])
    assert m.placements()[40] == ("group-2", 2024, 10101)
