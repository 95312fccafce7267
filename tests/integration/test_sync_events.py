"""Stash's events -> targeted syncs: parsing, the "changes" pass, coalescing, and holding
events a failed pass could not apply."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from stashplex.change_queue import ChangeQueue
from stashplex.changes import Changes, EventError, parse_events
from stashplex.mirror.sync import PENDING
from stashplex.scheduler import SyncScheduler
from stashplex.stash.errors import StashError
from tests.plugins.mirror import Mirrored


def events(*pairs: tuple[str, object], **extra: object) -> dict:
    return {"events": [{"type": t, "id": i, **extra} for t, i in pairs]}


def wait_until(condition: Callable[[], object], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.02)
    raise AssertionError("condition not met in time")


# --- parsing -------------------------------------------------------------------------------


def test_events_gather_into_sets() -> None:
    changes = parse_events(
        events(
            ("Scene.Update.Post", 3),
            ("Scene.Create.Post", "4"),  # Stash's ids are JSON strings
            ("Scene.Update.Post", 3),
            ("Scene.Destroy.Post", 5),
            ("Performer.Update.Post", 7),
            ("Movie.Update.Post", 8),  # groups before Stash v0.27
            ("Group.Destroy.Post", 9),
        )
    )
    assert changes.scenes == {3, 4}
    assert changes.scenes_gone == {5}
    assert changes.entities == {"performer": {7}, "group": {8, 9}}
    assert len(changes) == 6


def test_a_scene_updated_then_destroyed_is_only_destroyed() -> None:
    changes = parse_events(events(("Scene.Update.Post", 3), ("Scene.Destroy.Post", 3)))
    assert changes.scenes == set() and changes.scenes_gone == {3}
    changes.merge(parse_events(events(("Scene.Create.Post", 3))))  # an id is never reused,
    assert changes.scenes == {3} and changes.scenes_gone == set()  # but the last word wins


def test_tag_merge_names_the_merged_away_tags() -> None:
    body = {"events": [{"type": "Tag.Merge.Post", "id": 2, "sources": ["5", 6]}]}
    assert parse_events(body).entities == {"tag": {2, 5, 6}}


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({}, "'events' must be a list"),
        ({"events": {}}, "'events' must be a list"),
        ({"events": ["Scene.Update.Post"]}, "events[0] must be an object"),
        (events(("Scene.Update", 1)), "is not a Stash hook type"),
        (events(("Scene.Update.Pre", 1)), "is not a Stash hook type"),
        (events(("Image.Update.Post", 1)), "does not follow Image objects"),
        (events(("Scene.Update.Post", 0)), "events[0].id must be a positive integer"),
        (events(("Scene.Update.Post", True)), "events[0].id must be an integer"),
        (events(("Scene.Update.Post", "12a")), "events[0].id must be a positive integer"),
        (events(("Scene.Update.Post", 2**70)), "events[0].id must be a positive integer"),
        (events(("Tag.Update.Post", 1), sources=[2]), "sources only goes with a Merge"),
        (events(("Tag.Merge.Post", 1), sources="2"), "sources must be a list"),
    ],
)
def test_bad_events_are_refused_with_a_reason(body: dict, reason: str) -> None:
    with pytest.raises(EventError, match=reason.replace("[", r"\[").replace("]", r"\]")):
        parse_events(body)


def test_changes_survive_json_and_garbage_reads_empty() -> None:
    changes = parse_events(events(("Scene.Update.Post", 3), ("Tag.Update.Post", 4)))
    assert Changes.from_json(changes.to_json()) == changes
    assert not Changes.from_json("{not json")
    assert not Changes.from_json('{"scenes": ["x"]}')
    assert not Changes.from_json(None)


# --- the targeted pass ---------------------------------------------------------------------


def test_changes_pass_fetches_edited_scenes_and_drops_destroyed_ones(mirrored: Mirrored) -> None:
    lib = mirrored.stash.library
    lib.edit_scene(3, title="Edited in Stash")
    lib.delete_scene(4)
    before = len(mirrored.scenes())
    report = mirrored.syncer.run(
        "changes", changes=parse_events(events(("Scene.Update.Post", 3), ("Scene.Destroy.Post", 4)))
    )
    assert (report.kind, report.updated, report.removed) == ("changes", 1, 1)
    assert list(report.changed_docs) == [3] and list(report.removed_ids) == [4]
    assert mirrored.scenes([3])[3].title == "Edited in Stash"
    assert len(mirrored.scenes()) == before - 1
    mirrored.assert_matches_stash()
    assert not mirrored.syncer.has_pending()


def test_an_entity_rename_re_renders_the_scenes_that_show_it(mirrored: Mirrored) -> None:
    showing = mirrored.syncer.writer.scenes_showing("performer", [1])
    assert showing
    mirrored.stash.library.rename_performer(1, "Renamed Performer")
    report = mirrored.syncer.run(
        "changes", changes=parse_events(events(("Performer.Update.Post", 1)))
    )
    assert set(report.changed_docs) == showing
    assert mirrored.entities().of("performer")[1].name == "Renamed Performer"
    mirrored.assert_matches_stash()


def test_a_tag_merge_moves_the_scenes_to_the_destination(mirrored: Mirrored) -> None:
    writer = mirrored.syncer.writer
    sources = [t for t in range(2, 12) if writer.scenes_showing("tag", [t])][:2]
    showing = writer.scenes_showing("tag", sources)
    mirrored.stash.library.merge_tags(sources, 1)
    body = {"events": [{"type": "Tag.Merge.Post", "id": 1, "sources": sources}]}
    report = mirrored.syncer.run("changes", changes=parse_events(body))
    assert showing <= set(report.changed_docs)
    assert not set(sources) & set(mirrored.entities().of("tag"))
    assert showing <= writer.scenes_showing("tag", [1])
    mirrored.assert_matches_stash()


def test_a_failed_targeted_pass_leaves_its_events_to_the_next_pass(mirrored: Mirrored) -> None:
    stash = mirrored.stash
    stash.library.delete_scene(6)  # an incremental pass alone never sees a deletion
    stash.faults.status(503, times=50)
    with pytest.raises(StashError):
        mirrored.syncer.run("changes", changes=parse_events(events(("Scene.Destroy.Post", 6))))
    assert mirrored.syncer.has_pending()
    assert 6 in mirrored.scenes()
    stash.faults.clear()
    report = mirrored.syncer.run("incremental")
    assert 6 in report.removed_ids and 6 not in mirrored.scenes()
    assert mirrored.syncer.writer.get_state(PENDING) is None


# --- coalescing ----------------------------------------------------------------------------


def test_a_burst_becomes_one_hand_over() -> None:
    handed: list[Changes] = []
    queue: ChangeQueue

    def submit() -> None:
        handed.append(queue.take())

    queue = ChangeQueue(submit, quiet=1.0, longest=3.0).start()
    try:
        for scene_id in range(1, 2001):
            queue.add(parse_events(events(("Scene.Update.Post", scene_id))))
        wait_until(lambda: sum(len(c.scenes) for c in handed) == 2000)
    finally:
        queue.close()
    # One, unless this busy box stalled the loop for a whole quiet second.
    assert len(handed) <= 2
    assert set().union(*(c.scenes for c in handed)) == set(range(1, 2001))
    assert queue.received == 2000 and queue.pending == 0


def test_a_slow_stream_hands_over_early_then_less_and_less_often() -> None:
    """Events further apart than the quiet window (a slow box runs each hook for a second)
    still make a handful of hand-overs, the first of them early."""
    handed: list[float] = []
    queue: ChangeQueue

    def submit() -> None:
        queue.take()
        handed.append(time.monotonic())

    queue = ChangeQueue(submit, quiet=0.1, longest=0.4, ceiling=1.6, stream_gap=1.0).start()
    try:
        start = time.monotonic()
        while time.monotonic() < start + 5.0:
            queue.add(parse_events(events(("Scene.Update.Post", 1))))
            time.sleep(0.25)  # longer than the quiet window
        wait_until(lambda: queue.pending == 0)
    finally:
        queue.close()
    # The start of the stream does not wait for its end (5 s): a bound at half of that, which
    # no load can eat (the first hand-over comes about 0.4 s in).
    assert handed[0] - start < 2.5
    # 20 events; waits of 0.4, 0.8, 1.6, 1.6 s after the first: a handful, not 20.
    assert 3 <= len(handed) <= 8


def test_lone_edits_wait_only_the_quiet_window() -> None:
    handed: list[float] = []
    queue: ChangeQueue

    def submit() -> None:
        queue.take()
        handed.append(time.monotonic())

    queue = ChangeQueue(submit, quiet=0.1, longest=30, stream_gap=0.5).start()
    try:
        for _ in range(3):
            added = time.monotonic()
            queue.add(parse_events(events(("Scene.Update.Post", 1))))
            wait_until(lambda: queue.pending == 0)
            assert handed[-1] - added < 10  # not the 30 s of a stream
            time.sleep(0.7)  # past the stream gap: the next edit is on its own again
    finally:
        queue.close()
    assert len(handed) == 3


def test_bulk_events_through_the_scheduler_run_a_handful_of_targeted_passes(
    mirrored_factory,
) -> None:
    m = mirrored_factory(scenes=2000)
    scheduler = SyncScheduler(m.syncer, interval_minutes=60, sweep_hours=24, retry_first=0.2)
    reports = []
    scheduler.after_pass.append(reports.append)
    lib = m.stash.library
    ids = lib.scene_ids()[:2000]
    for scene_id in ids:
        lib.edit_scene(scene_id, title=f"bulk {scene_id}")
    scheduler.start(first_sweep_in=None)
    try:
        wait_until(lambda: reports)  # the boot-time incremental pass
        reports.clear()
        for scene_id in ids:  # one event per scene, as Stash's hook sends them
            scheduler.queue_changes(parse_events(events(("Scene.Update.Post", scene_id))))
        wait_until(lambda: sum(len(r.changed_docs) + r.unchanged for r in reports) >= len(ids))
    finally:
        scheduler.stop(grace=5)
    changes = [r for r in reports if r.kind == "changes"]
    assert 1 <= len(changes) <= 5
    assert sum(r.unchanged + r.updated for r in changes) == len(ids)


def test_a_pass_asked_for_runs_in_the_background_and_reports_progress(mirrored) -> None:
    scheduler = SyncScheduler(mirrored.syncer, interval_minutes=60, sweep_hours=24)
    seen: list[tuple] = []
    reports = []
    scheduler.after_pass.append(reports.append)
    shown = mirrored.syncer.progress

    def watch(phase: str, done: int, total: int | None) -> None:
        shown(phase, done, total)  # the scheduler's: it records the progress
        seen.append((scheduler.status.running, scheduler.status.progress))

    mirrored.syncer.progress = watch
    scheduler.start(first_sweep_in=None)
    try:
        wait_until(lambda: reports)  # the boot-time pass
        scheduler.run_now("sweep")
        wait_until(lambda: any(r.kind == "sweep" for r in reports))
    finally:
        scheduler.stop(grace=5)
    total = len(mirrored.scenes())
    assert ("sweep", ("sweep", total, total)) in seen
    assert scheduler.status.progress is None and scheduler.status.queued == []
