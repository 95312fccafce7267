"""GraphQL-shaped rows: plain dicts holding already-serialised values.

Rows are what the resolvers return and what the projecting executor copies from, so every
value here is already in its JSON form (ids as strings, times as RFC3339 text). Scene
rows compute their expensive parts (files, performers, ...) only when a query asks.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from .library import Library

CONTAINERS = {"mp4": "mp4", "m4v": "mp4", "mov": "mov", "mkv": "matroska", "wmv": "asf"}


class LazyRow(dict[str, Any]):
    """A dict whose missing keys are filled on first ``row[key]`` by ``_fill(key)``."""

    __slots__ = ("_fill",)

    def __missing__(self, key: str) -> Any:
        value = self._fill(key)
        self[key] = value
        return value


class Row(dict[str, Any]):
    """A finished row; its type tells the executor that it may be projected directly."""

    __slots__ = ()


ROW_TYPES = (LazyRow, Row)


class RowBuilder:
    """Builds rows for one request (image URLs depend on the request's Host)."""

    def __init__(self, lib: Library, base_url: str, api_key: str | None) -> None:
        self.lib = lib
        self.base = base_url
        self.api_key = api_key
        self.version = lib.version
        self.stamp = lib.fmt.stamp
        self._cache: dict[tuple[str, int], dict[str, Any] | None] = {}

    def _cached(self, kind: str, ident: int, build: Callable[[int], dict[str, Any]]) -> Any:
        key = (kind, ident)
        if key not in self._cache:
            self._cache[key] = build(ident)
        return self._cache[key]

    def _image(self, kind: str, ident: int, updated: int, has: bool, route: str = "image") -> str:
        url = f"{self.base}/{kind}/{ident}/{route}?t={updated}"
        return url if has else url + "&default=true"

    # -- scenes ----------------------------------------------------------------------------
    def scene(self, sid: int) -> LazyRow:
        raw = self.lib.raw_scene(sid)
        row = LazyRow(
            id=str(sid),
            title=raw["title"],
            code=raw["code"],
            details=raw["details"],
            director=raw["director"],
            date=raw["date"],
            rating100=raw["rating100"],
            organized=raw["organized"],
            o_counter=raw["o_counter"],
            interactive=False,
            interactive_speed=None,
            created_at=self.stamp(raw["created"]),
            updated_at=self.stamp(raw["updated"]),
        )
        row._fill = partial(self._scene_part, raw)
        return row

    def _scene_part(self, raw: dict[str, Any], key: str) -> Any:
        method = getattr(self, "_scene_" + key, None)
        if method is None:
            raise KeyError(key)
        return method(raw)

    def _scene_urls(self, raw: dict[str, Any]) -> list[str]:
        return list(raw["urls"])

    def _scene_files(self, raw: dict[str, Any]) -> list[dict[str, Any]]:
        return [self.file(fid) for fid in self.lib.file_ids(raw["id"])]

    def _scene_paths(self, raw: dict[str, Any]) -> LazyRow:
        paths = LazyRow()
        paths._fill = partial(self._scene_path, raw)
        return paths

    def _scene_path(self, raw: dict[str, Any], key: str) -> str:
        sid, base = raw["id"], self.base
        prefix = f"{base}/scene/{sid}"
        if key == "screenshot":
            return f"{prefix}/screenshot?t={raw['updated']}"
        if key == "stream":
            return f"{prefix}/stream" + (f"?apikey={self.api_key}" if self.api_key else "")
        if key in ("vtt", "sprite"):
            oshash = self.lib.base.file_detail(2 * sid - 1)["fingerprints"][0][1]
            suffix = "_thumbs.vtt" if key == "vtt" else "_sprite.jpg"
            return f"{base}/scene/{oshash}{suffix}"
        if key in ("preview", "webp", "funscript", "interactive_heatmap", "caption"):
            return f"{prefix}/{key}"
        raise KeyError(key)

    def _scene_studio(self, raw: dict[str, Any]) -> dict[str, Any] | None:
        sid = raw["studio_id"]
        return self.studio(sid) if sid in self.lib.studios else None

    def _scene_performers(self, raw: dict[str, Any]) -> list[dict[str, Any]]:
        return [self.performer(p) for p in self.lib.performer_ids(raw)]

    def _scene_tags(self, raw: dict[str, Any]) -> list[dict[str, Any]]:
        return [self.tag(t) for t in self.lib.tag_ids(raw["tag_ids"])]

    def _scene_groups(self, raw: dict[str, Any]) -> list[dict[str, Any]]:
        return [{"group": self.group(g), "scene_index": i} for g, i in self.lib.group_links(raw)]

    def _scene_movies(self, raw: dict[str, Any]) -> list[dict[str, Any]]:
        return [{"movie": self.movie(g), "scene_index": i} for g, i in self.lib.group_links(raw)]

    def _scene_scene_markers(self, raw: dict[str, Any]) -> list[dict[str, Any]]:
        return [self.marker(raw, m) for m in self.lib.markers(raw["id"])]

    def _scene_stash_ids(self, raw: dict[str, Any]) -> list[dict[str, Any]]:
        return [{"endpoint": e, "stash_id": s} for e, s in raw["stash_ids"]]

    def marker(self, raw: dict[str, Any], m: dict[str, Any]) -> LazyRow:
        sid, mid = raw["id"], m["id"]
        prefix = f"{self.base}/scene/{sid}/scene_marker/{mid}"
        row = LazyRow(
            id=str(mid),
            title=m["title"],
            seconds=m["seconds"],
            end_seconds=m["end_seconds"],
            primary_tag=self.tag(m["primary_tag_id"]),
            tags=[self.tag(t) for t in m["tag_ids"]],
            created_at=self.stamp(raw["created"]),
            updated_at=self.stamp(raw["created"]),
            stream=f"{prefix}/stream",
            preview=f"{prefix}/preview",
            screenshot=f"{prefix}/screenshot",
        )
        row._fill = lambda key: self.scene(sid) if key == "scene" else _missing(key)
        return row

    def file(self, fid: int) -> dict[str, Any]:
        lib = self.lib
        folder, name = lib.file_location(fid)
        d = lib.base.file_detail(fid)
        mod_time, created, updated = lib.file_times(fid)
        ext = name.rsplit(".", 1)[-1].lower()
        return Row(
            {
                "id": str(fid),
                "path": folder + lib.sep + name,
                "basename": name,
                "size": d["size"],
                "duration": d["duration"],
                "width": d["width"],
                "height": d["height"],
                "frame_rate": d["frame_rate"],
                "bit_rate": d["bit_rate"],
                "video_codec": d["video_codec"],
                "audio_codec": d["audio_codec"],
                "format": CONTAINERS.get(ext, ext),
                "mod_time": self.stamp(mod_time),
                "fingerprints": [{"type": t, "value": v} for t, v in d["fingerprints"]],
                "created_at": self.stamp(created),
                "updated_at": self.stamp(updated),
            }
        )

    # -- entities --------------------------------------------------------------------------
    def performer(self, pid: int) -> dict[str, Any]:
        return self._cached("performer", pid, self._performer)

    def _performer(self, pid: int) -> dict[str, Any]:
        p = self.lib.performers[pid]
        return Row(
            {
                "id": str(pid),
                "name": p["name"],
                "disambiguation": p["disambiguation"],
                "gender": p["gender"],
                "favorite": False,
                "alias_list": [],
                "image_path": self._image("performer", pid, p["updated"], p["image"]),
                "created_at": self.stamp(p["created"]),
                "updated_at": self.stamp(p["updated"]),
            }
        )

    def studio(self, sid: int) -> dict[str, Any]:
        return self._cached("studio", sid, self._studio)

    def _studio(self, sid: int) -> dict[str, Any]:
        s = self.lib.studios[sid]
        parent = s["parent_id"]
        row = Row(
            {
                "id": str(sid),
                "name": s["name"],
                "details": s["details"],
                "aliases": [],
                "image_path": self._image("studio", sid, s["updated"], s["image"]),
                "parent_studio": self.studio(parent) if parent in self.lib.studios else None,
                "created_at": self.stamp(s["created"]),
                "updated_at": self.stamp(s["updated"]),
            }
        )
        row["url"] = s["urls"][0] if s["urls"] else None
        if self.version.studio_urls:
            row["urls"] = list(s["urls"])
        return row

    def tag(self, tid: int) -> dict[str, Any]:
        return self._cached("tag", tid, self._tag)

    def _tag(self, tid: int) -> dict[str, Any]:
        t = self.lib.tags[tid]
        return Row(
            {
                "id": str(tid),
                "name": t["name"],
                "description": t["description"],
                "aliases": [],
                "image_path": self._image("tag", tid, t["updated"], t["image"]),
                "created_at": self.stamp(t["created"]),
                "updated_at": self.stamp(t["updated"]),
            }
        )

    def group(self, gid: int) -> dict[str, Any]:
        return self._cached("group", gid, partial(self._group, "group"))

    def movie(self, gid: int) -> dict[str, Any]:
        return self._cached("movie", gid, partial(self._group, "movie"))

    def _group(self, kind: str, gid: int) -> dict[str, Any]:
        g = self.lib.groups[gid]
        back = self._image(kind, gid, g["updated"], True, "backimage") if g["back"] else None
        row = Row(
            {
                "id": str(gid),
                "name": g["name"],
                "date": g["date"],
                "synopsis": g["synopsis"],
                "director": g["director"],
                "studio": self.studio(g["studio_id"])
                if g["studio_id"] in self.lib.studios
                else None,
                "front_image_path": self._image(kind, gid, g["updated"], g["front"], "frontimage"),
                "back_image_path": back,
                "created_at": self.stamp(g["created"]),
                "updated_at": self.stamp(g["updated"]),
            }
        )
        if kind == "group":
            row["urls"] = []
        else:
            row["url"] = None
        return row


def _missing(key: str) -> Any:
    raise KeyError(key)
