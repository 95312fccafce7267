"""The sample Stash's clock and its timestamp format.

Stash stores timestamps with second resolution as RFC3339 strings in the server's local
offset, and compares filter values with them as raw strings. Everything here follows
that: times are integer unix seconds, rendered in one configurable UTC offset.
"""

from __future__ import annotations

import re
import threading
import time
from datetime import datetime, timedelta, timezone

_OFFSET_RE = re.compile(r"^([+-])(\d{2}):?(\d{2})$")


def parse_offset(text: str) -> int:
    """``+02:00`` -> 7200 seconds; ``Z`` and ``UTC`` are accepted too."""
    if text.upper() in ("Z", "UTC"):
        return 0
    match = _OFFSET_RE.match(text.strip())
    if not match:
        raise ValueError(f"not a UTC offset: {text!r} (expected like +02:00)")
    seconds = int(match[2]) * 3600 + int(match[3]) * 60
    if seconds > 14 * 3600:
        raise ValueError(f"UTC offset out of range: {text!r}")
    return -seconds if match[1] == "-" else seconds


class TimeFormat:
    """Renders unix seconds the way Stash's GraphQL ``Time`` scalar does (RFC3339)."""

    def __init__(self, offset_seconds: int) -> None:
        self.offset = offset_seconds
        self.tz = timezone(timedelta(seconds=offset_seconds))
        self._days: dict[int, str] = {}  # day number -> "YYYY-MM-DDT" (few thousand at most)
        self._memo: dict[int, str] = {}  # entity and recent stamps repeat across requests
        if offset_seconds == 0:
            self.suffix = "Z"  # Go's RFC3339 writes UTC as "Z"
        else:
            sign = "-" if offset_seconds < 0 else "+"
            hours, rest = divmod(abs(offset_seconds), 3600)
            self.suffix = f"{sign}{hours:02d}:{rest // 60:02d}"

    def stamp(self, unix: int) -> str:
        """``2024-05-01T12:00:00+02:00``: fixed width, so string order is time order."""
        hit = self._memo.get(unix)
        if hit is not None:
            return hit
        if len(self._memo) > 200_000:
            self._memo.clear()
        day, second = divmod(unix + self.offset, 86400)
        date = self._days.get(day)
        if date is None:
            t = time.gmtime(day * 86400)
            date = self._days[day] = f"{t.tm_year:04d}-{t.tm_mon:02d}-{t.tm_mday:02d}T"
        hour, rest = divmod(second, 3600)
        text = self._memo[unix] = f"{date}{hour:02d}:{rest // 60:02d}:{rest % 60:02d}{self.suffix}"
        return text

    def local(self, year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> int:
        """Unix seconds of a wall-clock time in this offset."""
        return int(datetime(year, month, day, hour, minute, tzinfo=self.tz).timestamp())


class Clock:
    """Second-resolution clock used for every timestamp a change writes.

    ``manual`` clocks stand still until :meth:`advance` (deterministic tests);
    ``real`` clocks follow wall time, still shifted by :meth:`advance`.
    """

    def __init__(self, start: int, mode: str = "manual") -> None:
        if mode not in ("manual", "real"):
            raise ValueError("clock mode must be 'manual' or 'real'")
        self.mode = mode
        self._start = start
        self._shift = 0
        self._lock = threading.Lock()

    def now(self) -> int:
        with self._lock:
            if self.mode == "real":
                return max(int(time.time()), self._start) + self._shift
            return self._start + self._shift

    def advance(self, seconds: float) -> int:
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        with self._lock:
            self._shift += int(seconds)
        return self.now()
