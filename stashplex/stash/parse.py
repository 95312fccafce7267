"""Stash GraphQL JSON -> the records of `stashplex.records`, checked at the border.

Anything that is not what Stash sends (a non-numeric id, a list where an object belongs) raises
StashBadResponse, so garbage never reaches the mirror. Text loses control characters, which no
Plex field can use.
"""

from __future__ import annotations

import re
from typing import Any

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


def _int(value: Any) -> int | None:
    if value is None:
        return None
    if type(value) is int:
        return value
    if type(value) is float:
        return int(value) if value == value and abs(value) != float("inf") else None
    raise TypeError("not a number")


def _float(value: Any) -> float | None:
    if value is None:
        return None
    if type(value) is float:
        return value if value == value and abs(value) != float("inf") else None
    if type(value) is int:
        return float(value)
    raise TypeError("not a number")


def video_file(d: dict[str, Any]) -> VideoFile:
    path = exact_text(d["path"], "file path")
    basename = d.get("basename")
    basename = _basename(path) if basename is None else exact_text(basename, "file basename")
    return VideoFile(
        ident(d["id"], "file id"),
        path,
        basename,
        _int(d.get("size")),
        _float(d.get("duration")),
        _int(d.get("width")),
        _int(d.get("height")),
        _float(d.get("frame_rate")),
        _int(d.get("bit_rate")),
        text(d.get("video_codec")),
        text(d.get("audio_codec")),
        text(d.get("mod_time")),
        tuple(
            Fingerprint(required_text(fp["type"], "fingerprint type"), str(fp["value"]))
            for fp in d.get("fingerprints") or ()
        ),
    )


def _basename(path: str) -> str:
    return re.split(r"[\\/]", path)[-1]


def _scene_group(d: dict[str, Any]) -> SceneGroup:
    # v0.27+ says group, older versions movie.
    ref = d["group"] if "group" in d else d["movie"]
    return SceneGroup(ident(ref["id"], "group id"), _int(d.get("scene_index")))


def _unique_ids(items: Any, what: str) -> tuple[int, ...]:
    if not items:
        return ()
    if type(items) is not list:
        raise TypeError(what)
    return tuple(dict.fromkeys(ident(item["id"], what) for item in items))


def scene(d: Any) -> Scene:
    """One scene as Stash sends it; anything malformed raises StashBadResponse.

    Written for speed (it runs for every scene of every sync): malformed input shows up as
    TypeError/KeyError/... from plain indexing and is turned into StashBadResponse here.
    """
    try:
        return _scene(d)
    except StashBadResponse:
        raise
    except (AttributeError, KeyError, TypeError, ValueError):
        raise _fail("scene") from None


def _scene(d: dict[str, Any]) -> Scene:
    if type(d) is not dict:
        raise TypeError("scene")
    rating = _int(d.get("rating100"))
    studio = d.get("studio")
    groups = d.get("groups") if "groups" in d else d.get("movies")
    files = d.get("files") or ()
    if type(files) is not list and files != ():
        raise TypeError("files")
    urls = d.get("urls") or ()
    if type(urls) is not list and urls != ():
        raise TypeError("urls")
    paths = d.get("paths")
    return Scene(
        id=ident(d["id"], "scene id"),
        updated_at=required_text(d.get("updated_at"), "scene updated_at"),
        title=text(d.get("title"), "title"),
        code=text(d.get("code"), "code"),
        details=text(d.get("details"), "details"),
        director=text(d.get("director"), "director"),
        urls=tuple(u for u in (text(v, "url") for v in urls) if u),
        date=text(d.get("date"), "date"),
        rating100=rating if rating is None or 0 <= rating <= 100 else None,
        organized=bool(d.get("organized")),
        o_counter=_int(d.get("o_counter")),
        created_at=text(d.get("created_at"), "created_at"),
        screenshot_version=image_version(paths["screenshot"]) if paths else None,
        files=tuple(video_file(f) for f in files),
        studio_id=ident(studio["id"], "studio id") if studio is not None else None,
        performer_ids=_unique_ids(d.get("performers"), "performers"),
        tag_ids=_unique_ids(d.get("tags"), "tags"),
        groups=tuple(_scene_group(g) for g in groups or ()),
        stash_ids=tuple(
            StashId(
                required_text(s["endpoint"], "stash-box endpoint"),
                required_text(s["stash_id"], "stash-box id"),
            )
            for s in d.get("stash_ids") or ()
        ),
    )


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
