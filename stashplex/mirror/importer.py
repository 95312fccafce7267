"""Putting scenes fetched from Stash into the mirror, with whatever entities they link to.

Shared by the syncer (page by page) and the responder's live fallback (one scene at a time).
"""

from __future__ import annotations

from collections.abc import Sequence

from stashplex.mirror.kinds import entity_kinds
from stashplex.mirror.writer import MirrorWriter, PageResult
from stashplex.records import Scene
from stashplex.stash.client import StashClient


def fetch_missing_entities(
    client: StashClient, writer: MirrorWriter, scenes: Sequence[Scene]
) -> None:
    """Entities the scenes link to that the mirror lacks (created since the last entity pass):
    fetch them one by one. Ids Stash no longer has are remembered and simply not shown."""
    cache = writer.cache
    for _ in range(3):  # a new studio's parent may be new as well
        missing = cache.missing(scenes)
        if not missing:
            return
        for kind in entity_kinds(client.legacy):
            ids = missing.get(kind.name)
            if not ids:
                continue
            found = []
            for entity_id in sorted(ids):
                data = client.execute(kind.find_one, {"id": str(entity_id)})
                if data.get(kind.one_root) is not None:
                    found.append(kind.parse(data[kind.one_root]))
            writer.apply_entities(kind, found)
            cache.absent[kind.name].update(ids - {r.id for r in found})


def import_scenes(
    client: StashClient,
    writer: MirrorWriter,
    scenes: Sequence[Scene],
    *,
    prune: tuple[int, int] | None = None,
    state: dict[str, str | None] | None = None,
) -> PageResult:
    fetch_missing_entities(client, writer, scenes)
    return writer.apply_scenes(scenes, prune=prune, state=state)
