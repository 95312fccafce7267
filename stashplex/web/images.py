"""Image routes: `/stash/<kind>/<id>/<name>`, from the disk cache, else from Stash.

Ids must be ASCII digits (anything else is a 404): the Stash URL and the cache path are built
from the number alone. Only real raster images are passed on; Stash's SVG placeholders, its HTML
login page and anything else unrecognisable are remembered as "no image" for `cache_ttl`
seconds: a JSON 404 for performers, studios and groups, and for a mirrored scene its title card
(`posters.titlecard`, 16:9 on the screenshot route, 2:3 on the poster route), so no thumb or
art URL of ours fails. Concurrent requests for one image share one fetch (and one poster
rendering). While Stash cannot send an image's current version (down, or too slow for the
wait), the previous version on disk is served with a short max-age; with none, the answer is a
503.
"""

from __future__ import annotations

import concurrent.futures
import json
import logging
import os
import re
import time
from collections.abc import Callable
from typing import Any, Literal

import falcon
from falcon.routing import BaseConverter

from stashplex.flight import Busy, ExpiringSet, SingleFlight
from stashplex.mirror.lookups import ImageKind, MirrorLookups
from stashplex.plex.identity import MAX_ID
from stashplex.posters.render import sniff_image
from stashplex.posters.service import PosterService, PosterStoreFailed, PosterUnavailable
from stashplex.posters.titlecard import POSTER_SIZE, WIDE_SIZE, Card, card_version, render_card
from stashplex.settings import Settings
from stashplex.stash.client import StashClient
from stashplex.stash.errors import (
    StashAuthError,
    StashError,
    StashNotReady,
    StashServerError,
    StashUnreachable,
)
from stashplex.stash.version import probe
from stashplex.trouble import Trouble
from stashplex.web.imagecache import (
    CacheKind,
    HeldImage,
    Image,
    ImageCache,
    StaleFile,
    stat,
    version_tag,
)
from stashplex.web.json_errors import not_found

log = logging.getLogger(__name__)

CACHE_CONTROL = ("public", "max-age=86400")  # URLs carry the image version: safe to keep
STALE_CACHE_CONTROL = ("public", "max-age=60")  # an older version: ask again soon
DOWN_SECONDS = 5.0


def stash_image_path(kind: ImageKind, entity_id: int, legacy: bool = False) -> str:
    """Stash's own route for an image, from the kind and the numeric id only."""
    entity_id = int(entity_id)
    if kind == "scene":
        return f"/scene/{entity_id}/screenshot"
    if kind in ("performer", "studio"):
        return f"/{kind}/{entity_id}/image"
    if kind == "group":
        return f"/{'movie' if legacy else 'group'}/{entity_id}/frontimage"
    raise ValueError(f"unknown image kind {kind!r}")


# What an image route serves: a Stash image, or the poster made from a scene's cover.
RouteKind = ImageKind | Literal["poster"]
# (first path segment, last) of each image route -> what it serves.
ROUTES: dict[tuple[str, str], RouteKind] = {
    ("scene", "screenshot"): "scene",
    ("scene", "poster"): "poster",
    ("performer", "image"): "performer",
    ("studio", "image"): "studio",
    ("group", "front"): "group",
}


class StashIdConverter(BaseConverter):
    """`{name:stash_id}`: a Stash id as we write it in URLs, ASCII digits from 1 to MAX_ID.
    (Falcon's `int` converter also takes "+1", "1_0" and other scripts' digits.)"""

    def convert(self, value: str) -> int | None:
        if not (value.isascii() and value.isdigit()) or len(value) > len(str(MAX_ID)):
            return None
        number = int(value)
        return number if 0 < number <= MAX_ID else None


# Ids are checked by the route: anything else under an image path matches no route.
ID_FIELD = "{entity_id:stash_id}"
_IMAGE_PATH = re.compile(
    "/stash/(?:" + "|".join(f"{segment}/[^/]*/{name}" for segment, name in ROUTES) + ")"
)
SNIFF_BYTES = 16  # enough for every signature `sniff_image` knows


def route_template(segment: str, name: str) -> str:
    return f"/stash/{segment}/{ID_FIELD}/{name}"


def bad_id(req: falcon.Request, resp: falcon.Response, ex: Exception, params: object) -> None:
    """No route matched: on an image path that means the id, so say so."""
    if _IMAGE_PATH.fullmatch(req.path):
        raise not_found(f"image ids are whole numbers from 1 to {MAX_ID}")
    raise ex


class StashUnavailable(Exception):
    """Stash could not be asked now (down, slow, failing): not the same as "no image"."""


