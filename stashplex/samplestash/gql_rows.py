"""GraphQL-shaped rows: plain dicts holding already-serialised values.

Rows are what the resolvers return and what the projecting executor copies from, so every
value here is already in its JSON form (ids as strings, times as RFC3339 text). Scene
rows compute their expensive parts (files, performers, ...) only when a query asks.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from .library import Library, NotFound

CONTAINERS = {"mp4": "mp4", "m4v": "mp4", "mov": "mov", "mkv": "matroska", "wmv": "asf"}


class LazyRow(dict[str, Any]):
    """A dict whose missing keys are filled on first ``row[key]``.

    ``_fill(row, key)`` stores ``key`` (usually with the other keys computed from the same
    source, so one lookup pays for a group of fields).
    """

    __slots__ = ("_fill",)
    _fill: Callable[[LazyRow, str], None]

    def __missing__(self, key: str) -> Any:
        self._fill(self, key)
        value = dict.get(self, key, _ABSENT)  # dict.get: no second __missing__
        if value is _ABSENT:
            raise KeyError(key)
        return value


_ABSENT = object()


class Row(dict[str, Any]):
    """A finished row; its type tells the executor that it may be projected directly."""

    __slots__ = ()


ROW_TYPES = (LazyRow, Row)


class RowBuilder:
    """Builds rows for one request (image URLs depend on the request's Host)."""

    def __init__(
        self,
        lib: Library,
        base_url: str,
        api_key: str | None,
        shared: dict[tuple[str, int], Any] | None = None,
        group_route: str = "group",
    ) -> None:
        self.lib = lib
        self.group_route = group_route  # movies and groups share the route of the version
        self.base = base_url
        self.api_key = api_key
        self.stamp = lib.fmt.stamp
        # Entity rows never change until the library does: callers may share this cache
        # between requests with the same base URL and library generation.
        self._cache: dict[tuple[str, int], Any] = {} if shared is None else shared

    def _cached(self, kind: str, ident: int, build: Callable[[int], dict[str, Any]]) -> Any:
        key = (kind, ident)
        row = self._cache.get(key)
        if row is None:
            row = self._cache[key] = build(ident)
        return row

    def _image(self, kind: str, ident: int, updated: int, has: bool, route: str = "image") -> str:
        url = f"{self.base}/{kind}/{ident}/{route}?t={updated}"
        return url if has else url + "&default=true"

    # -- scenes ----------------------------------------------------------------------------
    def scene(self, sid: int) -> LazyRow:
        """A scene row; nothing but the id is computed until a field is read."""
        if not self.lib.exists(sid):
            raise NotFound(f"scene with id {sid} not found")
        row = LazyRow(id=str(sid))
        row._fill = partial(self._fill_scene, _SceneSource(self.lib, sid))
        return row

    def _fill_scene(self, src: _SceneSource, row: LazyRow, key: str) -> None:
        group = _SCENE_GROUPS.get(key)
        if group is not None:
            getattr(self, group)(src, row)

    def _scene_scalars(self, src: _SceneSource, row: LazyRow) -> None:
        raw = src.raw
        row.update(
            title=raw["title"],
            code=raw["code"],
            details=raw["details"],
            director=raw["director"],
            urls=list(raw["urls"]),
            date=raw["date"],
            rating100=raw["rating100"],
            organized=raw["organized"],
            o_counter=raw["o_counter"],
            interactive=False,
            interactive_speed=None,
            created_at=self.stamp(raw["created"]),
            updated_at=self.stamp(raw["updated"]),
            stash_ids=[{"endpoint": e, "stash_id": s} for e, s in raw["stash_ids"]],
        )

    def _scene_files(self, src: _SceneSource, row: LazyRow) -> None:
        row["files"] = [self.file(fid) for fid in self.lib.file_ids(src.sid)]

    def _scene_paths(self, src: _SceneSource, row: LazyRow) -> None:
        paths = LazyRow()
        paths._fill = partial(self._scene_path, src.sid)
        row["paths"] = paths

    def _scene_path(self, sid: int, paths: LazyRow, key: str) -> None:
        base = self.base
        prefix = f"{base}/scene/{sid}"
        if key == "screenshot":
            paths[key] = f"{prefix}/screenshot?t={self.lib.updated(sid)}"
        elif key == "stream":
            paths[key] = f"{prefix}/stream" + (f"?apikey={self.api_key}" if self.api_key else "")
        elif key in ("vtt", "sprite"):
            oshash = self.lib.base.file_detail(2 * sid - 1)["fingerprints"][0][1]
            suffix = "_thumbs.vtt" if key == "vtt" else "_sprite.jpg"
            paths[key] = f"{base}/scene/{oshash}{suffix}"
        elif key in ("preview", "webp", "funscript", "interactive_heatmap", "caption"):
            paths[key] = f"{prefix}/{key}"

    def _scene_links(self, src: _SceneSource, row: LazyRow) -> None:
        raw, lib = src.raw, self.lib
        row["studio"] = self.studio(raw["studio_id"]) if raw["studio_id"] in lib.studios else None
        row["performers"] = [self.performer(p) for p in lib.performer_ids(raw)]
        row["tags"] = [self.tag(t) for t in lib.tag_ids(raw["tag_ids"])]

    def _scene_groups(self, src: _SceneSource, row: LazyRow) -> None:
        links = self.lib.group_links(src.raw)
        row["groups"] = [{"group": self.group(g), "scene_index": i} for g, i in links]
        row["movies"] = [{"movie": self.movie(g), "scene_index": i} for g, i in links]

    def _scene_markers(self, src: _SceneSource, row: LazyRow) -> None:
        row["scene_markers"] = [self.marker(src.raw, m) for m in self.lib.markers(src.sid)]

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
        row._fill = partial(self._marker_scene, sid)
        return row

    def _marker_scene(self, sid: int, row: LazyRow, key: str) -> None:
        if key == "scene":
            row["scene"] = self.scene(sid)

    def file(self, fid: int) -> LazyRow:
        row = LazyRow(id=str(fid))
        row._fill = partial(self._fill_file, fid)
        return row

    def _fill_file(self, fid: int, row: LazyRow, key: str) -> None:
        lib = self.lib
        group = _FILE_GROUPS.get(key)
        if group == "location":
            folder, name = lib.file_location(fid)
            ext = name.rsplit(".", 1)[-1].lower()
            row.update(path=folder + lib.sep + name, basename=name, format=CONTAINERS.get(ext, ext))
        elif group == "detail":
            d = lib.base.file_detail(fid)
            row.update(
                size=d["size"],
                duration=d["duration"],
                width=d["width"],
                height=d["height"],
                frame_rate=d["frame_rate"],
                bit_rate=d["bit_rate"],
                video_codec=d["video_codec"],
                audio_codec=d["audio_codec"],
                fingerprints=[{"type": t, "value": v} for t, v in d["fingerprints"]],
            )
        elif group == "times":
            mod_time, created, updated = lib.file_times(fid)
            row.update(
                mod_time=self.stamp(mod_time),
                created_at=self.stamp(created),
                updated_at=self.stamp(updated),
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
        # Both: the served schema decides which one a client may select (urls from v0.30).
        row["url"] = s["urls"][0] if s["urls"] else None
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
                "parents": [self.tag(p) for p in t.get("parent_ids", ()) if p in self.lib.tags],
                "created_at": self.stamp(t["created"]),
                "updated_at": self.stamp(t["updated"]),
            }
        )

    def group(self, gid: int) -> dict[str, Any]:
        return self._cached("group", gid, self._group)

    def movie(self, gid: int) -> dict[str, Any]:
        """The same row: Stash's Movie and Group differ in name (and `url`, kept on both)."""
        return self.group(gid)

    def _group(self, gid: int) -> dict[str, Any]:
        g = self.lib.groups[gid]
        route = self.group_route
        back = self._image(route, gid, g["updated"], True, "backimage") if g["back"] else None
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
                "front_image_path": self._image(route, gid, g["updated"], g["front"], "frontimage"),
                "back_image_path": back,
                "created_at": self.stamp(g["created"]),
                "updated_at": self.stamp(g["updated"]),
            }
        )
        # Movies kept `url` next to the groups' `urls` from v0.27 (the schema picks what shows).
        row["urls"] = []
        row["url"] = None
        return row


