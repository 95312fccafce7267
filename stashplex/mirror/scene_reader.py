"""Reading the mirror: scenes back into records, and the related entities they need."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import Connection, Table, func, select

from stashplex.mirror import models, rows
from stashplex.plex.mapping import network_of, tag_ancestors
from stashplex.records import (
    Group,
    Performer,
    Scene,
    SceneBundle,
    SceneGroup,
    Studio,
    Tag,
    VideoFile,
)

_CHUNK = 500  # ids per IN (...) query
T = TypeVar("T")


def chunks(ids: Sequence[T], size: int = _CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def marked_chunks(values: Iterable[T]) -> Iterator[tuple[str, tuple[T, ...]]]:
    """The distinct values in slices for a driver-level `IN (...)`: (the `?, ?, …` marks, the
    slice), each under SQLite's variable limit."""
    for chunk in chunks(list(dict.fromkeys(values))):
        yield ", ".join("?" * len(chunk)), tuple(chunk)


@dataclass
class EntityCache:
    """All related entities in memory: small next to the scenes, and read on every render."""

    studios: dict[int, Studio] = field(default_factory=dict)
    performers: dict[int, Performer] = field(default_factory=dict)
    tags: dict[int, Tag] = field(default_factory=dict)
    groups: dict[int, Group] = field(default_factory=dict)
    # Ids that scenes link to but Stash no longer has: not asked for again in this pass.
    absent: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))

    def of(self, kind_name: str) -> dict[int, Any]:
        by_kind: dict[str, dict[int, Any]] = {
            "studio": self.studios,
            "performer": self.performers,
            "tag": self.tags,
            "group": self.groups,
        }
        return by_kind[kind_name]

    @classmethod
    def load(cls, connection: Connection) -> EntityCache:
        return cls(
            studios=_all(connection, models.studios, Studio),
            performers=_all(connection, models.performers, Performer),
            tags=_all(connection, models.tags, Tag),
            groups=_all(connection, models.groups, Group),
        )

    def bundle(self, scene: Scene) -> SceneBundle:
        """The scene with its entities resolved; ids the mirror does not know are left out."""
        studio = self.studios.get(scene.studio_id) if scene.studio_id else None
        parent = self.studios.get(studio.parent_id) if studio and studio.parent_id else None
        tags = tuple(self.tags[t] for t in scene.tag_ids if t in self.tags)
        return SceneBundle(
            scene=scene,
            studio=studio,
            parent_studio=parent,
            network=network_of(studio, self.studios) if studio is not None else None,
            performers=tuple(
                self.performers[p] for p in scene.performer_ids if p in self.performers
            ),
            tags=tags,
            groups=tuple(
                (self.groups[g.group_id], g.scene_index)
                for g in scene.groups
                if g.group_id in self.groups
            ),
            tag_parents=tag_ancestors(tags, self.tags),
        )

    def tags_below(self, ids: Iterable[int]) -> set[int]:
        """These tags and every tag under them (whose documents show them as parent tags)."""
        children: dict[int, list[int]] = defaultdict(list)
        for tag in self.tags.values():
            for parent in tag.parent_ids:
                children[parent].append(tag.id)
        found, todo = set(ids), list(ids)
        while todo:
            for child in children.get(todo.pop(), ()):
                if child not in found:
                    found.add(child)
                    todo.append(child)
        return found

    def missing(self, scenes: Iterable[Scene]) -> dict[str, set[int]]:
        """Entity ids referenced by these scenes that the cache does not hold."""
        found: dict[str, set[int]] = defaultdict(set)
        for scene in scenes:
            if scene.studio_id and scene.studio_id not in self.studios:
                found["studio"].add(scene.studio_id)
            found["performer"].update(p for p in scene.performer_ids if p not in self.performers)
            found["tag"].update(t for t in scene.tag_ids if t not in self.tags)
            found["group"].update(g.group_id for g in scene.groups if g.group_id not in self.groups)
        for studio in self.studios.values():
            if studio.parent_id and studio.parent_id not in self.studios:
                found["studio"].add(studio.parent_id)
        return {k: v - self.absent[k] for k, v in found.items() if v - self.absent[k]}


def _all(connection: Connection, table: Table, record: type[rows.E]) -> dict[int, rows.E]:
    return {
        row["id"]: rows.entity(record, row) for row in connection.execute(select(table)).mappings()
    }


def _by_id(
    connection: Connection, table: Table, record: type[rows.E], ids: Iterable[int]
) -> dict[int, rows.E]:
    wanted = list(ids)
    if not wanted:
        return {}
    query = select(table).where(table.c.id.in_(wanted))
    return {row["id"]: rows.entity(record, row) for row in connection.execute(query).mappings()}


