"""Stash GraphQL JSON -> the records of `stashplex.records`, checked at the border.

Anything that is not what Stash sends (a non-numeric id, a list where an object belongs) raises
StashBadResponse, so garbage never reaches the mirror. Text loses control characters, which no
Plex field can use.

Scenes, read by the hundred thousand, are decoded by msgspec straight from the response bytes
into the typed shapes below (`SceneIn`, `SweepSceneIn`): types, id ranges and required fields
are checked in C, and only what no type can say (control characters, trimming, image versions)
is left to Python. `scene()` runs the same shapes on a dict, for the few scenes read one by one.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

import msgspec

from stashplex.records import (
    Fingerprint,
    Group,
    Performer,
    Scene,
    SceneGroup,
    StashId,
    Studio,
    Tag,
    VideoFile,
)
from stashplex.stash.errors import StashBadResponse

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_MAX_ID = 2**63 - 1


def _fail(what: str) -> StashBadResponse:
    return StashBadResponse(f"Stash sent an unusable {what}")


def ident(value: Any, what: str = "id") -> int:
    # Stash's IDs are JSON strings; type() checks keep bools (an int subclass) out.
    if type(value) is str and value.isdigit() and value.isascii() and len(value) <= 19:
        number = int(value)
    elif type(value) is int:
        number = value
    else:
        raise _fail(what)
    if not 0 < number <= _MAX_ID:
        raise _fail(what)
    return number


def text(value: Any, what: str = "text") -> str | None:
    """Display text: control characters removed, trimmed; None when empty."""
    if value is None:
        return None
    if type(value) is not str:
        raise _fail(what)
    if not value.isprintable():  # a cheap scan; most text has nothing to remove
        value = _CONTROL.sub("", value)
    return value.strip() or None


def exact_text(value: Any, what: str) -> str:
    """Text kept exactly as sent (file paths): a path with a stray space is still that path."""
    if type(value) is not str or not value:
        raise _fail(what)
    return value


def required_text(value: Any, what: str) -> str:
    result = text(value, what)
    if result is None:
        raise _fail(what)
    return result


def _obj(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _fail(what)
    return value


_STAMP = re.compile(r"[?&]t=([^&#]*)")
_DEFAULT = re.compile(r"[?&]default=true(?:[&#]|$)", re.IGNORECASE)


def image_version(url: Any) -> str | None:
    """The `t` value of an image URL Stash built; None for its default image or no URL."""
    if type(url) is not str or not url or _DEFAULT.search(url):
        return None
    match = _STAMP.search(url)
    stamp = match[1] if match else ""
    # Only digits go into our URLs and file names.
    return stamp if stamp.isdigit() and stamp.isascii() and len(stamp) <= 20 else "0"


def _ref_id(value: Any, what: str) -> int | None:
    if value is None:
        return None
    return ident(_obj(value, what).get("id"), what)


def _ref_ids(value: Any, what: str) -> tuple[int, ...]:
    """Ids of a list of `{id}` objects, in order, duplicates dropped; absent = none."""
    if value is None:
        return ()
    if not isinstance(value, list):
        raise _fail(what)
    return tuple(dict.fromkeys(ident(_obj(item, what).get("id"), what) for item in value))


# --- scenes: typed shapes of SceneFields (and of SweepScenes) --------------------------------

# Stash's ids are JSON strings of digits; non-strict decoding turns them into ints (and keeps
# bools, signs, spaces and non-ASCII digits out), the bounds keep them positive 64-bit.
Ident = Annotated[int, msgspec.Meta(gt=0, le=_MAX_ID)]
_Path = Annotated[str, msgspec.Meta(min_length=1)]


class _Ref(msgspec.Struct):
    id: Ident


class _FingerprintIn(msgspec.Struct):
    type: str
    value: str | int | float


class _FileIn(msgspec.Struct):
    id: Ident
    path: _Path
    basename: _Path | None = None
    size: int | None = None
    duration: float | None = None
    width: int | None = None
    height: int | None = None
    frame_rate: float | None = None
    bit_rate: int | None = None
    video_codec: str | None = None
    audio_codec: str | None = None
    mod_time: str | None = None
    fingerprints: list[_FingerprintIn] | None = None


class _GroupLinkIn(msgspec.Struct):
    group: _Ref | None = None  # v0.27+
    movie: _Ref | None = None  # before v0.27
    scene_index: int | None = None


class _StashIdIn(msgspec.Struct):
    endpoint: str
    stash_id: str


class _PathsIn(msgspec.Struct):
    screenshot: str | None = None


class SceneIn(msgspec.Struct):
    """A scene as SceneFields asks for it."""

    id: Ident
    updated_at: str | None = None
    title: str | None = None
    code: str | None = None
    details: str | None = None
    director: str | None = None
    urls: list[str | None] | None = None
    date: str | None = None
    rating100: int | None = None
    organized: bool | None = None
    o_counter: int | None = None
    created_at: str | None = None
    paths: _PathsIn | None = None
    files: list[_FileIn] | None = None
    studio: _Ref | None = None
    performers: list[_Ref] | None = None
    tags: list[_Ref] | None = None
    groups: list[_GroupLinkIn] | None = None
    movies: list[_GroupLinkIn] | None = None
    stash_ids: list[_StashIdIn] | None = None


class _ScenesIn(msgspec.Struct):
    scenes: list[SceneIn]


class ScenesData(msgspec.Struct):
    """`data` of FindScenesPage / FindScenesByIds."""

    findScenes: _ScenesIn  # GraphQL's name


class _SweepFileIn(msgspec.Struct):
    id: Ident
    path: _Path


class SweepSceneIn(msgspec.Struct):
    id: Ident
    updated_at: str | None = None
    files: list[_SweepFileIn] | None = None


class _SweepScenesIn(msgspec.Struct):
    scenes: list[SweepSceneIn]


class SweepData(msgspec.Struct):
    """`data` of SweepScenes: ids, update stamps and file paths only."""

    findScenes: _SweepScenesIn  # GraphQL's name


def _finite(value: float | None) -> float | None:
    return value if value is None or abs(value) < _INF else None  # NaN compares False


_INF = float("inf")


def _basename(path: str) -> str:
    return re.split(r"[\\/]", path)[-1]


def _video_file(f: _FileIn) -> VideoFile:
    return VideoFile(
        f.id,
        f.path,
        _basename(f.path) if f.basename is None else f.basename,
        f.size,
        _finite(f.duration),
        f.width,
        f.height,
        _finite(f.frame_rate),
        f.bit_rate,
        text(f.video_codec),
        text(f.audio_codec),
        text(f.mod_time),
        tuple(
            Fingerprint(required_text(fp.type, "fingerprint type"), str(fp.value))
            for fp in f.fingerprints
        )
        if f.fingerprints
        else (),
    )


def scene_from(s: SceneIn) -> Scene:
    """The mirrored record of a decoded scene; text is cleaned, what no type says is checked.

    Written for speed (it runs for every scene of every sync).
    """
    links = s.groups if s.groups is not None else s.movies
    rating = s.rating100
    paths = s.paths
    groups: tuple[SceneGroup, ...] = ()
    if links:
        refs = [(link.group or link.movie, link.scene_index) for link in links]
        if any(ref is None for ref, _index in refs):
            raise _fail("scene group link")
        groups = tuple(SceneGroup(ref.id, index) for ref, index in refs)  # type: ignore[union-attr]
    return Scene(
        id=s.id,
        updated_at=required_text(s.updated_at, "scene updated_at"),
        title=text(s.title, "title"),
        code=text(s.code, "code"),
        details=text(s.details, "details"),
        director=text(s.director, "director"),
        urls=tuple(u for u in (text(v, "url") for v in s.urls) if u) if s.urls else (),
        date=text(s.date, "date"),
        rating100=rating if rating is None or 0 <= rating <= 100 else None,
        organized=bool(s.organized),
        o_counter=s.o_counter,
        created_at=text(s.created_at, "created_at"),
        screenshot_version=image_version(paths.screenshot) if paths else None,
        files=tuple(_video_file(f) for f in s.files) if s.files else (),
        studio_id=s.studio.id if s.studio is not None else None,
        performer_ids=tuple(dict.fromkeys(p.id for p in s.performers)) if s.performers else (),
        tag_ids=tuple(dict.fromkeys(t.id for t in s.tags)) if s.tags else (),
        groups=groups,
        stash_ids=tuple(
            StashId(
                required_text(i.endpoint, "stash-box endpoint"),
                required_text(i.stash_id, "stash-box id"),
            )
            for i in s.stash_ids
        )
        if s.stash_ids
        else (),
    )


def scene(d: Any) -> Scene:
    """One scene as Stash sends it (a decoded JSON object); malformed input raises
    StashBadResponse."""
    try:
        decoded = msgspec.convert(d, SceneIn, strict=False)
    except msgspec.ValidationError as exc:
        raise StashBadResponse(f"Stash sent an unusable scene ({exc})") from None
    return scene_from(decoded)


def sweep_item(s: SweepSceneIn) -> tuple[int, str, list[tuple[int, str]]]:
    """(id, updated_at, [(file id, path), ...]) of a sweep page's scene."""
    files = [(f.id, f.path) for f in s.files] if s.files else []
    return s.id, required_text(s.updated_at, "updated_at"), files


