"""Keeping the TV tables (`tv_episodes`, `tv_shows`) in step with the mirrored scenes.

The tables hold one layout, a `[tv] show_by` mode, named in `sync_state` under LAYOUT_STATE.
The writer places the scenes it writes (and those whose studios or groups changed) only while
that layout is live; the syncer builds the whole layout in one sorted pass when there is none
or the setting changed (`rebuild`), so a first full sync numbers each day's episodes by title.

An episode keeps its index while it stays in the same show, season and day (see
`plex.tv_shape`); only a scene that moves, or is new, takes a new one.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from sqlalchemy import Connection, select

from stashplex.mirror import models
from stashplex.mirror.documents import BASE_TOKEN
from stashplex.mirror.scene_reader import EntityCache, chunks, load_scenes
from stashplex.plex import pathkeys, tv_shape
from stashplex.plex.identity import SPECIALS, ShowKind, show_rating_key
from stashplex.plex.mapping import MappingOptions, hidden_by, scene_title
from stashplex.plex.tv_shape import Placement
from stashplex.records import Group, Scene, SceneGroup, StashId, Studio, VideoFile
from stashplex.settings import SHOW_BY, ShowBy, show_by_of

log = logging.getLogger(__name__)

LAYOUT_STATE = "tv_layout"
# Bump when the placement rules change: every layout is then built again.
LAYOUT_REVISION = 1

_INSERT_EPISODE = (
    "INSERT INTO tv_episodes (scene_id, show, season, idx, aired, title) VALUES (?, ?, ?, ?, ?, ?)"
)
_UPSERT_SHOW = (
    "INSERT INTO tv_shows (show, title, title_key) VALUES (?, ?, ?) ON CONFLICT (show) DO UPDATE"
    " SET title = excluded.title, title_key = excluded.title_key"
)
# What placing a scene needs, for every scene at once (the primary file is position 0).
_REBUILD_SOURCE = (
    "SELECT s.id, s.updated_at, s.title, s.code, s.date, s.created_at, s.studio_id,"
    " s.organized, s.stash_ids IS NOT NULL, s.urls IS NOT NULL, f.path, f.basename"
    " FROM scenes AS s"
    " LEFT JOIN files AS f ON f.scene_id = s.id AND f.position = 0 ORDER BY s.id"
)


_SOME_STASH_ID = (StashId("", ""),)


def layout(show_by: ShowBy) -> str:
    return f"{LAYOUT_REVISION}:{show_by}"


def _show_by_of(value: str | None) -> ShowBy | None:
    if not value:
        return None
    revision, _, show_by = value.partition(":")
    return show_by_of(show_by) if revision == str(LAYOUT_REVISION) else None


class TvIndex:
    """The TV placement of one writer; `show_by` is None while no layout is live."""

    def __init__(self, show_by: ShowBy | None, options: MappingOptions | None = None) -> None:
        self.show_by = show_by
        # The movie options also shape the TV library: a scene that fails a gate is no episode,
        # and an episode's title follows `title_format`.
        self.options = options or MappingOptions(base_url=BASE_TOKEN)

    @classmethod
    def load(cls, connection: Connection, options: MappingOptions | None = None) -> TvIndex:
        value = connection.execute(
            select(models.sync_state.c.value).where(models.sync_state.c.key == LAYOUT_STATE)
        ).scalar_one_or_none()
        return cls(_show_by_of(value), options)

    def _placement(self, scene: Scene, show_by: ShowBy, cache: EntityCache) -> Placement | None:
        if hidden_by(scene, self.options):
            return None
        title = scene_title(cache.bundle(scene), self.options)
        return tv_shape.placement(scene, show_by, cache.studios, cache.groups, title)

    @property
    def live(self) -> bool:
        return self.show_by is not None

    def is_layout(self, show_by: ShowBy) -> bool:
        return self.show_by == show_by

    # --- incremental ------------------------------------------------------------------------

    def place(self, connection: Connection, scenes: Sequence[Scene], cache: EntityCache) -> None:
        """Put these scenes where the layout says, keeping the index of any that did not move."""
        if self.show_by is None or not scenes:
            return
        targets = {s.id: self._placement(s, self.show_by, cache) for s in scenes}
        ep = models.tv_episodes
        existing: dict[int, tuple[str, int, str | None, str]] = {}
        for chunk in chunks(list(targets)):
            for row in connection.execute(
                select(ep.c.scene_id, ep.c.show, ep.c.season, ep.c.aired, ep.c.title).where(
                    ep.c.scene_id.in_(chunk)
                )
            ):
                existing[row.scene_id] = (row.show, row.season, row.aired, row.title)
        gone: list[int] = []
        updated: list[tuple[str | None, str, int]] = []
        new: list[tuple[int, Placement]] = []
        for scene_id, target in targets.items():
            old = existing.get(scene_id)
            if old is not None and target is not None and _same_slot(old, target):
                if (old[2], old[3]) != (target.aired, target.title):
                    updated.append((target.aired, target.title, scene_id))
                continue
            if old is not None:
                gone.append(scene_id)
            if target is not None:
                new.append((scene_id, target))
        for chunk in chunks(gone):
            connection.execute(ep.delete().where(ep.c.scene_id.in_(chunk)))
        if updated:
            connection.exec_driver_sql(
                "UPDATE tv_episodes SET aired = ?, title = ? WHERE scene_id = ?", updated
            )
        if new:
            self._insert(connection, new)

    def _insert(self, connection: Connection, new: list[tuple[int, Placement]]) -> None:
        new.sort(key=lambda item: tv_shape.sort_key(item[1], item[0]))
        rows: list[tuple[Any, ...]] = []
        used: set[int] = set()
        season: tuple[str, int] | None = None
        ep = models.tv_episodes
        for scene_id, p in new:
            if season != (p.show, p.season):
                season = (p.show, p.season)
                used = set(
                    connection.execute(
                        select(ep.c.idx).where(ep.c.show == p.show, ep.c.season == p.season)
                    ).scalars()
                )
            index = tv_shape.assign(p.base, used)
            used.add(index)
            rows.append((scene_id, p.show, p.season, index, p.aired, p.title))
        connection.exec_driver_sql(_INSERT_EPISODE, rows)
        _upsert_shows(connection, {p.show: p.show_title for _scene_id, p in new})

    def entities_changed(
        self,
        connection: Connection,
        kind_name: str,
        records: Sequence[Studio | Group],
        before: dict[int, Studio | Group | None],
        cache: EntityCache,
    ) -> None:
        """Studios or groups were added or changed (the cache already holds the new values):
        rename their shows, and in parent-studio mode move the scenes under a studio whose
        parent changed (its whole subtree: a chain of any depth ends at a new top)."""
        if self.show_by is None or kind_name not in ("studio", "group"):
            return
        kind: ShowKind = "group" if kind_name == "group" else "studio"
        titles = [(tv_shape.show_title(kind, r.id, r.name), r.id) for r in records]
        connection.exec_driver_sql(
            "UPDATE tv_shows SET title = ?, title_key = ? WHERE show = ?",
            [(t, pathkeys.title_key(t), show_rating_key(kind, i)) for t, i in titles],
        )
        if self.show_by != "parent_studio" or kind_name != "studio":
            return
        moved = {
            r.id
            for r in records
            if isinstance(r, Studio) and getattr(before.get(r.id), "parent_id", -1) != r.parent_id
        }
        if not moved:
            return
        subtree = _descendants(cache.studios.values(), moved)
        studio_col = models.scenes.c.studio_id
        ids: list[int] = []
        for chunk in chunks(sorted(subtree)):
            ids.extend(
                connection.execute(
                    select(models.scenes.c.id).where(studio_col.in_(chunk))
                ).scalars()
            )
        for chunk in chunks(ids):
            self.place(connection, load_scenes(connection, chunk), cache)

    # --- whole layout -----------------------------------------------------------------------

    def rebuild(self, connection: Connection, cache: EntityCache, show_by: ShowBy) -> int:
        """Place every mirrored scene afresh for `show_by`; returns the number of episodes.

        Streamed in constant memory whatever the library's size: the placements go into a
        scratch table keyed in episode order (in the mirror file, not in memory: temp_store
        is MEMORY), and are read back in that order to number them."""
        if show_by not in SHOW_BY:
            raise ValueError(f"unknown show_by: {show_by!r}")
        dbapi = connection.connection.dbapi_connection
        assert dbapi is not None
        dbapi.execute(f"DROP TABLE IF EXISTS {_SCRATCH}")  # left by a pass killed mid-way
        dbapi.execute(_SCRATCH_TABLE)
        shows: dict[str, str] = {}
        placed = self._placements(dbapi, cache, show_by, shows)
        dbapi.executemany(f"INSERT INTO {_SCRATCH} VALUES (?, ?, ?, ?, ?, ?, ?, ?)", placed)
        dbapi.execute("DELETE FROM tv_episodes")
        dbapi.execute("DELETE FROM tv_shows")
        count = 0

        def numbered() -> Iterator[tuple[Any, ...]]:
            nonlocal count
            last: tuple[str, int, int] | None = None  # show, season, last index given
            for scene_id, show, season, base, aired, title in dbapi.execute(_SCRATCH_ORDERED):
                # Sorted by day, so the smallest free index above the base is one past the last.
                floor = last[2] if last is not None and last[:2] == (show, season) else 0
                index = max(base + 1, floor + 1)
                last = (show, season, index)
                count += 1
                yield (scene_id, show, season, index, aired, title)

        dbapi.executemany(_INSERT_EPISODE, numbered())
        dbapi.execute(f"DROP TABLE {_SCRATCH}")
        _upsert_shows(connection, shows)
        _set_layout(connection, show_by)
        self.show_by = show_by
        return count

    def _placements(
        self, dbapi: Any, cache: EntityCache, show_by: ShowBy, shows: dict[str, str]
    ) -> Iterator[tuple[Any, ...]]:
        """Rows of the scratch table for every mirrored scene with a show, streamed in id
        order; `shows` collects each show's title."""
        groups = _SceneLinks(dbapi, _SCENE_GROUPS if show_by == "group" else None)
        # Episode titles may name the performers.
        with_performers = "performers" in self.options.title_format.fields
        performers = _SceneLinks(dbapi, _SCENE_PERFORMERS if with_performers else None)
        for row in dbapi.execute(_REBUILD_SOURCE):
            (scene_id, updated_at, title, code, date, created_at) = row[:6]
            studio_id, organized, has_ids, has_urls, path, basename = row[6:]
            scene = Scene(
                id=scene_id,
                updated_at=updated_at,
                title=title,
                code=code,
                date=date,
                created_at=created_at,
                files=(VideoFile(0, path, basename),) if path is not None else (),
                studio_id=studio_id,
                groups=tuple(SceneGroup(g) for g in groups.take(scene_id)),
                organized=bool(organized),
                # The gates only ask whether there are any stash ids and URLs.
                stash_ids=_SOME_STASH_ID if has_ids else (),
                urls=("",) if has_urls else (),
                performer_ids=tuple(performers.take(scene_id)),
            )
            p = self._placement(scene, show_by, cache)
            if p is None:
                continue
            shows[p.show] = p.show_title
            key = tv_shape.sort_key(p, scene_id)
            yield (p.show, p.season, p.base, key[3], key[4], scene_id, p.aired, p.title)