def load_bundle(connection: Connection, scene_id: int) -> SceneBundle | None:
    """One mirrored scene with the entities it shows, read for it alone (a request, not a pass)."""
    found = load_scenes(connection, [scene_id])
    if not found:
        return None
    scene = found[0]
    studios = _by_id(
        connection, models.studios, Studio, [scene.studio_id] if scene.studio_id else []
    )
    studio = studios.get(scene.studio_id) if scene.studio_id else None
    if studio is not None and studio.parent_id:
        studios.update(_by_id(connection, models.studios, Studio, [studio.parent_id]))
    return EntityCache(
        studios=studios,
        performers=_by_id(connection, models.performers, Performer, scene.performer_ids),
        tags=_by_id(connection, models.tags, Tag, scene.tag_ids),
        groups=_by_id(connection, models.groups, Group, [g.group_id for g in scene.groups]),
    ).bundle(scene)


def load_scenes(connection: Connection, ids: Sequence[int]) -> list[Scene]:
    """Mirrored scenes as records, in the order of `ids` (missing ids are skipped)."""
    result: dict[int, Scene] = {}
    for chunk in chunks(list(ids)):
        scene_rows = {
            row["id"]: row
            for row in connection.execute(
                select(models.scenes).where(models.scenes.c.id.in_(chunk))
            ).mappings()
        }
        if not scene_rows:
            continue
        present = list(scene_rows)
        files: dict[int, list[VideoFile]] = defaultdict(list)
        for file_row in connection.execute(
            select(models.files)
            .where(models.files.c.scene_id.in_(present))
            .order_by(models.files.c.scene_id, models.files.c.position)
        ).mappings():
            files[file_row["scene_id"]].append(rows.video_file(file_row))
        performers = _links(connection, models.scene_performers, "performer_id", present)
        tags = _links(connection, models.scene_tags, "tag_id", present)
        groups: dict[int, list[SceneGroup]] = defaultdict(list)
        link = models.scene_groups
        for link_row in connection.execute(
            select(link.c.scene_id, link.c.group_id, link.c.scene_index)
            .where(link.c.scene_id.in_(present))
            .order_by(link.c.scene_id, link.c.position)
        ):
            groups[link_row.scene_id].append(SceneGroup(link_row.group_id, link_row.scene_index))
        for scene_id, row in scene_rows.items():
            result[scene_id] = rows.scene(
                row, files[scene_id], performers[scene_id], tags[scene_id], groups[scene_id]
            )
    return [result[i] for i in ids if i in result]


def _links(
    connection: Connection, table: Table, column: str, scene_ids: list[int]
) -> dict[int, list[int]]:
    found: dict[int, list[int]] = defaultdict(list)
    for scene_id, entity_id in connection.execute(
        select(table.c.scene_id, table.c[column])
        .where(table.c.scene_id.in_(scene_ids))
        .order_by(table.c.scene_id, table.c.position)
    ):
        found[scene_id].append(entity_id)
    return found


def scenes_linked_to(connection: Connection, kind_name: str, entity_ids: Iterable[int]) -> set[int]:
    """Scenes whose document shows one of these entities (for studios: also as a parent or
    the network)."""
    ids = list(set(entity_ids))
    found: set[int] = set()
    if not ids:
        return found
    for chunk in chunks(ids):
        if kind_name == "studio":
            # The studio, and every studio below it: documents show the parent and the network
            # (the top of the chain). UNION, not UNION ALL, so a cycle in bad data ends.
            studios = models.studios
            below = select(studios.c.id).where(studios.c.id.in_(chunk)).cte(recursive=True)
            below = below.union(select(studios.c.id).where(studios.c.parent_id == below.c.id))
            query = select(models.scenes.c.id).where(
                models.scenes.c.studio_id.in_(chunk)
                | models.scenes.c.studio_id.in_(select(below.c.id))
            )
        else:
            table, column = {
                "performer": (models.scene_performers, "performer_id"),
                "tag": (models.scene_tags, "tag_id"),
                "group": (models.scene_groups, "group_id"),
            }[kind_name]
            query = select(table.c.scene_id).where(table.c[column].in_(chunk)).distinct()
        found.update(connection.execute(query).scalars())
    return found


def gate_counts(connection: Connection, gates: Iterable[str]) -> dict[str, int]:
    """How many mirrored scenes each of these gates (`plex.mapping.GATES`) hides from Plex (a
    scene failing two counts under both); a scan of the scenes, for the status page."""
    scenes = models.scenes
    fails = {
        "organized": scenes.c.organized.is_not(True),
        "stash_id": scenes.c.stash_ids.is_(None),
        "url": scenes.c.urls.is_(None),
    }
    return {
        gate: connection.execute(
            select(func.count()).select_from(scenes).where(fails[gate])
        ).scalar_one()
        for gate in gates
    }
