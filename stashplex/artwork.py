"""Posters and the Plex side, assembled from the settings for `serve` and `stashplex-sync`.

What runs when:
- `service` (`PosterService`): always. The web route's on-demand `ensure(scene_id)` works
  whatever `poster_mode` says.
- `pipeline` (pre-rendering, backfill): only with `[plexagentserver] poster_mode = true`.
- `images` (`ImageSource`): always; the image routes, the uploads and the prefetch share it
  and its disk cache.
- `uploader`: with `[plex] url` and `token` set. It uploads the artwork of the items PMS asks
  for (posters, backgrounds, TV artwork) and learns their Plex keys.
- `reconciler`: with `[plex] url` and `token` and `reconcile_hours` above 0, in the service only:
  the scheduled walk over PMS's libraries that uploads what is missing.
- `refresher`: only with `[plex] url`, `token` and `refresh_on_change = true`.
- `prefetcher`: with `[images] prefetch = true`: after each sync pass, downloads into the image
  cache what it lacks, so images outlive Stash.

Everything here is fed through three callables that never block: `after_page` (the syncer's
hooks), `after_pass(report)` (after each sync pass) and `on_metadata(scene_id)` (from the
metadata route).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from stashplex.mirror.db import Database
from stashplex.mirror.lookups import ReadConnections
from stashplex.mirror.plex_links import PlexLinks
from stashplex.mirror.plex_uploads import PlexUploads
from stashplex.mirror.sync import SyncReport
from stashplex.mirror.writer import PageResult
from stashplex.pms.api import PmsClient
from stashplex.pms.pictures import Pictures
from stashplex.pms.reconciler import Reconciler
from stashplex.pms.refresher import FAILURE_PAUSE, PlexRefresher
from stashplex.pms.sender import ArtworkSender, PictureUnavailable
from stashplex.pms.uploader import RETRY_DELAYS, ArtworkUploader
from stashplex.posters.pipeline import PAUSE_SECONDS, PosterPipeline
from stashplex.posters.service import PosterService
from stashplex.prefetch import ImagePrefetcher
from stashplex.settings import Settings
from stashplex.stash.client import StashClient
from stashplex.web.app import image_source
from stashplex.web.images import ImageSource, StashUnavailable
from stashplex.web.status_page import PlexArtwork

log = logging.getLogger(__name__)

POSTER_DOWNLOADS = 2


def poster_client(settings: Settings) -> StashClient:
    """A Stash client of the posters' own: two requests at a time, a couple of retries."""
    return StashClient.from_settings(settings, retries=2, max_in_flight=POSTER_DOWNLOADS)


def pms_client(settings: Settings) -> PmsClient:
    plex = settings.plex
    assert plex.url and plex.token
    return PmsClient(
        plex.url, plex.token, timeout=settings.stash.timeout, verify_tls=plex.verify_tls
    )


