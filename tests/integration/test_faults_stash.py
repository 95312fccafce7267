"""Stash misbehaving under a running `stashplex serve` (real processes on 127.0.0.1).

For each fault: the mirror keeps its last good state, Plex's requests keep being answered from
it, the log says what is wrong once (however many requests and retries meet the problem), and
the sync carries on by itself once Stash behaves again.
"""

from __future__ import annotations

import re
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from stashplex.samplestash import SampleStash
from tests.plugins.daemon import Daemon, wait_until
from tests.plugins.net import LOOPBACK
from tests.plugins.webkit import Provider

API_KEY = "faults-api-key-5150"
# Test-only, to keep these tests short: the sync client's retries back off in milliseconds
# instead of seconds, and the scheduler retries a failed pass after 0.5 s, 1 s, 2 s... instead
# of 15 s (both capped by the 3 s interval the daemon fixture sets).
FAST_RETRIES = """
import stashplex.daemon as _daemon
_sync_client = _daemon.sync_client
def _fast(settings):
    client = _sync_client(settings)
    client.backoff = 0.02
    return client
_daemon.sync_client = _fast
_build = _daemon.Service.build.__func__
_daemon.Service.build = classmethod(lambda cls, *a, **k: _build(cls, *a, retry_first=0.5, **k))
"""
_LINE = re.compile(r"^\S+ \S+ (\w+)\s+(\S+): (.*)$")


def failed_runs(database: Path) -> int:
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as connection:
        return connection.execute(
            "SELECT count(*) FROM sync_runs WHERE error IS NOT NULL"
        ).fetchone()[0]


def warnings(daemon: Daemon) -> list[str]:
    """WARNING and ERROR lines as `logger: message`."""
    found = []
    for line in daemon.log().splitlines():
        match = _LINE.match(line)
        if match and match[1] in ("WARNING", "ERROR", "CRITICAL"):
            found.append(f"{match[2]}: {match[3]}")
    return found


def assert_said_once(daemon: Daemon, says: str) -> None:
    lines = warnings(daemon)
    assert "Traceback" not in daemon.log()
    assert sum("sync failed" in line for line in lines) == 1, lines
    assert any(says in line for line in lines), lines
    # One line per part of the service that met the problem (sync, live lookups, images),
    # never one per request or per retry.
    loggers = [line.split(":", 1)[0] for line in lines]
    assert len(loggers) == len(set(loggers)), lines


@dataclass
class Scene:
    id: int
    path: str
    title: str | None  # None: either edition may be served (a sync may land meanwhile)


def started(
    sample_stash_factory,
    daemon_factory,
    hook: str = FAST_RETRIES,
    env: dict[str, str] | None = None,
    **stash_args,
):
    stash: SampleStash = sample_stash_factory(api_key=API_KEY, **stash_args)
    daemon = daemon_factory(stash.url, hook=hook, STASH_API_KEY=API_KEY, **(env or {}))
    wait_until(lambda: daemon.scenes() == stash.library.live_count(), what="the first sync")
    scene = Scene(3, stash.library.scene_paths(3)[0], daemon.title(3))
    return stash, daemon, scene


def plex_scan(daemon: Daemon, scene: Scene, rounds: int, *, unknown: int = 3) -> None:
    """What a library scan sends: matches, metadata and images, all answered, none a 500."""
    for i in range(rounds):
        (hit,) = daemon.match(scene.path)
        assert hit["ratingKey"] == f"scene-{scene.id}"
        title = daemon.title(scene.id)
        assert scene.title is None or title == scene.title  # the last good state
        for kind, entity in (("performer", 1 + i % 30), ("scene", 1 + i % 50)):
            response = daemon.http.get(
                f"/stash/{kind}/{entity}/image"
                if kind != "scene"
                else f"/stash/scene/{entity}/poster"
            )
            assert response.status_code in (200, 404, 503), response.text
            kind_ok = response.headers["content-type"].startswith(("image/", "application/json"))
            assert kind_ok, response.headers
    for i in range(unknown):  # a file the mirror does not know: a live lookup, bounded
        assert daemon.match(f"/mnt/plex/New Site/not synced yet {i}.mp4") == []


def change_stash(stash: SampleStash) -> str:
    stash.library.advance(600)
    stash.library.edit_scene(3, title="Edited while Stash misbehaved")
    return "Edited while Stash misbehaved"


def recover(daemon: Daemon, stash: SampleStash, title: str) -> None:
    wait_until(lambda: daemon.title(3) == title, what="the edit after recovery")
    wait_until(lambda: daemon.scenes() == stash.library.live_count(), what="every scene")
    # Said once the pass has returned, a moment after its last commit.
    wait_until(lambda: "Stash answers again" in daemon.log(), what="the recovery said")


