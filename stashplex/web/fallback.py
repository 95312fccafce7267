"""Asking Stash live when the mirror has nothing: a file PMS names, or a scene id it asks for.

The mirror answers almost everything; this covers what arrived in Stash since the last sync.
Rules, so that a library scan of unknown files cannot hurt Stash or the responder:

- each distinct miss is one Stash call on a small worker pool, shared by concurrent callers
  (single flight), and at most `max_pending` distinct misses queue at once;
- callers wait at most `settings.stash.timeout`, then answer from the mirror alone; the call
  goes on and fills the mirror for the next request;
- at most `waiting` request threads (a quarter of `num_workers`) wait on lookups at once: a
  request past that bound, or past `max_pending` queued lookups, gets `LookupsBusy` (a 503 with
  Retry-After) at once, so the answers the mirror can give never queue behind Stash; its lookup
  still runs, and PMS's retry finds the result in the mirror;
- no retries on this path, and after a failure to reach Stash no call is made for `down_for`
  seconds (a down Stash costs nothing per request);
- "Stash has nothing" is remembered for `settings.stash.cache_ttl` seconds (0: not at all);
  failures are never remembered as absence.

A file is looked up by its basename (MATCHES_REGEX, escaped, anchored at a separator), which
finds it whatever the mount points, and every result is re-checked here on exact folded
basenames; found scenes go into the mirror through `import_scenes`, and the caller matches
again against the mirror with the usual tiers.
"""

from __future__ import annotations

import concurrent.futures
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from stashplex.flight import Busy, ExpiringSet, Gate, SingleFlight
from stashplex.mirror import documents
from stashplex.mirror.db import Database
from stashplex.mirror.importer import import_scenes
from stashplex.mirror.writer import MirrorWriter
from stashplex.plex import pathkeys
from stashplex.plex.matching import MatchRequest, file_basenames, wanted_ids
from stashplex.records import Scene
from stashplex.settings import Settings
from stashplex.stash import parse
from stashplex.stash.client import StashClient
from stashplex.stash.errors import (
    StashAuthError,
    StashError,
    StashNotReady,
    StashQueryRejected,
    StashUnreachable,
)
from stashplex.stash.version import probe
from stashplex.trouble import Trouble

log = logging.getLogger(__name__)

PATH_RESULTS = 25  # files sharing one basename worth importing from one live lookup


def regex_literal(text: str) -> str:
    """`text` as a regular expression matching itself, in the syntax both Go (Stash's RE2)
    and Python accept: every ASCII character that is not a letter, digit or underscore is
    escaped with a backslash (always literal in both); other characters stand for themselves."""
    return "".join(
        "\\" + ch if ch.isascii() and not (ch.isalnum() or ch == "_") else ch for ch in text
    )


def basename_pattern(name: str) -> str:
    """A path regex for files named `name` (any case), after either separator or at the start."""
    return "(?i)(?:^|[/\\\\])" + regex_literal(name) + "$"


class LookupsBusy(Exception):
    """Too many requests wait on live lookups already: answer 503, retry in a moment (an empty
    match now would be kept by PMS as "unmatched")."""

    retry_after = 5


