"""`stashplex serve`: one process with the provider app under waitress, the scheduled syncs,
and the poster and Plex workers, until SIGINT or SIGTERM.

`Service` holds what the process owns. Start-up never waits for Stash: the app answers from
whatever the mirror has while the first sync runs. Shutdown stops taking work, lets the sync's
current page commit, and returns within a few seconds.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from types import FrameType

from stashplex import __version__, doctor, lan, logs, reloader
from stashplex.artwork import Artwork
from stashplex.mirror.db import Database
from stashplex.mirror.sync import Syncer, SyncReport
from stashplex.mirror.writer import get_state
from stashplex.scheduler import SyncScheduler
from stashplex.settings import Settings
from stashplex.stash.client import StashClient
from stashplex.web.app import ProviderApp, create_app
from stashplex.web.baseurl import listening_base_url
from stashplex.web.server import Server, close_server, create_server, stop_server

log = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_FAILED = 1
STASH_CALLS_IN_FLIGHT = 3
STOP_GRACE_SECONDS = 5.0
EVERY_INTERFACE = ("0.0.0.0", "::", "")
MIRROR_CHECK_SECONDS = 2.0


def responder_client(settings: Settings) -> StashClient:
    """The client for Plex-driven calls: the configured timeout, no retries, few in flight."""
    return StashClient.from_settings(settings, retries=0, max_in_flight=STASH_CALLS_IN_FLIGHT)


def sync_client(settings: Settings) -> StashClient:
    """The syncer's own client: retries with backoff, one request at a time."""
    return StashClient.from_settings(settings, max_in_flight=1)


def _speak_like(source: StashClient, target: StashClient) -> Callable[[SyncReport], None]:
    """After each pass, the responder's client uses the API generation the sync just probed:
    on a Stash before v0.27 group images live under /movie/, and the responder may never have
    probed it itself (it only does for live lookups)."""

    def hook(report: SyncReport) -> None:
        target.features, target.probed = source.features, source.probed

    return hook


def first_sweep_delay(db: Database, settings: Settings) -> timedelta:
    """When the first sweep is due: from the last one, or right after the first sync."""
    with db.reader.connect() as connection:
        last = get_state(connection, "last_sweep")
        empty = get_state(connection, "cursor:scene") is None
    every = timedelta(hours=settings.sync.sweep_hours)
    if last is None:
        return every if empty else timedelta(0)  # an empty mirror gets a full sync at boot
    try:
        due = float(last) + every.total_seconds() - time.time()
    except ValueError:
        return timedelta(0)
    return timedelta(seconds=max(0.0, due))


def register_urls(
    settings: Settings, local_addresses: Callable[[], list[str]] = lan.addresses
) -> list[str]:
    """The URLs to give Plex: agent_base_url; else, listening on every interface, one per
    address of this machine (the likeliest LAN address first); else the address listened on."""
    server = settings.server
    if server.agent_base_url:
        return [server.agent_base_url]
    if server.host in EVERY_INTERFACE:
        found = local_addresses()
        if found:
            return [f"http://{address}:{server.port}" for address in found]
    return [listening_base_url(server.host, server.port)]


def register_lines(settings: Settings, urls: list[str], in_container: bool) -> list[str]:
    """The start-up lines that tell the user what to give Plex."""
    first, others = urls[0], urls[1:]
    lines = [
        f"add this URL in Plex under Settings > Metadata Agents: {first}"
        + (f" (or, from another network: {', '.join(others)})" if others else "")
    ]
    wildcard = settings.server.host in EVERY_INTERFACE
    if wildcard and not settings.server.agent_base_url:
        if in_container:
            lines.append(
                "in a container these are its own addresses: Plex elsewhere needs the address "
                "of the machine Docker runs on, with the published port"
            )
        lines.append(
            "image URLs follow the Host Plex uses; set [plexagentserver] agent_base_url to fix them"
        )
    return lines


