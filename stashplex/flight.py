"""Small concurrency helpers for the responder: shared in-flight calls and expiring memories.

Both are bounded so a flood of distinct keys (a library scan of unknown files) costs a fixed
amount of memory and never more than a few threads.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Generic, TypeVar

from cachetools import TTLCache

T = TypeVar("T")
V = TypeVar("V")


class ExpiringSet:
    """Keys remembered for `ttl` seconds; the least recently added are forgotten beyond
    `max_size`. A thread-safe face on cachetools' TTLCache, which does the expiry and the bound."""

    def __init__(
        self, ttl: float, max_size: int = 10_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl = ttl
        self.max_size = max_size
        self._keys: TTLCache[Hashable, bool] = TTLCache(max_size, max(ttl, 0.001), timer=clock)
        self._lock = threading.Lock()

    def add(self, key: Hashable) -> None:
        if self.ttl <= 0:  # 0 disables remembering
            return
        with self._lock:
            self._keys.pop(key, None)  # re-adding starts a new ttl
            self._keys[key] = True

    def __contains__(self, key: Hashable) -> bool:
        with self._lock:
            return key in self._keys

    def discard(self, key: Hashable) -> None:
        with self._lock:
            self._keys.pop(key, None)

    def remembered(self) -> list[Hashable]:
        """The keys remembered now (for /health and tests)."""
        with self._lock:
            self._keys.expire()
            return list(self._keys)

    def clear(self) -> None:
        with self._lock:
            self._keys.clear()


class Busy(Exception):
    """Too many distinct calls are in flight: the caller should answer without this one."""


class Gate:
    """At most `limit` threads inside at once; any more are refused at once, never queued.

    The responder's request threads pass one before waiting on Stash: whatever Stash does, the
    rest of the threads stay free for the answers the mirror can give."""

    def __init__(self, limit: int, what: str = "requests") -> None:
        self.limit = max(1, limit)
        self.what = what
        self._slots = threading.BoundedSemaphore(self.limit)

    @contextmanager
    def inside(self) -> Iterator[None]:
        """Raises Busy when `limit` threads are inside already."""
        if not self._slots.acquire(blocking=False):
            raise Busy(f"{self.limit} {self.what} already wait on Stash")
        try:
            yield
        finally:
            self._slots.release()


class SingleFlight(Generic[T]):
    """Run `fn` for a key on a small worker pool; concurrent callers of one key share the call.

    The work runs on the pool, not on the caller's thread, so a caller can stop waiting at its
    deadline while the call finishes (and, say, fills the mirror) for whoever asks next.
    """

    def __init__(self, workers: int = 3, max_pending: int = 32, name: str = "flight") -> None:
        self.max_pending = max_pending
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=name)
        self._pending: dict[Hashable, Future[T]] = {}
        self._lock = threading.Lock()
        self.calls = 0  # how many calls actually ran (for tests and /health)

    def submit(self, key: Hashable, fn: Callable[[], T]) -> Future[T]:
        """The future of the call in flight for `key`, starting one if there is none.

        Raises Busy when `max_pending` other keys are already queued or running.
        """
        with self._lock:
            future = self._pending.get(key)
            if future is not None:
                return future
            if len(self._pending) >= self.max_pending:
                raise Busy(f"{len(self._pending)} calls already in flight")
            future = self._pool.submit(self._run, key, fn)
            self._pending[key] = future
            self.calls += 1
            return future

    def _run(self, key: Hashable, fn: Callable[[], T]) -> T:
        try:
            return fn()
        finally:
            with self._lock:
                self._pending.pop(key, None)

    def in_flight(self) -> int:
        with self._lock:
            return len(self._pending)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
