"""Records <-> mirror rows, as plain dicts (pure; no database access).

The writer feeds these dicts to executemany; the store turns fetched rows back into records.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import fields
from typing import Any, TypeVar

from stashplex.mirror import pathkeys
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

E = TypeVar("E", Studio, Performer, Tag, Group)


def content_hash(scene: Scene) -> bytes:
    # The repr of frozen dataclasses of tuples is deterministic and covers every field.
    return hashlib.blake2b(repr(scene).encode("utf-8"), digest_size=16).digest()


def _dumps(value: Any) -> str | None:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")) if value else None


def scene_row(scene: Scene) -> dict[str, Any]:
    return {
        "id": scene.id,
        "updated_at": scene.updated_at,
        "title": scene.title,
        "code": scene.code,
        "details": scene.details,
        "director": scene.director,
        "urls": _dumps(list(scene.urls)),
        "date": scene.date,
        "rating100": scene.rating100,
        "organized": scene.organized,
        "o_counter": scene.o_counter,
        "created_at": scene.created_at,
        "screenshot_version": scene.screenshot_version,
        "studio_id": scene.studio_id,
        "stash_ids": _dumps([[s.endpoint, s.stash_id] for s in scene.stash_ids]),
        "title_key": pathkeys.title_key(scene.title),
        "content_hash": content_hash(scene),
    }


def file_rows(scene: Scene) -> list[dict[str, Any]]:
    rows = []
    for position, f in enumerate(scene.files):
        rows.append(
            {
                "scene_id": scene.id,
                "file_id": f.id,
                "position": position,
                "path": f.path,
                "rpath": pathkeys.reversed_path(f.path),
                "basename": f.basename,
                "basename_cf": pathkeys.fold(f.basename),
                "stem_key": pathkeys.stem_key(f.basename),
                "size": f.size,
                "duration": f.duration,
                "width": f.width,
                "height": f.height,
                "frame_rate": f.frame_rate,
                "bit_rate": f.bit_rate,
                "video_codec": f.video_codec,
                "audio_codec": f.audio_codec,
                "mod_time": f.mod_time,
                "fingerprints": _dumps([[fp.type, fp.value] for fp in f.fingerprints]),
            }
        )
    return rows


def link_rows(scene: Scene) -> tuple[list[dict], list[dict], list[dict]]:
    performers = [
        {"scene_id": scene.id, "position": i, "performer_id": pid}
        for i, pid in enumerate(scene.performer_ids)
    ]
    tags = [
        {"scene_id": scene.id, "position": i, "tag_id": tid} for i, tid in enumerate(scene.tag_ids)
    ]
    groups = [
        {"scene_id": scene.id, "position": i, "group_id": g.group_id, "scene_index": g.scene_index}
        for i, g in enumerate(scene.groups)
    ]
    return performers, tags, groups


def entity_row(record: Studio | Performer | Tag | Group) -> dict[str, Any]:
    # Entity tables have exactly the record's fields as columns.
    return {f.name: getattr(record, f.name) for f in fields(record)}


# --- rows -> records ---------------------------------------------------------------------------


def _loads(text: str | None) -> list[Any]:
    return json.loads(text) if text else []


def video_file(row: Mapping[str, Any]) -> VideoFile:
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
    row: Mapping[str, Any],
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


def entity(cls: type[E], row: Mapping[str, Any]) -> E:
    return cls(**{f.name: row[f.name] for f in fields(cls)})
