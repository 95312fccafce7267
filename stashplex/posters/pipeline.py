"""Pre-rendering posters in the background: fed by the syncer, bounded, never in its way.

The syncer's `after_page` hook (`on_page`) only appends scene ids to a bounded in-memory queue and
returns; a few worker threads take them and call `PosterService.refresh`, which asks Stash only
when a scene's cover may have changed and renders only when it did. Deleted scenes' posters are
removed first. When the queue is full, ids are dropped and a backfill is requested instead: the
mirror itself says which scenes lack an up-to-date poster, so nothing is lost and memory stays
flat however big a sync is.

The backfill walks the mirror by id (keyset pages) and feeds the workers only while no changed
scene is waiting, and never on every worker at once, so it runs at low priority behind new work.
It needs no saved cursor: a restart walks again and skips, with one stat per poster, everything
already done. At its end it removes posters of scenes no longer mirrored.

When Stash cannot be asked, the workers pause (the scenes stay queued) instead of hammering it.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable

from sqlalchemy.exc import DBAPIError

from stashplex.mirror.poster_states import OK
from stashplex.mirror.sync import SyncReport
from stashplex.mirror.writer import PageResult
from stashplex.posters.service import PosterService, PosterStoreFailed, PosterUnavailable
from stashplex.trouble import Trouble

log = logging.getLogger(__name__)

WORKERS = 3  # two render while one waits on a download (downloads and renders are bounded)
QUEUE_LIMIT = 20_000
BACKFILL_PAGE = 1000
PAUSE_SECONDS = 30.0


class PosterPipeline:
    def __init__(
        self,
        service: PosterService,
        *,
        workers: int = WORKERS,
        queue_limit: int = QUEUE_LIMIT,
        backfill_page: int = BACKFILL_PAGE,
        pause_seconds: float = PAUSE_SECONDS,
    ) -> None:
        """`pause_seconds`: how long to wait after Stash failed before trying again; 0 drops
        the failed scene instead (for one-shot commands, which must end).

        glibc's malloc thresholds, which save ~2.5 ms per poster, are the deployment's to set
        (MALLOC_MMAP_THRESHOLD_ / MALLOC_TRIM_THRESHOLD_ in the Dockerfile, the systemd unit and
        scripts/run), not this process's."""
        self.service = service
        self.workers = max(1, workers)
        self.queue_limit = queue_limit
        self.backfill_page = backfill_page
        self.pause_seconds = pause_seconds
        self.counts: Counter[str] = Counter()
        self._queue: deque[int] = deque()
        self._queued: set[int] = set()
        self._removals: deque[int] = deque()
        self._low: deque[int] = deque()  # backfill's scenes, handed over a few at a time
        self._busy = 0
        self._busy_low = 0
        self._overflowed = False
        self._backfill_wanted = False
        self._backfill_running = False
        self._paused_until = 0.0
        self._failing = False
        self.trouble = Trouble(log, "poster work succeeds again")
        self._closing = False
        self._cond = threading.Condition()
        self._threads: list[threading.Thread] = []

    # --- feeding -------------------------------------------------------------------------------

    def on_page(self, page: PageResult) -> None:
        """The syncer's after_page hook: queue this page's changes and return at once."""
        self.remove(page.removed_ids)
        self.submit(page.changed_docs)

    def after_pass(self, report: SyncReport) -> None:
        """After a sync pass: changes the page hooks never saw (documents re-rendered after
        entity edits, deletions found by a sweep), and a backfill after full passes and sweeps
        or when the queue overflowed."""
        self.remove(report.removed_ids)
        self.submit(report.changed_docs)
        if report.kind in ("full", "sweep"):
            self.request_backfill()

    def submit(self, scene_ids: Iterable[int]) -> None:
        with self._cond:
            for scene_id in scene_ids:
                if scene_id in self._queued:
                    continue
                if len(self._queue) >= self.queue_limit:
                    self._overflowed = True  # the backfill will find what was dropped
                    continue
                self._queue.append(scene_id)
                self._queued.add(scene_id)
            self._cond.notify_all()
            overflowed = self._overflowed
        if overflowed:
            self.request_backfill()

    def remove(self, scene_ids: Iterable[int]) -> None:
        ids = list(scene_ids)
        if not ids:
            return
        with self._cond:
            self._removals.extend(ids)
            self._cond.notify_all()

    def request_backfill(self) -> None:
        """Walk the mirror for scenes without an up-to-date poster (again, if one is running)."""
        with self._cond:
            self._backfill_wanted = True
            self._overflowed = False
            # Before start() it only stays wanted: start() begins it.
            if self._backfill_running or self._closing or not self._threads:
                return
            self._backfill_running = True
        self._spawn(self._backfill, "poster-backfill")

    # --- lifecycle -----------------------------------------------------------------------------

    def start(self) -> PosterPipeline:
        with self._cond:
            if self._threads or self._closing:
                return self
            for n in range(self.workers):
                self._threads.append(self._spawn(self._work, f"poster-{n}"))
            wanted = self._backfill_wanted
        if wanted:
            self.request_backfill()
        return self

    def drain(self, timeout: float | None = None) -> bool:
        """Wait until nothing is queued, running or left to backfill; False on timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while not self._idle():
                left = None if deadline is None else deadline - time.monotonic()
                if self._closing or (left is not None and left <= 0):
                    return False
                self._cond.wait(left if left is not None else 1.0)
        return True

    def close(self, timeout: float = 5.0) -> None:
        """Stop after the scenes in hand (queued ones are left for the next start's backfill)."""
        with self._cond:
            self._closing = True
            self._cond.notify_all()
            threads = list(self._threads)
        deadline = time.monotonic() + timeout
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def pending(self) -> int:
        with self._cond:
            return len(self._queue) + len(self._removals) + len(self._low) + self._busy

    def summary(self) -> str:
        c = self.counts
        return (
            f"posters: {c['rendered']} rendered, {c['unchanged'] + c['fresh']} up to date, "
            f"{c['no_cover']} without a cover, {c['corrupt']} bad covers skipped, "
            f"{c['removed']} removed, {c['failed']} failed"
        )

    # --- workers -------------------------------------------------------------------------------

    def _idle(self) -> bool:
        return not (
            self._queue or self._removals or self._low or self._busy or self._backfill_running
        )

    def _count(self, key: str, n: int = 1) -> None:
        with self._cond:
            self.counts[key] += n

    def _spawn(self, target: Callable[[], None], name: str) -> threading.Thread:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        return thread

    def _take(self) -> tuple[str, list[int]] | None:
        """The next job: ("remove", ids), ("high", [id]) or ("low", [id]); None to stop."""
        with self._cond:
            while True:
                if self._closing:
                    return None
                wait = self._paused_until - time.monotonic()
                if wait <= 0:
                    if self._removals:
                        ids = list(self._removals)
                        self._removals.clear()
                        self._busy += 1
                        return "remove", ids
                    if self._queue:
                        scene_id = self._queue.popleft()
                        self._queued.discard(scene_id)
                        self._busy += 1
                        return "high", [scene_id]
                    # Backfill work only when nothing new waits, and never on every worker.
                    if self._low and self._busy_low < max(1, self.workers - 1):
                        scene_id = self._low.popleft()
                        self._busy += 1
                        self._busy_low += 1
                        self._cond.notify_all()  # the feeder may refill
                        return "low", [scene_id]
                self._cond.wait(wait if wait > 0 else None)

    def _done(self, kind: str) -> None:
        with self._cond:
            self._busy -= 1
            if kind == "low":
                self._busy_low -= 1
            self._cond.notify_all()

    def _work(self) -> None:
        while True:
            job = self._take()
            if job is None:
                return
            kind, ids = job
            try:
                if kind == "remove":
                    self._count("removed", self.service.remove(ids))
                else:
                    self._refresh(ids[0], kind)
            except PosterStoreFailed:  # said once by the service; the backfill removes them
                self._count("failed", len(ids))
            except Exception as exc:
                self._count("failed", len(ids))
                # Once per cause, with its traceback: a read-only mirror fails every scene
                # the same way, and one line says it as well as thousands.
                self.trouble.failed(
                    (type(exc), str(exc)),
                    "poster work failed for scenes %s: %s",
                    ids[:5],
                    exc,
                    exc_info=exc,
                )
                if isinstance(exc, (sqlite3.Error, DBAPIError)):  # the mirror refuses: wait
                    self._stash_failed(ids[0], kind, None)
            finally:
                self._done(kind)

    def _refresh(self, scene_id: int, kind: str) -> None:
        try:
            action = self.service.refresh(scene_id)
        except PosterUnavailable as exc:
            self._count("failed")
            self._stash_failed(scene_id, kind, f"cannot fetch covers from Stash: {exc}")
            return
        except OSError as exc:  # the poster folder: full, read-only, gone
            self._count("failed")
            # PosterStoreFailed was already said once by the service: only pause.
            where = self.service.store.root
            problem = f"cannot write posters to {where}: {exc}"
            self._stash_failed(
                scene_id, kind, None if isinstance(exc, PosterStoreFailed) else problem
            )
            return
        self._count(action)
        self.trouble.recovered()
        if self._failing:
            self._failing = False
            log.info("posters are being rendered again")

    def _stash_failed(self, scene_id: int, kind: str, problem: str | None) -> None:
        """Say it once, then pause the workers (the scene stays queued) or drop the scene;
        `problem` None: already said elsewhere, only pause."""
        if problem is not None and not self._failing:
            self._failing = True
            log.warning("%s; posters wait", problem)
        if self.pause_seconds <= 0:
            return  # dropped; the next backfill finds it
        with self._cond:
            self._paused_until = time.monotonic() + self.pause_seconds
            if kind == "high" and scene_id not in self._queued:
                self._queue.appendleft(scene_id)
                self._queued.add(scene_id)
            elif kind == "low":
                self._low.appendleft(scene_id)

    # --- backfill ------------------------------------------------------------------------------

    def _backfill(self) -> None:
        try:
            while True:
                with self._cond:
                    if self._closing or not self._backfill_wanted:
                        return
                    self._backfill_wanted = False
                found = self._walk()
                if found:
                    log.info("backfill: %d scenes needed their poster checked", found)
                self._remove_orphans()
        except Exception:
            log.exception("poster backfill failed; the next one starts over")
        finally:
            with self._cond:
                self._backfill_running = False
                self._cond.notify_all()

    def _walk(self) -> int:
        after = 0
        found = 0
        style = self.service.style
        store = self.service.store
        while True:
            page = self.service.states.scan(after, self.backfill_page)
            if not page:
                return found
            after = page[-1].scene_id
            for view in page:
                record = view.record
                stale = (
                    record is None
                    or record.scene_version != view.scene_version
                    or (record.state == OK and record.style != style)
                    or (record.state == OK and not store.exists(view.scene_id))
                )
                if not stale:
                    continue
                found += 1
                with self._cond:
                    # A few at a time: memory stays flat and new work overtakes the backfill.
                    while len(self._low) >= self.workers * 2 and not self._closing:
                        self._cond.wait(1.0)
                    if self._closing:
                        return found
                    if view.scene_id not in self._queued:
                        self._low.append(view.scene_id)
                        self._cond.notify_all()

    def _remove_orphans(self) -> None:
        after = 0
        while True:
            ids = self.service.states.orphans(after, self.backfill_page)
            if not ids:
                return
            after = ids[-1]
            self.remove(ids)
