"""What each Stash release's API offers that stashplex could use, by version: one table.

Read from every release's graphql/schema (stash-api.md). A document the client sends names only
what the running Stash has (`operations.NEEDS`), so this table decides which document goes out.
A build that is not a release (no version, or `v0.26.2-40-gabc`: commits after a tag that may
already have the next release's changes) is asked through introspection instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

Version = tuple[int, int, int]


@dataclass(frozen=True, slots=True)
class Features:
    # `ids: [ID!]` on findScenes/Performers/Studios/Movies/Tags; before it
    # `findScenes(scene_ids: [Int!])`, `findPerformers(performer_ids: [Int!])` and no id list
    # on studios, movies or tags.
    id_lists: bool = True
    # SystemStatus.ffmpegPath / ffprobePath.
    ffmpeg_path: bool = True
    # Group, findGroups, Scene.groups, /group/{id}/frontimage; movies before (kept, deprecated).
    groups: bool = True
    # SceneMarker.end_seconds.
    marker_end: bool = True
    # Studio.urls (Studio.url before).
    studio_urls: bool = True

    def names(self) -> list[str]:
        return [f.name for f in fields(self) if getattr(self, f.name)]


# The first release with each feature.
SINCE: dict[str, Version] = {
    "id_lists": (0, 25, 0),
    "ffmpeg_path": (0, 26, 0),
    "groups": (0, 27, 0),
    "marker_end": (0, 28, 0),
    "studio_urls": (0, 30, 0),
}

# Where introspection shows each feature: (type, field, argument or None).
WITNESS: dict[str, tuple[str, str, str | None]] = {
    "id_lists": ("Query", "findScenes", "ids"),
    "ffmpeg_path": ("SystemStatus", "ffmpegPath", None),
    "groups": ("Scene", "groups", None),
    "marker_end": ("SceneMarker", "end_seconds", None),
    "studio_urls": ("Studio", "urls", None),
}
# The aliases of the `Features` operation, by type.
INTROSPECTED = {
    "Query": "query",
    "SystemStatus": "status",
    "Scene": "scene",
    "SceneMarker": "marker",
    "Studio": "studio",
}

NEWEST = Features()


def for_version(version: Version) -> Features:
    """The features of a release."""
    return Features(**{name: version >= since for name, since in SINCE.items()})


def from_schema(data: Mapping[str, Any]) -> Features | None:
    """The features an answer to the `Features` operation shows; None if it shows nothing
    (introspection turned off, or an answer of the wrong shape)."""
    found: dict[str, set[str]] = {}
    for type_name, alias in INTROSPECTED.items():
        described = data.get(alias)
        if not isinstance(described, dict) or not isinstance(described.get("fields"), list):
            return None
        names = found.setdefault(type_name, set())
        for field in described["fields"]:
            if not isinstance(field, dict) or not isinstance(field.get("name"), str):
                continue
            names.add(field["name"])
            for arg in field.get("args") or ():
                if isinstance(arg, dict) and isinstance(arg.get("name"), str):
                    names.add(f"{field['name']}({arg['name']})")
    has = {
        name: (f"{field}({arg})" if arg else field) in found[type_name]
        for name, (type_name, field, arg) in WITNESS.items()
    }
    return replace(NEWEST, **has)
