"""Root Query/Mutation resolvers; everything below the root is plain rows (see rows.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from graphql import GraphQLResolveInfo, GraphQLSchema

from .filters import FilterError
from .gql_rows import RowBuilder
from .library import Library, NotFound
from .query import SceneQuery, find_entities, parse_ids


@dataclass
class Context:
    lib: Library
    rows: RowBuilder


def _ctx(info: GraphQLResolveInfo) -> Context:
    return info.context


def _one_id(value: Any) -> int:
    return parse_ids([value])[0]


def find_scene(_src: Any, info: GraphQLResolveInfo, id: Any = None, checksum: Any = None) -> Any:
    ctx = _ctx(info)
    lib = ctx.lib
    if id is not None:
        sid = _one_id(id)
        return ctx.rows.scene(sid) if lib.exists(sid) else None
    if checksum:
        for sid in lib.iter_ids():
            for fid in lib.file_ids(sid):
                if any(v == checksum for t, v in lib.base.file_detail(fid)["fingerprints"]):
                    return ctx.rows.scene(sid)
    return None


def find_scenes(
    _src: Any,
    info: GraphQLResolveInfo,
    scene_filter: Any = None,
    scene_ids: Any = None,
    ids: Any = None,
    filter: Any = None,
) -> dict[str, Any]:
    ctx = _ctx(info)
    wanted = ids or ([str(i) for i in scene_ids] if scene_ids else None)
    q = SceneQuery(ctx.lib, scene_filter, filter, wanted)
    totals = cache(q.totals)
    # Thunks: Stash computes count/duration/filesize only when they are selected.
    return {
        "count": lambda _info: q.count(),
        "duration": lambda _info: totals()[0],
        "filesize": lambda _info: totals()[1],
        "scenes": lambda _info: [ctx.rows.scene(s) for s in q.page()],
    }


def _finder(kind: str, list_key: str, row: Callable[[RowBuilder, int], Any]) -> Callable[..., Any]:
    table_kind = "group" if kind == "movie" else kind

    def resolve(_src: Any, info: GraphQLResolveInfo, filter: Any = None, **kwargs: Any) -> Any:
        ctx = _ctx(info)
        entity_filter = kwargs.get(f"{kind}_filter")
        ids = kwargs.get("ids") or (
            [str(i) for i in kwargs["performer_ids"]] if kwargs.get("performer_ids") else None
        )
        page, count = find_entities(ctx.lib, table_kind, entity_filter, filter, ids)
        return {
            "count": lambda _info: count(),
            list_key: lambda _info: [row(ctx.rows, e["id"]) for e in page],
        }

    return resolve


def _getter(kind: str, row: Callable[[RowBuilder, int], Any]) -> Callable[..., Any]:
    table_kind = "group" if kind == "movie" else kind

    def resolve(_src: Any, info: GraphQLResolveInfo, id: Any) -> Any:
        ctx = _ctx(info)
        ident = _one_id(id)
        return row(ctx.rows, ident) if ident in ctx.lib.table(table_kind) else None

    return resolve


def system_status(_src: Any, info: GraphQLResolveInfo) -> dict[str, Any]:
    lib = _ctx(info).lib
    windows = lib.os_name == "windows"
    home = "C:\\Users\\stash" if windows else "/root"
    config = home + ("\\.stash" if windows else "/.stash")
    sep = "\\" if windows else "/"
    return {
        "databaseSchema": lib.version.app_schema,
        "databasePath": config + sep + "stash-go.sqlite",
        "configPath": config + sep + "config.yml",
        "appSchema": lib.version.app_schema,
        "status": lib.status,
        "os": lib.os_name,
        "workingDir": config,
        "homeDir": home,
        "ffmpegPath": config + sep + ("ffmpeg.exe" if windows else "ffmpeg"),
        "ffprobePath": config + sep + ("ffprobe.exe" if windows else "ffprobe"),
    }


def configuration(_src: Any, info: GraphQLResolveInfo) -> dict[str, Any]:
    lib = _ctx(info).lib

    def plugins(_info: GraphQLResolveInfo, include: list[str] | None = None) -> dict[str, Any]:
        with lib.lock:
            return {
                plugin: dict(values)
                for plugin, values in lib.plugin_settings.items()
                if include is None or plugin in include
            }

    return {"plugins": plugins}


def version(_src: Any, info: GraphQLResolveInfo) -> dict[str, Any]:
    lib = _ctx(info).lib
    return {
        "version": lib.reported_version,
        "hash": "5a5a5a5a",
        "build_time": "2025-01-01 00:00:00",
    }


# -- mutations ------------------------------------------------------------------------------


def scene_update(_src: Any, info: GraphQLResolveInfo, input: dict[str, Any]) -> Any:
    ctx = _ctx(info)
    sid = _one_id(input["id"])
    fields: dict[str, Any] = {}
    for key in ("title", "code", "details", "director", "urls", "date", "rating100", "organized"):
        if key in input:
            fields[key] = input[key]
    if "studio_id" in input:
        fields["studio_id"] = None if input["studio_id"] is None else _one_id(input["studio_id"])
    for key in ("performer_ids", "tag_ids"):
        if key in input:
            fields[key] = parse_ids(input[key] or [])
    for key, id_key in (("groups", "group_id"), ("movies", "movie_id")):
        if input.get(key) is not None:
            fields["groups"] = [(_one_id(g[id_key]), g.get("scene_index")) for g in input[key]]
    ctx.lib.edit_scene(sid, **fields)
    if input.get("cover_image"):
        ctx.lib.set_cover(sid)
    return ctx.rows.scene(sid)


def scene_destroy(_src: Any, info: GraphQLResolveInfo, input: dict[str, Any]) -> bool:
    _ctx(info).lib.delete_scene(_one_id(input["id"]))
    return True


def _entity_update(kind: str, row: Callable[[RowBuilder, int], Any]) -> Callable[..., Any]:
    def resolve(_src: Any, info: GraphQLResolveInfo, input: dict[str, Any]) -> Any:
        ctx = _ctx(info)
        ident = _one_id(input["id"])
        image = None if "image" not in input else bool(input["image"])
        ctx.lib.update_entity(
            kind,
            ident,
            name=input.get("name"),
            disambiguation=input.get("disambiguation"),
            image=image,
        )
        return row(ctx.rows, ident)

    return resolve


def performer_destroy(_src: Any, info: GraphQLResolveInfo, input: dict[str, Any]) -> bool:
    _ctx(info).lib.delete_performer(_one_id(input["id"]))
    return True


def tag_destroy(_src: Any, info: GraphQLResolveInfo, input: dict[str, Any]) -> bool:
    _ctx(info).lib.delete_tag(_one_id(input["id"]))
    return True


def tags_merge(_src: Any, info: GraphQLResolveInfo, input: dict[str, Any]) -> Any:
    ctx = _ctx(info)
    destination = _one_id(input["destination"])
    ctx.lib.merge_tags(parse_ids(input["source"]), destination)
    return ctx.rows.tag(destination)


def move_files(_src: Any, info: GraphQLResolveInfo, input: dict[str, Any]) -> bool:
    lib = _ctx(info).lib
    if input.get("destination_folder_id") is not None:
        raise FilterError("destination_folder_id is not supported by the sample Stash")
    ids = parse_ids(input["ids"])
    basename = input.get("destination_basename")
    if basename and len(ids) != 1:
        raise FilterError("destination_basename is only valid for a single file")
    for fid in ids:
        lib.move_file(fid, input.get("destination_folder"), basename)
    return True


def _rows(method: str) -> Callable[[RowBuilder, int], Any]:
    return lambda rows, ident: getattr(rows, method)(ident)


QUERY: dict[str, Callable[..., Any]] = {
    "findScene": find_scene,
    "findScenes": find_scenes,
    "findPerformer": _getter("performer", _rows("performer")),
    "findPerformers": _finder("performer", "performers", _rows("performer")),
    "findStudio": _getter("studio", _rows("studio")),
    "findStudios": _finder("studio", "studios", _rows("studio")),
    "findTag": _getter("tag", _rows("tag")),
    "findTags": _finder("tag", "tags", _rows("tag")),
    "findGroup": _getter("group", _rows("group")),
    "findGroups": _finder("group", "groups", _rows("group")),
    "findMovie": _getter("movie", _rows("movie")),
    "findMovies": _finder("movie", "movies", _rows("movie")),
    "systemStatus": system_status,
    "configuration": configuration,
    "version": version,
}
MUTATION: dict[str, Callable[..., Any]] = {
    "sceneUpdate": scene_update,
    "sceneDestroy": scene_destroy,
    "performerUpdate": _entity_update("performer", _rows("performer")),
    "performerDestroy": performer_destroy,
    "studioUpdate": _entity_update("studio", _rows("studio")),
    "tagUpdate": _entity_update("tag", _rows("tag")),
    "tagDestroy": tag_destroy,
    "tagsMerge": tags_merge,
    "moveFiles": move_files,
}
ERRORS = (FilterError, NotFound, ValueError)


def attach(schema: GraphQLSchema) -> GraphQLSchema:
    """Install the root resolvers on a freshly built schema (idempotent)."""
    for root, table in ((schema.query_type, QUERY), (schema.mutation_type, MUTATION)):
        if root is None:
            continue
        for name, field in root.fields.items():
            field.resolve = table[name]
    return schema
