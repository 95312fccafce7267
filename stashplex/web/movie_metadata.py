"""`GET /library/metadata/{ratingKey}` and its `/images` and `/extras`.

The metadata answer is the scene's stored document with its base-URL token replaced, inside a
container built as text: one primary-key read, one string replace, no JSON parsing unless PMS
asks for fields to be trimmed.
"""

from __future__ import annotations

import json
import sys

import falcon

from stashplex.mirror import documents
from stashplex.mirror.scene_reader import load_bundle
from stashplex.plex.identity import parse_scene_rating_key
from stashplex.plex.mapping import container, image_container, scene_images, trim_metadata
from stashplex.records import SceneBundle
from stashplex.web.context import Context
from stashplex.web.json_errors import not_found

# PMS's trimming parameters, by `trim_metadata`'s argument names.
_HINTS = {
    "include_elements": "includeElements",
    "exclude_elements": "excludeElements",
    "include_fields": "includeFields",
    "exclude_fields": "excludeFields",
}


def trim_hints(req: falcon.Request) -> dict[str, str | None] | None:
    """The request's include/exclude parameters as `trim_metadata` arguments; None if none."""
    if not req.query_string:
        return None
    hints = {argument: req.get_param(name) for argument, name in _HINTS.items()}
    return hints if any(hints.values()) else None


def _scene_id(rating_key: str) -> int:
    scene_id = parse_scene_rating_key(rating_key)
    if scene_id is None:
        raise not_found(f"{rating_key[:100]!r} is not a ratingKey of this provider")
    return scene_id


def container_head(identifier: str) -> str:
    """The text before the one Metadata object of a metadata answer (the tail is "]}}")."""
    head = json.dumps(
        {"offset": 0, "totalSize": 1, "identifier": identifier, "size": 1}, separators=(",", ":")
    )
    return '{"MediaContainer":' + head[:-1] + ',"Metadata":['


class MetadataResource:
    def __init__(self, context: Context) -> None:
        self.context = context
        self.head = container_head(context.identifier)

    def stored_doc(self, scene_id: int) -> str | None:
        ctx = self.context
        doc = ctx.lookups.doc(scene_id)
        if doc is not None or ctx.fallback is None:
            return doc
        # A mirrored scene without a document fails a gate: not offered, and not asked live.
        if ctx.lookups.scene(scene_id) is None and ctx.fallback.scene(scene_id):
            return ctx.lookups.doc(scene_id)
        return None

    def on_get(self, req: falcon.Request, resp: falcon.Response, rating_key: str) -> None:
        ctx = self.context
        scene_id = _scene_id(rating_key)
        hints = trim_hints(req)
        base = ctx.base(req)
        generation = ctx.lookups.generation()
        key = ("metadata", scene_id, base, tuple(hints.values()) if hints else None)
        cached = ctx.answers.get(key, generation)
        if cached is not None:
            body = cached[0]
        else:
            body = self.answer(scene_id, base, hints)
            size = sys.getsizeof(base) + sum(sys.getsizeof(h) for h in (hints or {}).values())
            ctx.answers.put(key, generation, body, None, key_bytes=size)
        resp.content_type = falcon.MEDIA_JSON
        resp.data = body
        if ctx.on_metadata is not None:
            ctx.on_metadata(scene_id)

    def answer(self, scene_id: int, base: str, hints: dict[str, str | None] | None) -> bytes:
        doc = self.stored_doc(scene_id)
        if doc is None:
            raise not_found(f"no scene {scene_id} in Stash")
        text = documents.absolute(doc, base)
        if hints:
            trimmed = trim_metadata(json.loads(text), **hints)
            text = json.dumps(trimmed, ensure_ascii=False, separators=(",", ":"))
        return (self.head + text + "]}}").encode("utf-8")


class ImagesResource:
    """Every image of a scene (both cover forms, background, snapshot, group covers)."""

    def __init__(self, context: Context) -> None:
        self.context = context
        self.options = documents.mapping_options(context.settings)
        self.metadata = MetadataResource(context)

    def bundle(self, scene_id: int) -> SceneBundle | None:
        with self.context.db.reader.connect() as connection:
            return load_bundle(connection, scene_id)

    def on_get(self, req: falcon.Request, resp: falcon.Response, rating_key: str) -> None:
        ctx = self.context
        scene_id = _scene_id(rating_key)
        if self.metadata.stored_doc(scene_id) is None:  # fetches it live when Stash has it
            raise not_found(f"no scene {scene_id} in Stash")
        bundle = self.bundle(scene_id)
        if bundle is None:
            raise not_found(f"no scene {scene_id} in Stash")
        images = scene_images(bundle, self.options)
        text = json.dumps(image_container(images, identifier=ctx.identifier), ensure_ascii=False)
        resp.content_type = falcon.MEDIA_JSON
        resp.data = ctx.absolute(text, req).encode("utf-8")


class ExtrasResource:
    """PMS asks for extras of every item; we have none, but the item must exist."""

    def __init__(self, context: Context) -> None:
        self.context = context

    def on_get(self, req: falcon.Request, resp: falcon.Response, rating_key: str) -> None:
        ctx = self.context
        scene_id = _scene_id(rating_key)
        hit = ctx.lookups.scene(scene_id)
        if hit is None or hit.hidden:
            raise not_found(f"no scene {scene_id} in Stash")
        resp.content_type = falcon.MEDIA_JSON
        resp.data = json.dumps(container([], identifier=ctx.identifier)).encode("utf-8")
