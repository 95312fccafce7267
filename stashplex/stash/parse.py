"""Stash GraphQL JSON -> the records of `stashplex.model`, checked at the border.

Anything that is not what Stash sends (a non-numeric id, a list where an object belongs) raises
StashBadResponse, so garbage never reaches the mirror. Text loses control characters, which no
Plex field can use.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

from stashplex.model import (
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

T = TypeVar("T")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_MAX_ID = 2**63 - 1


def _fail(what: str) -> StashBadResponse:
    return StashBadResponse(f"Stash sent an unusable {what}")


def ident(value: Any, what: str = "id") -> int:
    if isinstance(value, bool):
        raise _fail(what)
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 19:
        number = int(value)
    else:
        raise _fail(what)
    if not 0 < number <= _MAX_ID:
        raise _fail(what)
    return number


def text(value: Any, what: str = "text") -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise _fail(what)
    cleaned = _CONTROL.sub("", value).strip()
    return cleaned or None


def required_text(value: Any, what: str) -> str:
    result = text(value, what)
    if result is None:
        raise _fail(what)
    return result


def number(value: Any, kind: type, what: str) -> Any:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _fail(what)
    if value != value or value in (float("inf"), float("-inf")):  # NaN or infinite
        return None
    return kind(value)


def objects(value: Any, parse: Callable[[dict[str, Any]], T], what: str) -> tuple[T, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise _fail(what)
    return tuple(parse(_obj(item, what)) for item in value)


def _obj(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _fail(what)
    return value


def image_version(url: Any) -> str | None:
    """The `t` value of an image URL Stash built; None for its default image or no URL."""
    if not isinstance(url, str) or not url:
        return None
    query = parse_qs(urlsplit(url).query)
    if query.get("default", [""])[0].lower() == "true":
        return None
    stamp = query.get("t", [""])[0]
    # Only digits go into our URLs and file names.
    return stamp if stamp.isascii() and stamp.isdigit() and len(stamp) <= 20 else "0"


def _ref_id(value: Any, what: str) -> int | None:
    if value is None:
        return None
    return ident(_obj(value, what).get("id"), what)


def fingerprint(d: dict[str, Any]) -> Fingerprint:
    return Fingerprint(
        type=required_text(d.get("type"), "fingerprint type"),
        value=str(d.get("value")),
    )


def video_file(d: dict[str, Any]) -> VideoFile:
    path = required_text(d.get("path"), "file path")
    basename = text(d.get("basename"), "file basename") or _basename(path)
    return VideoFile(
        id=ident(d.get("id"), "file id"),
        path=path,
        basename=basename,
        size=number(d.get("size"), int, "file size"),
        duration=number(d.get("duration"), float, "file duration"),
        width=number(d.get("width"), int, "file width"),
        height=number(d.get("height"), int, "file height"),
        frame_rate=number(d.get("frame_rate"), float, "frame rate"),
        bit_rate=number(d.get("bit_rate"), int, "bit rate"),
        video_codec=text(d.get("video_codec")),
        audio_codec=text(d.get("audio_codec")),
        mod_time=text(d.get("mod_time")),
        fingerprints=objects(d.get("fingerprints"), fingerprint, "fingerprints"),
    )


def _basename(path: str) -> str:
    return re.split(r"[\\/]", path)[-1]


def _scene_group(d: dict[str, Any]) -> SceneGroup:
    # v0.27+ says group, older versions movie.
    ref = d.get("group") if "group" in d else d.get("movie")
    group_id = _ref_id(ref, "scene group")
    if group_id is None:
        raise _fail("scene group")
    return SceneGroup(group_id=group_id, scene_index=number(d.get("scene_index"), int, "index"))


def _stash_id(d: dict[str, Any]) -> StashId:
    return StashId(
        endpoint=required_text(d.get("endpoint"), "stash-box endpoint"),
        stash_id=required_text(d.get("stash_id"), "stash-box id"),
    )


def _strings(value: Any, what: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise _fail(what)
    return tuple(s for s in (text(v, what) for v in value) if s)


def _ids(value: Any, what: str) -> tuple[int, ...]:
    seen: dict[int, None] = {}
    for item in objects(value, lambda d: ident(d.get("id"), what), what):
        seen.setdefault(item)
    return tuple(seen)


def scene(d: Any) -> Scene:
    d = _obj(d, "scene")
    groups_raw = d.get("groups") if "groups" in d else d.get("movies")
    rating = number(d.get("rating100"), int, "rating")
    return Scene(
        id=ident(d.get("id"), "scene id"),
        updated_at=required_text(d.get("updated_at"), "scene updated_at"),
        title=text(d.get("title"), "title"),
        code=text(d.get("code"), "code"),
        details=text(d.get("details"), "details"),
        director=text(d.get("director"), "director"),
        urls=_strings(d.get("urls"), "urls"),
        date=text(d.get("date"), "date"),
        rating100=rating if rating is None or 0 <= rating <= 100 else None,
        organized=bool(d.get("organized")),
        o_counter=number(d.get("o_counter"), int, "o_counter"),
        created_at=text(d.get("created_at"), "created_at"),
        screenshot_version=image_version(_obj(d.get("paths") or {}, "paths").get("screenshot")),
        files=objects(d.get("files"), video_file, "files"),
        studio_id=_ref_id(d.get("studio"), "studio"),
        performer_ids=_ids(d.get("performers"), "performers"),
        tag_ids=_ids(d.get("tags"), "tags"),
        groups=objects(groups_raw, _scene_group, "groups"),
        stash_ids=objects(d.get("stash_ids"), _stash_id, "stash ids"),
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