class ImageSource:
    """Finds an image on disk or in Stash; posters come from the poster service."""

    def __init__(
        self,
        settings: Settings,
        lookups: MirrorLookups,
        cache: ImageCache,
        posters: PosterService,
        client: StashClient | None,
        *,
        workers: int = 3,
        down_for: float = DOWN_SECONDS,
    ) -> None:
        self.lookups = lookups
        self.cache = cache
        self.posters = posters
        self.client = client
        self.timeout = settings.stash.timeout
        self.absent = ExpiringSet(settings.stash.cache_ttl)
        self.flights: SingleFlight[Image | None] = SingleFlight(workers, 64, "images")
        # Stash failing is said once per outage, not once per image a scan asks for; for a
        # few seconds after a failure, images not cached are refused without asking again.
        self.trouble = Trouble(log, "Stash sends images again")
        self.cache_trouble = Trouble(log, "images are cached again")
        self.down_for = down_for
        self._down_until = 0.0

    def close(self) -> None:
        self.flights.close()

    def _wait(self, key: tuple[Any, ...], work: Callable[[], Image | None]) -> Image | None:
        try:
            future = self.flights.submit(key, work)
        except Busy:
            raise StashUnavailable("too many images being fetched") from None
        try:
            return future.result(self.timeout)
        except concurrent.futures.TimeoutError:
            raise StashUnavailable("Stash did not send the image in time") from None

    def image(self, kind: ImageKind, entity_id: int) -> Image | None:
        """The cached file of an entity's current image, fetching it if needed; None if none.

        A mirrored scene without a cover gets its 16:9 title card instead, also while Stash
        cannot be asked when the poster records say it has none."""
        try:
            found = self._image(kind, entity_id)
        except StashUnavailable:
            if kind == "scene" and self.posters.cached(entity_id) == (True, None):
                return self.card(entity_id, poster=False)
            raise
        if found is None and kind == "scene":
            return self.card(entity_id, poster=False)
        return found

    def _image(self, kind: ImageKind, entity_id: int) -> Image | None:
        known, version = self.lookups.image_version(kind, entity_id)
        if known and version is None and kind != "scene":
            return None  # the mirror knows Stash only has its default picture
        cached = self.cache.get(kind, entity_id, version)
        if cached is not None:
            return cached
        key = (kind, entity_id, version_tag(version))
        if key in self.absent or self.client is None:
            return None
        try:
            if time.monotonic() < self._down_until:
                raise StashUnavailable("Stash failed a moment ago")
            return self._wait(key, lambda: self._fetch(key, kind, entity_id, version))
        except StashUnavailable:
            # Stash down or too busy to send the new version: the previous one, if any, is a
            # better answer for Plex than none (it asks again soon, see STALE_CACHE_CONTROL).
            stale = self.cache.latest(kind, entity_id)
            if stale is None:
                raise
            return stale

    def read(self, path: str) -> bytes | None:
        """The current bytes behind one of our image paths (for uploads into Plex); None when
        there is no such image. Raises StashUnavailable when only an older version (or none)
        can be had now."""
        route = _route(path)
        if route is None:
            return None
        kind, entity_id = route
        found = self.poster(entity_id) if kind == "poster" else self.image(kind, entity_id)
        if isinstance(found, StaleFile):
            raise StashUnavailable("only an older version of the image is at hand")
        return found.read() if found is not None else None

    def _fetch(
        self, key: tuple[Any, ...], kind: ImageKind, entity_id: int, version: str | None
    ) -> Image | None:
        assert self.client is not None
        try:
            if kind == "group" and not self.client.probed:
                probe(self.client)  # /movie/ or /group/: a wrong guess would read as "no image"
            path = stash_image_path(kind, entity_id, self.client.legacy)
            answer = self.client.image(path, retries=0)
        except (StashUnreachable, StashServerError, StashAuthError, StashNotReady) as exc:
            # "Not now", never "no image": a wrong key fixed later must not leave 404s behind.
            self._down_until = time.monotonic() + self.down_for
            self.trouble.failed(
                type(exc),
                "cannot fetch images from Stash: %s; answering 503 for images not cached yet",
                exc,
            )
            raise StashUnavailable(str(exc)) from None
        except StashError as exc:  # an answer that is not an image (a login page, garbage)
            self.trouble.failed(
                type(exc), "Stash gave no usable image for %s %d: %s", kind, entity_id, exc
            )
            self.absent.add(key)
            return None
        self.trouble.recovered()
        if answer.state != "ok" or not answer.data or sniff_image(answer.data) is None:
            self.absent.add(key)  # placeholder, missing, or not an image we pass on
            return None
        try:
            stored = self.cache.put(kind, entity_id, version, answer.data)
        except OSError as exc:  # the cache folder is full or read-only: serve it from memory
            self.cache_trouble.failed(
                exc.errno,
                "cannot store images in %s: %s; serving them without caching",
                self.cache.root,
                exc.strerror or exc,
            )
            return HeldImage(answer.data)
        self.cache_trouble.recovered()
        return stored

    def poster(self, scene_id: int) -> Image | None:
        """The scene's 2:3 poster: from disk when current, else rendered now (and stored).

        While the poster folder refuses writes (full, read-only) this is the scene's screenshot
        instead: Plex gets a cover now, and the poster once it can be stored."""
        found = self._poster(scene_id)
        return found if found is not None else self.card(scene_id, poster=True)

    def _poster(self, scene_id: int) -> Image | None:
        done, path = self.posters.cached(scene_id)  # no Stash request: one mirror read
        if done:
            return stat(path) if path is not None else None
        if not self.posters.writable():
            return self._image("scene", scene_id)
        try:
            return self._wait(("poster", scene_id), lambda: self._ensure(scene_id))
        except PosterStoreFailed:  # said once by the poster service
            return self._image("scene", scene_id)
        except StashUnavailable:
            # Not rendered in time (Stash slow or down): the poster on disk, even of an older
            # cover, else whatever the screenshot route can give.
            older = stat(self.posters.path(scene_id))
            if older is not None:
                return StaleFile(older.path, older.size, older.mtime_ns)
            return self._image("scene", scene_id)

    def card(self, scene_id: int, *, poster: bool) -> Image | None:
        """The title card of a mirrored scene (2:3 or 16:9), rendered once per text and kept
        in the cache; None for a scene the mirror does not have."""
        doc = self.lookups.doc(scene_id)
        if not doc:
            return None
        card = card_of(doc)
        size = POSTER_SIZE if poster else WIDE_SIZE
        kind: CacheKind = "cardposter" if poster else "card"
        version = card_version(card, size)
        cached = self.cache.get(kind, scene_id, version)
        if cached is not None:
            return cached
        data = render_card(card, size)
        try:
            return self.cache.put(kind, scene_id, version, data)
        except OSError:  # said by the image fetches' own trouble when it lasts
            return HeldImage(data)

    def _ensure(self, scene_id: int) -> Image | None:
        try:
            path, current = self.posters.ensure_or_older(scene_id)
        except PosterUnavailable as exc:
            raise StashUnavailable(str(exc)) from None
        found = stat(path) if path is not None else None
        if found is None or current:
            return found
        return StaleFile(found.path, found.size, found.mtime_ns)


