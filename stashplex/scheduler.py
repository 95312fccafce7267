"""The scheduled syncs of `stashplex serve`: incremental every few minutes, a sweep every few hours.

Jobs run one at a time on a single worker thread, coalesce when missed (a sleeping NAS wakes up
to one sync, not a backlog), and retry with backoff while Stash is unreachable, logging the
problem once rather than at every attempt. Stopping lets the current page commit and returns
within a few seconds.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler

from stashplex.change_queue import ChangeQueue
from stashplex.changes import Changes
from stashplex.mirror.db import MirrorMoved
from stashplex.mirror.sync import SyncBusy, SyncCancelled, Syncer, SyncKind, SyncReport
from stashplex.redaction import redact
from stashplex.stash.errors import StashError
from stashplex.trouble import Problem, Trouble

log = logging.getLogger(__name__)

RETRY_FIRST_SECONDS = 15.0
KINDS: tuple[SyncKind, ...] = ("incremental", "full", "sweep")  # what a person may start


@dataclass
class SyncStatus:
    """What the status page and /health show about the scheduled syncs."""

    running: SyncKind | None = None
    last_kind: SyncKind | None = None
    last_finished: float | None = None
    last_ok: bool | None = None
    last_summary: str | None = None
    last_error: str | None = None
    last_seconds: float | None = None
    next_runs: dict[str, float] = field(default_factory=dict)
    failing_since: float | None = None
    progress: tuple[str, int, int | None] | None = None  # of the running pass
    queued: list[SyncKind] = field(default_factory=list)  # passes asked for, not started yet
    events_received: int = 0  # from Stash's plugin, since the service started


class SyncScheduler:
    def __init__(
        self,
        syncer: Syncer,
        *,
        interval_minutes: float,
        sweep_hours: float,
        after_pass: Sequence[Callable[[SyncReport], None]] = (),
        on_stop: Callable[[], None] | None = None,
        retry_first: float = RETRY_FIRST_SECONDS,
    ) -> None:
        self.syncer = syncer
        self.interval = timedelta(minutes=interval_minutes)
        self.sweep_every = timedelta(hours=sweep_hours)
        self.after_pass = list(after_pass)
        self.on_stop = on_stop  # e.g. close the Stash client to cut an in-flight request
        self.status = SyncStatus()
        self._retry_first = retry_first
        self._retry_delay = retry_first
        self._idle = threading.Event()
        self._idle.set()
        self._announced = False
        self._trouble = Trouble(log, "Stash answers again; syncing as scheduled")
        self.changes = ChangeQueue(self._submit_changes)
        self._changes_submitted = 0
        shown = syncer.progress

        def progress(phase: str, done: int, total: int | None) -> None:
            self.status.progress = (phase, done, total)
            shown(phase, done, total)

        syncer.progress = progress
        self._scheduler = BackgroundScheduler(
            timezone=timezone.utc,
            executors={"default": ThreadPoolExecutor(max_workers=1)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        )

    # --- lifecycle ----------------------------------------------------------------------------

    def start(self, *, first_sweep_in: timedelta | None = None) -> None:
        now = datetime.now(timezone.utc)
        self._scheduler.add_job(
            self._run,
            "interval",
            seconds=self.interval.total_seconds(),
            args=["incremental"],
            id="incremental",
            next_run_time=now,  # the first sync starts at boot, without delaying answers
        )
        self._scheduler.add_job(
            self._run,
            "interval",
            seconds=self.sweep_every.total_seconds(),
            args=["sweep"],
            id="sweep",
            next_run_time=now
            + (first_sweep_in if first_sweep_in is not None else self.sweep_every),
        )
        self._scheduler.start()
        self.changes.start()
        self._refresh_next_runs()

    def stop(self, grace: float = 5.0) -> bool:
        """Stop taking work and let the current pass end at its next page; True if it did."""
        self.syncer.stop.set()
        self.changes.close()
        if not self._scheduler.running:
            return self._idle.is_set()
        self._scheduler.pause()
        finished = self._idle.wait(grace)
        if not finished and self.on_stop is not None:
            self.on_stop()  # cut the request the pass is waiting on
            finished = self._idle.wait(2.0)
        self._scheduler.shutdown(wait=False)
        return finished

    def run_now(self, kind: SyncKind = "incremental") -> None:
        """Queue a pass now (e.g. from the status page); coalesces with a queued one."""
        if kind not in self.status.queued:
            self.status.queued.append(kind)
        self._scheduler.add_job(self._run, args=[kind], id=f"now-{kind}", replace_existing=True)

    def queue_changes(self, changes: Changes, events: int = 1) -> None:
        """Stash's events (from the webhook): a targeted pass follows within a second or so."""
        self.changes.add(changes, events)
        self.status.events_received += events

    def _submit_changes(self) -> None:
        # A job id of its own each time: the one before may still be running.
        self._changes_submitted += 1
        self._scheduler.add_job(
            self._run, args=["changes"], id=f"changes-{self._changes_submitted}"
        )

    # --- jobs ---------------------------------------------------------------------------------

    def _run(self, kind: SyncKind) -> None:
        if kind in self.status.queued:
            self.status.queued.remove(kind)
        if self.syncer.stop.is_set():
            return
        changes = None
        if kind == "changes":
            changes = self.changes.take()
            if not changes and not self.syncer.has_pending():
                return  # taken by the pass before, and applied
        self._idle.clear()
        kind = self.syncer.effective_kind(kind)  # the first pass of an empty mirror is "full"
        self.status.running = kind
        started = time.time()
        try:
            report = self.syncer.run(kind, changes=changes)
        except SyncCancelled:
            log.info("%s sync stopped for shutdown; the next start carries on", kind)
            return
        except SyncBusy as exc:
            log.info("%s sync skipped: %s", kind, exc)
            if changes:
                self.syncer.hold(changes)  # for the next pass
            return
        except MirrorMoved as exc:  # `stashplex serve` reopens the mirror (see daemon)
            self._failed(kind, started, redact(str(exc)), MirrorMoved)
            return
        except StashError as exc:
            # The same problem in other words ("refused", then "reset" while Stash restarts)
            # is still the same problem: it is told by its class, not by its message.
            self._failed(kind, started, redact(str(exc)), type(exc))
            return
        except Exception as exc:  # a bug (or a full disk) must not stop future syncs
            message = redact(f"internal error: {type(exc).__name__}: {exc}")
            self._failed(kind, started, message, (type(exc), str(exc)), exc_info=exc)
            return
        finally:
            self.status.running = None
            self.status.progress = None
            self._idle.set()
            self._refresh_next_runs()
        self._succeeded(report, started)

    def _succeeded(self, report: SyncReport, started: float) -> None:
        if not self._announced and self.syncer.info is not None:
            self._announced = True
            log.info(
                "connected to Stash %s at %s", self.syncer.info.version, self.syncer.client.url
            )
        self._trouble.recovered()
        self.status.failing_since = None
        self._retry_delay = self._retry_first
        self.status.last_kind = report.kind
        self.status.last_finished = time.time()
        self.status.last_ok = True
        self.status.last_summary = report.summary()
        self.status.last_error = None
        self.status.last_seconds = report.seconds
        if report.added or report.updated or report.removed or report.kind != "incremental":
            log.info("%s", report.summary())
        else:
            log.debug("%s", report.summary())
        for hook in self.after_pass:
            try:
                hook(report)
            except Exception:
                log.exception("a post-sync step failed")

    def _failed(
        self,
        kind: SyncKind,
        started: float,
        message: str,
        problem: Problem,
        exc_info: BaseException | None = None,
    ) -> None:
        if self.status.failing_since is None:
            self.status.failing_since = started
        self.status.last_kind = kind
        self.status.last_finished = time.time()
        self.status.last_ok = False
        self.status.last_error = message
        self.status.last_seconds = time.time() - started
        delay = min(self._retry_delay, self.interval.total_seconds())
        self._retry_delay = min(self._retry_delay * 2, self.interval.total_seconds())
        # Said once per problem (see `Trouble`); the retries stay quiet until it changes.
        self._trouble.failed(
            problem,
            "%s sync failed: %s; still serving from the mirror, retrying in %.0fs",
            kind,
            message,
            delay,
            exc_info=exc_info,
        )
        if not self.syncer.stop.is_set():
            self._scheduler.add_job(
                self._run,
                "date",
                run_date=datetime.now(timezone.utc) + timedelta(seconds=delay),
                args=[kind],
                id=f"retry-{kind}",
                replace_existing=True,
            )

    def _refresh_next_runs(self) -> None:
        runs: dict[str, float] = {}
        for job in self._scheduler.get_jobs():
            if job.next_run_time is None:
                continue
            kind = job.args[0] if job.args else job.id
            stamp = job.next_run_time.timestamp()
            runs[kind] = min(stamp, runs.get(kind, stamp))
        self.status.next_runs = runs