FAULTS: dict[str, tuple[Callable[[SampleStash], None], Callable[[SampleStash], None], str]] = {
    "down": (lambda s: s.faults.down(), lambda s: s.faults.up(), "cannot reach Stash"),
    "http-500": (lambda s: s.faults.status(500), lambda s: s.faults.clear(), "HTTP 500"),
    "invalid-json": (lambda s: s.faults.invalid_json(), lambda s: s.faults.clear(), "not JSON"),
    "graphql-errors": (
        lambda s: s.faults.graphql_errors("database is locked"),
        lambda s: s.faults.clear(),
        "reported an error",
    ),
    "partial-data": (
        lambda s: s.faults.graphql_errors("resolver failed", partial=True),
        lambda s: s.faults.clear(),
        "reported an error",
    ),
    "wrong-key": (
        lambda s: s.faults.unauthorized(),
        lambda s: s.faults.clear(),
        "rejected the API key",
    ),
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_a_misbehaving_stash_changes_nothing_served_and_is_said_once(
    fault: str, sample_stash_factory, daemon_factory
) -> None:
    begin, end, says = FAULTS[fault]
    stash, daemon, scene = started(sample_stash_factory, daemon_factory)
    count = daemon.scenes()
    begin(stash)
    title = change_stash(stash)
    wait_until(lambda: failed_runs(daemon.database) >= 1, what="a failed sync")
    plex_scan(daemon, scene, rounds=25)
    # The scheduler retried (every 3 s here) while saying it once.
    wait_until(lambda: failed_runs(daemon.database) >= 2, what="a retry")
    plex_scan(daemon, scene, rounds=5, unknown=1)
    assert daemon.scenes() == count
    assert_said_once(daemon, says)
    end(stash)
    recover(daemon, stash, title)
    assert daemon.terminate() == 0


def test_stash_down_at_boot_serves_the_last_mirror(sample_stash_factory, daemon_factory) -> None:
    stash, daemon, scene = started(sample_stash_factory, daemon_factory)
    count = daemon.scenes()
    assert daemon.terminate() == 0
    stash.faults.down()
    title = change_stash(stash)
    again = daemon_factory(stash.url, data=daemon.data, hook=FAST_RETRIES, STASH_API_KEY=API_KEY)
    assert again.scenes() == count  # answering from the mirror before any sync
    plex_scan(again, scene, rounds=10)
    wait_until(lambda: failed_runs(again.database) >= 2, what="two failed syncs")
    assert_said_once(again, "cannot reach Stash")
    stash.faults.up()
    recover(again, stash, title)
    assert again.terminate() == 0


def test_stash_down_in_the_middle_of_a_sync(sample_stash_factory, daemon_factory) -> None:
    stash, daemon, scene = started(
        sample_stash_factory, daemon_factory, env={"STASHPLEX_SYNC_PAGE_SIZE": "25"}, scenes=240
    )
    lib = stash.library
    lib.advance(600)
    for scene_id in range(1, 241):
        lib.edit_scene(scene_id, title=f"Second edition {scene_id}")
    # 0.5 s a call (of a 3 s timeout): the pass's last 9 pages take 4.5 s, far longer than the
    # test takes to see the first one committed, however busy the machine.
    stash.faults.latency(0.5)

    def edited() -> int:
        with sqlite3.connect(f"file:{daemon.database}?mode=ro", uri=True) as connection:
            return connection.execute(
                "SELECT count(*) FROM scenes WHERE title LIKE 'Second edition %'"
            ).fetchone()[0]

    wait_until(lambda: edited() > 0, what="the first page of the pass", timeout=60)
    stash.faults.down()
    stash.faults.latency(0)
    wait_until(lambda: failed_runs(daemon.database) >= 1, what="the failed pass")
    partial = edited()
    assert 0 < partial < 240  # a page committed, the rest not yet
    with sqlite3.connect(f"file:{daemon.database}?mode=ro", uri=True) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert daemon.scenes() == 240
    assert daemon.match(scene.path)[0]["ratingKey"] == "scene-3"
    wait_until(lambda: failed_runs(daemon.database) >= 2, what="a retry")
    assert_said_once(daemon, "cannot reach Stash")
    stash.faults.up()
    # The cursor only moves at the end of a pass: the next one takes every edit.
    wait_until(lambda: edited() == 240, what="every edit", timeout=30)
    assert daemon.title(240) == "Second edition 240"
    assert daemon.terminate() == 0


def test_a_flapping_stash_is_ridden_out(sample_stash_factory, daemon_factory) -> None:
    # The real retry backoff here: a Stash that is back within seconds costs no failed pass.
    stash, daemon, scene = started(sample_stash_factory, daemon_factory, hook="")
    title = change_stash(stash)
    stop = threading.Event()

    def flap() -> None:
        while not stop.is_set():
            stash.faults.down()
            stop.wait(0.4)
            stash.faults.up()
            stop.wait(0.6)

    flapper = threading.Thread(target=flap, daemon=True)
    flapper.start()
    scene.title = None
    try:
        deadline = time.monotonic() + 8
        while time.monotonic() < deadline:
            plex_scan(daemon, scene, rounds=3, unknown=1)
    finally:
        stop.set()
        flapper.join()
        stash.faults.up()
    recover_title = title
    wait_until(lambda: daemon.title(3) == recover_title, what="the edit")
    lines = warnings(daemon)
    assert "Traceback" not in daemon.log()
    # Flapping is one problem: each part of the service says it at most once.
    loggers = [line.split(":", 1)[0] for line in lines]
    assert len(loggers) == len(set(loggers)), lines
    assert daemon.terminate() == 0


def answer_seconds(daemon: Daemon, scene: Scene) -> float:
    """How long Plex waits for a match and the metadata of a mirrored scene."""
    t0 = time.monotonic()
    (hit,) = daemon.match(scene.path)
    assert hit["ratingKey"] == f"scene-{scene.id}"
    title = daemon.title(scene.id)
    assert scene.title is None or title == scene.title
    return time.monotonic() - t0


# Timing here is checked against margins no load can eat: an answer that waited for Stash would
# take at least Stash's delay (seconds), one from the mirror takes milliseconds; the bound sits
# at half the delay.
SLOW = 5.0


def test_a_slow_stash_never_slows_the_answers(sample_stash_factory, daemon_factory) -> None:
    # Every call to Stash takes half the timeout: syncs go on, slowly, and fail nothing.
    stash, daemon, scene = started(
        sample_stash_factory, daemon_factory, env={"STASHPLEX_STASH_TIMEOUT": str(2 * SLOW)}
    )
    stash.faults.latency(SLOW)
    title = change_stash(stash)
    # Answers for at least one Stash delay, with the scheduled sync (every 3 s) waiting on it.
    seen_running = False
    at_least, give_up = time.monotonic() + SLOW, time.monotonic() + 60
    while not seen_running or time.monotonic() < at_least:
        assert time.monotonic() < give_up, "no scheduled sync started"
        assert answer_seconds(daemon, scene) < SLOW / 2
        last_run = daemon.health()["sync"]["last_run"]
        seen_running = seen_running or last_run["result"] == "running"
        time.sleep(0.1)
    stash.faults.latency(0)  # the pass in flight finishes quickly now
    wait_until(lambda: daemon.title(3) == title, what="the edit")
    assert not warnings(daemon)  # no call timed out, no pass failed
    assert daemon.terminate() == 0


def test_a_stash_past_the_timeout_is_said_once_and_never_holds_the_answers(
    sample_stash_factory, daemon_factory
) -> None:
    # Stash hangs (far past the 1 s timeout): every sync fails, said once; the answers come
    # from the mirror, and the live lookups of unknown files give up at the timeout.
    stash, daemon, scene = started(
        sample_stash_factory, daemon_factory, env={"STASHPLEX_STASH_TIMEOUT": "1"}
    )
    hang = 12 * SLOW  # a minute: the scan (about 3 s) is bounded at half of it
    stash.faults.latency(hang)
    title = "Edited while Stash was too slow"
    stash.library.advance(600)
    stash.library.edit_scene(3, title=title)
    wait_until(lambda: failed_runs(daemon.database) >= 1, what="a timed-out sync", timeout=40)
    assert answer_seconds(daemon, scene) < SLOW / 2
    t0 = time.monotonic()
    plex_scan(daemon, scene, rounds=5, unknown=2)
    assert time.monotonic() - t0 < hang / 2  # each wait on Stash is cut at the 1 s timeout
    assert_said_once(daemon, "did not answer in time")
    stash.faults.latency(0)
    recover(daemon, stash, title)
    assert daemon.terminate() == 0


def test_an_older_stash_without_groups(sample_stash_factory, daemon_factory) -> None:
    stash, daemon, _scene = started(sample_stash_factory, daemon_factory, stash_version="v0.26.2")
    assert not warnings(daemon)
    lib = stash.library
    with_front = [gid for gid, group in lib.groups.items() if group["front"]]
    in_scene = next(
        (sid, gid)
        for sid in lib.scene_ids()
        for gid, _index in lib.scene(sid)["groups"]
        if gid in with_front
    )
    doc = daemon.metadata(in_scene[0])
    assert doc.get("Collection"), doc  # groups came through Stash's older `movies`
    # The group's front cover comes from the older route (/movie/<id>/frontimage).
    response = daemon.http.get(f"/stash/group/{in_scene[1]}/front")
    assert response.status_code == 200 and response.headers["content-type"] == "image/jpeg"
    title = change_stash(stash)
    recover_title = title
    wait_until(lambda: daemon.title(3) == recover_title, what="an incremental pass")
    assert not warnings(daemon)
    assert daemon.terminate() == 0


def test_live_lookups_follow_a_stash_replaced_by_an_older_one(
    synced_provider: Callable[..., Provider],
) -> None:
    """Stash restored from an older release on the same address: the live lookups, which
    learnt the API generation once, learn it again instead of failing forever."""
    provider = synced_provider()
    newer = provider.mirrored.stash
    assert provider.match(filename="/nowhere/unknown.mp4") == []  # probed v0.30: groups
    newer.stop()
    older = SampleStash(scenes=60, host=LOOPBACK, port=newer.port, stash_version="v0.26.2")
    older.start()
    try:
        (scene_id,) = older.library.add_scenes(1, title="Arrived on the older Stash")
        path = older.library.scene_paths(scene_id)[0]
        hits = provider.match(filename=path) or provider.match(filename=path)
        assert [hit["ratingKey"] for hit in hits] == [f"scene-{scene_id}"]
    finally:
        older.stop()
