"""The whole library, not only what PMS re-asks for: a scheduled walk over PMS's sections.

Every `every_hours` (and at start-up when a walk is due or was interrupted) one thread pages
through each movie and TV section of PMS (`…/all?type=N`, 1 movie, 2 show, 3 season, 4
episode), and for each item that carries one of our guids:
- remembers a scene's Plex key (`plex_items`), which refresh-on-change needs;
- uploads what the item lacks or has in an older version (`ArtworkSender`: nothing twice).
Pages are spaced by `page_pause` and uploads share the sender's rate limit, so a walk never
floods PMS. The position is saved in the mirror after every page: a restart resumes there.

PMS down, slow, or refusing the token pauses the walk (one log line when it starts, one when
it is over) and it resumes from its position later. An image that cannot be read now (Stash
down) is skipped; the next walk picks it up. `status()` is the progress for `/status`.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from stashplex.mirror.plex_links import PlexLinks
from stashplex.mirror.plex_uploads import PlexUploads
from stashplex.plex.identity import MOVIE_PROVIDER_ID, parse_scene_guid
from stashplex.pms.api import SECTION_TYPES, PlexAuthError, PlexError, PlexSection
from stashplex.pms.sender import ArtworkSender, PictureUnavailable
from stashplex.trouble import Trouble

log = logging.getLogger(__name__)

PAGE_SIZE = 100
PAGE_PAUSE = 0.2  # seconds between two pages of a section
RETRY_MINUTES = 5.0  # after PMS failed
AUTH_RETRY_MINUTES = 30.0  # after PMS refused the token
START_DELAY = 60.0  # seconds after start-up: let the first sync fill the mirror
STATE_KEY = "plex_reconcile"


@dataclass(frozen=True)
class Position:
    """Where a walk is: the section (by key), the metadata type and the offset in it."""

    started_at: float
    section: str | None = None
    plex_type: int = 0
    start: int = 0


# Between walks, walking, waiting after a failure, not configured.
WalkState = Literal["idle", "running", "paused", "off"]


@dataclass
class ReconcileStatus:
    state: WalkState = "idle"
    section: str | None = None  # the title of the section being walked
    done: int = 0  # items looked at in this walk
    total: int | None = None  # items of the current section and type
    ours: int = 0  # items of this walk that carry our guids
    uploaded: int = 0  # images uploaded in this walk
    skipped: int = 0  # items whose image could not be read now
    last_finished: float | None = None
    next_at: float | None = None  # epoch seconds
    last_error: str | None = None
    counts: dict[str, int] = field(default_factory=dict)


class Reconciler:
    def __init__(
        self,
        sender: ArtworkSender,
        links: PlexLinks,
        *,
        every_hours: float = 24.0,
        page_size: int = PAGE_SIZE,
        page_pause: float = PAGE_PAUSE,
        retry_minutes: float = RETRY_MINUTES,
        auth_retry_minutes: float = AUTH_RETRY_MINUTES,
        start_delay: float = START_DELAY,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.sender = sender
        self.pms = sender.pms
        self.uploads: PlexUploads = sender.uploads
        self.links = links
        self.every = every_hours * 3600.0
        self.page_size = page_size
        self.page_pause = page_pause
        self.retry = retry_minutes * 60.0
        self.auth_retry = auth_retry_minutes * 60.0
        self.start_delay = start_delay
        self.clock = clock
        self.trouble = Trouble(log, "Plex answers again; the artwork walk goes on")
        self._status = ReconcileStatus()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._closing = False
        self._thread: threading.Thread | None = None
        self._passes = 0

    # --- lifecycle -----------------------------------------------------------------------------

    def start(self) -> Reconciler:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="plex-walk", daemon=True)
            self._thread.start()
        return self

    def close(self, timeout: float = 5.0) -> None:
        self._closing = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def status(self) -> ReconcileStatus:
        with self._lock:
            return replace(self._status, counts=dict(self._status.counts))

    @property
    def passes(self) -> int:
        """Walks finished since start (for tests)."""
        return self._passes

    # --- the thread ----------------------------------------------------------------------------

    def _sleep(self, seconds: float) -> bool:
        """Wait, waking early for `request` or `close`; False when closing."""
        if seconds > 0:
            self._wake.wait(seconds)
        self._wake.clear()
        return not self._closing

    def _run(self) -> None:
        if not self._sleep(self.start_delay):
            return
        retry = False
        while not self._closing:
            # After a pause the walk is tried again at once, whatever the schedule says.
            wait = 0.0 if retry else self._seconds_until_due()
            retry = False
            if wait > 0:
                self._set(state="idle", next_at=self.clock() + wait)
                if not self._sleep(min(wait, 3600.0)):
                    return
                continue
            try:
                self.walk()
            except PlexAuthError as exc:
                retry = self._pause(exc, self.auth_retry)
            except PlexError as exc:
                retry = self._pause(exc, self.retry)
            except Exception as exc:  # a bug must not end the thread: say it, try later
                log.exception("the Plex artwork walk failed")
                retry = self._pause(exc, self.retry, logged=True)

    def _seconds_until_due(self) -> float:
        saved = self._saved()
        if saved is not None and saved.get("section") is not None:
            return 0.0  # an interrupted walk: go on with it
        last = saved.get("finished_at") if saved else None
        if not isinstance(last, (int, float)):
            return 0.0
        return max(0.0, last + self.every - self.clock())

    def _pause(self, exc: BaseException, seconds: float, *, logged: bool = False) -> bool:
        """Say the walk is paused and wait; True: try again now (False: closing)."""
        message = str(exc)
        self._set(state="paused", last_error=message, next_at=self.clock() + seconds)
        if not logged:
            pause = f"{seconds / 60:.0f} minutes" if seconds >= 60 else f"{seconds:.0f} s"
            self.trouble.failed(type(exc), "Plex artwork walk paused for %s: %s", pause, message)
        return self._sleep(seconds)

    # --- one walk ------------------------------------------------------------------------------

    def walk(self) -> None:
        """One walk over every section, from the saved position (raises PlexError)."""
        position = self._position()
        libraries = self.pms.libraries(fresh=True)
        self.trouble.recovered()
        # The counters start over with a new walk (not while PMS still fails: the status
        # keeps saying "paused" and why until it answers).
        self._set(fresh=position.section is None, state="running", last_error=None, next_at=None)
        order = [(s, t) for s in libraries for t in SECTION_TYPES[s.type]]
        skip = position.section is not None and any(
            s.key == position.section and t == position.plex_type for s, t in order
        )
        for section, plex_type in order:
            if skip:
                if (section.key, plex_type) != (position.section, position.plex_type):
                    continue
                skip = False
                start = position.start
            else:
                start = 0
            if not self._walk_section(section, plex_type, start, position.started_at):
                return  # closing: the saved position resumes it
        now = self.clock()
        self.uploads.set_state(STATE_KEY, json.dumps({"finished_at": now}))
        with self._lock:
            status = self._status
            log.info(
                "Plex artwork walk done: %d of our items, %d images uploaded, %d to try again",
                status.ours,
                status.uploaded,
                status.skipped,
            )
            status.state, status.last_finished, status.section = "idle", now, None
        self._passes += 1

    def _walk_section(
        self, section: PlexSection, plex_type: int, start: int, started_at: float
    ) -> bool:
        self._set(section=section.title or section.key)
        while not self._closing:
            page = self.pms.items(section, plex_type, start, self.page_size)
            self._set(total=page.total)
            for item in page.items:
                if self._closing:
                    return False
                self._item(item.key, item.guid)
            last = page.last(start, self.page_size)
            start += page.read
            self._save(Position(started_at, section.key, plex_type, start))
            if last:
                return True
            self._sleep(self.page_pause)
        return False

    def _item(self, plex_key: str, guid: str) -> None:
        with self._lock:
            self._status.done += 1
        if not self.sender.pictures.is_ours(guid):
            return
        with self._lock:
            self._status.ours += 1
        scene_id = parse_scene_guid(guid, MOVIE_PROVIDER_ID)
        if scene_id is not None:
            link = self.links.get(scene_id)
            if link is None or link.plex_key != plex_key:
                self.links.found(scene_id, plex_key)
        if self.sender.is_current(plex_key, guid):
            return
        try:
            result = self.sender.send(plex_key, guid)
        except PictureUnavailable:
            with self._lock:
                self._status.skipped += 1
            return
        with self._lock:
            self._status.uploaded += result.uploaded

    # --- the saved position --------------------------------------------------------------------

    def _saved(self) -> dict[str, Any] | None:
        text = self.uploads.get_state(STATE_KEY)
        try:
            value = json.loads(text) if text else None
        except ValueError:
            return None
        return value if isinstance(value, dict) else None

    def _position(self) -> Position:
        saved = self._saved() or {}
        section, plex_type, start = saved.get("section"), saved.get("type"), saved.get("start")
        started = saved.get("started_at")
        if (
            isinstance(section, str)
            and isinstance(plex_type, int)
            and isinstance(start, int)
            and isinstance(started, (int, float))
        ):
            return Position(started, section, plex_type, max(0, start))
        return Position(self.clock())

    def _save(self, position: Position) -> None:
        value = {
            "started_at": position.started_at,
            "section": position.section,
            "type": position.plex_type,
            "start": position.start,
        }
        self.uploads.set_state(STATE_KEY, json.dumps(value))

    def _set(self, *, fresh: bool = False, **values: object) -> None:
        with self._lock:
            if fresh:
                self._status = ReconcileStatus(last_finished=self._status.last_finished)
            for name, value in values.items():
                setattr(self._status, name, value)
