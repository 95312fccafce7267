"""The HTML of `/status`: one self-contained page (inline CSS, no scripts, no external assets).

Pure: `render(view)` turns a `StatusView` into HTML, redacting and escaping every value, so the
page can be tested without a server and never breaks on odd file names or leaks a secret.
While a sync runs or waits, the page reloads every few seconds to show its progress.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from html import escape

from stashplex.checklist import FAIL, OK, SYMBOLS, Report
from stashplex.pms.reconciler import WalkState
from stashplex.redaction import redact


@dataclass(frozen=True)
class SyncRun:
    kind: str
    started: float
    seconds: float | None
    ok: bool | None
    added: int
    updated: int
    removed: int
    error: str | None


@dataclass(frozen=True)
class Unmatched:
    when: float
    filename: str
    title: str | None


@dataclass(frozen=True)
class PlexArtwork:
    """The Plex side's state: uploads so far and the walk over Plex's libraries."""

    url: str
    uploaded: int  # images recorded as uploaded, ever
    walk_state: WalkState
    section: str | None = None
    done: int = 0
    total: int | None = None
    ours: int = 0
    walk_uploaded: int = 0
    skipped: int = 0
    last_finished: float | None = None
    next_at: float | None = None
    last_error: str | None = None


@dataclass(frozen=True)
class CheckupView:
    """The doctor's last report on this page, and whether a run is going on."""

    token: str  # the page's form token
    running: bool = False
    started: float | None = None
    report: Report | None = None
    error: str | None = None


@dataclass(frozen=True)
class StatusView:
    version: str
    register_url: str
    tv_register_url: str | None
    stash_url: str
    stash_reachable: bool | None
    stash_version: str | None
    counts: dict[str, int]
    posters: dict[str, int]  # rendered / no_cover / failed / scenes
    poster_mode: bool
    sync_running: str | None
    last_success: float | None
    next_runs: dict[str, float]
    failing_since: float | None
    last_error: str | None
    runs: list[SyncRun] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # why the service is degraded
    unmatched: list[Unmatched] = field(default_factory=list)
    sync_progress: tuple[str, int, int | None] | None = None
    sync_queued: tuple[str, ...] = ()
    form_token: str | None = None  # None: this process runs no syncs (no buttons)
    webhook_on: bool = False
    events_received: int = 0
    hidden: dict[str, int] = field(default_factory=dict)  # gate -> scenes it hides from Plex
    plex: PlexArtwork | None = None  # None: no [plex] url and token
    checkup: CheckupView | None = None  # None: this process runs no checkup
    now: float = field(default_factory=time.time)


_CSS = """
:root { color-scheme: light dark; --ok: #1a7f37; --bad: #c62828; --muted: #6b7280; }
body { font: 15px/1.45 system-ui, sans-serif; margin: 0 auto; max-width: 60rem; padding: 1.5rem; }
h1 { font-size: 1.4rem; margin: 0 0 .2rem; } h2 { font-size: 1.05rem; margin: 1.8rem 0 .5rem; }
.muted { color: var(--muted); } .ok { color: var(--ok); } .bad { color: var(--bad); }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(9rem, 1fr)); gap: .6rem; }
.card { border: 1px solid #8884; border-radius: .5rem; padding: .6rem .8rem; }
.card b { display: block; font-size: 1.3rem; }
table { border-collapse: collapse; width: 100%; } td, th { text-align: left; padding: .3rem .5rem;
  border-bottom: 1px solid #8883; vertical-align: top; } th { font-weight: 600; }
code, .path { font-family: ui-monospace, monospace; font-size: .9em; word-break: break-all; }
ol li { margin: .3rem 0; }
form.controls button { font: inherit; padding: .3rem .8rem; margin-right: .4rem; }
ul.checks { list-style: none; padding-left: .2rem; } ul.checks li { margin: .25rem 0; }
ul.checks .sym { display: inline-block; width: 1.2rem; font-weight: 700; }
ul.checks .more { margin-left: 1.2rem; } .warn { color: #b26a00; }
h3 { font-size: .95rem; margin: 1rem 0 .2rem; }
"""

