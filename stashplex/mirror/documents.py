"""Plex Metadata documents rendered at sync time and stored with each scene.

Image URLs in a stored document start with BASE_TOKEN instead of the agent's base URL, which is
only known per request (from `agent_base_url` or the request's Host). The token is a NUL
character, which Stash text loses at the border (`stash.parse`). In the stored JSON a URL thus
begins with a quote followed by the escape of NUL; text can never produce that sequence (its
quotes and backslashes are escaped), so `absolute()` is one plain string replace.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
from typing import Any

import msgspec

from stashplex.plex.mapping import MappingOptions, hidden_by, scene_metadata
from stashplex.records import SceneBundle
from stashplex.settings import Settings

BASE_TOKEN = "\x00"
_encode = msgspec.json.Encoder().encode
_TOKEN_JSON = json.dumps(BASE_TOKEN)[:-1]  # a quote and the 6 characters \u0000
# Bump when the mapping changes what it produces: stored documents are then rendered again.
MAPPING_REVISION = 1


def mapping_options(settings: Settings) -> MappingOptions:
    return MappingOptions(
        base_url=BASE_TOKEN,
        content_rating=settings.metadata.content_rating,
        poster_mode=settings.server.poster_mode,
        ignore_tags=frozenset(t.casefold() for t in settings.metadata.ignore_tags),
        studio_as_collection=settings.metadata.studio_as_collection,
        title_format=settings.metadata.title_format,
        rating=settings.metadata.rating,
        cast_role=settings.metadata.cast_role,
        cast_order=settings.metadata.cast_order,
        require_organized=settings.metadata.require_organized,
        require_stash_id=settings.metadata.require_stash_id,
        require_url=settings.metadata.require_url,
        collections=settings.metadata.collections,
        allow_tags=frozenset(settings.metadata.allow_tags),
        deny_tags=frozenset(settings.metadata.deny_tags),
        parent_tags=settings.metadata.parent_tags,
    )


def fingerprint(options: MappingOptions) -> str:
    """Changes whenever stored documents would render differently: every option but the base
    URL (stored documents hold a token for it), so a new option is covered without a change."""
    values = {
        f.name: _stable(getattr(options, f.name))
        for f in dataclasses.fields(options)
        if f.name != "base_url"
    }
    text = json.dumps([MAPPING_REVISION, values], sort_keys=True, default=str)
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


def _stable(value: Any) -> Any:
    """The same JSON in every process: sets are sorted (their order follows string hashing)."""
    if isinstance(value, (set, frozenset)):
        return sorted(_stable(v) for v in value)
    if isinstance(value, (tuple, list)):
        return [_stable(v) for v in value]
    return value


def render(bundle: SceneBundle, options: MappingOptions) -> tuple[str | None, bytes | None]:
    """The stored JSON of one scene's Metadata and its hash (which tells Plex-visible change).

    A scene that fails a gate (`[metadata] require_*`) is stored without a document: the
    responder then offers nothing of it, and the TV layout leaves it out.
    """
    if hidden_by(bundle.scene, options):
        return None, None
    # msgspec writes the same bytes as json.dumps(..., ensure_ascii=False, separators=(",", ":"))
    # for what a document holds (text, ints, booleans, one-decimal ratings), several times faster.
    encoded = _encode(scene_metadata(bundle, options))
    return encoded.decode("utf-8"), hashlib.blake2b(encoded, digest_size=16).digest()


def absolute(doc: str, base_url: str) -> str:
    """A stored document with its image URLs made absolute for `base_url`."""
    return doc.replace(_TOKEN_JSON, _base_json(base_url))


@functools.lru_cache(maxsize=256)  # one base per way Plex reaches us: per request otherwise
def _base_json(base_url: str) -> str:
    return json.dumps(base_url.rstrip("/"), ensure_ascii=False)[:-1]