def card_of(doc: str) -> Card:
    """A title card's text from a scene's stored Plex document: title, studio and, when the
    scene has a release date (a `year`), that date."""
    try:
        metadata = json.loads(doc)
    except ValueError:
        metadata = {}
    if not isinstance(metadata, dict):
        metadata = {}

    def text(name: str) -> str | None:
        value = metadata.get(name)
        return value if isinstance(value, str) and value.strip() else None

    date = text("originallyAvailableAt") if "year" in metadata else None
    return Card(text("title") or "Untitled", text("studio"), date)


def _route(path: str) -> tuple[RouteKind, int] | None:
    """(image kind or "poster", id) of one of our image paths (`/stash/scene/5/poster?v=…`)."""
    parts = path.partition("?")[0].split("/")
    if len(parts) != 5 or parts[:2] != ["", "stash"] or not parts[3].isdigit():
        return None
    kind = ROUTES.get((parts[2], parts[4]))
    return (kind, int(parts[3])) if kind is not None else None


def send_file(req: falcon.Request, resp: falcon.Response, found: Image) -> None:
    resp.etag = found.etag
    resp.last_modified = found.last_modified
    resp.cache_control = list(
        STALE_CACHE_CONTROL if isinstance(found, StaleFile) else CACHE_CONTROL
    )
    if _not_modified(req, found):
        resp.status = falcon.HTTP_304
        return
    if isinstance(found, HeldImage):
        resp.content_type = sniff_image(found.data) or "application/octet-stream"
        resp.data = found.data
        return
    stream = found.path.open("rb")
    # The length of the file opened: a same-named file written since the lookup is whole too.
    size = os.fstat(stream.fileno()).st_size
    resp.content_type = sniff_image(stream.read(SNIFF_BYTES)) or "application/octet-stream"
    if req.method == "HEAD":  # Falcon sends no body for HEAD: nothing would close the file
        stream.close()
        resp.content_length = size
        return
    stream.seek(0)
    resp.set_stream(stream, size)  # closed by the WSGI server once sent


def _not_modified(req: falcon.Request, found: Image) -> bool:
    """RFC 9110 conditional GET: If-None-Match (weak comparison) wins over If-Modified-Since,
    and a malformed date is no validator."""
    tags = req.if_none_match
    if tags is not None:
        etag = found.etag.strip('"')
        return any(tag == "*" or tag == etag for tag in tags)
    try:
        since = req.if_modified_since
    except falcon.HTTPInvalidHeader:
        return False
    return since is not None and found.last_modified <= since


class ImageResource:
    def __init__(self, source: ImageSource, kind: RouteKind) -> None:
        self.source = source
        self.kind = kind

    def on_get(self, req: falcon.Request, resp: falcon.Response, entity_id: int) -> None:
        try:
            found = (
                self.source.poster(entity_id)
                if self.kind == "poster"
                else self.source.image(self.kind, entity_id)
            )
        except StashUnavailable as exc:
            raise falcon.HTTPServiceUnavailable(
                title="Service Unavailable",
                description=f"the image is not cached and Stash cannot be asked now: {exc}",
                retry_after=30,
            ) from None
        if found is None:
            raise not_found("Stash has no image for this")
        send_file(req, resp, found)