_BUTTONS = (
    ("incremental", "Sync now", "fetch what changed in Stash since the last sync"),
    ("full", "Full sync", "fetch every scene and entity again"),
    ("sweep", "Sweep", "find deleted, moved and renamed files"),
)
BUSY_REFRESH_SECONDS = 3
IDLE_REFRESH_SECONDS = 30


def _progress(progress: tuple[str, int, int | None] | None) -> str:
    if progress is None:
        return ""
    phase, done, total = progress
    if total:
        return f": {e(phase)} {done:,} of {total:,} ({done / total:.0%})"
    return f": {e(phase)} {done:,}"


def _controls(view: StatusView) -> str:
    if view.form_token is None:
        return ""
    buttons = "".join(
        f'<button name="kind" value="{kind}" title="{escape(hint)}">{escape(label)}</button>'
        for kind, label, hint in _BUTTONS
    )
    queued = (
        f'<p class="muted">Queued: {escape(", ".join(view.sync_queued))}.</p>'
        if view.sync_queued
        else ""
    )
    hook = (
        f"Edits in Stash arrive through the plugin's webhook: {view.events_received:,} "
        "events since stashplex started."
        if view.webhook_on
        else "The Stash plugin's webhook is off (<code>[sync] webhook_token</code>)."
    )
    return (
        '<form class="controls" method="post" action="/status/sync">'
        f'<input type="hidden" name="token" value="{escape(view.form_token)}">{buttons}</form>'
        f'{queued}<p class="muted">{hook}</p>'
    )


def _when(stamp: float | None, now: float) -> str:
    if stamp is None:
        return "never"
    delta = stamp - now
    moment = datetime.fromtimestamp(stamp).strftime("%Y-%m-%d %H:%M:%S")
    seconds = abs(delta)
    if seconds < 90:
        span = f"{seconds:.0f} s"
    elif seconds < 5400:
        span = f"{seconds / 60:.0f} min"
    elif seconds < 172800:
        span = f"{seconds / 3600:.1f} h"
    else:
        span = f"{seconds / 86400:.0f} days"
    relative = f"in {span}" if delta > 0 else f"{span} ago"
    return f'{escape(moment)} <span class="muted">({relative})</span>'


def _state(ok: bool | None, yes: str, no: str, unknown: str = "unknown") -> str:
    if ok is None:
        return f'<span class="muted">{escape(unknown)}</span>'
    return (
        f'<span class="ok">{escape(yes)}</span>' if ok else f'<span class="bad">{escape(no)}</span>'
    )


def e(value: object) -> str:
    """Any value as page text: redacted (it may be Stash's or a setting's words), encodable
    (lone surrogates replaced) and escaped."""
    return escape(redact(str(value)))


def _plex(plex: PlexArtwork | None, now: float) -> str:
    if plex is None:
        return (
            '<h2>Plex artwork</h2><p class="muted">Not uploading: set <code>[plex] url</code> and '
            "<code>token</code> so posters and backgrounds show in every Plex app.</p>"
        )
    if plex.walk_state == "running":
        of = f" of {plex.total:,}" if plex.total is not None else ""
        walk = (
            f'<span class="ok">walking {e(plex.section or "")}</span>: {plex.done:,}{of} items, '
            f"{plex.ours:,} of ours, {plex.walk_uploaded:,} images uploaded"
        )
    elif plex.walk_state == "paused":
        walk = f'<span class="bad">paused</span> until {_when(plex.next_at, now)}'
    elif plex.walk_state == "off":
        walk = "off (<code>reconcile_hours = 0</code>)"
    else:
        walk = f"idle; next {_when(plex.next_at, now)}"
    error = f" — last error: {e(plex.last_error)}" if plex.last_error else ""
    return (
        f"<h2>Plex artwork</h2><p><code>{e(plex.url)}</code>: {plex.uploaded:,} images uploaded."
        f"</p><p>Library walk: {walk}{error}. Last finished: {_when(plex.last_finished, now)}"
        f"{f'; {plex.skipped:,} items to try again' if plex.skipped else ''}.</p>"
    )