class _SceneSource:
    """One scene's raw fields, computed on first use and shared by its row's groups."""

    __slots__ = ("_raw", "lib", "sid")

    def __init__(self, lib: Library, sid: int) -> None:
        self.lib, self.sid = lib, sid
        self._raw: dict[str, Any] | None = None

    @property
    def raw(self) -> dict[str, Any]:
        if self._raw is None:
            self._raw = self.lib.raw_scene(self.sid)
        return self._raw


_SCENE_GROUPS = {
    **dict.fromkeys(
        ("title", "code", "details", "director", "urls", "date", "rating100", "organized",
         "o_counter", "interactive", "interactive_speed", "created_at", "updated_at",
         "stash_ids"),
        "_scene_scalars",
    ),
    "files": "_scene_files",
    "paths": "_scene_paths",
    **dict.fromkeys(("studio", "performers", "tags"), "_scene_links"),
    **dict.fromkeys(("groups", "movies"), "_scene_groups"),
    "scene_markers": "_scene_markers",
}  # fmt: skip
_FILE_GROUPS = {
    **dict.fromkeys(("path", "basename", "format"), "location"),
    **dict.fromkeys(
        ("size", "duration", "width", "height", "frame_rate", "bit_rate", "video_codec",
         "audio_codec", "fingerprints"),
        "detail",
    ),
    **dict.fromkeys(("mod_time", "created_at", "updated_at"), "times"),
}  # fmt: skip
