"""`stashplex serve`: the provider app under waitress until SIGINT or SIGTERM.

`Service` holds what the process owns (mirror, Stash client, app, HTTP server) so a scheduler
can be added next to the server without touching how either starts or stops.
"""

from __future__ import annotations

import logging
import signal
import threading
from dataclasses import dataclass
from types import FrameType
from typing import Any

import waitress
from waitress.server import BaseWSGIServer, MultiSocketServer

from stashplex import __version__, logs
from stashplex.mirror.db import Database
from stashplex.settings import Settings
from stashplex.stash.client import StashClient
from stashplex.web.app import ProviderApp, create_app
from stashplex.web.baseurl import listening_base_url

log = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_FAILED = 1
# The app answers bodies over 1 MB with a JSON 413; waitress buffers a body before the app sees
# it, so it gets a hard cap of its own (its plain-text 413 only meets absurd uploads).
WAITRESS_MAX_BODY = 16 * 1024 * 1024
STASH_CALLS_IN_FLIGHT = 3

Server = BaseWSGIServer | MultiSocketServer


def responder_client(settings: Settings) -> StashClient:
    """The client for Plex-driven calls: the configured timeout, no retries, few in flight."""
    return StashClient(
        settings.stash.url,
        settings.stash.api_key,
        timeout=settings.stash.timeout,
        retries=0,
        max_in_flight=STASH_CALLS_IN_FLIGHT,
        debug=settings.stash.debug,
    )


def create_server(
    app: Any, settings: Settings, *, host: str | None = None, port: int | None = None
) -> Server:
    return waitress.create_server(
        app,
        host=settings.server.host if host is None else host,
        port=settings.server.port if port is None else port,
        threads=settings.server.num_workers,
        ident="stashplex",
        max_request_body_size=WAITRESS_MAX_BODY,
        clear_untrusted_proxy_headers=True,
        expose_tracebacks=False,
    )


def register_url(settings: Settings) -> str:
    return settings.server.agent_base_url or listening_base_url(
        settings.server.host, settings.server.port
    )


@dataclass
class Service:
    settings: Settings
    db: Database
    client: StashClient
    app: ProviderApp
    server: Server

    @classmethod
    def build(
        cls, settings: Settings, *, host: str | None = None, port: int | None = None
    ) -> Service:
        db = Database.open(settings.mirror.database)  # creates or migrates the mirror
        client = responder_client(settings)
        app = create_app(settings, db=db, stash=client)
        try:
            server = create_server(app, settings, host=host, port=port)
        except BaseException:
            app.close()
            client.close()
            db.close()
            raise
        return cls(settings, db, client, app, server)

    def run(self) -> None:
        """Serve until the server is stopped (KeyboardInterrupt, raised by the signal handlers)."""
        self.server.run()

    def close(self) -> None:
        self.client.stop()
        self.server.task_dispatcher.shutdown()
        self.server.close()
        for channel in list(getattr(self.server, "_map", {}).values()):
            channel.close()
        self.app.close()
        self.client.close()
        self.db.close()


def _stop(signum: int, frame: FrameType | None) -> None:
    # waitress's loop ends on KeyboardInterrupt; SIGTERM (docker stop) means the same here.
    raise KeyboardInterrupt


def serve(settings: Settings) -> int:
    logs.setup(settings.stash.debug, settings.secrets)
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
    log.info("add this URL in Plex under Settings > Metadata Agents: %s", register_url(settings))
    if not settings.server.agent_base_url and settings.server.host in ("0.0.0.0", "::"):
        log.info(
            "image URLs follow the Host Plex uses; set [plexagentserver] agent_base_url to fix them"
        )
    try:
        service.run()
    except KeyboardInterrupt:
        pass
    finally:
        log.info("stopping")
        service.close()
    return EXIT_OK