_CHECK_CLASSES = {OK: "ok", FAIL: "bad"}


def _report(report: Report) -> str:
    parts = []
    for section in report.sections:
        if not section.checks:
            continue
        items = []
        for check in section.checks:
            css = _CHECK_CLASSES.get(check.state, "warn")
            details = "".join(f'<div class="more path">{e(d)}</div>' for d in check.details)
            fix = (
                f'<div class="more muted">→ {e(check.fix)}</div>'
                if check.fix and check.state != OK
                else ""
            )
            items.append(
                f'<li><span class="sym {css}">{SYMBOLS[check.state]}</span>{e(check.text)}'
                f"{details}{fix}</li>"
            )
        parts.append(f'<h3>{e(section.title)}</h3><ul class="checks">{"".join(items)}</ul>')
    counts = report.counts()
    verdict = (
        '<span class="ok">ready to scan</span>'
        if report.passed
        else '<span class="bad">fix the lines marked ✗</span>'
    )
    return (
        f"<p>{counts['ok']} passed, {counts['warn']} warnings, {counts['fail']} failed: "
        f"{verdict}.</p>" + "".join(parts)
    )


def _checkup(checkup: CheckupView | None, now: float) -> str:
    if checkup is None:
        return ""
    if checkup.running:
        state = f'<p><span class="ok">running</span> since {_when(checkup.started, now)}…</p>'
        button = ""
    else:
        state = ""
        label = "Run the checkup again" if checkup.report else "Run the checkup"
        button = (
            '<form class="controls" method="post" action="/status/checkup">'
            f'<input type="hidden" name="token" value="{escape(checkup.token)}">'
            f"<button>{label}</button></form>"
        )
    error = f'<p class="bad">The last run failed: {e(checkup.error)}</p>' if checkup.error else ""
    if checkup.report is not None:
        finished = f"<p>Last run finished {_when(checkup.report.finished_at, now)}.</p>"
        result = finished + _report(checkup.report)
    else:
        result = ""
    return (
        '<h2 id="checkup">Checkup</h2><p class="muted">The checks of <code>stashplex '
        "doctor</code>: Stash, the mirror, the poster folder, this service's address, Plex, and "
        "a dry run of a scan of Plex's libraries over the mirror. Run it before the first scan."
        f"</p>{button}{state}{error}{result}"
    )


