"""`GET /tv/library/metadata/{ratingKey}` and its `/children`, `/grandchildren`, `/images` and
`/extras`: the TV provider's items, read from the layout's index per request."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import falcon

from stashplex.mirror import documents
from stashplex.plex.mapping import container, image_container, trim_metadata
from stashplex.plex.tv_mapping import with_children
from stashplex.web.movie_metadata import trim_hints
from stashplex.web.tv import paging
from stashplex.web.tv.items import TvItems

V = TypeVar("V")


def _flag(req: falcon.Request, name: str) -> bool:
    value = req.get_param(name) if req.query_string else None
    return (value or "").strip() in ("1", "true")


def encode(body: dict[str, Any], base: str) -> bytes:
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    return documents.absolute(text, base).encode("utf-8")


def send(req: falcon.Request, resp: falcon.Response, items: TvItems, body: dict[str, Any]) -> None:
    resp.content_type = falcon.MEDIA_JSON
    resp.data = encode(body, items.context.base(req))


def kept(
    req: falcon.Request,
    items: TvItems,
    key: tuple[Any, ...],
    build: Callable[[str], tuple[bytes, V]],
) -> tuple[bytes, V]:
    """The answer to `key` for this request's base URL: kept from an earlier request while
    the mirror's generation stands (see `web.answers`), else `build(base)`."""
    ctx = items.context
    base = ctx.base(req)
    generation = ctx.lookups.generation()
    full_key = (*key, base)
    found = ctx.answers.get(full_key, generation)
    if found is None:
        found = build(base)
        text = sum(sys.getsizeof(part) for part in full_key if isinstance(part, str))
        ctx.answers.put(full_key, generation, *found, key_bytes=text)
    return found


class TvMetadataResource:
    def __init__(self, items: TvItems) -> None:
        self.items = items

    def on_get(self, req: falcon.Request, resp: falcon.Response, rating_key: str) -> None:
        items = self.items
        children = _flag(req, "includeChildren")
        hints = trim_hints(req)

        def build(base: str) -> tuple[bytes, str]:
            item = items.get(rating_key)
            metadata = items.metadata(item)
            if children:
                found = items.all_children(item)
                if found is not None:
                    with_children(metadata, found)
            if hints:
                metadata = trim_metadata(metadata, **hints)
            body = container([metadata], identifier=items.context.identifier)
            return encode(body, base), metadata["guid"]

        hint_key = tuple(hints.values()) if hints else None
        data, guid = kept(req, items, ("tv", rating_key, children, hint_key), build)
        resp.content_type = falcon.MEDIA_JSON
        resp.data = data
        hook = items.context.on_item
        if hook is not None:  # after answering: it only queues (the artwork upload)
            hook(guid)


class TvChildrenResource:
    """`/children` (a show's seasons, a season's episodes) or `/grandchildren` (a show's
    episodes), one page of them."""

    def __init__(self, items: TvItems, *, grand: bool = False) -> None:
        self.items = items
        self.grand = grand

    def on_get(self, req: falcon.Request, resp: falcon.Response, rating_key: str) -> None:
        items = self.items
        window = paging.window(req)  # 400 before any read for a malformed window

        def build(base: str) -> tuple[bytes, int]:
            item = items.get(rating_key)
            pick = items.grandchildren if self.grand else items.children
            total, page = pick(item, window.start, window.size)
            body = container(
                page, identifier=items.context.identifier, offset=window.start, total_size=total
            )
            return encode(body, base), total

        key = ("tv-children", rating_key, self.grand, window.start, window.size)
        data, total = kept(req, items, key, build)
        paging.total_header(resp, total)
        resp.content_type = falcon.MEDIA_JSON
        resp.data = data


class TvImagesResource:
    def __init__(self, items: TvItems) -> None:
        self.items = items

    def on_get(self, req: falcon.Request, resp: falcon.Response, rating_key: str) -> None:
        items = self.items

        def build(base: str) -> tuple[bytes, None]:
            images = items.images(items.get(rating_key))
            body = image_container(images, identifier=items.context.identifier)
            return encode(body, base), None

        resp.content_type = falcon.MEDIA_JSON
        resp.data = kept(req, items, ("tv-images", rating_key), build)[0]


class TvExtrasResource:
    """PMS asks every item for extras; there are none, but the item must exist."""

    def __init__(self, items: TvItems) -> None:
        self.items = items

    def on_get(self, req: falcon.Request, resp: falcon.Response, rating_key: str) -> None:
        items = self.items
        items.get(rating_key)
        send(req, resp, items, container([], identifier=items.context.identifier))
