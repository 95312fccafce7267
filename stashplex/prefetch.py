"""Images that outlive Stash: after every sync, download what the image cache lacks.

Plex asks for performer photos, studio and group images and scene covers long after a sync,
often while Stash is asleep. After each sync pass (the service's and `stashplex-sync`'s) one
background pass walks every image the mirror knows (`mirror.image_refs`: performers, studios,
groups, then scenes newest first) and fetches from Stash each one whose current version is not
in the cache, a few at a time. It stops early:
- when the cache reaches 90% of `[images] cache_mb`: prefetching never evicts what Plex uses
  (the cache's own eviction, least recently used first, only runs past the budget);
- when Stash fails (down, refusing the key): one log line, and the next pass goes on.
An image already cached costs one `stat`, so a pass over an unchanged library is quick. A scene
Stash has no cover for is recorded as such in the poster records (as the poster work would), so
later passes, `stashplex-sync` runs included, do not ask again until the scene changes, and its
title card needs no Stash request either.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass

from stashplex.flight import ExpiringSet
from stashplex.mirror.db import Database
from stashplex.mirror.image_refs import ImageRef, image_refs
from stashplex.mirror.poster_states import NO_COVER, OK, PosterRecord, PosterStates
from stashplex.mirror.sync import SyncReport
from stashplex.posters.render import sniff_image
from stashplex.stash.client import StashClient
from stashplex.stash.errors import (
    StashAuthError,
    StashError,
    StashServerError,
    StashUnreachable,
)
from stashplex.trouble import Trouble
from stashplex.web.imagecache import ImageCache
from stashplex.web.images import stash_image_path
from stashplex.worker import BackgroundWorker

log = logging.getLogger(__name__)

WORKERS = 2  # Stash is a small SQLite server: two image requests at a time
ABSENT_SECONDS = 24 * 3600.0  # "no image" (a placeholder) is believed for a day


@dataclass
class PrefetchResult:
    fetched: int = 0
    cached: int = 0  # already in the cache
    absent: int = 0  # Stash had no usable image
    bytes: int = 0
    seconds: float = 0.0
    stopped: str | None = None  # why the pass ended early

    def summary(self) -> str:
        line = (
            f"images: {self.fetched} fetched ({self.bytes / 1e6:.1f} MB), {self.cached} "
            f"already cached, {self.absent} without an image in {self.seconds:.1f}s"
        )
        return line + (f"; stopped: {self.stopped}" if self.stopped else "")


class _Stop(Exception):
    pass


class ImagePrefetcher(BackgroundWorker):
    thread_name = "image-prefetch"

    def __init__(
        self, db: Database, cache: ImageCache, client: StashClient, *, workers: int = WORKERS
    ) -> None:
        super().__init__()
        self.db = db
        self.cache = cache
        self.client = client
        self.workers = workers
        self.absent = ExpiringSet(ABSENT_SECONDS, max_size=200_000)
        self.posters = PosterStates(db)
        self.trouble = Trouble(log, "Stash sends images again; prefetching goes on")
        self.last: PrefetchResult | None = None
        self._wanted = False
        self._full_said = False

    # --- feeding -------------------------------------------------------------------------------

    def after_pass(self, report: SyncReport) -> None:
        """A sync pass ended: prefetch (passes that arrive meanwhile make one more)."""
        with self._cond:
            self._wanted = True
            self._cond.notify_all()

    def _has_work(self) -> bool:
        return self._wanted

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._wanted and not self._closing:
                    self._cond.wait(1.0)
                if self._closing:
                    return
                self._wanted = False
                self._busy = True
            try:
                self.last = self.run_pass()
                log.info("image prefetch: %s", self.last.summary())
            except Exception:
                log.exception("image prefetch failed")
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()

    # --- one pass ------------------------------------------------------------------------------

    def run_pass(self) -> PrefetchResult:
        result = PrefetchResult()
        started = time.perf_counter()
        lock = threading.Lock()
        with ThreadPoolExecutor(self.workers, thread_name_prefix="prefetch") as pool:
            pending: set[Future[None]] = set()
            try:
                for ref in self._missing(result):
                    if len(pending) >= self.workers * 2:
                        done, pending = wait(pending, return_when=FIRST_COMPLETED)
                        for future in done:
                            future.result()  # raises _Stop
                    pending.add(pool.submit(self._fetch, ref, result, lock))
                for future in pending:
                    future.result()
            except _Stop as stop:
                result.stopped = str(stop)
                for future in pending:
                    future.cancel()
        result.seconds = time.perf_counter() - started
        return result

    def _missing(self, result: PrefetchResult) -> Iterator[ImageRef]:
        for ref in image_refs(self.db):
            if self._closing:
                raise _Stop("shutting down")
            if self.cache.get(ref.kind, ref.id, ref.version) is not None:
                result.cached += 1
                continue
            if ref in self.absent:
                result.absent += 1
                continue
            if not self.cache.has_room():
                if not self._full_said:
                    self._full_said = True
                    log.warning(
                        "the image cache is at its budget ([images] cache_mb = %d): images "
                        "not cached yet are fetched when Plex asks for them",
                        (self.cache.max_bytes or 0) // 1024**2,
                    )
                raise _Stop("the image cache is full")
            yield ref

    def _no_cover(self, ref: ImageRef) -> None:
        """Record "no cover at this version" unless the poster work holds a poster (it then
        removes the poster itself when it next looks)."""
        record = self.posters.get(ref.id)
        if record is None or record.state != OK:
            self.posters.save(
                PosterRecord(ref.id, NO_COVER, scene_version=ref.version, checked_at=time.time())
            )

    def _fetch(self, ref: ImageRef, result: PrefetchResult, lock: threading.Lock) -> None:
        path = stash_image_path(ref.kind, ref.id, self.client.legacy)
        try:
            answer = self.client.image(path, retries=1)
        except (StashUnreachable, StashServerError, StashAuthError) as exc:
            self.trouble.failed(type(exc), "image prefetch paused: %s", exc)
            raise _Stop(str(exc)) from None
        except StashError:  # an answer that is not an image: the route says so when asked
            self.absent.add(ref)
            with lock:
                result.absent += 1
            return
        self.trouble.recovered()
        if ref.kind == "scene" and answer.state == "placeholder":
            self._no_cover(ref)
        if answer.state != "ok" or not answer.data or sniff_image(answer.data) is None:
            self.absent.add(ref)
            with lock:
                result.absent += 1
            return
        try:
            self.cache.put(ref.kind, ref.id, ref.version, answer.data)
        except OSError as exc:
            raise _Stop(f"cannot store images in {self.cache.root}: {exc}") from None
        with lock:
            result.fetched += 1
            result.bytes += len(answer.data)
