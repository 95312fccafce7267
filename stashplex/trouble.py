"""A problem that lasts, said once: when it starts, when its kind changes, and when it ends.

A sleeping Stash or a full disk fails every request that touches it; a library scan sends
hundreds a minute. Each part of the service that meets such a problem keeps one `Trouble` and
reports every failure and success to it:

- the first failure is logged (WARNING), and so is the first of a different kind ("wrong key"
  after "unreachable"); repeats go to DEBUG;
- the first success after a logged failure logs one INFO line saying it is over;
- a flapping service (the same problem back within `quiet_for` seconds of its end) is not
  announced again, unless it then lasts `quiet_for` seconds: the log never claims "over" for
  long while the problem is back.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Hashable
from typing import Any

QUIET_SECONDS = 60.0

# What a problem is told apart by: an exception class, or a tuple such as (class, message).
# `type` is named because type checkers take a class's `__hash__` for an instance method.
Problem = Hashable | type


class Trouble:
    def __init__(
        self,
        logger: logging.Logger,
        over: str | None = None,
        *,
        quiet_for: float = QUIET_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """`over`: the INFO line logged when a success follows logged failures."""
        self.log = logger
        self.over = over
        self.quiet_for = quiet_for
        self._clock = clock
        self._kind: Problem | None = None  # the problem now; None while things work
        self._since = 0.0  # when the current run of failures began
        self._announced = False  # the current problem was logged
        self._last: Problem | None = None  # the last problem logged
        self._ended = float("-inf")  # when the last problem ended
        self._lock = threading.Lock()

    @property
    def failing(self) -> bool:
        return self._kind is not None

    def failed(
        self,
        kind: Problem,
        message: str,
        *args: Any,
        level: int = logging.WARNING,
        exc_info: Any = None,
    ) -> bool:
        """Report one failure of `kind` (e.g. the exception's class); True if it was logged."""
        with self._lock:
            now = self._clock()
            if self._kind is None:
                self._since = now
                flapping = kind == self._last and now - self._ended < self.quiet_for
                announce = not flapping
            elif kind != self._kind:
                announce = True
            else:
                announce = not self._announced and now - self._since >= self.quiet_for
            self._kind = kind
            if announce:
                self._announced = True
                self._last = kind
        self.log.log(level if announce else logging.DEBUG, message, *args, exc_info=exc_info)
        return announce

    def recovered(self) -> bool:
        """Report a success; True if it ended a problem that was logged."""
        if self._kind is None:  # the common case: no lock, nothing to say
            return False
        with self._lock:
            if self._kind is None:
                return False
            announced = self._announced
            self._kind, self._announced, self._ended = None, False, self._clock()
        if announced and self.over:
            self.log.info(self.over)
        return announced
