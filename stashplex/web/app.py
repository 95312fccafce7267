"""`create_app`: the Falcon app Plex talks to, built from settings and an open mirror.

Nothing is created at import time: every piece the resources share is made here and handed to
them, so tests build as many independent apps as they like. The app owns a few threads (live
Stash lookups, image fetches) and one SQLite connection per request thread: `close()` them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import falcon

from stashplex.mirror.db import Database
from stashplex.mirror.lookups import MirrorLookups, ReadConnections
from stashplex.posters.service import PosterService
from stashplex.redaction import register
from stashplex.scheduler import SyncStatus
from stashplex.settings import Settings
from stashplex.stash.client import StashClient
from stashplex.web import json_errors
from stashplex.web.access import AllowedNetworks
from stashplex.web.baseurl import BaseUrl, listening_base_url
from stashplex.web.body import BodyLimit
from stashplex.web.checkup import Checkup, RunCheckup, StatusCheckupForm
from stashplex.web.context import Context
from stashplex.web.fallback import Fallback, LookupsBusy
from stashplex.web.health import HealthResource, StashLiveness
from stashplex.web.imagecache import ImageCache
from stashplex.web.images import (
    ROUTES,
    ImageResource,
    ImageSource,
    StashIdConverter,
    bad_id,
    route_template,
)
from stashplex.web.movie_matches import MatchesResource
from stashplex.web.movie_metadata import ExtrasResource, ImagesResource, MetadataResource
from stashplex.web.provider import ProviderResource
from stashplex.web.status import StatusResource
from stashplex.web.status_page import PlexArtwork
from stashplex.web.sync_controls import FormToken, RunSync, StatusSyncForm, SyncApiResource
from stashplex.web.tv import add_tv_routes
from stashplex.web.webhook import QueueChanges, SyncEventsResource

log = logging.getLogger(__name__)


class ProviderApp(falcon.App[falcon.Request, falcon.Response]):
    """A falcon.App that also holds what it must release on shutdown."""

    context: Context
    fallback: Fallback | None
    images: ImageSource
    owns_images: bool
    connections: ReadConnections

    def add_route(self, uri_template: str, resource: object, **kwargs: Any) -> None:
        """Every route answers HEAD wherever it answers GET: Falcon sends the same status and
        headers (Content-Length included) without the body."""
        suffix = kwargs.get("suffix")
        get, head = (
            ("on_get", "on_head") if not suffix else (f"on_get_{suffix}", f"on_head_{suffix}")
        )
        if hasattr(resource, get) and not hasattr(resource, head):
            setattr(resource, head, getattr(resource, get))
        super().add_route(uri_template, resource, **kwargs)

    def close(self) -> None:
        if self.fallback is not None:
            self.fallback.close()
        if self.owns_images:
            self.images.close()
        self.connections.close()


def _busy(req: falcon.Request, resp: falcon.Response, ex: LookupsBusy, params: object) -> None:
    raise falcon.HTTPServiceUnavailable(
        title="Service Unavailable",
        description=f"Stash is being asked about other files; try again shortly ({ex})",
        retry_after=ex.retry_after,
    )


def image_cache_dir(settings: Settings) -> Path:
    """Stash's images are cached next to the mirror file."""
    return settings.mirror.database.parent / "images"


def image_source(
    settings: Settings,
    connections: ReadConnections,
    posters: PosterService,
    stash: StashClient | None,
) -> ImageSource:
    """The image routes' source over the disk cache (`[images] cache_mb`); the artwork side
    makes one to share with the app, so uploads and prefetching use the same cache."""
    cache = ImageCache(image_cache_dir(settings), settings.images.cache_bytes)
    return ImageSource(settings, MirrorLookups(connections), cache, posters, stash)


