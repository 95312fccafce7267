"""Pure mapping from Stash records to the JSON that Plex Media Server reads.

The syncer calls ``scene_metadata`` once per scene and stores the result, so the output is a
plain JSON-serialisable dict, deterministic down to key order. Keys whose value would be empty
are left out instead of being sent as null or "". Nothing of a file's path is included: PMS
reports the metadata it receives to plex.tv.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

from stashplex.plex.identity import (
    MOVIE_PROVIDER_ID,
    is_valid_provider_id,
    require_stash_id,
    scene_guid,
    scene_key,
    scene_rating_key,
)
from stashplex.records import Performer, Scene, SceneBundle, StashId, Studio, Tag
from stashplex.settings import CollectionSource
from stashplex.titleformat import DEFAULT_FORMAT, TitleFormat

IDENTITY_KEYS: frozenset[str] = frozenset({"ratingKey", "key", "guid", "type", "title"})

# PMS shows rating badges only from its own closed list of images; an unknown image is stored
# but never displayed, so we borrow TMDB's audience badge for Stash's rating.
RATING_IMAGE = "themoviedb://image.rating"

# Known stash-box endpoints get short, stable guid schemes; others a slug of their host.
_STASH_BOX_SCHEMES: tuple[tuple[str, str], ...] = (
    ("stashdb.org", "stashdb"),
    ("theporndb.net", "tpdb"),
    ("fansdb.cc", "fansdb"),
)

_DATE_RE = re.compile(r"([0-9]{4})(?:-([0-9]{2})(?:-([0-9]{2}))?)?")
_FULL_DATE_RE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
# " and " is deliberately not a separator: it occurs inside studio-like director credits.
_DIRECTOR_SPLIT_RE = re.compile(r"[,;&]")
_SCHEME_CHARS_RE = re.compile(r"[^a-z0-9]")
# A query, fragment or whitespace in the base would swallow or break the paths appended to it.
_BAD_BASE_CHARS_RE = re.compile(r"[?#\s]")
# stash-box ids are UUIDs (or numbers); anything outside URL-unreserved characters would make a
# malformed guid, so such an id is left out rather than escaped into something unrecognisable.
_STASH_BOX_ID_RE = re.compile(r"[A-Za-z0-9._~-]+")


@dataclass(frozen=True)
class MappingOptions:
    """How scenes are presented to Plex.

    ``base_url`` prefixes every image path: normally our app's absolute URL, but the mirror
    stores documents with a placeholder token and substitutes the real base per request, so it
    is only checked for characters that would corrupt the URLs built from it.
    """

    base_url: str
    content_rating: str = "XXX"
    poster_mode: bool = False  # thumb = our 2:3 poster route instead of the 16:9 screenshot
    ignore_tags: frozenset[str] = field(default_factory=frozenset)
    studio_as_collection: bool = False
    provider_id: str = MOVIE_PROVIDER_ID
    title_format: TitleFormat = DEFAULT_FORMAT
    rating: str = "audience"  # audience, user or off: where Stash's rating100 goes
    cast_role: str = "disambiguation"  # disambiguation, none, or a fixed role text
    cast_order: str = "stash"  # stash, name, female_first, male_first
    # Gates: a scene failing one is not offered to Plex at all (see `hidden_by`).
    require_organized: bool = False
    require_stash_id: bool = False
    require_url: bool = False
    collections: tuple[CollectionSource, ...] = (CollectionSource("group"),)
    # Genres: tags named (folded) or numbered here; allow_tags empty = every tag.
    allow_tags: frozenset[str] = field(default_factory=frozenset)
    deny_tags: frozenset[str] = field(default_factory=frozenset)
    parent_tags: bool = False  # a scene also has the tags above its own (genres, tag collections)

    def __post_init__(self) -> None:
        # A trailing slash from a config file would give "//stash/..." URLs: normalise it.
        base_url = self.base_url.rstrip("/")
        if not base_url or _BAD_BASE_CHARS_RE.search(base_url):
            raise ValueError(f"base_url cannot prefix image URLs: {self.base_url!r}")
        if not is_valid_provider_id(self.provider_id):
            raise ValueError(f"invalid provider identifier: {self.provider_id!r}")
        object.__setattr__(self, "base_url", base_url)
        # Stored folded so every scene compares against it without re-normalising.
        for name in ("ignore_tags", "allow_tags", "deny_tags"):
            value = getattr(self, name)
            if isinstance(value, str):
                raise TypeError(f"{name} must be a collection of tag names, not one string")
            object.__setattr__(self, name, frozenset(_fold(t) for t in value if _fold(t)))
        if self.studio_as_collection and not any(c.source == "studio" for c in self.collections):
            object.__setattr__(self, "collections", (*self.collections, CollectionSource("studio")))


# --- gates ----------------------------------------------------------------------------------

GATES = ("organized", "stash_id", "url")  # each is a `require_<gate>` option


def hidden_by(scene: Scene, opts: MappingOptions) -> tuple[str, ...]:
    """The gates (of GATES) this scene fails: when any, Plex is offered nothing of it."""
    failed = []
    if opts.require_organized and not scene.organized:
        failed.append("organized")
    if opts.require_stash_id and not scene.stash_ids:
        failed.append("stash_id")
    if opts.require_url and not scene.urls:
        failed.append("url")
    return tuple(failed)


# --- image routes served by our app -----------------------------------------------------------


def _versioned(path: str, version: str | None) -> str:
    # The version changes with the image, so Plex sees a new URL and fetches it again.
    return f"{path}?v={quote(version, safe='')}" if version else path


def scene_screenshot_path(scene_id: int, version: str | None = None) -> str:
    return _versioned(f"/stash/scene/{require_stash_id(scene_id)}/screenshot", version)


def scene_poster_path(scene_id: int, version: str | None = None) -> str:
    return _versioned(f"/stash/scene/{require_stash_id(scene_id)}/poster", version)


def performer_image_path(performer_id: int, version: str | None = None) -> str:
    return _versioned(f"/stash/performer/{require_stash_id(performer_id)}/image", version)


def studio_image_path(studio_id: int, version: str | None = None) -> str:
    return _versioned(f"/stash/studio/{require_stash_id(studio_id)}/image", version)


def group_front_path(group_id: int, version: str | None = None) -> str:
    return _versioned(f"/stash/group/{require_stash_id(group_id)}/front", version)


# --- small helpers ----------------------------------------------------------------------------


def _clean(text: str | None) -> str:
    return text.strip() if text else ""


def _fold(text: str | None) -> str:
    return _clean(text).casefold()


def _put(target: dict[str, Any], key: str, value: Any) -> None:
    """Set ``key`` unless the value is empty: PMS gets no nulls and no empty strings or lists."""
    if value is None or value == "" or value == [] or value == {}:
        return
    target[key] = value


def _unique_tags(names: Iterable[str | None]) -> list[dict[str, str]]:
    """``[{tag}]`` in the given order, blank names skipped, duplicates (any case) dropped."""
    seen: set[str] = set()
    out: list[dict[str, str]] = []
    for name in names:
        tag = _clean(name)
        if tag and tag.casefold() not in seen:
            seen.add(tag.casefold())
            out.append({"tag": tag})
    return out


def parse_stash_date(text: str | None) -> dt.date | None:
    """``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD`` (missing parts = 1); None if invalid."""
    match = _DATE_RE.fullmatch(_clean(text))
    if not match:
        return None
    year, month, day = match.groups()
    try:
        return dt.date(int(year), int(month or 1), int(day or 1))
    except ValueError:
        return None


def _timestamp_date(text: str | None) -> dt.date | None:
    """The calendar date of an RFC 3339 timestamp, as written (Stash's local time)."""
    text = _clean(text)
    if len(text) > 10 and text[10] not in "Tt ":
        return None
    match = _FULL_DATE_RE.fullmatch(text[:10])
    if not match:
        return None
    try:
        return dt.date(*(int(part) for part in match.groups()))
    except ValueError:
        return None


# Corrupt file metadata can report absurd durations; beyond a signed 32-bit millisecond count
# (about 24.8 days) no real video exists, and PMS may store the value in a 32-bit int.
_MAX_DURATION_MS = 2**31 - 1


def _duration_ms(seconds: float | None) -> int | None:
    if seconds is None or not math.isfinite(seconds) or seconds <= 0:
        return None
    if seconds * 1000 > _MAX_DURATION_MS:  # also keeps floor() away from float overflow
        return None
    ms = math.floor(seconds * 1000 + 0.5)  # half up; round() would round half to even
    return ms if ms > 0 else None


def _file_stem(basename: str | None) -> str:
    name = re.split(r"[/\\]", basename or "")[-1]
    stem, dot, _ext = name.rpartition(".")
    # "a.b.mkv" -> "a.b"; a name without a dot or with only a leading one stays whole.
    return _clean(stem if dot and stem else name)


def title_values(bundle: SceneBundle, cast_order: str = "stash") -> dict[str, str]:
    """The fields a title template may use, for this scene."""
    scene = bundle.scene
    primary = scene.primary_file
    date = parse_stash_date(scene.date)
    studio, parent = bundle.studio, bundle.parent_studio
    return {
        "title": _clean(scene.title),
        "code": _clean(scene.code),
        "studio": _clean(studio.name) if studio else "",
        "parent_studio": _clean(parent.name) if parent else "",
        "date": _clean(scene.date) if date is not None else "",
        "year": str(date.year) if date is not None else "",
        "performers": ", ".join(
            _clean(p.name) for p in _ordered(bundle.performers, cast_order) if _clean(p.name)
        ),
        "filename": _file_stem((primary.basename or primary.path) if primary else None),
    }


def scene_title(bundle: SceneBundle, opts: MappingOptions | None = None) -> str:
    """The scene's title by `title_format` (by default title, else studio code, else the
    primary file's stem), else ``Scene <id>``."""
    fmt = opts.title_format if opts is not None else DEFAULT_FORMAT
    order = opts.cast_order if opts is not None else "stash"
    return fmt.render(title_values(bundle, order)) or f"Scene {bundle.scene.id}"


def directors(text: str | None) -> list[str]:
    """Director names from Stash's free-text field, split on ``,`` ``;`` and ``&``."""
    return [item["tag"] for item in _unique_tags(_DIRECTOR_SPLIT_RE.split(text or ""))]


def stash_box_scheme(endpoint: str) -> str:
    """Guid scheme for a stash-box endpoint URL: a known short name or a ``[a-z0-9]`` slug."""
    endpoint = _clean(endpoint)
    if "://" not in endpoint:
        endpoint = "//" + endpoint  # a bare "host/graphql" still parses with a host
    try:
        host = urlsplit(endpoint).hostname or ""
    except ValueError:  # malformed netloc such as an unclosed IPv6 bracket
        host = ""
    host = host.rstrip(".")
    for domain, scheme in _STASH_BOX_SCHEMES:
        if host == domain or host.endswith("." + domain):
            return scheme
    if host.startswith("www."):
        host = host[4:]
    return _SCHEME_CHARS_RE.sub("", host)


def _guids(stash_ids: Sequence[StashId]) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    for stash_id in stash_ids:
        scheme, value = stash_box_scheme(stash_id.endpoint), _clean(stash_id.stash_id)
        entry = {"id": f"{scheme}://{value}"}
        if scheme and _STASH_BOX_ID_RE.fullmatch(value) and entry not in out:
            out.append(entry)
    return out


def rating_value(rating100: int | None) -> float | None:
    """Stash's 1-100 rating on Plex's 0-10 scale (one decimal); None when unrated or invalid."""
    if not isinstance(rating100, int) or isinstance(rating100, bool):
        return None
    if not 1 <= rating100 <= 100:
        return None
    # An integer over 10 already has exactly one decimal.
    return rating100 / 10


def _put_rating(out: dict[str, Any], rating100: int | None, opts: MappingOptions) -> None:
    value = rating_value(rating100)
    if value is None or opts.rating == "off":
        return
    if opts.rating == "user":
        out["userRating"] = value
    else:
        out["Rating"] = [{"type": "audience", "value": value, "image": RATING_IMAGE}]


# Stash's gender values, for the cast orders that put one side first.
_FEMALE = frozenset({"FEMALE", "TRANSGENDER_FEMALE"})
_MALE = frozenset({"MALE", "TRANSGENDER_MALE"})


def _ordered(performers: Sequence[Performer], order: str) -> list[Performer]:
    """Performers in the `cast_order` (sorts are stable: Stash's order breaks ties)."""
    if order == "name":
        return sorted(performers, key=lambda p: _fold(p.name))
    if order in ("female_first", "male_first"):
        first = _FEMALE if order == "female_first" else _MALE
        return sorted(performers, key=lambda p: (p.gender or "").upper() not in first)
    return list(performers)


def _role_text(performer: Performer, opts: MappingOptions) -> str:
    if opts.cast_role == "disambiguation":
        return _clean(performer.disambiguation)
    if opts.cast_role == "none":
        return ""
    return opts.cast_role


def _roles(performers: Sequence[Performer], opts: MappingOptions) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    seen: set[int] = set()
    for performer in _ordered(performers, opts.cast_order):
        name = _clean(performer.name)
        if not name or performer.id in seen:
            continue
        seen.add(performer.id)
        role: dict[str, Any] = {"tag": name}
        _put(role, "role", _role_text(performer, opts))
        if performer.image_version:  # without a version Stash only has its default silhouette
            _put(
                role,
                "thumb",
                opts.base_url + performer_image_path(performer.id, performer.image_version),
            )
        role["order"] = len(out) + 1
        out.append(role)
    return out


def genre_allowed(tag_id: int, name: str, opts: MappingOptions) -> bool:
    """A tag becomes a genre unless ignored (by name) or denied (by name or id), and, when
    `allow_tags` lists any, only if listed there (by name or id)."""
    folded = _fold(name)
    if folded in opts.ignore_tags or folded in opts.deny_tags or str(tag_id) in opts.deny_tags:
        return False
    return not opts.allow_tags or folded in opts.allow_tags or str(tag_id) in opts.allow_tags


def _genres(bundle: SceneBundle, opts: MappingOptions) -> list[dict[str, str]]:
    tags = _scene_tags(bundle, opts)
    names = (tag.name for tag in tags if genre_allowed(tag.id, tag.name, opts))
    return _unique_tags(names)


_MAX_DEPTH = 64  # a parent chain longer than this is a cycle in bad data


def network_of(studio: Studio, studios: Mapping[int, Studio]) -> Studio:
    """The top of a studio's parent chain: the last one the mirror knows, cycles cut."""
    seen = {studio.id}
    while studio.parent_id and len(seen) < _MAX_DEPTH:
        parent = studios.get(studio.parent_id)
        if parent is None or parent.id in seen:
            break
        seen.add(parent.id)
        studio = parent
    return studio


def tag_ancestors(tags: Sequence[Tag], by_id: Mapping[int, Tag]) -> tuple[Tag, ...]:
    """Every tag above these (Stash's tag hierarchy), nearest first, each once, none of
    `tags` themselves; parents the mirror does not know are skipped, cycles end."""
    seen = {tag.id for tag in tags}
    found: list[Tag] = []
    level = [p for tag in tags for p in tag.parent_ids]
    while level:
        following: list[int] = []
        for tag_id in level:
            parent = by_id.get(tag_id)
            if parent is not None and tag_id not in seen:
                seen.add(tag_id)
                found.append(parent)
                following.extend(parent.parent_ids)
        level = following
    return tuple(found)


def _scene_tags(bundle: SceneBundle, opts: MappingOptions) -> tuple[Tag, ...]:
    """The scene's tags, then (with `parent_tags`) the tags above them."""
    return bundle.tags + bundle.tag_parents if opts.parent_tags else bundle.tags


def _tag_listed(tag: Tag, ref: str) -> bool:
    return str(tag.id) == ref if ref.isdigit() else " ".join(_fold(tag.name).split()) == ref


def _collections(bundle: SceneBundle, opts: MappingOptions) -> list[str]:
    """Collection names, source by source in the order of `[metadata] collections`."""
    names: list[str] = []

    def add(prefix: str, name: str | None) -> None:
        if _clean(name):
            names.append(prefix + _clean(name))

    for source in opts.collections:
        kind, prefix = source.source, source.prefix
        if kind == "group":
            for group, _index in bundle.groups:
                add(prefix, group.name)
        elif kind in ("studio", "parent_studio", "network"):
            studio = getattr(bundle, kind)
            add(prefix, studio.name if studio is not None else None)
        elif kind == "performer":
            for performer in _ordered(bundle.performers, opts.cast_order):
                add(prefix, performer.name)
        elif kind == "organized":
            add(prefix, "Organized" if bundle.scene.organized else None)
        elif kind == "tag":
            for tag in _scene_tags(bundle, opts):
                if _tag_listed(tag, source.tag):
                    add(prefix, tag.name)
        elif kind == "tags":  # every tag that may be a genre
            for tag in _scene_tags(bundle, opts):
                if genre_allowed(tag.id, tag.name, opts):
                    add(prefix, tag.name)
    return names


def _cover_url(bundle: SceneBundle, opts: MappingOptions, *, poster: bool) -> str:
    scene = bundle.scene
    build = scene_poster_path if poster else scene_screenshot_path
    return opts.base_url + build(scene.id, scene.screenshot_version)


# --- public mapping ---------------------------------------------------------------------------


def scene_images(bundle: SceneBundle, opts: MappingOptions) -> list[dict[str, str]]:
    """Every image we can offer for a scene, for the ``/images`` route.

    The preferred cover poster comes first, the other cover form second (so it can be picked in
    Plex's poster chooser), then background and snapshot, then group front covers (DVD-style
    2:3 posters) that have a real image.
    """
    alt = scene_title(bundle, opts)
    poster = _cover_url(bundle, opts, poster=True)
    screenshot = _cover_url(bundle, opts, poster=False)
    preferred, other = (poster, screenshot) if opts.poster_mode else (screenshot, poster)
    images = [
        {"type": "coverPoster", "url": preferred, "alt": alt},
        {"type": "coverPoster", "url": other, "alt": alt},
        {"type": "background", "url": screenshot, "alt": alt},
        {"type": "snapshot", "url": screenshot, "alt": alt},
    ]
    seen_groups: set[int] = set()
    for group, _index in bundle.groups:
        if group.front_image_version and group.id not in seen_groups:
            seen_groups.add(group.id)
            url = opts.base_url + group_front_path(group.id, group.front_image_version)
            images.append({"type": "coverPoster", "url": url, "alt": _clean(group.name) or alt})
    return images


def scene_metadata(bundle: SceneBundle, opts: MappingOptions) -> dict[str, Any]:
    """The full Plex Metadata object of a scene (a movie)."""
    scene = bundle.scene
    title = scene_title(bundle, opts)
    out: dict[str, Any] = {
        "type": "movie",
        "ratingKey": scene_rating_key(scene.id),
        "key": scene_key(scene.id),
        "guid": scene_guid(scene.id, opts.provider_id),
        "title": title,
    }

    date = parse_stash_date(scene.date)
    if date is not None:
        _put(out, "originallyAvailableAt", date.isoformat())
        _put(out, "year", date.year)
    else:
        # PMS requires originallyAvailableAt, so an undated scene gets the day it was added to
        # Stash (or, defensively, last updated). That is not a release year: `year` stays out
        # so Plex does not show or match on an invented one.
        added = _timestamp_date(scene.created_at) or _timestamp_date(scene.updated_at)
        if added is not None:
            _put(out, "originallyAvailableAt", added.isoformat())

    _put(out, "summary", _clean(scene.details))
    _put(out, "tagline", _clean(scene.code))
    studio_name = _clean(bundle.studio.name) if bundle.studio else ""
    _put(out, "studio", studio_name)
    _put(out, "contentRating", _clean(opts.content_rating))
    out["isAdult"] = True
    primary = scene.primary_file
    _put(out, "duration", _duration_ms(primary.duration if primary else None))

    screenshot = _cover_url(bundle, opts, poster=False)
    out["thumb"] = _cover_url(bundle, opts, poster=True) if opts.poster_mode else screenshot
    out["art"] = screenshot
    out["Image"] = [
        {"type": "coverPoster", "url": out["thumb"], "alt": title},
        {"type": "background", "url": screenshot, "alt": title},
        {"type": "snapshot", "url": screenshot, "alt": title},
    ]

    _put(out, "Genre", _genres(bundle, opts))
    _put(out, "Role", _roles(bundle.performers, opts))
    _put(out, "Director", [{"tag": name} for name in directors(scene.director)])
    studios = (bundle.studio, bundle.parent_studio)
    _put(out, "Studio", _unique_tags(s.name for s in studios if s is not None))
    _put(out, "Collection", _unique_tags(_collections(bundle, opts)))
    _put(out, "Guid", _guids(scene.stash_ids))
    _put_rating(out, scene.rating100, opts)
    return out


# Fields of a match candidate (the TV provider adds its own).
CANDIDATE_KEYS = (
    "type",
    "ratingKey",
    "key",
    "guid",
    "title",
    "year",
    "originallyAvailableAt",
    "thumb",
    "summary",
)


def match_candidate(
    metadata: Mapping[str, Any], score: int, keys: Sequence[str] = CANDIDATE_KEYS
) -> dict[str, Any]:
    """The short Metadata object of a match answer (`keys` of `metadata`), with a 0–100
    ``score``."""
    if not isinstance(score, int) or isinstance(score, bool) or not 0 <= score <= 100:
        raise ValueError(f"score must be an int in 0..100: {score!r}")
    out: dict[str, Any] = {}
    for key in keys:
        _put(out, key, metadata.get(key))
    missing = IDENTITY_KEYS - out.keys()
    if missing:
        raise ValueError(f"metadata lacks identity keys: {sorted(missing)}")
    out["score"] = score
    return out


HintList = str | Iterable[str] | None


def parse_hint_list(value: HintList) -> frozenset[str] | None:
    """Fold a PMS comma-list hint (``"Role, Genre,"``) to a set; None when nothing is named.

    A repeated query parameter may arrive as a list, so each item is split too. An empty hint
    (``includeElements=``) names nothing and is treated as absent rather than "keep nothing".
    """
    if value is None:
        return None
    items = [value] if isinstance(value, str) else list(value)
    names = frozenset(
        part.strip().casefold() for item in items for part in str(item).split(",") if part.strip()
    )
    return names or None


def trim_metadata(
    metadata: Mapping[str, Any],
    *,
    include_elements: HintList = None,
    exclude_elements: HintList = None,
    include_fields: HintList = None,
    exclude_fields: HintList = None,
) -> dict[str, Any]:
    """Apply PMS's include/exclude hints; elements are the list values, fields the scalars.

    Names compare case-insensitively. The identity keys are never dropped: without them PMS
    cannot file the answer.
    """
    hints = {
        "include_elements": parse_hint_list(include_elements),
        "exclude_elements": parse_hint_list(exclude_elements),
        "include_fields": parse_hint_list(include_fields),
        "exclude_fields": parse_hint_list(exclude_fields),
    }
    out: dict[str, Any] = {}
    for key, value in metadata.items():
        name = key.casefold()
        kind = "elements" if isinstance(value, list) else "fields"
        include, exclude = hints[f"include_{kind}"], hints[f"exclude_{kind}"]
        keep = (include is None or name in include) and (exclude is None or name not in exclude)
        if keep or key in IDENTITY_KEYS:
            out[key] = value
    return out


def container(
    metadata: Sequence[Mapping[str, Any]],
    *,
    identifier: str,
    offset: int = 0,
    total_size: int | None = None,
) -> dict[str, Any]:
    """A MediaContainer of Metadata objects. ``total_size`` defaults to ``offset + size``."""
    if offset < 0:
        raise ValueError(f"offset must not be negative: {offset}")
    items = [dict(item) for item in metadata]
    return {
        "MediaContainer": {
            "offset": offset,
            "totalSize": offset + len(items) if total_size is None else total_size,
            "identifier": identifier,
            "size": len(items),
            "Metadata": items,
        }
    }


def image_container(images: Sequence[Mapping[str, Any]], *, identifier: str) -> dict[str, Any]:
    """A MediaContainer of ``Image`` objects, the answer of ``…/<ratingKey>/images``."""
    items = [dict(item) for item in images]
    return {
        "MediaContainer": {
            "offset": 0,
            "totalSize": len(items),
            "identifier": identifier,
            "size": len(items),
            "Image": items,
        }
    }
