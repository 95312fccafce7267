"""Encoded answers to repeated requests, kept while the mirror's generation stands.

PMS asks the same things again and again (a library scan matches a file, then reads its
metadata; a refresh or Fix Match repeats both). An answer is a pure function of the request and
the mirror, so the bytes sent once are sent again until a write raises the mirror's generation
(see `mirror.generation`). Each entry is tagged with the generation it was read under: an entry
read before a write committed is never served after it, even if it was stored afterwards.
A request only ever gets an entry of the generation it read itself, so two requests on either
side of a write merely take turns emptying the cache. Bounded in bytes (the answers and the
request text in their keys), least recently used first out.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Generic, TypeVar

DEFAULT_MAX_BYTES = 16 * 1024 * 1024
ENTRY_OVERHEAD = 200  # bytes of key, tuple and dict slot per entry, roughly

V = TypeVar("V")


class AnswerCache(Generic[V]):
    """`get`/`put` under a generation; a newer generation empties the cache.

    Values are `(bytes, extra)` pairs: the answer's body and whatever the route needs to
    repeat its side effects (its size is not counted)."""

    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.max_bytes = max_bytes
        self._entries: OrderedDict[Hashable, tuple[bytes, V]] = OrderedDict()
        self._sizes: dict[Hashable, int] = {}
        self._bytes = 0
        self._generation = -1
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable, generation: int) -> tuple[bytes, V] | None:
        with self._lock:
            if generation != self._generation:
                self._reset(generation)
                self.misses += 1
                return None
            found = self._entries.get(key)
            if found is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return found

    def put(
        self, key: Hashable, generation: int, body: bytes, extra: V, *, key_bytes: int = 0
    ) -> None:
        """`key_bytes`: what the key holds beyond small values (request text), counted too."""
        size = len(body) + ENTRY_OVERHEAD + key_bytes
        if size > self.max_bytes // 8:  # one huge answer must not empty the cache
            return
        with self._lock:
            if generation != self._generation:
                self._reset(generation)
            if self._entries.pop(key, None) is not None:
                self._bytes -= self._sizes.pop(key)
            self._entries[key] = (body, extra)
            self._sizes[key] = size
            self._bytes += size
            while self._bytes > self.max_bytes:
                evicted, _value = self._entries.popitem(last=False)
                self._bytes -= self._sizes.pop(evicted)

    def clear(self) -> None:
        with self._lock:
            self._reset(self._generation)

    def __len__(self) -> int:
        return len(self._entries)

    def _reset(self, generation: int) -> None:
        self._entries.clear()
        self._sizes.clear()
        self._bytes = 0
        self._generation = generation
