"""The syncer against a real sample Stash over HTTP: every kind of change, faults and cursors."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from stashplex.mirror import models
from stashplex.mirror.sync import SyncBusy, since
from stashplex.samplestash.names import TRAP_IDS
from stashplex.stash import features
from stashplex.stash.errors import (
    StashAuthError,
    StashBadResponse,
    StashDataError,
    StashServerError,
    StashUnreachable,
)
from tests.plugins.mirror import Mirrored


def doc(m: Mirrored, scene_id: int) -> dict:
    with m.db.reader.connect() as connection:
        text = connection.execute(
            select(models.scenes.c.doc).where(models.scenes.c.id == scene_id)
        ).scalar_one()
    return json.loads(text)


def state(m: Mirrored, key: str) -> str | None:
    return m.syncer.writer.get_state(key) if m.syncer._writer else None


def scene_with(m: Mirrored, predicate) -> int:
    for scene_id, scene in m.scenes().items():
        if predicate(scene):
            return scene_id
    raise AssertionError("no scene in the sample library fits")


def test_full_sync_mirrors_everything(mirrored: Mirrored) -> None:
    mirrored.assert_matches_stash()
    lib = mirrored.stash.library
    assert len(mirrored.scenes()) == lib.live_count()
    # Hard file names survive byte for byte.
    for trap, scene_id in TRAP_IDS.items():
        scene = mirrored.scenes([scene_id])[scene_id]
        assert [f.path for f in scene.files] == lib.scene_paths(scene_id), trap
    # The cursor is Stash's own string (local time with offset), never converted.
    cursor = mirrored.syncer.writer.get_state("cursor:scene")
    assert cursor is not None and cursor.endswith("+02:00")


def test_second_pass_changes_nothing(mirrored: Mirrored) -> None:
    for kind in ("incremental", "full", "sweep"):
        report = mirrored.syncer.run(kind)
        assert (report.added, report.updated, report.removed) == (0, 0, 0), kind
        assert not report.changed_docs, kind


def test_first_incremental_on_an_empty_mirror_is_a_full_sync(mirrored_factory) -> None:
    m = mirrored_factory(sync=False)
    assert m.syncer.effective_kind("incremental") == "full"
    report = m.syncer.run("incremental")
    assert report.kind == "full"
    assert report.added == m.stash.library.live_count()
    # Called so everywhere: the sync history (/status, /health) and the state.
    with m.db.reader.connect() as connection:
        kinds = connection.exec_driver_sql("SELECT kind FROM sync_runs").scalars().all()
    assert kinds == ["full"]
    assert m.syncer.writer.get_state("last_kind") == "full"
    assert m.syncer.effective_kind("incremental") == "incremental"  # from now on


def test_scene_edit_reaches_the_mirror_on_incremental(mirrored: Mirrored) -> None:
    lib = mirrored.stash.library
    lib.advance(600)
    lib.edit_scene(5, title="A brand new title", rating100=90)
    report = mirrored.syncer.run("incremental")
    assert report.updated == 1 and list(report.changed_docs) == [5]
    assert doc(mirrored, 5)["title"] == "A brand new title"
    mirrored.assert_matches_stash()


def test_added_scenes_arrive_on_incremental(mirrored: Mirrored) -> None:
    lib = mirrored.stash.library
    lib.advance(600)
    new_ids = lib.add_scenes(3)
    report = mirrored.syncer.run("incremental")
    assert report.added == 3
    assert set(new_ids) <= set(mirrored.scenes())
    mirrored.assert_matches_stash()


@pytest.mark.parametrize("kind", ["performer", "studio", "tag", "group"])
def test_entity_rename_shows_in_all_its_scenes(mirrored: Mirrored, kind: str) -> None:
    lib = mirrored.stash.library
    scenes = mirrored.scenes()
    field = {"performer": "performer_ids", "tag": "tag_ids"}.get(kind)
    if kind == "studio":
        users = [s for s in scenes.values() if s.studio_id]
        entity_id = users[0].studio_id
        showing = {s.id for s in users if s.studio_id == entity_id}
    elif kind == "group":
        users = [s for s in scenes.values() if s.groups]
        entity_id = users[0].groups[0].group_id
        showing = {s.id for s in users if entity_id in {g.group_id for g in s.groups}}
    else:
        users = [s for s in scenes.values() if getattr(s, field)]
        entity_id = getattr(users[0], field)[0]
        showing = {s.id for s in users if entity_id in getattr(s, field)}
    before = {i: s.updated_at for i, s in scenes.items()}
    lib.advance(600)
    getattr(lib, f"rename_{kind}")(entity_id, "Renamed Entity Ω")
    report = mirrored.syncer.run("incremental")
    assert set(report.changed_docs) >= showing
    assert report.updated == 0  # the scenes themselves did not change in Stash
    for scene_id in showing:
        text = json.dumps(doc(mirrored, scene_id), ensure_ascii=False)
        assert "Renamed Entity Ω" in text, (kind, scene_id)
    assert {i: s.updated_at for i, s in mirrored.scenes().items()} == before


def test_cover_change_bumps_the_screenshot_version(mirrored: Mirrored) -> None:
    lib = mirrored.stash.library
    old = mirrored.scenes([7])[7].screenshot_version
    lib.advance(600)
    lib.set_cover(7)
    mirrored.syncer.run("incremental")
    new = mirrored.scenes([7])[7].screenshot_version
    assert new and new != old
    assert f"?v={new}" in doc(mirrored, 7)["art"]


def test_file_rename_and_folder_rename_are_found_by_the_sweep(mirrored: Mirrored) -> None:
    lib = mirrored.stash.library
    scene = mirrored.scenes([3])[3]
    lib.advance(600)
    lib.move_file(scene.files[0].id, basename="Renamed file.mp4")
    folder = lib.file_location(mirrored.scenes([9])[9].files[0].id)[0]
    moved = lib.rename_folder(folder, folder + " (moved)")
    assert moved >= 1
    # Neither bumps the scene: an incremental pass cannot see them ...
    assert mirrored.syncer.run("incremental").updated == 0
    # ... the sweep compares every path and fetches what differs.
    report = mirrored.syncer.run("sweep")
    assert report.updated >= 2
    assert mirrored.scenes([3])[3].files[0].basename == "Renamed file.mp4"
    mirrored.assert_matches_stash()


def test_deleted_scenes_are_removed_by_sweep_and_by_full(mirrored: Mirrored) -> None:
    lib = mirrored.stash.library
    lib.delete_scene(4)
    lib.delete_scene(lib.live_count())  # the last id: beyond the last keyset page
    report = mirrored.syncer.run("sweep")
    assert report.removed == 2
    assert 4 not in mirrored.scenes()
    lib.delete_scene(6)
    assert mirrored.syncer.run("full").removed == 1
    mirrored.assert_matches_stash()


def test_deleted_performer_and_merged_tag(mirrored: Mirrored) -> None:
    lib = mirrored.stash.library
    scenes = mirrored.scenes()
    performer = next(s.performer_ids[0] for s in scenes.values() if s.performer_ids)
    tagged = [s for s in scenes.values() if len(s.tag_ids) >= 1]
    source, destination = (
        tagged[0].tag_ids[0],
        next(t for t in lib.tags if t != tagged[0].tag_ids[0]),
    )
    lib.delete_performer(performer)
    lib.merge_tags([source], destination)
    mirrored.syncer.run("incremental")
    mirrored.syncer.run("sweep")
    after = mirrored.scenes()
    assert all(performer not in s.performer_ids for s in after.values())
    assert all(source not in s.tag_ids for s in after.values())
    assert destination in after[tagged[0].id].tag_ids
    mirrored.assert_matches_stash()


def test_single_scenes_by_id(mirrored: Mirrored) -> None:
    lib = mirrored.stash.library
    lib.advance(600)
    lib.edit_scene(2, title="Only this one")
    lib.delete_scene(8)
    report = mirrored.syncer.run("scenes", scene_ids=[2, 8])
    assert (report.updated, report.removed) == (1, 1)
    assert doc(mirrored, 2)["title"] == "Only this one"


def test_scene_linked_to_an_entity_newer_than_the_entity_pass(mirrored: Mirrored) -> None:
    """A scene may link a performer the mirror has never seen: it is fetched on the spot."""
    lib = mirrored.stash.library
    lib.advance(600)
    lib.update_entity("performer", 1, name="Fresh Name")
    with mirrored.db.writer.begin() as connection:  # as if created after the entity pass
        connection.execute(models.performers.delete().where(models.performers.c.id == 1))
    lib.edit_scene(10, performer_ids=[1])
    mirrored.syncer.run("scenes", scene_ids=[10])
    assert doc(mirrored, 10)["Role"][0]["tag"] == "Fresh Name"


def test_render_settings_change_rerenders_stored_documents(mirrored_factory) -> None:
    m = mirrored_factory()
    assert doc(m, 1)["contentRating"] == "XXX"
    from tests.plugins.mirror import make_settings

    settings = make_settings(
        m.settings.mirror.database.parent, m.stash.url, STASHPLEX_METADATA_CONTENT_RATING="R18"
    )
    from stashplex.mirror.sync import Syncer

    report = Syncer(m.client, m.db, settings).run("incremental")
    assert len(report.changed_docs) == len(m.scenes())
    assert doc(m, 1)["contentRating"] == "R18"


# --- faults ------------------------------------------------------------------------------------


def mirror_fingerprint(m: Mirrored) -> list[tuple]:
    with m.db.reader.connect() as connection:
        return connection.execute(
            select(models.scenes.c.id, models.scenes.c.content_hash, models.scenes.c.doc_hash)
        ).all()


def test_stash_down_changes_nothing(mirrored: Mirrored) -> None:
    before = mirror_fingerprint(mirrored)
    cursor = mirrored.syncer.writer.get_state("cursor:scene")
    mirrored.stash.faults.down()
    with pytest.raises(StashUnreachable, match="cannot reach Stash"):
        mirrored.syncer.run("incremental")
    assert mirror_fingerprint(mirrored) == before
    assert mirrored.syncer.writer.get_state("cursor:scene") == cursor
    mirrored.stash.faults.up()
    mirrored.syncer.run("incremental")


@pytest.mark.parametrize(
    ("fault", "args", "error"),
    [
        ("down", {}, StashUnreachable),
        ("invalid_json", {}, StashBadResponse),
        ("graphql_errors", {"message": "database is locked", "partial": False}, StashDataError),
        ("graphql_errors", {"message": "resolver failed", "partial": True}, StashDataError),
        ("status", {"code": 500}, StashServerError),
    ],
)
def test_fault_mid_full_sync_keeps_the_mirror_and_the_next_run_completes(
    mirrored_factory, fault: str, args: dict, error: type
) -> None:
    m = mirrored_factory(sync=False, scenes=400, env={"STASHPLEX_SYNC_PAGE_SIZE": "50"})
    m.syncer.run("full")
    lib = m.stash.library
    lib.advance(600)
    lib.edit_scene(1, title="Changed before the broken pass")
    before = mirror_fingerprint(m)
    # Probe (2) + marks (5) + entities (4) + a few scene pages, then Stash breaks for good.
    m.stash.faults.after(14, fault, **args)
    with pytest.raises(error):
        m.syncer.run("full")
    m.stash.faults.clear()
    m.stash.faults.up() if not m.stash.running else None
    after = dict((row[0], row[1:]) for row in mirror_fingerprint(m))
    # Pages written before the fault are Stash's truth; nothing else moved or vanished.
    assert set(after) == {row[0] for row in before}
    assert m.syncer.writer.get_state("full_resume") is not None
    report = m.syncer.run("incremental")  # resumes the interrupted full pass
    assert report.kind == "incremental"
    m.assert_matches_stash()
    assert doc(m, 1)["title"] == "Changed before the broken pass"


def test_transient_5xx_is_retried(mirrored: Mirrored) -> None:
    mirrored.stash.faults.status(503, times=2)
    mirrored.syncer.run("incremental")  # succeeds after two retries


def test_4xx_is_not_retried(mirrored: Mirrored) -> None:
    faults = mirrored.stash.faults
    faults.unauthorized(times=1)
    start = faults.requests
    with pytest.raises(StashAuthError):
        mirrored.syncer.run("incremental")
    assert faults.requests - start == 1


def test_wrong_and_missing_api_key(mirrored_factory) -> None:
    m = mirrored_factory(sync=False, api_key="right-key-123", env={"STASH_API_KEY": "wrong-key-9"})
    with pytest.raises(StashAuthError, match=r"rejected the API key") as info:
        m.syncer.run("full")
    assert "wrong-key-9" not in str(info.value)
    m2 = mirrored_factory(sync=False, api_key="right-key-123")
    with pytest.raises(StashAuthError, match="requires an API key"):
        m2.syncer.run("full")
    m3 = mirrored_factory(
        sync=False, api_key="right-key-123", env={"STASH_API_KEY": "right-key-123"}
    )
    assert m3.syncer.run("full").added > 0


def test_older_stash_with_movies_instead_of_groups(mirrored_factory) -> None:
    m = mirrored_factory(stash_version="v0.26.2")
    assert m.client.legacy
    assert any(s.groups for s in m.scenes().values())
    m.assert_matches_stash()
    grouped = next(s for s in m.scenes().values() if s.groups)
    assert "Collection" in doc(m, grouped.id)


def test_a_query_this_stash_rejects_names_its_version(mirrored_factory) -> None:
    from stashplex.stash.errors import StashQueryRejected

    m = mirrored_factory(sync=False, stash_version="v0.26.2")
    m.client.features = features.NEWEST  # as if feature detection had failed
    with pytest.raises(StashQueryRejected, match=r"Stash v0\.26\.2 rejected query FindScenesPage"):
        m.client.version = "v0.26.2"
        m.client.execute("FindScenesPage", {"filter": {"per_page": 1}})


def test_windows_stash_paths(mirrored_factory) -> None:
    m = mirrored_factory(os_name="windows")
    scene = m.scenes([1])[1]
    assert "\\" in scene.files[0].path
    with m.db.reader.connect() as connection:
        rpath = (
            connection.execute(select(models.files.c.rpath).where(models.files.c.scene_id == 1))
            .scalars()
            .first()
        )
    assert "\\" not in rpath and rpath.startswith(scene.files[0].basename)


def test_two_syncs_of_one_mirror_do_not_overlap(mirrored: Mirrored) -> None:
    from stashplex.mirror.sync import Syncer

    other = Syncer(mirrored.client, mirrored.db, mirrored.settings)
    assert other._file_lock.acquire()
    try:
        with pytest.raises(SyncBusy):
            mirrored.syncer.run("incremental")
    finally:
        other._file_lock.release()
    mirrored.syncer.run("incremental")


@pytest.mark.parametrize(
    ("cursor", "expected"),
    [
        ("2024-05-01T12:00:00+02:00", "2024-05-01T11:58:00"),
        ("2024-05-01 00:01:00", "2024-04-30 23:59:00"),
        ("2024-05-01T12:00:00.123-07:00", "2024-05-01T11:58:00"),
        ("garbage-value", "garbage-va"),
    ],
)
def test_cursor_margin_keeps_stash_layout(cursor: str, expected: str) -> None:
    assert since(cursor) == expected


def _lookup_indexes(m: Mirrored) -> set[str]:
    with m.db.reader.connect() as connection:
        return set(
            connection.exec_driver_sql(
                "SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE 'ix_%'"
            ).scalars()
        )


def test_a_first_fill_builds_its_lookup_indexes_once_at_the_end(mirrored_factory) -> None:
    m = mirrored_factory(sync=False)
    everything = _lookup_indexes(m)
    assert {"ix_files_rpath", "ix_scenes_title_key", "ix_scene_tags_tag_id"} <= everything
    seen_during_fill: list[set[str]] = []
    apply_page = m.syncer._apply_page

    def watching(*args, **kwargs):
        seen_during_fill.append(_lookup_indexes(m))
        return apply_page(*args, **kwargs)

    m.syncer._apply_page = watching
    m.syncer.run("full")
    assert seen_during_fill and "ix_files_rpath" not in seen_during_fill[0]
    assert _lookup_indexes(m) == everything
    assert not state(m, "deferred_indexes")
    m.assert_matches_stash()
    # A mirror that holds scenes keeps its indexes through a full pass.
    seen_during_fill.clear()
    m.syncer.run("full")
    assert all(seen == everything for seen in seen_during_fill)


def test_indexes_a_killed_fill_left_out_are_built_by_the_next_pass(mirrored) -> None:
    mirrored.syncer.writer.defer_indexes()  # as a first fill killed after its last page
    assert "ix_files_rpath" not in _lookup_indexes(mirrored)
    mirrored.syncer.run("incremental")
    assert "ix_files_rpath" in _lookup_indexes(mirrored)
    assert not state(mirrored, "deferred_indexes")