# The scratch table of `rebuild`: its key is `tv_shape.sort_key`, so reading it in key order
# needs no sort (and no sorter memory). Text compares as UTF-8 bytes there, which is the code
# point order Python's sort uses.
_SCRATCH = "tv_layout_scratch"
_SCRATCH_TABLE = (
    f"CREATE TABLE {_SCRATCH} (show TEXT NOT NULL, season INTEGER NOT NULL,"
    " base INTEGER NOT NULL, aired_key TEXT NOT NULL, title_key TEXT NOT NULL,"
    " scene_id INTEGER NOT NULL, aired TEXT, title TEXT NOT NULL,"
    " PRIMARY KEY (show, season, base, aired_key, title_key, scene_id)) WITHOUT ROWID"
)
_SCRATCH_ORDERED = (
    f"SELECT scene_id, show, season, base, aired, title FROM {_SCRATCH}"
    " ORDER BY show, season, base, aired_key, title_key, scene_id"
)
_SCENE_GROUPS = "SELECT scene_id, group_id FROM scene_groups ORDER BY scene_id, position"
_SCENE_PERFORMERS = (
    "SELECT scene_id, performer_id FROM scene_performers ORDER BY scene_id, position"
)


class _SceneLinks:
    """A link table read alongside the scenes, both in scene id order (a merge join): each
    scene takes its own links, and no more than one link is held at a time."""

    def __init__(self, dbapi: Any, sql: str | None) -> None:
        self._rows = iter(dbapi.execute(sql)) if sql else iter(())
        self._pending = next(self._rows, None)

    def take(self, scene_id: int) -> list[int]:
        found: list[int] = []
        while self._pending is not None and self._pending[0] <= scene_id:
            if self._pending[0] == scene_id:
                found.append(self._pending[1])
            self._pending = next(self._rows, None)  # links of a scene gone are skipped
        return found


def _same_slot(old: tuple[str, int, str | None, str], target: Placement) -> bool:
    """Same show, season and day (Specials have no day: the same show and season suffice)."""
    show, season, aired, _title = old
    if (show, season) != (target.show, target.season):
        return False
    return season == SPECIALS or aired == target.aired


def _upsert_shows(connection: Connection, shows: dict[str, str]) -> None:
    if shows:
        connection.exec_driver_sql(
            _UPSERT_SHOW,
            [(show, title, pathkeys.title_key(title)) for show, title in sorted(shows.items())],
        )


def _set_layout(connection: Connection, show_by: ShowBy) -> None:
    connection.exec_driver_sql(
        "INSERT INTO sync_state (key, value) VALUES (?, ?)"
        " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (LAYOUT_STATE, layout(show_by)),
    )


def _descendants(studios: Iterable[Studio], roots: set[int]) -> set[int]:
    children: dict[int, list[int]] = defaultdict(list)
    for studio in studios:
        if studio.parent_id:
            children[studio.parent_id].append(studio.id)
    found = set(roots)
    stack = list(roots)
    while stack:
        for child in children.get(stack.pop(), ()):
            if child not in found:
                found.add(child)
                stack.append(child)
    return found
