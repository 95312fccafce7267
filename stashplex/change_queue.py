"""Coalescing Stash's events into a few targeted syncs.

Stash runs its plugin hook once per object: a bulk edit of 2,000 scenes or a scan is 2,000
events, one after another, for a minute or more (a Python process each). They are gathered here
and handed over as one `Changes` value when the stream pauses for `quiet` seconds, or at the
latest `longest` seconds after the first one waiting, so the start of a long stream reaches
Plex early; while the stream goes on, that wait doubles at each hand-over up to `ceiling`, so
the whole stream is a handful of targeted syncs. Nothing is handed over while a hand-over waits
to be taken: whatever arrives while a targeted sync runs is gathered for the next one.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from stashplex.changes import Changes
from stashplex.worker import BackgroundWorker

QUIET_SECONDS = 0.5
LONGEST_WAIT = 3.0
CEILING = 20.0


class ChangeQueue(BackgroundWorker):
    thread_name = "sync-events"

    def __init__(
        self,
        submit: Callable[[], None],
        *,
        quiet: float = QUIET_SECONDS,
        longest: float = LONGEST_WAIT,
        ceiling: float = CEILING,
    ) -> None:
        """`submit` asks for a targeted sync, which calls `take()` when it starts."""
        super().__init__()
        self.submit = submit
        self.quiet = quiet
        self.longest = longest
        self.ceiling = max(ceiling, longest)
        self._wait = longest  # the current longest wait: grows while a stream goes on
        self.received = 0  # events, for the status page
        self.handed_over = 0  # targeted syncs asked for
        self._pending = Changes()
        self._first = 0.0
        self._last = 0.0
        self._submitted = False

    def add(self, changes: Changes, events: int = 1) -> None:
        now = time.monotonic()
        with self._cond:
            if not self._pending:
                self._first = now
            self._pending.merge(changes)
            self._last = now
            self.received += events
            self._cond.notify_all()

    def take(self) -> Changes:
        """Everything gathered so far (empty if nothing is)."""
        with self._cond:
            taken, self._pending = self._pending, Changes()
            self._submitted = False
            self._cond.notify_all()
            return taken

    @property
    def pending(self) -> int:
        with self._cond:
            return len(self._pending)

    def _has_work(self) -> bool:
        return bool(self._pending)

    def _run(self) -> None:
        while True:
            with self._cond:
                if self._closing:
                    return
                if not self._pending or self._submitted:
                    self._cond.wait()
                    continue
                quiet_due = self._last + self.quiet
                left = min(quiet_due, self._first + self._wait) - time.monotonic()
                if left > 0:
                    self._cond.wait(left)
                    continue
                if time.monotonic() >= quiet_due:  # the stream paused: back to short waits
                    self._wait = self.longest
                else:
                    self._wait = min(self._wait * 2, self.ceiling)
                self._submitted = True
                self.handed_over += 1
            self.submit()
