"""`stashplex doctor` on the status page: run on demand in the background, never per page load.

`POST /status/checkup` (the page's button) starts one run, refused like the sync buttons when
another site makes a browser send it; `/status` shows it running, then its report, until the
next run replaces it. The report itself is built by the doctor, which the service hands in.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import falcon

from stashplex.checklist import Report
from stashplex.redaction import redact
from stashplex.web.sync_controls import FormToken, read_page_form

log = logging.getLogger(__name__)

RunCheckup = Callable[[], Report]


@dataclass(frozen=True)
class CheckupState:
    running: bool
    started_at: float | None = None
    report: Report | None = None
    error: str | None = None  # the run itself broke (a bug): said instead of a report


class Checkup:
    """One doctor run at a time, on its own thread; the last report is kept."""

    def __init__(self, run: RunCheckup) -> None:
        self._run = run
        self._lock = threading.Lock()
        self._state = CheckupState(running=False)

    @property
    def state(self) -> CheckupState:
        with self._lock:
            return self._state

    def start(self) -> bool:
        """Start a run; False when one is running already."""
        with self._lock:
            if self._state.running:
                return False
            self._state = CheckupState(True, time.time(), self._state.report, None)
        threading.Thread(target=self._work, name="checkup", daemon=True).start()
        return True

    def _work(self) -> None:
        report, error = None, None
        try:
            report = self._run()
        except Exception as exc:  # the page must say it failed, not spin forever
            log.exception("the checkup failed")
            error = redact(f"{type(exc).__name__}: {exc}")
        with self._lock:
            started = self._state.started_at
            kept = report if report is not None else self._state.report
            self._state = CheckupState(False, started, kept, error)


class StatusCheckupForm:
    """`POST /status/checkup`: the status page's "Run checkup" button; back to the page."""

    def __init__(self, checkup: Checkup | None, token: FormToken) -> None:
        self.checkup = checkup
        self.token = token

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        read_page_form(req, self.token)
        if self.checkup is None:
            raise falcon.HTTPServiceUnavailable(
                title="Service Unavailable", description="this process runs no checkup"
            )
        self.checkup.start()  # already running: the page shows that run
        raise falcon.HTTPSeeOther("/status#checkup")
