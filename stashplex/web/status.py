"""`GET /status`: the human page (HTML). `/health` stays the JSON for monitors."""

from __future__ import annotations

from collections.abc import Callable

import falcon

from stashplex import __version__
from stashplex.mirror.facts import recent_runs
from stashplex.mirror.poster_states import PosterStates
from stashplex.mirror.scene_reader import gate_counts
from stashplex.plex.mapping import GATES
from stashplex.scheduler import SyncStatus
from stashplex.web.checkup import Checkup
from stashplex.web.context import Context
from stashplex.web.health import HealthResource, StashLiveness
from stashplex.web.status_page import (
    CheckupView,
    PlexArtwork,
    StatusView,
    SyncRun,
    Unmatched,
    render,
)
from stashplex.web.sync_controls import FormToken
from stashplex.web.tv import PREFIX as TV_PREFIX

RUNS_SHOWN = 10


class StatusResource:
    def __init__(
        self,
        context: Context,
        health: HealthResource,
        liveness: StashLiveness | None,
        *,
        sync_status: Callable[[], SyncStatus] | None = None,
        stash_version: Callable[[], str | None] | None = None,
        form_token: FormToken | None = None,
        plex_status: Callable[[], PlexArtwork | None] | None = None,
        checkup: Checkup | None = None,
        checkup_token: FormToken | None = None,
    ) -> None:
        self.context = context
        self.health = health
        self.liveness = liveness
        self.sync_status = sync_status
        self.stash_version = stash_version
        self.form_token = form_token
        self.plex_status = plex_status
        self.checkup = checkup
        self.checkup_token = checkup_token or FormToken()
        self.posters = PosterStates(context.db)

    def view(self, req: falcon.Request) -> StatusView:
        ctx = self.context
        facts = self.health.facts()
        counts = dict(facts["mirror"])
        poster_counts = self.posters.counts()
        runs = [
            SyncRun(
                kind=run.kind,
                started=run.started_at,
                seconds=None if run.finished_at is None else run.finished_at - run.started_at,
                ok=None if run.finished_at is None else bool(run.ok),
                added=run.added,
                updated=run.updated,
                removed=run.removed,
                error=run.error,
            )
            for run in recent_runs(self.health.connections.get(), RUNS_SHOWN)
        ]
        status = self.sync_status() if self.sync_status is not None else SyncStatus()
        reachable = self.liveness.status()[0] if self.liveness is not None else None
        problems = self.health.problems(facts, {"reachable": reachable})
        base = ctx.base(req).rstrip("/")
        last_success = facts["sync"].get("last_success_epoch")
        metadata = ctx.settings.metadata
        gates = [gate for gate in GATES if getattr(metadata, f"require_{gate}")]
        with ctx.db.reader.connect() as connection:
            hidden = gate_counts(connection, gates)
        return StatusView(
            version=__version__,
            register_url=base,
            tv_register_url=base + TV_PREFIX,
            stash_url=ctx.settings.stash.url,
            stash_reachable=reachable,
            stash_version=self.stash_version() if self.stash_version is not None else None,
            counts=counts,
            posters={
                "scenes": counts.get("scenes", 0),
                "rendered": poster_counts.get("ok", 0),
                "no_cover": poster_counts.get("no_cover", 0),
                "failed": poster_counts.get("corrupt", 0),
            },
            poster_mode=ctx.settings.server.poster_mode,
            sync_running=status.running,
            sync_progress=status.progress,
            sync_queued=tuple(status.queued),
            form_token=self.form_token.value if self.form_token is not None else None,
            webhook_on=bool(ctx.settings.sync.webhook_token),
            events_received=status.events_received,
            last_success=last_success,
            next_runs=status.next_runs,
            failing_since=status.failing_since,
            last_error=status.last_error,
            runs=runs,
            problems=problems,
            unmatched=[Unmatched(m.when, m.filename, m.title) for m in ctx.misses.recent()],
            hidden=hidden,
            plex=self.plex_status() if self.plex_status is not None else None,
            checkup=self._checkup(),
        )

    def _checkup(self) -> CheckupView | None:
        if self.checkup is None:
            return None
        state = self.checkup.state
        return CheckupView(
            self.checkup_token.value, state.running, state.started_at, state.report, state.error
        )

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.content_type = "text/html; charset=utf-8"
        resp.cache_control = ["no-store"]
        resp.text = render(self.view(req))