def render(view: StatusView) -> str:
    now = view.now
    cards = "".join(
        f'<div class="card"><b>{count:,}</b>{e(name)}</div>' for name, count in view.counts.items()
    )
    scenes = view.posters.get("scenes", 0)
    rendered = view.posters.get("rendered", 0)
    coverage = f"{rendered / scenes:.0%}" if scenes else "–"
    if view.poster_mode:
        poster_line = (
            f"{rendered:,} of {scenes:,} scenes have a poster ({coverage}); "
            f"{view.posters.get('no_cover', 0):,} have no cover in Stash, "
            f"{view.posters.get('failed', 0):,} covers could not be read."
        )
    else:
        poster_line = "Poster mode is off: Plex gets Stash's 16:9 screenshots."

    plex_block = _plex(view.plex, now)

    gate_names = {
        "organized": "not organized (<code>require_organized</code>)",
        "stash_id": "without a stash-box id (<code>require_stash_id</code>)",
        "url": "without a URL (<code>require_url</code>)",
    }
    hidden_line = (
        "<p>Hidden from Plex: "
        + ", ".join(f"{count:,} {gate_names[gate]}" for gate, count in view.hidden.items())
        + ".</p>"
        if view.hidden
        else ""
    )

    if view.sync_running:
        sync_state = (
            f'<span class="ok">running now ({e(view.sync_running)}'
            f"{_progress(view.sync_progress)})</span>"
        )
    elif view.failing_since is not None:
        sync_state = (
            f'<span class="bad">failing since {_when(view.failing_since, now)}</span>'
            f" — {e(view.last_error or '')}"
        )
    else:
        sync_state = '<span class="ok">idle</span>'
    next_rows = "".join(
        f"<tr><td>{e(kind)}</td><td>{_when(stamp, now)}</td></tr>"
        for kind, stamp in sorted(view.next_runs.items(), key=lambda item: item[1])
    )
    run_rows = "".join(
        "<tr>"
        f"<td>{_when(run.started, now)}</td><td>{e(run.kind)}</td>"
        f"<td>{_state(run.ok, 'ok', 'failed', 'running')}</td>"
        f"<td>{'' if run.seconds is None else f'{run.seconds:.1f} s'}</td>"
        f"<td>+{run.added} ~{run.updated} −{run.removed}</td>"
        f'<td class="muted">{e(run.error or "")}</td>'
        "</tr>"
        for run in view.runs
    )
    if view.unmatched:
        unmatched = (
            "<table><tr><th>when</th><th>file Plex asked about</th><th>parsed title</th></tr>"
            + "".join(
                f'<tr><td>{_when(u.when, now)}</td><td class="path">{e(u.filename)}</td>'
                f"<td>{e(u.title or '')}</td></tr>"
                for u in view.unmatched
            )
            + '</table><p class="muted">If these files are in Stash, Plex sees them under '
            "another folder than Stash does: add a <code>[match] path_map</code> line mapping "
            "Plex's folder to Stash's, or run <code>stashplex-sync</code> if they are new.</p>"
        )
    else:
        unmatched = '<p class="muted">Every file Plex asked about recently was found.</p>'
    tv = (
        f"<li>For a TV Shows library, add a second provider: <code>{e(view.tv_register_url)}</code>"
        "</li>"
        if view.tv_register_url
        else ""
    )
    busy = bool(view.sync_running or view.sync_queued or (view.checkup and view.checkup.running))
    refresh = BUSY_REFRESH_SECONDS if busy else IDLE_REFRESH_SECONDS
    if view.problems:
        health = (
            '<p><span class="bad">Degraded</span>: '
            + "; ".join(e(problem) for problem in view.problems)
            + ".</p>"
        )
    else:
        health = '<p><span class="ok">Healthy</span>.</p>'
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="{refresh}">
<title>stashplex status</title><style>{_CSS}</style></head>
<body>
<h1>stashplex</h1>
<p class="muted">version {e(view.version)} · page refreshes every {refresh} s</p>
{health}

<h2>Stash</h2>
<p><code>{e(view.stash_url)}</code> —
{_state(view.stash_reachable, "reachable", "unreachable")}
{f"· Stash {e(view.stash_version)}" if view.stash_version else ""}</p>

<h2>Mirror</h2>
<div class="grid">{cards}</div>
{hidden_line}
<p>{poster_line}</p>

{plex_block}
<h2>Sync</h2>
<p>State: {sync_state}. Last successful sync: {_when(view.last_success, now)}.</p>
{_controls(view)}
<table><tr><th>next</th><th>when</th></tr>{next_rows}</table>
<h2>Recent syncs</h2>
<table><tr><th>started</th><th>kind</th><th>result</th><th>took</th><th>changes</th><th></th></tr>
{run_rows}</table>

<h2>Files Plex asked about that were not found</h2>
{unmatched}

{_checkup(view.checkup, now)}
<h2>Setting up Plex</h2>
<ol>
<li>In Plex: <b>Settings › Metadata Agents › Add Provider</b>, and enter
<code>{e(view.register_url)}</code>.</li>
<li><b>Add Agent</b>: pick “Stash (stashplex)” as the primary provider (optionally add
“Plex Local Media” after it).</li>
<li>Create or edit a <b>Movies</b> library: keep the scanner “Plex Movie” and, under
<b>Advanced</b>, choose the agent you just created.</li>
{tv}
<li>Scan the library. Files that do not match show up in the list above.</li>
</ol>
</body></html>
"""
