"""Image routes: `/stash/<kind>/<id>/<name>`, from the disk cache, else from Stash.

Ids must be ASCII digits (anything else is a 404): the Stash URL and the cache path are built
from the number alone. Only real raster images are passed on; Stash's SVG placeholders, its HTML
login page and anything else unrecognisable become a JSON 404, remembered for `cache_ttl`
seconds. Concurrent requests for one image share one fetch (and one poster rendering).
"""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import email.utils
import logging
from collections.abc import Callable
from typing import Any

import falcon

from stashplex.flight import Busy, ExpiringSet, SingleFlight
from stashplex.imagecache import CachedFile, ImageCache, stat, version_tag
from stashplex.plex.identity import MAX_ID
from stashplex.posters.render import sniff_image
from stashplex.posters.service import PosterService, PosterUnavailable
from stashplex.stash.client import StashClient
from stashplex.stash.errors import StashError, StashServerError, StashUnreachable
from stashplex.web.context import Context
from stashplex.web.errors import not_found

log = logging.getLogger(__name__)

CACHE_CONTROL = ("public", "max-age=86400")  # URLs carry the image version: safe to keep


def stash_image_path(kind: str, entity_id: int, legacy: bool = False) -> str:
    """Stash's own route for an image, from the kind and the numeric id only."""
    entity_id = int(entity_id)
    if kind == "scene":
        return f"/scene/{entity_id}/screenshot"
    if kind in ("performer", "studio"):
        return f"/{kind}/{entity_id}/image"
    if kind == "group":
        return f"/{'movie' if legacy else 'group'}/{entity_id}/frontimage"
    raise ValueError(f"unknown image kind {kind!r}")


def parse_id(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or len(text) > 19:
        raise not_found("image ids are numbers")
    value = int(text)
    if not 0 < value <= MAX_ID:
        raise not_found("image ids are positive numbers")
    return value


class StashUnavailable(Exception):
    """Stash could not be asked now (down, slow, failing): not the same as "no image"."""


class ImageSource:
    """Finds an image on disk or in Stash; posters come from the poster service."""

    def __init__(
        self,
        context: Context,
        cache: ImageCache,
        posters: PosterService,
        client: StashClient | None,
        *,
        workers: int = 3,
    ) -> None:
        self.context = context
        self.cache = cache
        self.posters = posters
        self.client = client
        self.timeout = context.settings.stash.timeout
        self.absent = ExpiringSet(context.settings.stash.cache_ttl)
        self.flights: SingleFlight[CachedFile | None] = SingleFlight(workers, 64, "images")

    def close(self) -> None:
        self.flights.close()

    def _wait(
        self, key: tuple[Any, ...], work: Callable[[], CachedFile | None]
    ) -> CachedFile | None:
        try:
            future = self.flights.submit(key, work)
        except Busy:
            raise StashUnavailable("too many images being fetched") from None
        try:
            return future.result(self.timeout)
        except concurrent.futures.TimeoutError:
            raise StashUnavailable("Stash did not send the image in time") from None

    def image(self, kind: str, entity_id: int) -> CachedFile | None:
        """The cached file of an entity's current image, fetching it if needed; None if none."""
        known, version = self.context.lookups.image_version(kind, entity_id)
        if known and version is None and kind != "scene":
            return None  # the mirror knows Stash only has its default picture
        cached = self.cache.get(kind, entity_id, version)
        if cached is not None:
            return cached
        key = (kind, entity_id, version_tag(version))
        if key in self.absent or self.client is None:
            return None
        return self._wait(key, lambda: self._fetch(key, kind, entity_id, version))

    def _fetch(
        self, key: tuple[Any, ...], kind: str, entity_id: int, version: str | None
    ) -> CachedFile | None:
        assert self.client is not None
        path = stash_image_path(kind, entity_id, self.client.legacy)
        try:
            answer = self.client.image(path, retries=0)
        except (StashUnreachable, StashServerError) as exc:
            log.warning("could not fetch %s %d's image: %s", kind, entity_id, exc)
            raise StashUnavailable(str(exc)) from None
        except StashError as exc:  # a login page, a wrong key, garbage
            log.warning("Stash gave no usable image for %s %d: %s", kind, entity_id, exc)
            self.absent.add(key)
            return None
        if answer.state != "ok" or not answer.data or sniff_image(answer.data) is None:
            self.absent.add(key)  # placeholder, missing, or not an image we pass on
            return None
        return self.cache.put(kind, entity_id, version, answer.data)

    def poster(self, scene_id: int) -> CachedFile | None:
        """The scene's 2:3 poster: from disk when current, else rendered now (and stored)."""
        done, path = self.posters.cached(scene_id)  # one mirror read and one stat
        if done:
            return stat(path) if path is not None else None
        return self._wait(("poster", scene_id), lambda: self._ensure(scene_id))

    def _ensure(self, scene_id: int) -> CachedFile | None:
        try:
            path = self.posters.ensure(scene_id)
        except PosterUnavailable as exc:
            raise StashUnavailable(str(exc)) from None
        return stat(path) if path is not None else None


def _etag_matches(header: str, etag: str) -> bool:
    if header.strip() == "*":
        return True
    tags = (t.strip() for t in header.split(","))
    return any(t.removeprefix("W/") == etag for t in tags)


def _http_date(text: str | None) -> dt.datetime | None:
    """An HTTP date, or None for anything malformed (a bad validator is no validator)."""
    if not text:
        return None
    try:
        value = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.timezone.utc)


def send_file(req: falcon.Request, resp: falcon.Response, found: CachedFile) -> None:
    resp.etag = found.etag
    resp.last_modified = found.last_modified
    resp.cache_control = list(CACHE_CONTROL)
    if_none_match = req.get_header("If-None-Match")
    if if_none_match is not None:
        fresh = _etag_matches(if_none_match, found.etag)
    else:
        since = _http_date(req.get_header("If-Modified-Since"))
        fresh = since is not None and found.last_modified <= since
    if fresh:
        resp.status = falcon.HTTP_304
        return
    data = found.read()
    resp.content_type = sniff_image(data) or "application/octet-stream"
    resp.data = data


class ImageResource:
    def __init__(self, source: ImageSource, kind: str) -> None:
        self.source = source
        self.kind = kind

    def on_get(self, req: falcon.Request, resp: falcon.Response, entity_id: str) -> None:
        number = parse_id(entity_id)
        try:
            found = (
                self.source.poster(number)
                if self.kind == "poster"
                else self.source.image(self.kind, number)
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
