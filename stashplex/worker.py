"""A background worker: one daemon thread fed under a condition variable.

The poster uploader and the Plex refresher share this lifecycle: `start` once, `drain` for
one-shot commands and tests, `close` at shutdown (which wakes any wait and joins the thread).
Subclasses keep their queues under `self._cond`, set `self._busy` while working outside it,
and say in `_has_work` whether anything is queued.
"""

from __future__ import annotations

import threading
import time
from typing import TypeVar

W = TypeVar("W", bound="BackgroundWorker")


class BackgroundWorker:
    thread_name = "worker"

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._closing = False
        self._busy = False
        self._thread: threading.Thread | None = None

    def _has_work(self) -> bool:
        raise NotImplementedError

    def _run(self) -> None:
        raise NotImplementedError

    def start(self: W) -> W:
        with self._cond:
            if self._thread is None and not self._closing:
                self._thread = threading.Thread(
                    target=self._run, name=self.thread_name, daemon=True
                )
                self._thread.start()
        return self

    def close(self, timeout: float = 5.0) -> None:
        with self._cond:
            self._closing = True
            self._cond.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def drain(self, timeout: float | None = None) -> bool:
        """Wait until nothing is queued or being worked on; False on timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while self._has_work() or self._busy:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return False
                self._cond.wait(min(left, 0.5) if left is not None else 0.5)
        return True
