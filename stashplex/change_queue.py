"""Coalescing Stash's events into a few targeted syncs.

Stash runs its plugin hook once per object: a bulk edit of 2,000 scenes or a scan is 2,000
events, one after another, for a minute or more (a Python process each, so on a slow or busy
box a second can pass between two). They are gathered here and handed over as one `Changes`
value:
- a lone edit once no other event came for `quiet` seconds (half a second);
- an event that comes less than `stream_gap` seconds after the last hand-over was taken
  continues a stream: its batch waits `longest` seconds from its first event whatever the gaps,
  and that wait doubles at each hand-over of the stream up to `ceiling`. The start of a bulk
  edit reaches Plex within seconds, and the whole of it is a handful of targeted syncs.
Nothing is handed over while a hand-over waits to be taken: whatever arrives while a targeted
sync runs is gathered for the next one.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from stashplex.changes import Changes
from stashplex.worker import BackgroundWorker

QUIET_SECONDS = 0.5
LONGEST_WAIT = 3.0
CEILING = 20.0
STREAM_GAP = 2.0


class ChangeQueue(BackgroundWorker):
    thread_name = "sync-events"

    def __init__(
        self,
        submit: Callable[[], None],
        *,
        quiet: float = QUIET_SECONDS,
        longest: float = LONGEST_WAIT,
        ceiling: float = CEILING,
        stream_gap: float = STREAM_GAP,
    ) -> None:
        """`submit` asks for a targeted sync, which calls `take()` when it starts."""
        super().__init__()
        self.submit = submit
        self.quiet = quiet
        self.longest = longest
        self.ceiling = max(ceiling, longest)
        self.stream_gap = stream_gap
        self._wait = longest  # the current longest wait: grows while a stream goes on
        self._streaming = False  # the batch waiting continues a stream
        self._taken = float("-inf")  # when the last hand-over was taken
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
                self._streaming = now - self._taken < self.stream_gap
                if not self._streaming:
                    self._wait = self.longest
            self._pending.merge(changes)
            self._last = now
            self.received += events
            self._cond.notify_all()

    def take(self) -> Changes:
        """Everything gathered so far (empty if nothing is)."""
        with self._cond:
            taken, self._pending = self._pending, Changes()
            self._submitted = False
            self._taken = time.monotonic()
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
                due = self._first + self._wait
                if not self._streaming:
                    due = min(due, self._last + self.quiet)
                left = due - time.monotonic()
                if left > 0:
                    self._cond.wait(left)
                    continue
                if self._streaming:
                    self._wait = min(self._wait * 2, self.ceiling)
                self._submitted = True
                self.handed_over += 1
            self.submit()