@dataclass
class Artwork:
    settings: Settings
    service: PosterService
    images: ImageSource
    connections: ReadConnections
    pipeline: PosterPipeline | None = None
    pms: PmsClient | None = None
    sender: ArtworkSender | None = None
    uploader: ArtworkUploader | None = None
    reconciler: Reconciler | None = None
    refresher: PlexRefresher | None = None
    prefetcher: ImagePrefetcher | None = None
    owned_client: StashClient | None = None
    after_page: list[Callable[[PageResult], None]] = field(default_factory=list)

    @classmethod
    def build(
        cls,
        settings: Settings,
        db: Database,
        client: StashClient | None = None,
        *,
        image_client: StashClient | None = None,
        posters: bool = True,
        plex: bool = True,
        prefetch: bool = True,
        one_shot: bool = False,
    ) -> Artwork:
        """`client`: a Stash client to share (else one of our own is made and closed by
        `close`); `image_client`: the one the image routes fetch with (the responder's; default
        `client`); `posters=False` disables pre-rendering, `plex=False` the Plex side,
        `prefetch=False` the image prefetch; `one_shot` (commands that must end) drops work
        that fails instead of retrying later."""
        owned = None
        if client is None:
            client = owned = poster_client(settings)
        service = PosterService.from_settings(settings, db, client)
        connections = ReadConnections(db.path)
        images = image_source(settings, connections, service, image_client or client)
        artwork = cls(settings, service, images, connections, owned_client=owned)
        if prefetch and settings.images.prefetch:
            artwork.prefetcher = ImagePrefetcher(db, images.cache, client)
        if posters and settings.server.poster_mode:
            artwork.pipeline = PosterPipeline(
                service, pause_seconds=0 if one_shot else PAUSE_SECONDS
            )
            artwork.after_page.append(artwork.pipeline.on_page)
        plex_settings = settings.plex
        if plex and plex_settings.enabled:
            artwork.pms = pms_client(settings)
            links = PlexLinks(db)
            artwork.sender = ArtworkSender(
                artwork.pms,
                PlexUploads(db),
                Pictures(settings, connections),
                artwork.read_image,
                per_second=plex_settings.uploads_per_second,
            )
            artwork.uploader = ArtworkUploader(
                artwork.sender,
                links,
                retry_delays=() if one_shot else RETRY_DELAYS,
            )
            service.on_rendered.append(artwork.uploader.poster_changed)
            if plex_settings.reconcile_hours and not one_shot:
                artwork.reconciler = Reconciler(
                    artwork.sender, links, every_hours=plex_settings.reconcile_hours
                )
            if plex_settings.refresh_on_change:
                artwork.refresher = PlexRefresher(
                    artwork.pms, links, failure_pause=1.0 if one_shot else FAILURE_PAUSE
                )
        return artwork

    def read_image(self, path: str) -> bytes | None:
        """The bytes behind one of our image paths, for an upload."""
        try:
            return self.images.read(path)
        except StashUnavailable as exc:
            raise PictureUnavailable(str(exc)) from None

    def plex_status(self) -> PlexArtwork | None:
        """What `/status` shows of the Plex side; None without `[plex] url` and `token`."""
        if self.sender is None or self.pms is None:
            return None
        uploaded = self.sender.uploads.count()
        if self.reconciler is None:
            return PlexArtwork(self.pms.url, uploaded, "off")
        walk = self.reconciler.status()
        return PlexArtwork(
            self.pms.url,
            uploaded,
            walk.state,
            section=walk.section,
            done=walk.done,
            total=walk.total,
            ours=walk.ours,
            walk_uploaded=walk.uploaded,
            skipped=walk.skipped,
            last_finished=walk.last_finished,
            next_at=walk.next_at,
            last_error=walk.last_error,
        )

    # --- the three feeds -------------------------------------------------------------------

    def after_pass(self, report: SyncReport) -> None:
        if self.pipeline is not None:
            self.pipeline.after_pass(report)
        if self.prefetcher is not None:
            self.prefetcher.after_pass(report)
        if self.uploader is not None:
            self.uploader.after_pass(report)
        if self.refresher is not None:
            self.refresher.after_pass(report)

    def on_metadata(self, scene_id: int) -> None:
        """PMS asked for a scene's metadata (call after answering; it only queues)."""
        if self.uploader is not None:
            self.uploader.on_metadata(scene_id)

    def on_item(self, guid: str) -> None:
        """PMS asked for a TV item's metadata (call after answering; it only queues)."""
        if self.uploader is not None:
            self.uploader.on_item(guid)

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self, *, backfill: bool = True) -> Artwork:
        """Start the workers; `backfill` also walks the mirror for missing posters (at start-up
        of the service: the first run on a big library, or after a crash or a style change)."""
        if self.pipeline is not None:
            self.pipeline.start()
            if backfill:
                # Left by writes that a crash interrupted; never served, only taking space.
                self.service.store.clean_temp(at_start=True)
                self.pipeline.request_backfill()
        if self.uploader is not None:
            self.uploader.start()
        if self.reconciler is not None:
            self.reconciler.start()
        if self.prefetcher is not None:
            self.prefetcher.start()
        if self.refresher is not None:
            self.refresher.start()
        return self

    def finish(self, report: SyncReport, timeout: float | None = None) -> list[str]:
        """For one-shot commands: hand over the pass, wait for the work, return summary lines."""
        self.after_pass(report)
        lines = []
        if self.pipeline is not None:
            self.pipeline.drain(timeout)
            lines.append(self.pipeline.summary())
        if self.uploader is not None:
            self.uploader.drain(timeout)
            if self.uploader.uploads:
                lines.append(f"plex: {self.uploader.uploads} images uploaded")
        if self.refresher is not None:
            self.refresher.drain(timeout)
            lines.append(f"plex: {self.refresher.sent} items refreshed")
        if self.prefetcher is not None:
            self.prefetcher.drain(timeout)
            if self.prefetcher.last is not None:
                lines.append(self.prefetcher.last.summary())
        return lines

    def close(self) -> None:
        for part in (
            self.prefetcher,
            self.reconciler,
            self.refresher,
            self.uploader,
            self.pipeline,
        ):
            if part is not None:
                part.close()
        if self.pms is not None:
            self.pms.close()
        self.images.close()
        self.connections.close()
        if self.owned_client is not None:
            self.owned_client.close()
