"""Refresh on change: after a sync, ask PMS to refresh the items whose scene changed in Stash.

Only scenes whose Plex document changed in the pass (`SyncReport.changed_docs`) and that PMS is
known to hold (a Plex key in `plex_items`) are refreshed; an unchanged scene never is. Requests
are coalesced (a scene changed by several passes before its turn is refreshed once), wait a
moment for a burst of passes to settle, and go out one at a time at no more than `per_second`
(a refresh makes PMS call back for metadata and images: the provider's own load).
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Iterable

from stashplex.mirror.plex_links import PlexLinks
from stashplex.mirror.sync import SyncReport
from stashplex.pms.api import PlexAuthError, PlexError, PlexNotFound, PmsClient
from stashplex.worker import BackgroundWorker

log = logging.getLogger(__name__)

PER_SECOND = 2.0
# A pass hands over all its changes at once: this only gathers passes that end close together
# (the plugin's targeted syncs), and stays short so an edit in Stash reaches Plex in seconds.
SETTLE_SECONDS = 0.5
QUEUE_LIMIT = 100_000
FAILURE_PAUSE = 30.0
MAX_FAILURES = 3  # in a row; then the queue is dropped and the next pass brings new work


class PlexRefresher(BackgroundWorker):
    thread_name = "plex-refresh"

    def __init__(
        self,
        pms: PmsClient,
        links: PlexLinks,
        *,
        per_second: float = PER_SECOND,
        settle: float = SETTLE_SECONDS,
        queue_limit: int = QUEUE_LIMIT,
        failure_pause: float = FAILURE_PAUSE,
    ) -> None:
        super().__init__()
        self.pms = pms
        self.links = links
        self.interval = 1.0 / per_second
        self.settle = settle
        self.queue_limit = queue_limit
        self.failure_pause = failure_pause
        self.sent = 0
        self._pending: OrderedDict[int, str] = OrderedDict()  # scene id -> Plex key

    def after_pass(self, report: SyncReport) -> None:
        """The scheduler's after-pass hook."""
        self.request(report.changed_docs)

    def request(self, scene_ids: Iterable[int]) -> int:
        """Queue a refresh for those of these scenes that PMS holds; returns how many."""
        keys = self.links.keys_for(scene_ids)
        if not keys:
            return 0
        with self._cond:
            room = self.queue_limit - len(self._pending)
            for scene_id, key in list(keys.items())[: max(0, room)]:
                self._pending[scene_id] = key
            self._cond.notify_all()
        return len(keys)

    def _has_work(self) -> bool:
        return bool(self._pending)

    # --- the worker ----------------------------------------------------------------------------

    def _wait(self, seconds: float) -> bool:
        """Sleep unless closing; False when closing."""
        with self._cond:
            if seconds > 0:
                self._cond.wait_for(lambda: self._closing, seconds)
            return not self._closing

    def _run(self) -> None:
        failures = 0
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._closing or bool(self._pending))
                if self._closing:
                    return
                self._busy = True
            # Let a burst of passes (or one pass's pages) coalesce before going out.
            if not self._wait(self.settle):
                return
            done: list[int] = []
            while True:
                with self._cond:
                    if self._closing or not self._pending:
                        break
                    scene_id, key = self._pending.popitem(last=False)
                try:
                    self.pms.refresh(key)
                    done.append(scene_id)
                    self.sent += 1
                    failures = 0
                except PlexNotFound:
                    self.links.forget(scene_id)  # PMS no longer holds it under that key
                except PlexAuthError as exc:
                    log.error("%s; dropping %d refreshes", exc, self._drop() + 1)
                    break
                except PlexError as exc:
                    failures += 1
                    if failures >= MAX_FAILURES:
                        log.warning("Plex refresh failed: %s; dropping %d", exc, self._drop() + 1)
                        failures = 0
                        break
                    with self._cond:
                        self._pending[scene_id] = key
                        self._pending.move_to_end(scene_id, last=False)
                    if not self._wait(self.failure_pause):
                        break
                    continue
                if not self._wait(self.interval):
                    break
            if done:
                self.links.refreshed(done)
                log.info("asked Plex to refresh %d changed items", len(done))
            with self._cond:
                self._busy = False
                self._cond.notify_all()

    def _drop(self) -> int:
        with self._cond:
            count = len(self._pending)
            self._pending.clear()
            return count
