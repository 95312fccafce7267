"""The mirror file deleted or replaced under a running `stashplex serve`: detected within
seconds, said in the log, every connection to the old file closed, the file at the path opened
(created and migrated when it is gone) and filled by the next sync; never written into while
deleted, never a 500."""

from __future__ import annotations

import os
import shutil
import sqlite3

from stashplex.mirror.db import Database, MirrorMoved, file_identity
from tests.plugins.daemon import wait_until


def answers_everything(daemon, scene_id: int) -> bool:
    response = daemon.http.get(f"/library/metadata/scene-{scene_id}")
    assert response.status_code in (200, 404), response.text  # never a 500
    return response.status_code == 200


def test_a_deleted_then_replaced_mirror_is_reopened(sample_stash_factory, daemon_factory) -> None:
    stash = sample_stash_factory(scenes=30)
    lib = stash.library
    daemon = daemon_factory(stash.url)
    wait_until(lambda: daemon.scenes() == lib.live_count(), what="the first sync")
    scene_id = lib.scene_ids()[0]

    daemon.database.unlink()  # `rm stashplex.db` while serving
    wait_until(lambda: "was deleted while in use; reopening it" in daemon.log(), what="detection")
    wait_until(lambda: "reopened the mirror" in daemon.log(), what="the reopening")
    wait_until(lambda: daemon.scenes() == lib.live_count(), what="the new mirror filled")
    assert answers_everything(daemon, scene_id)
    # A new file (its inode number may be the old one's: the old file is closed and freed).
    assert file_identity(daemon.database) is not None

    # A copy restored over it (as a backup tool would, by rename).
    copy = daemon.database.with_name("restored.db")
    with sqlite3.connect(daemon.database) as source, sqlite3.connect(copy) as target:
        source.backup(target)
    os.replace(copy, daemon.database)
    wait_until(lambda: "was replaced by another file while in use" in daemon.log(), what="it")
    wait_until(lambda: daemon.log().count("reopened the mirror") == 2, what="the reopening")
    wait_until(lambda: answers_everything(daemon, scene_id), what="answers from the copy")
    assert daemon.health()["mirror"]["scenes"] == lib.live_count()
    assert "Traceback" not in daemon.log()
    assert daemon.terminate() == 0


def test_a_sync_pass_refuses_a_moved_mirror(tmp_path) -> None:
    import pytest

    from stashplex.mirror.sync import Syncer
    from stashplex.stash.client import StashClient
    from tests.plugins.mirror import make_settings

    settings = make_settings(tmp_path, "http://127.0.0.1:9")  # never asked: the check comes first
    db = Database.open(settings.mirror.database)
    client = StashClient(settings.stash.url, None, timeout=1)
    try:
        moved = tmp_path / "moved.db"
        os.replace(settings.mirror.database, moved)
        with pytest.raises(MirrorMoved, match="was deleted while in use"):
            Syncer(client, db, settings).run("incremental")
    finally:
        client.close()
        db.close()
    with sqlite3.connect(moved) as connection:  # not even a run row went into the old file
        assert connection.execute("SELECT count(*) FROM sync_runs").fetchone()[0] == 0


def test_a_sync_never_writes_into_a_moved_file(tmp_path) -> None:
    db = Database.open(tmp_path / "mirror.db")
    try:
        db.check_not_moved()
        shutil.move(tmp_path / "mirror.db", tmp_path / "elsewhere.db")
        assert db.moved() == "deleted"
        try:
            db.check_not_moved()
        except MirrorMoved as exc:
            assert "was deleted while in use" in str(exc)
        else:
            raise AssertionError("a moved mirror was not noticed")
        (tmp_path / "mirror.db").write_bytes(b"")
        assert db.moved() == "replaced by another file"
    finally:
        db.close()
