"""Logging set-up, with a filter that keeps secrets out of every record (see `redaction`).

The filter sits on the handlers, so it also covers records of libraries (httpx logs URLs, which
may carry `?apikey=`) and tracebacks.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable
from typing import TextIO

from stashplex import redaction

_LOG_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


class RedactingFilter(logging.Filter):
    """Passes every formatted record, traceback included, through the process's redaction."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redaction.redact(message)
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redaction.redact(record.exc_text)
        if clean != message or record.args:
            record.msg, record.args = clean, None
        return True


_filter = RedactingFilter()


def setup(
    debug: bool = False,
    secrets: Iterable[str | None] = (),
    stream: TextIO | None = None,
    *,
    quiet: bool = False,
) -> None:
    """Configure the root logger once for a command; safe to call again (replaces handlers).

    `quiet` (for one-shot commands) shows warnings and errors only, unless `debug`."""
    redaction.register(secrets)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(logging.Formatter(_LOG_FORMAT))
    handler.addFilter(_filter)
    root = logging.getLogger()
    for old in list(root.handlers):
        if getattr(old, "_stashplex", False):
            root.removeHandler(old)
    handler._stashplex = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if debug else logging.WARNING if quiet else logging.INFO)
    # Per-request lines from these libraries are noise at INFO; our own debug covers Stash calls.
    noisy_loggers = ("httpx", "httpcore", "alembic", "waitress.queue", "apscheduler.executors")
    for noisy in noisy_loggers:
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # "skipped: maximum number of running instances" at every tick of a long first sync is
    # exactly what coalescing is for, not a warning worth a user's attention.
    logging.getLogger("apscheduler.scheduler").setLevel(logging.ERROR)
