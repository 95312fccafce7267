"""Uploading artwork into Plex Media Server as soon as PMS holds an item, or its image changes.

PMS fetches artwork through Plex's cloud image proxy, which cannot reach a LAN address, and PMS
1.43.5 and later refuses caller-supplied image URLs on private addresses; an image uploaded into
PMS is stored there and always shows. Feeds (any thread; they only queue, never block or fail):
- `on_metadata(scene_id)` / `on_item(guid)`: PMS asked for an item's metadata (so it holds it,
  or is ingesting it);
- `poster_changed(scene_id)`: a new poster was rendered;
- `after_pass(report)`: scenes whose Plex document changed in a sync (new image versions).

One background thread then, per item:
1. finds its PMS key: remembered in the mirror (`plex_items` for scenes, `plex_uploads` for TV
   items), else searched by guid (`PmsClient.find_scene` / `find`). PMS asks for metadata while
   it is still ingesting a new item, so "not found yet" is retried with growing delays, a
   bounded number of times; the next metadata request starts over;
2. sends what the item lacks (`ArtworkSender`): nothing twice, a changed image again.
The keys it learns for scenes (`plex_items`) are also what refresh-on-change uses.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import time
from collections.abc import Callable, Iterable, Sequence

from stashplex.mirror.plex_links import PlexLinks
from stashplex.mirror.sync import SyncReport
from stashplex.plex.identity import (
    MOVIE_PROVIDER_ID,
    parse_scene_guid,
    parse_tv_guid,
    scene_guid,
    scene_rating_key,
    tv_guid,
)
from stashplex.pms.api import EPISODE, SEASON, SHOW, PlexAuthError, PlexError, PlexNotFound
from stashplex.pms.sender import ArtworkSender, PictureUnavailable
from stashplex.trouble import Trouble
from stashplex.worker import BackgroundWorker

log = logging.getLogger(__name__)

# Seconds before each new search for an item PMS has not ingested yet (about 15 minutes in all).
RETRY_DELAYS: tuple[float, ...] = (5, 15, 45, 120, 300, 450)
QUEUE_LIMIT = 10_000
AUTH_PAUSE = 600.0
_TV_TYPES = {"show": SHOW, "season": SEASON, "episode": EPISODE}


class ArtworkUploader(BackgroundWorker):
    thread_name = "plex-upload"

    def __init__(
        self,
        sender: ArtworkSender,
        links: PlexLinks,
        *,
        retry_delays: Sequence[float] = RETRY_DELAYS,
        queue_limit: int = QUEUE_LIMIT,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self.sender = sender
        self.pms = sender.pms
        self.links = links
        self.retry_delays = tuple(retry_delays)
        self.queue_limit = queue_limit
        self.clock = clock
        self.searches = 0  # counters, for tests and status pages
        self.gave_up = 0
        self._heap: list[tuple[float, int, str]] = []  # (due, sequence, guid)
        self._attempts: dict[str, int] = {}  # queued guid -> tries so far
        self._seq = itertools.count()
        self._paused_until = 0.0
        self._failing = False
        # A bug or a mirror refusing writes fails every upload the same way: said once per cause.
        self.trouble = Trouble(log, "artwork uploads work again")

    @property
    def uploads(self) -> int:
        return self.sender.sent

    # --- feeding (any thread; never blocks on I/O) ------------------------------------------

    def on_metadata(self, scene_id: int) -> None:
        """PMS asked for this scene's metadata: make sure its artwork is in PMS, later."""
        self._enqueue(scene_guid(scene_id))

    def on_item(self, guid: str) -> None:
        """PMS asked for the metadata of one of our items (a movie or TV guid)."""
        if parse_scene_guid(guid) is not None or parse_tv_guid(guid) is not None:
            self._enqueue(guid)

    def poster_changed(self, scene_id: int) -> None:
        """A new poster was rendered: upload it if PMS is known to hold the scene."""
        self.changed([scene_id])

    def after_pass(self, report: SyncReport) -> None:
        self.changed(report.changed_docs)

    def changed(self, scene_ids: Iterable[int]) -> None:
        """These scenes' images may have changed: send them again where PMS holds them, as a
        movie (a key in `plex_items`) or as a TV episode (artwork sent before). Shows and
        seasons follow at the next library walk."""
        ids = list(scene_ids)
        for scene_id in self.links.keys_for(ids):
            self._enqueue(scene_guid(scene_id))
        episodes = [tv_guid("episode", scene_rating_key(scene_id)) for scene_id in ids]
        for guid in self.sender.uploads.known_items(episodes):
            self._enqueue(guid)

    def _enqueue(self, guid: str, attempt: int = 0, delay: float = 0.0) -> None:
        with self._cond:
            if self._closing or guid in self._attempts:
                return  # closing, or already queued or waiting for a retry
            if attempt == 0 and len(self._attempts) >= self.queue_limit:
                log.debug("Plex upload queue full; %s waits for its next request", guid)
                return
            self._attempts[guid] = attempt
            heapq.heappush(self._heap, (self.clock() + delay, next(self._seq), guid))
            self._cond.notify_all()

    # --- the worker ----------------------------------------------------------------------------

    def _has_work(self) -> bool:
        return bool(self._attempts)

    def _next(self) -> tuple[str, int] | None:
        with self._cond:
            while True:
                if self._closing:
                    return None
                now = self.clock()
                due = max(self._heap[0][0] if self._heap else now + 1.0, self._paused_until)
                if self._heap and due <= now:
                    _, _, guid = heapq.heappop(self._heap)
                    self._busy = True
                    return guid, self._attempts.pop(guid, 0)
                # Real seconds: the clock is only swapped in tests, which keep delays short.
                self._cond.wait(min(max(due - now, 0.01), 1.0))

    def _run(self) -> None:
        while True:
            job = self._next()
            if job is None:
                return
            guid, attempt = job
            try:
                self._handle(guid, attempt)
                self.trouble.recovered()
            except Exception as exc:
                self.trouble.failed(
                    (type(exc), str(exc)),
                    "artwork upload for %s failed: %s",
                    guid,
                    exc,
                    exc_info=exc,
                )
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()

    def _handle(self, guid: str, attempt: int) -> None:
        scene_id = parse_scene_guid(guid, MOVIE_PROVIDER_ID)
        wanted = self.sender.pictures.wanted(guid)
        if not wanted:
            return  # not in the mirror (yet): nothing to give
        try:
            key = self._known_key(guid, scene_id)
            if key is not None and wanted and self.sender.is_current(key, guid):
                return  # PMS has it all: no image read, no request
            if key is None:
                key = self._find(guid, scene_id)
                if key is None:
                    self._retry(guid, attempt, "Plex has no item for it yet")
                    return
            try:
                self.sender.send(key, guid)
            except PlexNotFound:
                # The item was deleted or re-added under a new key: search again.
                self._forget(key, scene_id)
                self._enqueue(guid, attempt + 1, 0.0)
                return
            if self._failing:
                self._failing = False
                log.info("Plex answers again; uploading artwork")
        except PictureUnavailable as exc:
            self._retry(guid, attempt, f"its image cannot be read now ({exc})")
        except PlexAuthError as exc:
            self._pause(AUTH_PAUSE)
            log.error("%s; artwork uploads paused for %d minutes", exc, AUTH_PAUSE // 60)
        except PlexError as exc:
            if not self._failing:
                self._failing = True
                log.warning("artwork upload to Plex failed: %s; retrying later", exc)
            self._retry(guid, attempt, str(exc), quiet=True)

    def _known_key(self, guid: str, scene_id: int | None) -> str | None:
        if scene_id is not None:
            link = self.links.get(scene_id)
            return link.plex_key if link is not None else None
        return self.sender.uploads.key_of(guid)

    def _find(self, guid: str, scene_id: int | None) -> str | None:
        self.searches += 1
        if scene_id is not None:
            item = self.pms.find_scene(scene_id, title=self.sender.pictures.title(guid))
            if item is not None:
                self.links.found(scene_id, item.key)
            return item.key if item is not None else None
        parsed = parse_tv_guid(guid)
        if parsed is None:
            return None
        item = self.pms.find(guid, _TV_TYPES[parsed[0]])
        return item.key if item is not None else None

    def _forget(self, key: str, scene_id: int | None) -> None:
        self.sender.uploads.forget(key)
        if scene_id is not None:
            self.links.forget(scene_id)

    def _retry(self, guid: str, attempt: int, why: str, *, quiet: bool = False) -> None:
        if attempt >= len(self.retry_delays):
            self.gave_up += 1
            if not quiet:
                log.info(
                    "%s: no artwork upload after %d tries: %s; the next request from Plex "
                    "tries again",
                    guid,
                    attempt + 1,
                    why,
                )
            return
        self._enqueue(guid, attempt + 1, self.retry_delays[attempt])

    def _pause(self, seconds: float) -> None:
        with self._cond:
            self._paused_until = self.clock() + seconds