def waiting_share(num_workers: int) -> int:
    """How many request threads may wait on Stash at once."""
    return max(1, num_workers // 4)


class Fallback:
    def __init__(
        self,
        client: StashClient,
        db: Database,
        settings: Settings,
        *,
        workers: int = 3,
        max_pending: int = 32,
        waiting: int | None = None,
        down_for: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.db = db
        self.timeout = settings.stash.timeout
        self.down_for = down_for
        self.options = documents.mapping_options(settings)
        self.absent = ExpiringSet(settings.stash.cache_ttl, clock=clock)
        self.flights: SingleFlight[bool] = SingleFlight(workers, max_pending, "stash-fallback")
        self.waiting = Gate(
            waiting_share(settings.server.num_workers) if waiting is None else waiting,
            "requests",
        )
        self._clock = clock
        self._down_until = 0.0
        self._probed = False
        self._write_lock = threading.Lock()  # one import at a time: they share entity fetches
        # A scan during an outage fails lookup after lookup: said once, not per request.
        self.trouble = Trouble(log, "live Stash lookups work again")

    def close(self) -> None:
        self.flights.close()

    # --- what the web layer asks ---------------------------------------------------------------

    def scene(self, scene_id: int, timeout: float | None = None) -> bool:
        """Fetch a scene the mirror lacks; True when it is now mirrored."""
        return self._ask(("scene", scene_id), lambda: self._fetch_scene(scene_id), timeout)

    def file(self, filename: str, timeout: float | None = None) -> bool:
        """Fetch the scenes of a file the mirror lacks; True when any is now mirrored."""
        names = file_basenames(filename)
        if not names:
            return False
        key = ("file", pathkeys.fold(names[0]))
        return self._ask(key, lambda: self._fetch_file(names), timeout)

    def match(self, request: MatchRequest, timeout: float | None = None) -> bool:
        """Everything a match request could mean: the ids it names, then its file."""
        deadline = self._clock() + (self.timeout if timeout is None else timeout)
        found = False
        for scene_id in wanted_ids(request):
            found = self.scene(scene_id, max(0.0, deadline - self._clock())) or found
        if not found and request.filename:
            found = self.file(request.filename, max(0.0, deadline - self._clock()))
        return found

    @property
    def stash_down(self) -> bool:
        return self._clock() < self._down_until

    # --- plumbing ------------------------------------------------------------------------------

    def _ask(self, key: tuple[Any, ...], fetch: Callable[[], bool], timeout: float | None) -> bool:
        if key in self.absent or self.stash_down:
            return False
        try:
            future = self.flights.submit(key, lambda: self._guarded(key, fetch))
        except Busy as exc:
            log.debug("live lookups busy (%s); answering 503", exc)
            raise LookupsBusy(f"too many live Stash lookups queued: {exc}") from None
        try:
            if future.done():
                return future.result()
            with self.waiting.inside():
                return future.result(self.timeout if timeout is None else timeout)
        except Busy as exc:  # the lookup runs on; this request does not wait for it
            log.debug("live lookups busy (%s); answering 503", exc)
            raise LookupsBusy(str(exc)) from None
        except concurrent.futures.TimeoutError:
            # The same problem as the lookup's own timeout (StashUnreachable): said once.
            self.trouble.failed(
                StashUnreachable,
                "Stash did not answer a live lookup within %.1fs; answering from the mirror alone",
                self.timeout if timeout is None else timeout,
            )
            return False
        except concurrent.futures.CancelledError:  # shutting down
            return False

    def _guarded(self, key: tuple[Any, ...], fetch: Callable[[], bool]) -> bool:
        try:
            if not self._probed:
                probe(self.client)  # which features (groups or movies, ids...) to speak
                self._probed = True
            found = fetch()
        except StashError as exc:
            if isinstance(exc, StashQueryRejected):
                self._probed = False  # Stash was replaced by another version: ask again
            # Unreachable, failing, rejecting the key, mid-setup or mid-migration: all mean
            # "not now", never "absent".
            if exc.retryable or isinstance(exc, (StashAuthError, StashNotReady)):
                self._down_until = self._clock() + self.down_for
            self.trouble.failed(
                type(exc), "live Stash lookup failed: %s; answering from the mirror alone", exc
            )
            return False
        except Exception as exc:  # a bug, or a mirror refusing the import: once per cause
            self.trouble.failed(
                (type(exc), str(exc)), "live Stash lookup failed: %s", exc, exc_info=exc
            )
            return False
        self.trouble.recovered()
        if not found:
            self.absent.add(key)
        return found

    def _fetch_scene(self, scene_id: int) -> bool:
        data = self.client.execute("FindScene", {"id": str(scene_id)}, retries=0)
        raw = data.get("findScene")
        if raw is None:
            return False
        self._import([parse.scene(raw)])
        log.info("scene %d was not mirrored yet: fetched it from Stash", scene_id)
        return True

    def _fetch_file(self, names: list[str]) -> bool:
        data = self.client.execute(
            "FindScenesByPath",
            {
                "path": {"value": basename_pattern(names[0]), "modifier": "MATCHES_REGEX"},
                "filter": {"per_page": PATH_RESULTS, "sort": "id", "direction": "ASC"},
            },
            retries=0,
        )
        scenes = [parse.scene(item) for item in parse.listing(data, "findScenes", "scenes")]
        # Re-check on our side: only scenes with a file of exactly this (folded) name count.
        wanted = {pathkeys.fold(name) for name in names}
        found = [s for s in scenes if any(pathkeys.fold(f.basename) in wanted for f in s.files)]
        if not found:
            return False
        self._import(found)
        log.info(
            "file %r was not mirrored yet: fetched scene(s) %s from Stash",
            names[0],
            ", ".join(str(s.id) for s in found),
        )
        return True

    def _import(self, scenes: list[Scene]) -> None:
        with self._write_lock:
            # A fresh writer: its entity cache must not be older than the syncer's last pass.
            import_scenes(self.client, MirrorWriter(self.db, self.options), scenes)
