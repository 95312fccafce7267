"""`GET /health`: is the mirror filled and fresh, and can Stash be reached.

Nothing here blocks a request for long: mirror facts are cached for a couple of seconds, and
Stash's liveness is checked on a background thread and cached; only the very first request
waits (briefly) for the first check.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Callable
from typing import Any

import falcon

from stashplex import __version__
from stashplex.mirror.facts import counts, last_success, recent_runs
from stashplex.mirror.lookups import ReadConnections
from stashplex.redaction import redact, redact_optional
from stashplex.scheduler import SyncStatus
from stashplex.stash.client import StashClient

FACTS_TTL = 2.0
STASH_TTL = 5.0
FIRST_CHECK_WAIT = 1.0


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
        *,
        sync_status: Callable[[], SyncStatus] | None = None,
    ) -> None:
        self.connections = connections
        self.liveness = liveness
        self.sync_status = sync_status  # the scheduler's memory: true even when the mirror
        self._clock = clock  # cannot record a failure (read-only, full, deleted)
        self._facts: dict[str, Any] | None = None
        self._facts_at = float("-inf")

    def facts(self) -> dict[str, Any]:
        now = self._clock()
        if self._facts is not None and now - self._facts_at < FACTS_TTL:
            return self._facts
        connection = self.connections.get()
        mirror = counts(connection)
        succeeded = last_success(connection)
        runs = recent_runs(connection, 1)
        last_run = None
        if runs:
            run = runs[0]
            last_run = {
                "kind": run.kind,
                "started_at": _iso(run.started_at),
                "finished_at": _iso(run.finished_at),
                "result": run.result,
                "added": run.added,
                "updated": run.updated,
                "removed": run.removed,
                "error": redact_optional(run.error),
            }
        self._facts = {
            "mirror": mirror,
            "sync": {
                "last_success": _iso(succeeded),
                "last_success_epoch": succeeded,
                "last_success_age_seconds": (
                    None if succeeded is None else max(0, round(time.time() - succeeded))
                ),
                "last_run": last_run,
            },
        }
        self._facts_at = now
        return self._facts

    def problems(self, facts: dict[str, Any] | None, stash: dict[str, Any]) -> list[str]:
        """Why the service is degraded, most telling first; empty when it is healthy."""
        found = []
        status = self.sync_status() if self.sync_status is not None else None
        if status is not None and status.last_ok is False:
            found.append(f"{status.last_kind or 'the'} sync is failing: {status.last_error}")
        if facts is not None:
            last_run = facts["sync"]["last_run"]
            if last_run is not None and last_run["result"] == "failed" and not found:
                found.append(f"the last {last_run['kind']} sync failed: {last_run['error']}")
            if facts["sync"]["last_success"] is None:
                found.append("no sync has succeeded yet")
        if stash["reachable"] is False:
            found.append("Stash cannot be reached")
        return [redact(problem) for problem in found]

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        facts: dict[str, Any] | None
        unreadable = None
        try:
            facts = self.facts()
        except sqlite3.Error as exc:  # the mirror is gone or broken: say so, do not fail
            facts, unreadable = None, f"the mirror cannot be read: {exc}"
        if self.liveness is None:
            stash: dict[str, Any] = {"configured": False, "reachable": None}
        else:
            reachable, age = self.liveness.status()
            stash = {
                "configured": True,
                "reachable": reachable,
                "checked_seconds_ago": None if age is None else round(age, 1),
            }
        problems = ([redact(unreadable)] if unreadable else []) + self.problems(facts, stash)
        body: dict[str, Any] = {
            "status": "degraded" if problems else "ok",
            "reasons": problems,
            "service": "stashplex",
            "version": __version__,
            **(facts or {}),
            "stash": stash,
        }
        status = self.sync_status() if self.sync_status is not None else None
        if status is not None:  # a copy: the cached facts stay as read
            body["sync"] = {**body.get("sync", {}), "failing_since": _iso(status.failing_since)}
        resp.content_type = falcon.MEDIA_JSON
        resp.data = json.dumps(body, ensure_ascii=False).encode("utf-8")


def _iso(timestamp: float | None) -> str | None:
    if timestamp is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(timestamp))
