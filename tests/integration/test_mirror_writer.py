from __future__ import annotations

import json
import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import select

from stashplex.mirror import db as dbmod
from stashplex.mirror import documents, models
from stashplex.mirror.db import WRITER_CACHE_KB, Database
from stashplex.mirror.kinds import PERFORMERS, STUDIOS, TAGS
from stashplex.mirror.scene_reader import load_scenes
from stashplex.mirror.writer import MirrorWriter
from stashplex.plex.mapping import MappingOptions
from stashplex.records import Performer, Scene, SceneGroup, Studio, Tag, VideoFile

OPTIONS = MappingOptions(base_url=documents.BASE_TOKEN)


def scene(scene_id: int, **changes) -> Scene:
    base = Scene(
        id=scene_id,
        updated_at="2024-01-01T00:00:00+02:00",
        title=f"Scene {scene_id}",
        date="2024-01-02",
        files=(
            VideoFile(
                id=scene_id * 10,
                path=f"/data/Site/Scene {scene_id}.mp4",
                basename=f"Scene {scene_id}.mp4",
                duration=60.0,
            ),
        ),
        studio_id=1,
        performer_ids=(1,),
        tag_ids=(1,),
        groups=(SceneGroup(1, 2),),
    )
    return replace(base, **changes)


@pytest.fixture
def db(tmp_path: Path) -> Database:
    database = Database.open(tmp_path / "mirror.db")
    yield database
    database.close()


@pytest.fixture
def writer(db: Database) -> MirrorWriter:
    w = MirrorWriter(db, OPTIONS)
    w.apply_entities(STUDIOS, [Studio(1, "Site", parent_id=2), Studio(2, "Network")])
    w.apply_entities(PERFORMERS, [Performer(1, "Jane", image_version="5")])
    w.apply_entities(TAGS, [Tag(1, "Outdoor")])
    return w


def test_migration_creates_schema_in_wal_mode_and_is_idempotent(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "m.db"
    head = dbmod.migrate_to_head(path)
    assert dbmod.migrate_to_head(path) == head
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"scenes", "files", "alembic_version", "sync_state"} <= tables
    assert con.execute("SELECT version_num FROM alembic_version").fetchone()[0] == head


