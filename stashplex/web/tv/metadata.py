"""`GET /tv/library/metadata/{ratingKey}` and its `/children`, `/grandchildren`, `/images` and
`/extras`: the TV provider's items, read from the layout's index per request."""

from __future__ import annotations

import json
from typing import Any

import falcon

from stashplex.plex.mapping import container, image_container, trim_metadata
from stashplex.plex.tv_mapping import with_children
from stashplex.web.movie_metadata import trim_hints
from stashplex.web.tv import paging
from stashplex.web.tv.items import TvItems


def _flag(req: falcon.Request, name: str) -> bool:
    value = req.get_param(name) if req.query_string else None
    return (value or "").strip() in ("1", "true")


def send(req: falcon.Request, resp: falcon.Response, items: TvItems, body: dict[str, Any]) -> None:
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    resp.content_type = falcon.MEDIA_JSON
    resp.data = items.context.absolute(text, req).encode("utf-8")


class TvMetadataResource:
    def __init__(self, items: TvItems) -> None:
        self.items = items

    def on_get(self, req: falcon.Request, resp: falcon.Response, rating_key: str) -> None:
        items = self.items
        item = items.get(rating_key)
        metadata = items.metadata(item)
        if _flag(req, "includeChildren"):
            children = items.all_children(item)
            if children is not None:
                with_children(metadata, children)
        hints = trim_hints(req)
        if hints:
            metadata = trim_metadata(metadata, **hints)
        send(req, resp, items, container([metadata], identifier=items.context.identifier))
        hook = items.context.on_item
        if hook is not None:  # after answering: it only queues (the artwork upload)
            hook(metadata["guid"])


class TvChildrenResource:
    """`/children` (a show's seasons, a season's episodes) or `/grandchildren` (a show's
    episodes), one page of them."""

    def __init__(self, items: TvItems, *, grand: bool = False) -> None:
        self.items = items
        self.grand = grand

    def on_get(self, req: falcon.Request, resp: falcon.Response, rating_key: str) -> None:
        items = self.items
        window = paging.window(req)  # 400 before any read for a malformed window
        item = items.get(rating_key)
        pick = items.grandchildren if self.grand else items.children
        total, page = pick(item, window.start, window.size)
        body = container(
            page, identifier=items.context.identifier, offset=window.start, total_size=total
        )
        paging.total_header(resp, total)
        send(req, resp, items, body)


class TvImagesResource:
    def __init__(self, items: TvItems) -> None:
        self.items = items

    def on_get(self, req: falcon.Request, resp: falcon.Response, rating_key: str) -> None:
        items = self.items
        images = items.images(items.get(rating_key))
        send(req, resp, items, image_container(images, identifier=items.context.identifier))


class TvExtrasResource:
    """PMS asks every item for extras; there are none, but the item must exist."""

    def __init__(self, items: TvItems) -> None:
        self.items = items

    def on_get(self, req: falcon.Request, resp: falcon.Response, rating_key: str) -> None:
        items = self.items
        items.get(rating_key)
        send(req, resp, items, container([], identifier=items.context.identifier))
