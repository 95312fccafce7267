"""One scene's poster kept in step with its Stash cover: check, download, render, store, record.

Deciding "the cover changed" cannot rest on the `t` of `paths.screenshot`: it is the scene's
`updated_at` and moves on every edit. It only tells when to *ask*: a scene whose `t` is the one
recorded needs no request at all. Otherwise Stash is asked with `If-None-Match` (its ETag is a
hash of the image, so 304 means the same cover), and a 200 is compared by a hash of its bytes
before anything is rendered. A poster is rendered again only for a different cover or a different
poster style.

`PosterService.ensure` serves the web route (on demand, whatever `poster_mode` says);
`PosterService.refresh` serves the pre-render pipeline. Both go through the same per-scene lock,
so a request and the pipeline never render one scene twice at once. Downloads and renders are
bounded by semaphores shared by both paths.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from pathlib import Path

from stashplex.mirror.db import Database
from stashplex.mirror.poster_states import (
    CORRUPT,
    MISSING,
    NO_COVER,
    OK,
    PosterRecord,
    PosterState,
    PosterStates,
    SceneView,
)
from stashplex.posters.render import CoverError, render_poster
from stashplex.posters.store import PosterStore
from stashplex.settings import Settings
from stashplex.stash.client import StashClient, StashImage
from stashplex.stash.errors import StashBadResponse, StashError
from stashplex.trouble import Trouble

log = logging.getLogger(__name__)

POSTER_WIDTH = 600
POSTER_HEIGHT = 900
DOWNLOADS = 2  # Stash is a small SQLite server: keep our image requests to two at a time
RENDERS = 2  # one per core here; also caps the memory of decoded covers
_LOCK_STRIPES = 256
# After the poster folder refused a write, the web route serves screenshots without trying
# again for this long (a full disk must not cost a download and a render per request).
STORE_RETRY_SECONDS = 30.0
# After Stash failed a web request's download, the next ones do not ask it for this long.
ASK_PAUSE_SECONDS = 5.0

# What `refresh` did, for counters and tests.
FRESH = "fresh"  # nothing to ask: the scene's `t`, the style and the file are as recorded
UNCHANGED = "unchanged"  # asked Stash: same cover (304 or same bytes); nothing rendered
RENDERED = "rendered"
NO_COVER_ACTION = "no_cover"
CORRUPT_ACTION = "corrupt"
MISSING_ACTION = "missing"


class PosterUnavailable(Exception):
    """The poster does not exist yet and Stash cannot be asked now (down, slow, refusing)."""


class PosterStoreFailed(OSError):
    """The poster folder refused a write (full, read-only, gone); already logged."""


def cover_path(scene_id: int) -> str:
    return f"/scene/{int(scene_id)}/screenshot"


def _digest(data: bytes, size: int) -> bytes:
    return hashlib.blake2b(data, digest_size=size).digest()


class PosterService:
    def __init__(
        self,
        db: Database,
        store: PosterStore,
        client: StashClient | None,
        *,
        style: str = "letterbox",
        width: int = POSTER_WIDTH,
        height: int = POSTER_HEIGHT,
        downloads: int = DOWNLOADS,
        renders: int = RENDERS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.db = db
        self.store = store
        self.states = PosterStates(db)
        self.client = client
        self.style = style
        self.width = width
        self.height = height
        self.clock = clock
        # Called with a scene id after a new poster version is stored (e.g. to upload it).
        self.on_rendered: list[Callable[[int], None]] = []
        self._downloads = threading.BoundedSemaphore(downloads)
        self._renders = threading.BoundedSemaphore(renders)
        self._locks = [threading.Lock() for _ in range(_LOCK_STRIPES)]
        self.store_trouble = Trouble(log, f"posters are stored in {store.root} again")
        self._store_failed_at = float("-inf")
        self._ask_after = float("-inf")

    @classmethod
    def from_settings(
        cls, settings: Settings, db: Database, client: StashClient | None, **options: object
    ) -> PosterService:
        return cls(
            db,
            PosterStore(settings.mirror.poster_dir),
            client,
            style=settings.mirror.poster_style,
            **options,  # type: ignore[arg-type]
        )

    # --- the web route ---------------------------------------------------------------------

    def path(self, scene_id: int) -> Path:
        return self.store.path(scene_id)

    def writable(self) -> bool:
        """False for a while after the poster folder refused a write."""
        return time.monotonic() - self._store_failed_at >= STORE_RETRY_SECONDS

    def cached(self, scene_id: int) -> tuple[bool, Path | None]:
        """`(True, path or None)` when the answer needs no Stash request (one mirror read and
        one stat), else `(False, None)`: then call `ensure`, e.g. on a worker with a deadline."""
        view = self.states.view(scene_id)
        if self._fresh(view):
            return True, self._ok_path(view.record)
        return False, None

    def ensure(self, scene_id: int) -> Path | None:
        """The scene's current poster file, rendered now if needed; None if it has no cover.

        Costs one mirror read and one stat when the poster is up to date. Asks Stash (once, no
        retries: a Plex request is waiting) when the scene changed since the last check. If
        Stash cannot be asked, an existing poster is served as it is and a missing one raises
        PosterUnavailable.
        """
        return self.ensure_or_older(scene_id)[0]

    def ensure_or_older(self, scene_id: int) -> tuple[Path | None, bool]:
        """`ensure`, and whether the file is the current poster (False: one of an older cover,
        served because Stash cannot be asked now)."""
        view = self.states.view(scene_id)
        if self._fresh(view):
            return self._ok_path(view.record), True
        try:
            if time.monotonic() < self._ask_after:  # a scan must not wait on a dead Stash
                raise PosterUnavailable("Stash failed a moment ago")
            try:
                self._update(scene_id, retries=0)
            except PosterUnavailable:
                self._ask_after = time.monotonic() + ASK_PAUSE_SECONDS
                raise
        except PosterUnavailable:
            if self.store.exists(scene_id) and view.record and view.record.state == OK:
                return self.store.path(scene_id), False  # older, but better than nothing
            raise
        return self._ok_path(self.states.get(scene_id)), True

    def _ok_path(self, record: PosterRecord | None) -> Path | None:
        if record is None or record.state != OK:
            return None
        return self.store.path(record.scene_id)

    # --- the pipeline ----------------------------------------------------------------------

    def refresh(self, scene_id: int, *, retries: int | None = None) -> str:
        """Bring one scene's poster up to date; returns what was done (see the constants).

        Raises PosterUnavailable when Stash cannot be asked (nothing is recorded then, so the
        scene is tried again later).
        """
        return self._update(scene_id, retries=retries)  # checks freshness under the lock

    def remove(self, scene_ids: Iterable[int]) -> int:
        """Forget deleted scenes: their poster files and rows. Returns files removed."""
        ids = list(scene_ids)
        removed = 0
        for scene_id in ids:
            with self._lock(scene_id), self._storing():
                removed += self.store.remove(scene_id)
        self.states.delete(ids)
        return removed

    def poster_version(self, scene_id: int) -> str | None:
        """The version of the scene's stored poster, if it has one on disk."""
        record = self.states.get(scene_id)
        if record is None or record.state != OK or not self.store.exists(scene_id):
            return None
        return record.poster_version

    # --- the work --------------------------------------------------------------------------

    def _fresh(self, view: SceneView) -> bool:
        """Nothing to ask Stash: the row matches the scene's current `t` and the settings."""
        record = view.record
        if record is None or record.scene_version != view.scene_version:
            return False
        if record.state == OK:
            return record.style == self.style and self.store.exists(view.scene_id)
        return True

    def _lock(self, scene_id: int) -> threading.Lock:
        return self._locks[scene_id % _LOCK_STRIPES]

    def _update(self, scene_id: int, *, retries: int | None) -> str:
        with self._lock(scene_id):
            view = self.states.view(scene_id)  # again: another thread may have just done it
            if self._fresh(view):
                return FRESH
            record = view.record
            has_poster = (
                record is not None
                and record.state == OK
                and record.style == self.style
                and self.store.exists(scene_id)
            )
            # Only an ETag whose image we still have a result for is worth sending: a 304 then
            # means "keep what you have".
            reusable = has_poster or (record is not None and record.state == CORRUPT)
            now = self.clock()
            base = record or PosterRecord(scene_id, OK)
            base = replace(base, scene_version=view.scene_version, checked_at=now)
            etag = record.cover_etag if record is not None and reusable else None
            try:
                answer = self._download(scene_id, etag, retries)
            except StashBadResponse as exc:
                return self._skip(base, str(exc))

            if answer.state == "ok" and answer.data is None:  # 304: same cover
                self.states.save(replace(base, cover_etag=answer.etag or base.cover_etag))
                return UNCHANGED
            if answer.state in ("placeholder", "missing"):
                with self._storing():
                    self.store.remove(scene_id)
                state = NO_COVER if answer.state == "placeholder" else MISSING
                self.states.save(_emptied(base, state))
                return NO_COVER_ACTION if state == NO_COVER else MISSING_ACTION

            data = answer.data or b""
            cover_hash = _digest(data, 16)
            if reusable and record is not None and record.cover_hash == cover_hash:
                # A new ETag (or none) but the same bytes: nothing to render.
                self.states.save(replace(base, cover_etag=answer.etag))
                return UNCHANGED
            try:
                with self._renders:
                    poster = render_poster(
                        data, style=self.style, width=self.width, height=self.height
                    )
            except CoverError as exc:
                # Once per distinct cover: its ETag and hash are recorded, so the same bytes
                # are neither rendered nor reported again.
                return self._skip(base, exc.reason, answer.etag, cover_hash)
            del data
            with self._storing():
                self.store.write(scene_id, poster)
            self.states.save(
                replace(
                    base,
                    state=OK,
                    cover_etag=answer.etag,
                    cover_hash=cover_hash,
                    style=self.style,
                    poster_version=_digest(poster, 8).hex(),
                    reason=None,
                    rendered_at=now,
                )
            )
        for hook in self.on_rendered:
            try:
                hook(scene_id)
            except Exception:
                log.exception("a poster hook failed for scene %d", scene_id)
        return RENDERED

    def _skip(
        self,
        base: PosterRecord,
        reason: str,
        etag: str | None = None,
        cover_hash: bytes | None = None,
    ) -> str:
        """Record a cover that cannot become a poster, with one warning line."""
        log.warning("scene %d: cover skipped: %s", base.scene_id, reason)
        with self._storing():
            self.store.remove(base.scene_id)
        self.states.save(
            replace(_emptied(base, CORRUPT), cover_etag=etag, cover_hash=cover_hash, reason=reason)
        )
        return CORRUPT_ACTION

    @contextlib.contextmanager
    def _storing(self) -> Iterator[None]:
        """A change to the poster folder: its failure is said once and marks the folder
        unwritable for a while; its success after failures says the folder is back."""
        try:
            yield
        except OSError as exc:
            self._store_failed_at = time.monotonic()
            self.store_trouble.failed(
                exc.errno,
                "cannot write posters to %s: %s; poster URLs answer the screenshot until it can",
                self.store.root,
                exc.strerror or exc,
            )
            raise PosterStoreFailed(exc.errno, exc.strerror) from exc
        self.store_trouble.recovered()

    def _download(self, scene_id: int, etag: str | None, retries: int | None) -> StashImage:
        if self.client is None:
            raise PosterUnavailable("no Stash client to fetch the cover with")
        try:
            with self._downloads:
                return self.client.image(cover_path(scene_id), etag=etag, retries=retries)
        except StashBadResponse:
            raise  # Stash answered, but not with an image: the caller records a bad cover
        except StashError as exc:
            raise PosterUnavailable(str(exc)) from exc


def _emptied(record: PosterRecord, state: PosterState) -> PosterRecord:
    return replace(
        record,
        state=state,
        cover_etag=None,
        cover_hash=None,
        style=None,
        poster_version=None,
        reason=None,
        rendered_at=None,
    )
