"""The recent match requests that found nothing: the status page shows them so a user can see
which folder Plex uses that Stash does not (a missing `path_map`) or which files Stash lacks."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass


@dataclass(frozen=True)
class Miss:
    when: float
    filename: str
    title: str | None


class RecentMisses:
    """The last `limit` distinct file names (or titles) that matched nothing, newest first."""

    def __init__(self, limit: int = 50) -> None:
        self.limit = limit
        self._items: OrderedDict[str, Miss] = OrderedDict()
        self._lock = threading.Lock()

    def add(self, filename: str | None, title: str | None) -> None:
        key = filename or title
        if not key:
            return
        with self._lock:
            self._items.pop(key, None)
            self._items[key] = Miss(time.time(), filename or "", title)
            while len(self._items) > self.limit:
                self._items.popitem(last=False)

    def found(self, filename: str | None) -> None:
        """A file that matched after all (a later sync brought it): no longer a miss."""
        if filename:
            with self._lock:
                self._items.pop(filename, None)

    def recent(self) -> list[Miss]:
        with self._lock:
            return list(reversed(self._items.values()))