def create_app(
    settings: Settings,
    *,
    db: Database,
    stash: StashClient | None = None,
    live_fallback: bool = True,
    listen_url: str | None = None,
    fallback: Fallback | None = None,
    posters: PosterService | None = None,
    images: ImageSource | None = None,
    on_metadata: Callable[[int], None] | None = None,
    on_item: Callable[[str], None] | None = None,
    sync_status: Callable[[], SyncStatus] | None = None,
    stash_version: Callable[[], str | None] | None = None,
    plex_status: Callable[[], PlexArtwork | None] | None = None,
    queue_changes: QueueChanges | None = None,
    run_sync: RunSync | None = None,
    run_checkup: RunCheckup | None = None,
) -> ProviderApp:
    """The provider app over `db`.

    `stash` is the client for misses, images and `/health` (None: the mirror alone). Make it
    with `retries=0`: a Plex request never waits for retries. `listen_url` is the base URL used
    when a request's Host header is unusable (default: from the settings' host and port).
    `posters` renders and stores posters (default: one over `stash`); `images` serves the image
    routes (default: one of the app's own, closed with it); `on_metadata` hears of every movie
    metadata answer and `on_item` the guid of every TV one (the artwork uploader);
    `sync_status` and `stash_version` feed the status page; `queue_changes` takes the
    webhook's events and `run_sync(kind)` starts a pass (both: the scheduler's; None: this app
    runs no syncs); `run_checkup()` builds the doctor's report for the status page's checkup
    button (None: no checkup here).
    """
    register(settings.secrets)  # error bodies, /status and /health are redacted
    middleware: list[AllowedNetworks | BodyLimit] = []
    if settings.server.allowed_networks:  # () is `any`: the check is off
        middleware.append(AllowedNetworks(settings.server.allowed_networks))
    middleware.append(BodyLimit())  # after the address check: strangers learn nothing
    app = ProviderApp(middleware=middleware)
    app.req_options.strip_url_path_trailing_slash = True
    app.router_options.converters["stash_id"] = StashIdConverter
    app.set_error_serializer(json_errors.serialize)
    app.add_error_handler(Exception, json_errors.unexpected)
    app.add_error_handler(LookupsBusy, _busy)
    app.add_error_handler(falcon.HTTPRouteNotFound, bad_id)

    connections = ReadConnections(db.path)
    if fallback is None and stash is not None and live_fallback:
        fallback = Fallback(stash, db, settings)
    base_url = BaseUrl(
        settings.server.agent_base_url,
        listen_url or listening_base_url(settings.server.host, settings.server.port),
    )
    context = Context(settings, db, MirrorLookups(connections), base_url, fallback)
    context.on_metadata = on_metadata
    context.on_item = on_item
    if posters is None:
        posters = PosterService.from_settings(settings, db, stash)
    app.owns_images = images is None
    if images is None:
        images = image_source(settings, connections, posters, stash)
    app.context, app.fallback, app.images, app.connections = context, fallback, images, connections

    app.add_route("/", ProviderResource(context.identifier))
    app.add_route("/library/metadata/matches", MatchesResource(context))
    app.add_route("/library/metadata/{rating_key}", MetadataResource(context))
    app.add_route("/library/metadata/{rating_key}/images", ImagesResource(context))
    app.add_route("/library/metadata/{rating_key}/extras", ExtrasResource(context))
    for (segment, name), kind in ROUTES.items():
        app.add_route(route_template(segment, name), ImageResource(images, kind))
    add_tv_routes(app, context, connections)
    liveness = StashLiveness(stash) if stash is not None else None
    health = HealthResource(connections, liveness, sync_status=sync_status)
    app.add_route("/health", health)
    form_token = FormToken()
    checkup = Checkup(run_checkup) if run_checkup is not None else None
    app.add_route(
        "/status",
        StatusResource(
            context,
            health,
            liveness,
            sync_status=sync_status,
            stash_version=stash_version,
            form_token=form_token if run_sync is not None else None,
            plex_status=plex_status,
            checkup=checkup,
            checkup_token=form_token,
        ),
    )
    app.add_route("/status/sync", StatusSyncForm(run_sync, form_token))
    app.add_route("/status/checkup", StatusCheckupForm(checkup, form_token))
    app.add_route("/api/sync", SyncApiResource(run_sync))
    app.add_route("/sync/events", SyncEventsResource(settings.sync.webhook_token, queue_changes))
    return app
