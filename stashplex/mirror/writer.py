"""Writing the mirror: idempotent upserts and deletes, one short transaction per call.

Every public method here is one transaction, so a crash between two calls leaves the mirror as
the last call left it: consistent, with the sync cursor still where the last finished pass put it.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Index, bindparam, delete, func, select, true, update
from sqlalchemy.dialects.sqlite import insert
from sqlalchemy.schema import CreateIndex, DropIndex

from stashplex.mirror import documents, generation, models, rows
from stashplex.mirror.db import WRITER_CACHE_KB, Database
from stashplex.mirror.kinds import EntityKind
from stashplex.mirror.scene_reader import EntityCache, chunks, load_scenes, scenes_linked_to
from stashplex.mirror.tv_index import TvIndex
from stashplex.plex.mapping import MappingOptions
from stashplex.records import Group, Performer, Scene, Studio, Tag
from stashplex.settings import ShowBy


def _insert_sql(table: str, columns: tuple[str, ...], upsert_key: str | None = None) -> str:
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
    if upsert_key:
        updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c != upsert_key)
        sql += f" ON CONFLICT ({upsert_key}) DO UPDATE SET {updates}"
    return sql


_SCENE_UPSERT = _insert_sql("scenes", (*rows.SCENE_COLUMNS, "doc", "doc_hash", "synced_at"), "id")
_FILE_INSERT = _insert_sql("files", rows.FILE_COLUMNS)
_PERFORMER_INSERT = _insert_sql("scene_performers", rows.PERFORMER_LINK_COLUMNS)
_TAG_INSERT = _insert_sql("scene_tags", rows.TAG_LINK_COLUMNS)
_GROUP_INSERT = _insert_sql("scene_groups", rows.GROUP_LINK_COLUMNS)


@dataclass
class PageResult:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    # Scenes whose Plex document changed (added ones included): what Plex should refresh.
    changed_docs: list[int] = field(default_factory=list)
    removed_ids: list[int] = field(default_factory=list)

    def merge(self, other: PageResult) -> None:
        self.added += other.added
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.removed += other.removed
        self.changed_docs.extend(other.changed_docs)
        self.removed_ids.extend(other.removed_ids)


class MirrorWriter:
    def __init__(self, db: Database, options: MappingOptions) -> None:
        self.db = db
        self.options = options
        with db.reader.connect() as connection:
            self.cache = EntityCache.load(connection)
            self.tv = TvIndex.load(connection, options)

    # --- scenes ------------------------------------------------------------------------------

    def apply_scenes(
        self,
        scenes: Sequence[Scene],
        *,
        prune: tuple[int, int] | None = None,
        state: dict[str, str | None] | None = None,
    ) -> PageResult:
        """Upsert these scenes; with `prune=(low, high)`, also delete mirrored scenes with
        low < id <= high that are not among them (a keyset page proves they are gone); `state`
        is written to sync_state in the same transaction."""
        result = PageResult()
        now = time.time()
        values = {scene.id: rows.scene_values(scene) for scene in scenes}
        by_id = {scene.id: scene for scene in scenes}
        with self.db.writer.begin() as connection:
            existing = _existing(connection, list(by_id))
            changed: list[Scene] = []
            for scene_id, scene in by_id.items():
                old = existing.get(scene_id)
                if old is not None and old[0] == values[scene_id][-1]:
                    result.unchanged += 1
                    continue
                changed.append(scene)
                if old is None:
                    result.added += 1
                else:
                    result.updated += 1
            if changed:
                self._write_scenes(connection, changed, values, existing, result, now)
            if prune is not None:
                low, high = prune
                gone = (
                    connection.execute(
                        select(models.scenes.c.id).where(
                            models.scenes.c.id > low,
                            models.scenes.c.id <= high,
                            models.scenes.c.id.not_in(list(by_id)) if by_id else true(),
                        )
                    )
                    .scalars()
                    .all()
                )
                self._delete(connection, gone, result)
            if changed:
                generation.bump(connection)
            if state:
                set_state(connection, state)
        return result

    def _write_scenes(
        self,
        connection: Connection,
        changed: list[Scene],
        values: dict[int, tuple[Any, ...]],
        existing: dict[int, tuple[bytes, bytes | None]],
        result: PageResult,
        now: float,
    ) -> None:
        scene_rows, file_rows, performer_rows, tag_rows, group_rows = [], [], [], [], []
        for scene in changed:
            doc, doc_hash = documents.render(self.cache.bundle(scene), self.options)
            old = existing.get(scene.id)
            if old is None or old[1] != doc_hash:
                result.changed_docs.append(scene.id)
            scene_rows.append((*values[scene.id], doc, doc_hash, now))
            file_rows.extend(rows.file_values(scene))
            performers, tags, groups = rows.link_values(scene)
            performer_rows.extend(performers)
            tag_rows.extend(tags)
            group_rows.extend(groups)
        old_ids = [s.id for s in changed if s.id in existing]
        if old_ids:
            for table in (
                models.files,
                models.scene_performers,
                models.scene_tags,
                models.scene_groups,
            ):
                connection.execute(delete(table).where(table.c.scene_id.in_(old_ids)))
        # Plain executemany: SQLAlchemy's per-row parameter processing would cost more than
        # SQLite's own work here, and these tuples come straight from our records.
        connection.exec_driver_sql(_SCENE_UPSERT, scene_rows)
        for sql, batch in (
            (_FILE_INSERT, file_rows),
            (_PERFORMER_INSERT, performer_rows),
            (_TAG_INSERT, tag_rows),
            (_GROUP_INSERT, group_rows),
        ):
            if batch:
                connection.exec_driver_sql(sql, batch)
        self.tv.place(connection, changed, self.cache)

    def delete_scenes(self, ids: Iterable[int]) -> PageResult:
        result = PageResult()
        with self.db.writer.begin() as connection:
            present = (
                connection.execute(
                    select(models.scenes.c.id).where(models.scenes.c.id.in_(list(ids)))
                )
                .scalars()
                .all()
            )
            self._delete(connection, present, result)
        return result

    def delete_scenes_above(self, last_id: int) -> PageResult:
        """After the last keyset page: every mirrored scene beyond it is gone from Stash."""
        result = PageResult()
        with self.db.writer.begin() as connection:
            gone = (
                connection.execute(select(models.scenes.c.id).where(models.scenes.c.id > last_id))
                .scalars()
                .all()
            )
            self._delete(connection, gone, result)
        return result

    def _delete(self, connection: Connection, ids: Sequence[int], result: PageResult) -> None:
        if ids:
            generation.bump(connection)
        for chunk in chunks(list(ids)):
            # Files and links go with their scene (ON DELETE CASCADE).
            connection.execute(delete(models.scenes).where(models.scenes.c.id.in_(chunk)))
        result.removed += len(ids)
        result.removed_ids.extend(ids)

    # --- related entities ------------------------------------------------------------------

    def apply_entities(
        self, kind: EntityKind, records: Sequence[Studio | Performer | Tag | Group]
    ) -> set[int]:
        """Upsert entities; returns the ids whose mirrored values changed (or are new)."""
        target = self.cache.of(kind.name)
        changed = [r for r in records if target.get(r.id) != r]
        if not changed:
            return set()
        statement = insert(kind.table)
        columns = [c.name for c in kind.table.columns if c.name != "id"]
        with self.db.writer.begin() as connection:
            connection.execute(
                statement.on_conflict_do_update(
                    index_elements=[kind.table.c.id],
                    set_={name: statement.excluded[name] for name in columns},
                ),
                [rows.entity_row(r) for r in changed],
            )
            generation.bump(connection)  # TV shows read their studio or group directly
        before = {r.id: target.get(r.id) for r in changed}
        for record in changed:
            target[record.id] = record
        shows = [r for r in changed if isinstance(r, (Studio, Group))]  # what a show can be
        if self.tv.live and shows:
            with self.db.writer.begin() as connection:  # needs the cache's new values
                generation.bump(connection)
                self.tv.entities_changed(connection, kind.name, shows, before, self.cache)
        return {r.id for r in changed}

    def delete_entities_except(self, kind: EntityKind, keep: set[int]) -> set[int]:
        """Delete mirrored entities of this kind not in `keep`; returns the deleted ids."""
        target = self.cache.of(kind.name)
        gone = {entity_id for entity_id in target if entity_id not in keep}
        if gone:
            with self.db.writer.begin() as connection:
                for chunk in chunks(sorted(gone)):
                    connection.execute(delete(kind.table).where(kind.table.c.id.in_(chunk)))
                generation.bump(connection)
            for entity_id in gone:
                del target[entity_id]
        return gone

    def delete_entities(self, kind: EntityKind, ids: Iterable[int]) -> set[int]:
        """Delete these entities of this kind; returns the ids the mirror had."""
        target = self.cache.of(kind.name)
        return self.delete_entities_except(kind, set(target) - set(ids))

    def scenes_showing(self, kind_name: str, entity_ids: Iterable[int]) -> set[int]:
        if kind_name == "tag" and self.options.parent_tags:  # documents show parent tags too
            entity_ids = self.cache.tags_below(entity_ids)
        with self.db.reader.connect() as connection:
            return scenes_linked_to(connection, kind_name, entity_ids)

    # --- documents -------------------------------------------------------------------------

    def rerender(self, scene_ids: Iterable[int]) -> list[int]:
        """Render the stored documents of these scenes again; returns those that changed."""
        changed: list[int] = []
        for chunk in chunks(sorted(set(scene_ids))):
            with self.db.writer.begin() as connection:
                hashes = dict(
                    connection.execute(
                        select(models.scenes.c.id, models.scenes.c.doc_hash).where(
                            models.scenes.c.id.in_(chunk)
                        )
                    ).all()
                )
                updates = []
                scenes = load_scenes(connection, chunk)
                for scene in scenes:
                    doc, doc_hash = documents.render(self.cache.bundle(scene), self.options)
                    if doc_hash != hashes.get(scene.id):
                        updates.append({"key": scene.id, "doc": doc, "doc_hash": doc_hash})
                        changed.append(scene.id)
                # Their studio or group changed: so may their place in the TV library.
                self.tv.place(connection, scenes, self.cache)
                generation.bump(connection)
                if updates:
                    connection.execute(
                        update(models.scenes)
                        .where(models.scenes.c.id == bindparam("key"))
                        .values(doc=bindparam("doc"), doc_hash=bindparam("doc_hash")),
                        updates,
                    )
        return changed

    def rebuild_tv(self, show_by: ShowBy) -> int:
        """Lay the TV library out afresh for `show_by` (see `mirror.tv_index`)."""
        with self._whole_mirror() as connection:
            generation.bump(connection)
            return self.tv.rebuild(connection, self.cache, show_by)

    def scene_ids_after(self, after: int, limit: int) -> list[int]:
        """A keyset page of mirrored scene ids: the first `limit` above `after`, in order."""
        scenes = models.scenes
        with self.db.reader.connect() as connection:
            query = select(scenes.c.id).where(scenes.c.id > after).order_by(scenes.c.id)
            return list(connection.execute(query.limit(limit)).scalars())

    def scene_count(self) -> int:
        with self.db.reader.connect() as connection:
            return count_scenes(connection)

    def all_scene_ids(self) -> list[int]:
        with self.db.reader.connect() as connection:
            return list(connection.execute(select(models.scenes.c.id).order_by("id")).scalars())

    # --- lookup indexes during a first fill ----------------------------------------------------

    def defer_indexes(self) -> None:
        """Drop the secondary indexes of scenes, files and links for a first fill: keeping
        them up row by row costs more than building them once at its end (`build_indexes`),
        and far more once they outgrow the page cache. Remembered in sync_state, so a fill
        killed half-way still gets them."""
        with self.db.writer.begin() as connection:
            for index in _fill_indexes():
                connection.execute(DropIndex(index, if_exists=True))
            set_state(connection, {DEFERRED_INDEXES: "1"})

    def build_indexes(self) -> bool:
        """Build the indexes `defer_indexes` dropped; False when none were deferred."""
        # The sorter holds as much as the page cache in memory besides the cache itself.
        with self._whole_mirror(cache_kb=INDEX_BUILD_CACHE_KB) as connection:
            if not get_state(connection, DEFERRED_INDEXES):
                return False
            for index in _fill_indexes():
                connection.execute(CreateIndex(index, if_not_exists=True))
            set_state(connection, {DEFERRED_INDEXES: None})
        return True

    @contextlib.contextmanager
    def _whole_mirror(self, cache_kb: int = WRITER_CACHE_KB) -> Iterator[Connection]:
        """A write transaction over the whole mirror (building indexes, laying out the TV
        library), with SQLite's temporary storage on disk: under temp_store=MEMORY the sorter
        of an index build and the statement journal of dropping a large table hold what they
        touch in memory (140 MB for the TV layout of a million scenes). The setting cannot
        change inside a transaction, so it is set around one."""
        with self.db.writer.connect() as connection:
            raw = connection.connection.dbapi_connection
            assert raw is not None
            raw.execute("PRAGMA temp_store=FILE")
            raw.execute(f"PRAGMA cache_size=-{cache_kb}")
            try:
                with connection.begin():
                    yield connection
            finally:
                raw.execute("PRAGMA temp_store=MEMORY")
                raw.execute(f"PRAGMA cache_size=-{WRITER_CACHE_KB}")

    # --- state -----------------------------------------------------------------------------

    def get_state(self, key: str) -> str | None:
        with self.db.reader.connect() as connection:
            return get_state(connection, key)

    def set_state(self, values: dict[str, str | None]) -> None:
        with self.db.writer.begin() as connection:
            set_state(connection, values)

    def start_run(self, kind: str) -> int:
        with self.db.writer.begin() as connection:
            key = connection.execute(
                insert(models.sync_runs).values(kind=kind, started_at=time.time())
            ).inserted_primary_key
            assert key is not None  # a single-row INSERT always has one
            return int(key[0])

    def finish_run(self, run_id: int, result: PageResult, error: str | None) -> None:
        with self.db.writer.begin() as connection:
            connection.execute(
                update(models.sync_runs)
                .where(models.sync_runs.c.id == run_id)
                .values(
                    finished_at=time.time(),
                    ok=error is None,
                    added=result.added,
                    updated=result.updated,
                    removed=result.removed,
                    unchanged=result.unchanged,
                    error=error,
                )
            )
            # Keep the history short: the status page shows the last few runs.
            keep = select(models.sync_runs.c.id).order_by(models.sync_runs.c.id.desc()).limit(200)
            connection.execute(delete(models.sync_runs).where(models.sync_runs.c.id.not_in(keep)))


DEFERRED_INDEXES = "deferred_indexes"  # sync_state: a first fill dropped them
INDEX_BUILD_CACHE_KB = 8_000


def _fill_indexes() -> list[Index]:
    tables = (
        models.scenes,
        models.files,
        models.scene_performers,
        models.scene_tags,
        models.scene_groups,
    )
    return [i for t in tables for i in sorted(t.indexes, key=lambda i: str(i.name)) if not i.unique]


def _existing(connection: Connection, ids: list[int]) -> dict[int, tuple[bytes, bytes | None]]:
    found: dict[int, tuple[bytes, bytes | None]] = {}
    for chunk in chunks(ids):
        for scene_id, content, doc in connection.execute(
            select(
                models.scenes.c.id, models.scenes.c.content_hash, models.scenes.c.doc_hash
            ).where(models.scenes.c.id.in_(chunk))
        ):
            found[scene_id] = (content, doc)
    return found


def get_state(connection: Connection, key: str) -> str | None:
    return connection.execute(
        select(models.sync_state.c.value).where(models.sync_state.c.key == key)
    ).scalar_one_or_none()


def set_state(connection: Connection, values: dict[str, str | None]) -> None:
    statement = insert(models.sync_state)
    connection.execute(
        statement.on_conflict_do_update(
            index_elements=[models.sync_state.c.key], set_={"value": statement.excluded.value}
        ),
        [{"key": k, "value": v} for k, v in values.items()],
    )


def count_scenes(connection: Connection) -> int:
    return connection.execute(select(func.count()).select_from(models.scenes)).scalar_one()
