"""Uploading posters into Plex Media Server, fed by the metadata requests PMS makes.

PMS fetches artwork through Plex's cloud image proxy, which cannot reach a LAN address; an image
uploaded into PMS is stored there and always shows. So when PMS asks for a scene's metadata, the
responder calls `on_metadata(scene_id)`, which only queues the scene (never blocking, never
failing) for one background thread that:

1. skips the scene if the poster version recorded as uploaded is the current one (a restart
   uploads nothing again; a changed poster is uploaded again);
2. finds the PMS item by its guid (`PmsClient.find_scene`). PMS asks for metadata while it is
   still ingesting a new item, so "not found yet" is retried with growing delays, a bounded
   number of times; the next metadata request starts over;
3. uploads the poster and records (scene, Plex key, poster version) in the mirror.

With `learn_keys` it also finds and stores the Plex key of scenes without a poster, which
refresh-on-change needs; with `upload=False` that is all it does.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import time
from collections.abc import Callable, Sequence

from stashplex.mirror.plex_links import PlexLinks
from stashplex.pms.api import PlexAuthError, PlexError, PlexNotFound, PmsClient
from stashplex.posters.service import PosterService, PosterUnavailable
from stashplex.worker import BackgroundWorker

log = logging.getLogger(__name__)

# Seconds before each new search for an item PMS has not ingested yet (about 15 minutes in all).
RETRY_DELAYS: tuple[float, ...] = (5, 15, 45, 120, 300, 450)
QUEUE_LIMIT = 10_000
AUTH_PAUSE = 600.0


class PosterUploader(BackgroundWorker):
    thread_name = "plex-upload"

    def __init__(
        self,
        pms: PmsClient,
        links: PlexLinks,
        posters: PosterService | None,
        *,
        upload: bool = True,
        learn_keys: bool = False,
        retry_delays: Sequence[float] = RETRY_DELAYS,
        queue_limit: int = QUEUE_LIMIT,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self.pms = pms
        self.links = links
        self.posters = posters
        self.upload = upload and posters is not None
        self.learn_keys = learn_keys or not self.upload
        self.retry_delays = tuple(retry_delays)
        self.queue_limit = queue_limit
        self.clock = clock
        self.uploads = 0  # counters, for tests and status pages
        self.searches = 0
        self.gave_up = 0
        self._heap: list[tuple[float, int, int]] = []  # (due, sequence, scene id)
        self._attempts: dict[int, int] = {}  # queued scene -> tries so far
        self._seq = itertools.count()
        self._paused_until = 0.0
        self._failing = False

    # --- feeding (any thread; never blocks on I/O) ------------------------------------------

    def on_metadata(self, scene_id: int) -> None:
        """PMS asked for this scene's metadata: make sure its poster is in PMS, later."""
        self._enqueue(scene_id)

    def poster_changed(self, scene_id: int) -> None:
        """A new poster was rendered: upload it if PMS is known to hold the scene."""
        if self.upload and self.links.keys_for([scene_id]):
            self._enqueue(scene_id)

    def _enqueue(self, scene_id: int, attempt: int = 0, delay: float = 0.0) -> None:
        with self._cond:
            if self._closing:
                return
            if scene_id in self._attempts:
                return  # already queued or waiting for a retry
            if attempt == 0 and len(self._attempts) >= self.queue_limit:
                log.debug("poster upload queue full; scene %d waits for its next request", scene_id)
                return
            self._attempts[scene_id] = attempt
            heapq.heappush(self._heap, (self.clock() + delay, next(self._seq), scene_id))
            self._cond.notify_all()

    # --- lifecycle -----------------------------------------------------------------------------

    def _has_work(self) -> bool:
        return bool(self._attempts)

    # --- the worker ----------------------------------------------------------------------------

    def _next(self) -> tuple[int, int] | None:
        with self._cond:
            while True:
                if self._closing:
                    return None
                now = self.clock()
                due = max(self._heap[0][0] if self._heap else now + 1.0, self._paused_until)
                if self._heap and due <= now:
                    _, _, scene_id = heapq.heappop(self._heap)
                    self._busy = True
                    return scene_id, self._attempts.pop(scene_id, 0)
                # Real seconds: the clock is only swapped in tests, which keep delays short.
                self._cond.wait(min(max(due - now, 0.01), 1.0))

    def _run(self) -> None:
        while True:
            job = self._next()
            if job is None:
                return
            scene_id, attempt = job
            try:
                self._handle(scene_id, attempt)
            except Exception:
                log.exception("poster upload for scene %d failed", scene_id)
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()

    def _handle(self, scene_id: int, attempt: int) -> None:
        version = None
        if self.upload:
            assert self.posters is not None
            try:
                self.posters.ensure(scene_id)
            except PosterUnavailable as exc:
                self._retry(scene_id, attempt, f"its poster cannot be made now ({exc})")
                return
            version = self.posters.poster_version(scene_id)
        link = self.links.get(scene_id)
        if link is not None and (version is None or link.uploaded_version == version):
            return  # PMS already has this poster (or there is none to give)
        if link is None and version is None and not self.learn_keys:
            return  # no poster to give, and no use for the key
        try:
            key = link.plex_key if link is not None else self._find(scene_id)
            if key is None:
                self._retry(scene_id, attempt, "Plex has no item for it yet")
                return
            if version is None:
                return
            data = self.posters.store.read(scene_id) if self.posters else None
            if data is None:  # removed meanwhile (cover gone, scene deleted)
                return
            try:
                self.pms.upload_poster(key, data)
            except PlexNotFound:
                # The item was deleted or re-added under a new key: search again.
                self.links.forget(scene_id)
                self._enqueue(scene_id, attempt + 1, 0.0)
                return
            self.links.uploaded(scene_id, key, version)
            self.uploads += 1
            log.debug("uploaded poster %s of scene %d to Plex item %s", version, scene_id, key)
            if self._failing:
                self._failing = False
                log.info("Plex answers again; uploading posters")
        except PlexAuthError as exc:
            self._pause(AUTH_PAUSE)
            log.error("%s; poster uploads paused for %d minutes", exc, AUTH_PAUSE // 60)
        except PlexError as exc:
            if not self._failing:
                self._failing = True
                log.warning("poster upload to Plex failed: %s; retrying later", exc)
            self._retry(scene_id, attempt, str(exc), quiet=True)

    def _find(self, scene_id: int) -> str | None:
        self.searches += 1
        item = self.pms.find_scene(scene_id, title=self.links.title(scene_id))
        if item is None:
            return None
        self.links.found(scene_id, item.key)
        return item.key

    def _retry(self, scene_id: int, attempt: int, why: str, *, quiet: bool = False) -> None:
        if attempt >= len(self.retry_delays):
            self.gave_up += 1
            if not quiet:
                log.info(
                    "scene %d: no poster upload after %d tries: %s; the next request from "
                    "Plex tries again",
                    scene_id,
                    attempt + 1,
                    why,
                )
            return
        self._enqueue(scene_id, attempt + 1, self.retry_delays[attempt])

    def _pause(self, seconds: float) -> None:
        with self._cond:
            self._paused_until = self.clock() + seconds
