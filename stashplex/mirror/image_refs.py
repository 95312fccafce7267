"""Every image the mirror knows Stash has, by kind, id and version (for the cache prefetch).

Read in keyset pages per kind: performers, studios and groups with a real image (a version;
none means Stash's default picture), then scenes, newest first (the ones Plex shows first).
Scenes whose cover was checked at their current version and found missing (`posters` row
`no_cover`) are left out: Stash would only answer its placeholder.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

from stashplex.mirror.db import Database
from stashplex.mirror.lookups import ImageKind

PAGE = 1000
KINDS: tuple[ImageKind, ...] = ("performer", "studio", "group", "scene")

_SQL = {
    "performer": (
        "SELECT id, image_version FROM performers WHERE image_version IS NOT NULL AND id > ? "
        "ORDER BY id LIMIT ?"
    ),
    "studio": (
        "SELECT id, image_version FROM studios WHERE image_version IS NOT NULL AND id > ? "
        "ORDER BY id LIMIT ?"
    ),
    "group": (
        "SELECT id, front_image_version FROM groups WHERE front_image_version IS NOT NULL "
        "AND id > ? ORDER BY id LIMIT ?"
    ),
    # Newest first: keyset on id going down.
    "scene": (
        "SELECT s.id, s.screenshot_version FROM scenes AS s LEFT JOIN posters AS p "
        "ON p.scene_id = s.id WHERE s.id < ? AND NOT (p.state IS 'no_cover' "
        "AND p.scene_version IS s.screenshot_version) ORDER BY s.id DESC LIMIT ?"
    ),
}
_FIRST = {"performer": 0, "studio": 0, "group": 0, "scene": 2**63 - 1}


class ImageRef(NamedTuple):
    kind: ImageKind
    id: int
    version: str | None


def image_refs(db: Database, page: int = PAGE) -> Iterator[ImageRef]:
    """Every image to have, a page of rows per read (no connection held in between)."""
    for kind in KINDS:
        after = _FIRST[kind]
        while True:
            with db.reader.connect() as connection:
                rows = connection.exec_driver_sql(_SQL[kind], (after, page)).all()
            for entity_id, version in rows:
                yield ImageRef(kind, entity_id, version)
            if len(rows) < page:
                break
            after = rows[-1][0]