def studio(d: Any) -> Studio:
    d = _obj(d, "studio")
    return Studio(
        id=ident(d.get("id"), "studio id"),
        name=text(d.get("name"), "studio name") or f"Studio {d.get('id')}",
        parent_id=_ref_id(d.get("parent_studio"), "parent studio"),
        details=text(d.get("details"), "studio details"),
        image_version=image_version(d.get("image_path")),
        updated_at=text(d.get("updated_at")),
    )


def performer(d: Any) -> Performer:
    d = _obj(d, "performer")
    return Performer(
        id=ident(d.get("id"), "performer id"),
        name=text(d.get("name"), "performer name") or f"Performer {d.get('id')}",
        disambiguation=text(d.get("disambiguation")),
        gender=text(d.get("gender")),
        image_version=image_version(d.get("image_path")),
        updated_at=text(d.get("updated_at")),
    )


def tag(d: Any) -> Tag:
    d = _obj(d, "tag")
    return Tag(
        id=ident(d.get("id"), "tag id"),
        name=text(d.get("name"), "tag name") or f"Tag {d.get('id')}",
        updated_at=text(d.get("updated_at")),
        parent_ids=_ref_ids(d.get("parents"), "parent tag"),
    )


def group(d: Any) -> Group:
    d = _obj(d, "group")
    return Group(
        id=ident(d.get("id"), "group id"),
        name=text(d.get("name"), "group name") or f"Group {d.get('id')}",
        date=text(d.get("date")),
        synopsis=text(d.get("synopsis")),
        front_image_version=image_version(d.get("front_image_path")),
        updated_at=text(d.get("updated_at")),
    )


def listing(data: dict[str, Any], root: str, key: str) -> list[Any]:
    """`data[root][key]` as a list, e.g. findScenes.scenes; garbage raises."""
    container = data.get(root)
    if not isinstance(container, dict) or not isinstance(container.get(key), list):
        raise _fail(f"{root} answer")
    return container[key]
