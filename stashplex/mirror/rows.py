"""Records <-> mirror rows, as plain dicts (pure; no database access).

The writer feeds these dicts to executemany; the store turns fetched rows back into records.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import fields
from typing import Any, TypeVar

import msgspec

from stashplex.plex import pathkeys
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

E = TypeVar("E", Studio, Performer, Tag, Group)
# A fetched row by column name: SQLAlchemy's RowMapping, or a plain dict in tests.
RowLike = Mapping[Any, Any]


def content_hash(scene: Scene) -> bytes:
    # msgpack of the record: deterministic, covers every field, and written in C.
    return hashlib.blake2b(_msgpack(scene), digest_size=16).digest()


_msgpack = msgspec.msgpack.Encoder().encode
_json = msgspec.json.Encoder().encode


def _dumps(value: Any) -> str | None:
    # The same text as json.dumps(value, ensure_ascii=False, separators=(",", ":")).
    return _json(value).decode("utf-8") if value else None


# Column orders of the tuples below; the writer builds its SQL from them.
SCENE_COLUMNS = (
    "id",
    "updated_at",
    "title",
    "code",
    "details",
    "director",
    "urls",
    "date",
    "rating100",
    "organized",
    "o_counter",
    "created_at",
    "screenshot_version",
    "studio_id",
    "stash_ids",
    "title_key",
    "content_hash",
)
FILE_COLUMNS = (
    "scene_id",
    "file_id",
    "position",
    "path",
    "rpath",
    "basename",
    "basename_cf",
    "stem_key",
    "size",
    "duration",
    "width",
    "height",
    "frame_rate",
    "bit_rate",
    "video_codec",
    "audio_codec",
    "mod_time",
    "fingerprints",
)
PERFORMER_LINK_COLUMNS = ("scene_id", "position", "performer_id")
TAG_LINK_COLUMNS = ("scene_id", "position", "tag_id")
GROUP_LINK_COLUMNS = ("scene_id", "position", "group_id", "scene_index")


def scene_values(scene: Scene) -> tuple[Any, ...]:
    """The scene's row in SCENE_COLUMNS order; the last value is its content hash."""
    return (
        scene.id,
        scene.updated_at,
        scene.title,
        scene.code,
        scene.details,
        scene.director,
        _dumps(list(scene.urls)),
        scene.date,
        scene.rating100,
        scene.organized,
        scene.o_counter,
        scene.created_at,
        scene.screenshot_version,
        scene.studio_id,
        _dumps([[s.endpoint, s.stash_id] for s in scene.stash_ids]),
        pathkeys.title_key(scene.title),
        content_hash(scene),
    )


def file_values(scene: Scene) -> list[tuple[Any, ...]]:
    return [
        (
            scene.id,
            f.id,
            position,
            f.path,
            pathkeys.reversed_path(f.path),
            f.basename,
            pathkeys.fold(f.basename),
            pathkeys.stem_key(f.basename),
            f.size,
            f.duration,
            f.width,
            f.height,
            f.frame_rate,
            f.bit_rate,
            f.video_codec,
            f.audio_codec,
            f.mod_time,
            _dumps([[fp.type, fp.value] for fp in f.fingerprints]),
        )
        for position, f in enumerate(scene.files)
    ]


def link_values(
    scene: Scene,
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    sid = scene.id
    return (
        [(sid, i, pid) for i, pid in enumerate(scene.performer_ids)],
        [(sid, i, tid) for i, tid in enumerate(scene.tag_ids)],
        [(sid, i, g.group_id, g.scene_index) for i, g in enumerate(scene.groups)],
    )


def entity_row(record: Studio | Performer | Tag | Group) -> dict[str, Any]:
    # Entity tables have exactly the record's fields as columns.
    return {f.name: getattr(record, f.name) for f in fields(record)}


# --- rows -> records ---------------------------------------------------------------------------


def _loads(text: str | None) -> list[Any]:
    return json.loads(text) if text else []


def video_file(row: RowLike) -> VideoFile:
    return VideoFile(
        id=row["file_id"],
        path=row["path"],
        basename=row["basename"],
        size=row["size"],
        duration=row["duration"],
        width=row["width"],
        height=row["height"],
        frame_rate=row["frame_rate"],
        bit_rate=row["bit_rate"],
        video_codec=row["video_codec"],
        audio_codec=row["audio_codec"],
        mod_time=row["mod_time"],
        fingerprints=tuple(Fingerprint(t, v) for t, v in _loads(row["fingerprints"])),
    )


def scene(
    row: RowLike,
    files: Iterable[VideoFile],
    performer_ids: Iterable[int],
    tag_ids: Iterable[int],
    groups: Iterable[SceneGroup],
) -> Scene:
    return Scene(
        id=row["id"],
        updated_at=row["updated_at"],
        title=row["title"],
        code=row["code"],
        details=row["details"],
        director=row["director"],
        urls=tuple(_loads(row["urls"])),
        date=row["date"],
        rating100=row["rating100"],
        organized=bool(row["organized"]),
        o_counter=row["o_counter"],
        created_at=row["created_at"],
        screenshot_version=row["screenshot_version"],
        files=tuple(files),
        studio_id=row["studio_id"],
        performer_ids=tuple(performer_ids),
        tag_ids=tuple(tag_ids),
        groups=tuple(groups),
        stash_ids=tuple(StashId(e, i) for e, i in _loads(row["stash_ids"])),
    )


def entity(cls: type[E], row: RowLike) -> E:
    return cls(**{f.name: row[f.name] for f in fields(cls)})