def test_models_match_migrations(tmp_path: Path) -> None:
    """Alembic's autogenerate finds nothing to add: the revisions describe the models."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    path = tmp_path / "m.db"
    dbmod.migrate_to_head(path)
    engine = dbmod.make_engine(path)
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), models.Base.metadata)
    engine.dispose()
    assert diff == []


def test_apply_adds_then_finds_unchanged_then_updates(writer: MirrorWriter, db: Database) -> None:
    first = writer.apply_scenes([scene(1), scene(2)])
    assert (first.added, first.updated, first.unchanged) == (2, 0, 0)
    assert sorted(first.changed_docs) == [1, 2]
    again = writer.apply_scenes([scene(1), scene(2)])
    assert (again.added, again.updated, again.unchanged, again.changed_docs) == (0, 0, 2, [])
    edited = writer.apply_scenes([scene(1, title="New title"), scene(2, o_counter=4)])
    assert edited.updated == 2
    assert edited.changed_docs == [1]  # the o-counter is not shown to Plex
    with db.reader.connect() as connection:
        doc = connection.execute(
            select(models.scenes.c.doc).where(models.scenes.c.id == 1)
        ).scalar()
    assert json.loads(doc)["title"] == "New title"


def test_round_trip_through_rows(writer: MirrorWriter, db: Database) -> None:
    original = scene(
        3,
        files=(
            VideoFile(30, "C:\\x\\a.mp4", "a.mp4", size=2**40, duration=1.5),
            VideoFile(31, "/y/b.MKV", "b.MKV"),
        ),
        performer_ids=(9, 1),
        tag_ids=(),
        groups=(SceneGroup(4, None), SceneGroup(1, 3)),
    )
    writer.apply_scenes([original])
    with db.reader.connect() as connection:
        (loaded,) = load_scenes(connection, [3, 999])
    assert loaded == original


def test_links_and_files_replaced_not_appended(writer: MirrorWriter, db: Database) -> None:
    writer.apply_scenes([scene(1, performer_ids=(1, 2, 3))])
    writer.apply_scenes([scene(1, performer_ids=(3,), files=())])
    with db.reader.connect() as connection:
        (loaded,) = load_scenes(connection, [1])
        file_count = connection.execute(select(models.files)).all()
    assert loaded.performer_ids == (3,)
    assert file_count == []


def test_prune_deletes_only_inside_the_page_range(writer: MirrorWriter) -> None:
    writer.apply_scenes([scene(i) for i in (1, 2, 3, 4, 5)])
    result = writer.apply_scenes([scene(2), scene(4)], prune=(1, 4))
    assert sorted(result.removed_ids) == [3]
    result = writer.delete_scenes_above(4)
    assert result.removed_ids == [5]
    assert writer.all_scene_ids() == [1, 2, 4]


def test_entity_rename_rerenders_scenes_that_show_it(writer: MirrorWriter, db: Database) -> None:
    writer.apply_scenes([scene(1), scene(2, performer_ids=())])
    changed = writer.apply_entities(PERFORMERS, [Performer(1, "Jane Doe", image_version="5")])
    assert changed == {1}
    affected = writer.scenes_showing("performer", changed)
    assert affected == {1}
    assert writer.rerender(affected) == [1]
    with db.reader.connect() as connection:
        doc = connection.execute(
            select(models.scenes.c.doc).where(models.scenes.c.id == 1)
        ).scalar()
    assert json.loads(doc)["Role"][0]["tag"] == "Jane Doe"
    # A parent studio rename reaches scenes of its child studios.
    writer.apply_entities(STUDIOS, [Studio(2, "Network Renamed")])
    assert writer.scenes_showing("studio", {2}) == {1, 2}
    # Unchanged entities are not written again.
    assert writer.apply_entities(TAGS, [Tag(1, "Outdoor")]) == set()


def test_documents_are_made_absolute_without_touching_text(
    writer: MirrorWriter, db: Database
) -> None:
    writer.apply_scenes([scene(1, title='Quotes " and \\ and "\\u0000 literal')])
    with db.reader.connect() as connection:
        doc = connection.execute(
            select(models.scenes.c.doc).where(models.scenes.c.id == 1)
        ).scalar()
    absolute = json.loads(documents.absolute(doc, "http://10.0.0.2:7979/"))
    assert absolute["title"] == 'Quotes " and \\ and "\\u0000 literal'
    assert absolute["thumb"].startswith("http://10.0.0.2:7979/stash/scene/1/")
    assert all(role["thumb"].startswith("http://10.0.0.2:7979/") for role in absolute["Role"])


def test_state_round_trip(writer: MirrorWriter) -> None:
    assert writer.get_state("x") is None
    writer.set_state({"x": "1", "y": None})
    writer.set_state({"x": "2"})
    assert writer.get_state("x") == "2"
    assert writer.get_state("y") is None


def test_readers_never_wait_for_a_writer(writer: MirrorWriter, db: Database) -> None:
    """WAL: while the syncer holds a write transaction, Plex's reads still answer at once."""
    import time

    from stashplex.mirror.db import BUSY_TIMEOUT_MS

    writer.apply_scenes([scene(1)])
    with db.writer.begin() as connection:
        connection.execute(models.scenes.update().values(title="uncommitted"))
        started = time.monotonic()
        with db.reader.connect() as reader:
            title = reader.execute(select(models.scenes.c.title)).scalar_one()
        # A read that waited would wait the whole busy timeout (30 s), then fail.
        assert time.monotonic() - started < BUSY_TIMEOUT_MS / 1000 / 2
        assert title == "Scene 1"  # the last committed state, not the writer's


def test_db_upgrade_command(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    target = tmp_path / "sub" / "m.db"
    env = {"PATH": os.environ.get("PATH", ""), "STASHPLEX_MIRROR_DATABASE": str(target)}
    run = [sys.executable, "-m", "stashplex", "db", "upgrade"]
    first = subprocess.run(run, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert first.returncode == 0, first.stderr
    head = dbmod.head_revision()
    assert first.stdout.strip() == f"{target}: schema at revision {head}"
    again = subprocess.run(run, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert again.returncode == 0 and again.stdout == first.stdout


def test_deferred_indexes_are_sorted_on_disk_and_the_setting_restored(writer, db) -> None:
    writer.apply_scenes([scene(i) for i in range(1, 30)])
    writer.defer_indexes()
    statements: list[str] = []
    with db.writer.connect() as connection:  # the pool's one idle connection: the one used
        raw = connection.connection.dbapi_connection
        assert raw is not None
        raw.set_trace_callback(statements.append)
    assert writer.build_indexes() is True
    creates = [i for i, sql in enumerate(statements) if sql.startswith("CREATE INDEX")]
    assert creates and "PRAGMA temp_store=FILE" in statements[: creates[0]]
    assert statements[-2:] == ["PRAGMA temp_store=MEMORY", f"PRAGMA cache_size=-{WRITER_CACHE_KB}"]
    assert writer.build_indexes() is False  # nothing deferred any more


def test_the_tv_layout_is_rebuilt_with_temporary_storage_on_disk(writer, db) -> None:
    writer.apply_scenes([scene(i) for i in range(1, 30)])
    statements: list[str] = []
    with db.writer.connect() as connection:
        raw = connection.connection.dbapi_connection
        assert raw is not None
        raw.set_trace_callback(statements.append)
    assert writer.rebuild_tv("studio") == 29
    drop = next(i for i, sql in enumerate(statements) if sql.startswith("DROP TABLE"))
    assert "PRAGMA temp_store=FILE" in statements[:drop]
    assert "PRAGMA temp_store=MEMORY" in statements[drop:]
