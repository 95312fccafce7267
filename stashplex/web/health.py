"""`GET /health`: is the mirror filled and fresh, and can Stash be reached.

Nothing here blocks a request for long: mirror facts are cached for a couple of seconds, and
Stash's liveness is checked on a background thread and cached; only the very first request
waits (briefly) for the first check.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

import falcon

from stashplex import __version__
from stashplex.mirror.lookups import ReadConnections
from stashplex.stash.client import StashClient

FACTS_TTL = 2.0
STASH_TTL = 5.0
FIRST_CHECK_WAIT = 1.0

_COUNTS = (
    "SELECT (SELECT count(*) FROM scenes), (SELECT count(*) FROM files),"
    " (SELECT count(*) FROM performers), (SELECT count(*) FROM studios),"
    " (SELECT count(*) FROM tags), (SELECT count(*) FROM groups)"
)
_LAST_SUCCESS = "SELECT value FROM sync_state WHERE key = 'last_success'"
_LAST_RUN = (
    "SELECT kind, started_at, finished_at, ok, added, updated, removed, error"
    " FROM sync_runs ORDER BY id DESC LIMIT 1"
)


class StashLiveness:
    """Stash's `/healthz`, checked at most every `ttl` seconds on a background thread."""

    def __init__(
        self,
        client: StashClient,
        ttl: float = STASH_TTL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.ttl = ttl
        self._clock = clock
        self._reachable: bool | None = None
        self._checked = float("-inf")
        self._running: threading.Event | None = None
        self._lock = threading.Lock()

    def _check(self, done: threading.Event) -> None:
        try:
            reachable = self.client.healthz()
        except Exception:  # healthz reports failures as False; this is a last resort
            reachable = False
        with self._lock:
            self._reachable = reachable
            self._checked = self._clock()
            self._running = None
        done.set()

    def status(self, wait: float = FIRST_CHECK_WAIT) -> tuple[bool | None, float | None]:
        """(reachable or None if never checked, seconds since the check)."""
        with self._lock:
            stale = self._clock() - self._checked >= self.ttl
            running = self._running
            if stale and running is None:
                running = self._running = threading.Event()
                threading.Thread(
                    target=self._check, args=(running,), name="stash-liveness", daemon=True
                ).start()
            never = self._reachable is None
        if never and running is not None:
            running.wait(wait)
        with self._lock:
            age = None if self._reachable is None else self._clock() - self._checked
            return self._reachable, age


class HealthResource:
    def __init__(
        self,
        connections: ReadConnections,
        liveness: StashLiveness | None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.connections = connections
        self.liveness = liveness
        self._clock = clock
        self._facts: dict[str, Any] | None = None
        self._facts_at = float("-inf")

    def facts(self) -> dict[str, Any]:
        now = self._clock()
        if self._facts is not None and now - self._facts_at < FACTS_TTL:
            return self._facts
        connection = self.connections.get()
        counts = connection.execute(_COUNTS).fetchone()
        names = ("scenes", "files", "performers", "studios", "tags", "groups")
        success = connection.execute(_LAST_SUCCESS).fetchone()
        run = connection.execute(_LAST_RUN).fetchone()
        last_run = None
        if run is not None:
            kind, started, finished, ok, added, updated, removed, error = run
            last_run = {
                "kind": kind,
                "started_at": _iso(started),
                "finished_at": _iso(finished),
                "result": "running" if finished is None else ("ok" if ok else "failed"),
                "added": added,
                "updated": updated,
                "removed": removed,
                "error": error,
            }
        last_success = _float(success[0]) if success else None
        self._facts = {
            "mirror": dict(zip(names, counts, strict=True)),
            "sync": {
                "last_success": _iso(last_success),
                "last_success_epoch": last_success,
                "last_success_age_seconds": (
                    None if last_success is None else max(0, round(time.time() - last_success))
                ),
                "last_run": last_run,
            },
        }
        self._facts_at = now
        return self._facts

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        facts = self.facts()
        if self.liveness is None:
            stash: dict[str, Any] = {"configured": False, "reachable": None}
        else:
            reachable, age = self.liveness.status()
            stash = {
                "configured": True,
                "reachable": reachable,
                "checked_seconds_ago": None if age is None else round(age, 1),
            }
        last_run = facts["sync"]["last_run"]
        healthy = (
            facts["sync"]["last_success"] is not None
            and (last_run is None or last_run["result"] != "failed")
            and stash["reachable"] is not False
        )
        body = {
            "status": "ok" if healthy else "degraded",
            "service": "stashplex",
            "version": __version__,
            **facts,
            "stash": stash,
        }
        resp.content_type = falcon.MEDIA_JSON
        resp.data = json.dumps(body, ensure_ascii=False).encode("utf-8")


def _float(text: str | None) -> float | None:
    try:
        return float(text) if text is not None else None
    except ValueError:
        return None


def _iso(timestamp: float | None) -> str | None:
    if timestamp is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(timestamp))