@dataclass
class Service:
    settings: Settings
    db: Database
    client: StashClient
    app: ProviderApp
    server: Server
    artwork: Artwork
    syncer: Syncer
    scheduler: SyncScheduler
    mirror_moved: str | None = None  # set when the mirror file was deleted or replaced
    _closing: threading.Event = field(default_factory=threading.Event)

    @classmethod
    def build(
        cls,
        settings: Settings,
        *,
        host: str | None = None,
        port: int | None = None,
        retry_first: float | None = None,
    ) -> Service:
        # Whatever was opened is closed again, in reverse, if a later step fails (a port in use).
        with contextlib.ExitStack() as opened:
            db = Database.open(settings.mirror.database)  # creates or migrates the mirror
            opened.callback(db.close)
            client = responder_client(settings)
            opened.callback(client.close)
            syncing = sync_client(settings)
            opened.callback(syncing.close)
            # Its own Stash client (2 in flight) for posters and the image prefetch; the image
            # routes fetch with the responder's.
            artwork = Artwork.build(settings, db, image_client=client)
            opened.callback(artwork.close)
            syncer = Syncer(syncing, db, settings, after_page=artwork.after_page)
            scheduler = SyncScheduler(
                syncer,
                interval_minutes=settings.sync.interval_minutes,
                sweep_hours=settings.sync.sweep_hours,
                after_pass=[
                    artwork.after_pass,
                    _speak_like(syncing, client),
                    *([_speak_like(syncing, artwork.owned_client)] if artwork.owned_client else []),
                ],
                on_stop=syncing.stop,
                **({} if retry_first is None else {"retry_first": retry_first}),
            )
            app = create_app(
                settings,
                db=db,
                stash=client,
                posters=artwork.service,
                images=artwork.images,
                plex_status=artwork.plex_status,
                on_metadata=artwork.on_metadata,
                on_item=artwork.on_item,
                sync_status=lambda: scheduler.status,
                stash_version=lambda: syncer.info.version if syncer.info else None,
                queue_changes=scheduler.queue_changes,
                run_sync=scheduler.run_now,
                run_checkup=lambda: doctor.examine(settings),
            )
            opened.callback(app.close)
            server = create_server(app, settings, host=host, port=port)
            opened.pop_all()  # built: the Service owns them now
        return cls(settings, db, client, app, server, artwork, syncer, scheduler)

    def watch_mirror(self, every: float = MIRROR_CHECK_SECONDS) -> None:
        """Check every few seconds (one stat) that the mirror file is still the one open; if it
        was deleted or replaced, stop serving so that `serve` reopens everything on it."""

        def watch() -> None:
            while not self._closing.wait(every):
                how = self.db.moved()
                if how is not None:
                    self.mirror_moved = how
                    log.warning(
                        "the mirror %s was %s while in use; reopening it%s",
                        self.db.path,
                        how,
                        " (a new, empty one: the next sync fills it)" if how == "deleted" else "",
                    )
                    self.stop()
                    return

        threading.Thread(target=watch, name="mirror-watch", daemon=True).start()

    def start_background(self) -> None:
        """The workers and the scheduled syncs (the first one now, in the background)."""
        self.app.images.cache.start()  # leftovers of a kill mid-write go before any new write
        self.artwork.start()  # poster workers + start-up backfill, Plex upload/refresh threads
        self.scheduler.start(first_sweep_in=first_sweep_delay(self.db, self.settings))

    def run(self) -> None:
        """Serve until `stop()` or a KeyboardInterrupt (which the signal handlers raise)."""
        self.server.run()

    def stop(self) -> None:
        """Make `run()` return; safe from any thread."""
        stop_server(self.server)

    def close(self) -> None:
        self._closing.set()
        # The sync first: it finishes its page while the rest is still there to finish it.
        if not self.scheduler.stop(grace=STOP_GRACE_SECONDS):
            log.warning("the sync did not stop in time; it resumes at the next start")
        self.client.stop()
        close_server(self.server)
        self.app.close()
        self.artwork.close()
        self.syncer.client.close()
        self.client.close()
        self.db.close()


def _stop(signum: int, frame: FrameType | None) -> None:
    # waitress's loop ends on KeyboardInterrupt; SIGTERM (docker stop) means the same here.
    raise KeyboardInterrupt


def serve(settings: Settings) -> int:
    logs.setup(settings.stash.debug, settings.secrets)
    if settings.dev:
        reloader.restart_on_changes(settings.source)  # returns in the child that serves
    # waitress warns "Task queue depth is N" whenever a request waits a moment for a thread:
    # under a library scan that is every few requests, and says nothing actionable.
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    try:
        service = Service.build(settings)
    except OSError as exc:
        log.error(
            "cannot listen on %s:%d: %s", settings.server.host, settings.server.port, exc.strerror
        )
        return EXIT_FAILED
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)
    log.info(
        "stashplex %s answering Plex on %s:%d with %d threads (mirror %s)",
        __version__,
        settings.server.host,
        settings.server.port,
        settings.server.num_workers,
        settings.mirror.database,
    )
    for line in register_lines(settings, register_urls(settings), lan.in_container()):
        log.info("%s", line)
    running: Service | None = service
    try:
        while running is not None:
            running.start_background()
            running.watch_mirror()
            running.run()
            if running.mirror_moved is None:
                break  # stopped: a signal or stop()
            # The mirror file was deleted or replaced: every connection to the old file is
            # closed (each on its own thread) before the file at the path is opened, created
            # and migrated if need be: two files sharing one -wal name would corrupt both.
            running.close()
            running = None  # closed: `finally` must not close it again if the build fails
            running = Service.build(settings)
            log.info("reopened the mirror %s; serving again", settings.mirror.database)
    except KeyboardInterrupt:
        pass
    except OSError as exc:  # the port was taken while reopening
        log.error("cannot serve again on port %d: %s", settings.server.port, exc)
        return EXIT_FAILED
    finally:
        if threading.current_thread() is threading.main_thread():
            # A second signal must not interrupt the clean-up half way.
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            signal.signal(signal.SIGINT, signal.SIG_IGN)
        if running is not None:
            log.info("stopping")
            running.close()
            log.info("stopped")
    return EXIT_OK
