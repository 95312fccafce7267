"""The scheduled syncs against a real sample Stash, with intervals of about a second."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import pytest

from stashplex.scheduler import SyncScheduler
from tests.plugins.mirror import Mirrored


def wait_until(condition: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.02)
    raise AssertionError("condition not met in time")


@pytest.fixture
def scheduled(mirrored_factory) -> Callable[..., tuple[Mirrored, SyncScheduler]]:
    started: list[SyncScheduler] = []

    def make(**kwargs) -> tuple[Mirrored, SyncScheduler]:
        m = mirrored_factory(sync=False, **kwargs)
        scheduler = SyncScheduler(
            m.syncer,
            interval_minutes=0.02,  # 1.2 s
            sweep_hours=1,
            retry_first=0.2,
            on_stop=m.client.stop,
        )
        started.append(scheduler)
        return m, scheduler

    yield make
    for scheduler in started:
        scheduler.stop(grace=2)


def test_first_sync_at_boot_then_changes_on_the_next_run(scheduled) -> None:
    m, scheduler = scheduled()
    reports = []
    scheduler.after_pass.append(reports.append)
    scheduler.start()
    # Hooks run after the pass commits: wait on the reports, not on the mirror or status.
    wait_until(lambda: len(reports) >= 1)
    assert reports[0].kind == "full"
    assert len(m.scenes()) == m.stash.library.live_count()
    m.stash.library.advance(600)
    m.stash.library.edit_scene(3, title="Changed while serving")
    wait_until(lambda: any(r.updated for r in reports[1:]))
    changed = [r for r in reports[1:] if r.updated]
    assert [(r.kind, r.updated) for r in changed] == [("incremental", 1)]
    assert m.scenes([3])[3].title == "Changed while serving"
    assert set(scheduler.status.next_runs) == {"incremental", "sweep"}


def test_stash_down_is_logged_once_retried_and_recovers(scheduled, caplog) -> None:
    caplog.set_level(logging.DEBUG, logger="stashplex.scheduler")
    m, scheduler = scheduled()
    m.stash.faults.down()
    scheduler.start()
    wait_until(lambda: scheduler.status.failing_since is not None)

    def retries() -> int:
        return sum("retrying in" in r.getMessage() for r in caplog.records)

    wait_until(lambda: retries() >= 2)  # several retries with backoff
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "cannot reach Stash" in warnings[0].getMessage()
    # The mirror is empty: the pass that failed is the first full one, and is called so.
    assert warnings[0].getMessage().startswith("full sync failed")
    assert scheduler.status.last_kind == "full"
    m.stash.faults.up()
    wait_until(lambda: scheduler.status.last_ok is True)
    assert any("answers again" in r.getMessage() for r in caplog.records)
    assert scheduler.status.failing_since is None


@pytest.mark.parametrize(
    ("status", "words"),
    [("SETUP", "is not set up yet"), ("NEEDS_MIGRATION", "needs a database migration")],
)
def test_a_stash_that_is_not_ready_is_waited_for(scheduled, caplog, status, words) -> None:
    caplog.set_level(logging.DEBUG, logger="stashplex.scheduler")
    m, scheduler = scheduled()
    m.stash.library.set_status(status)
    scheduler.start()
    wait_until(lambda: scheduler.status.failing_since is not None)
    time.sleep(1.5)  # several retries with backoff
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    retries = [r for r in caplog.records if "retrying in" in r.getMessage()]
    assert len(warnings) == 1 and words in warnings[0].getMessage()
    assert len(retries) >= 2
    assert m.scenes() == {}  # nothing was read from a Stash in that state
    m.stash.library.set_status("OK")
    wait_until(lambda: scheduler.status.last_ok is True)
    assert len(m.scenes()) == m.stash.library.live_count()


def test_stop_during_a_slow_pass_is_quick_and_leaves_a_consistent_mirror(scheduled) -> None:
    m, scheduler = scheduled(scenes=2000, env={"STASHPLEX_SYNC_PAGE_SIZE": "25"})
    # 0.25 s a call: the whole pass (80 pages) would take 20 s; stopping cuts the call short.
    m.stash.faults.latency(0.25)
    scheduler.start()
    wait_until(lambda: scheduler.status.running is not None and len(m.scenes()) > 0)
    started = time.monotonic()
    assert scheduler.stop(grace=10)
    assert time.monotonic() - started < 10
    m.stash.faults.latency(0)
    with m.db.reader.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
    assert m.syncer.writer.get_state("cursor:scene") is None  # the pass did not finish
    assert m.syncer.writer.get_state("full_resume") is not None
