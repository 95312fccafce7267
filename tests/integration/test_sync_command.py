"""`stashplex-sync` as a real process: summary, exit codes, and a SIGKILL in the middle."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from stashplex.mirror.db import Database
from stashplex.mirror.sync import Syncer
from stashplex.stash.client import StashClient
from tests.plugins.mirror import Mirrored, make_settings
from tests.plugins.net import free_port


def sync_env(tmp_path: Path, stash_url: str, **extra: str) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "STASH_HOST": stash_url,
        "STASHPLEX_MIRROR_DATABASE": str(tmp_path / "mirror.db"),
        "STASHPLEX_MIRROR_POSTER_DIR": str(tmp_path / "posters"),
        "STASHPLEX_STASH_TIMEOUT": "5",
        **extra,
    }


def run_sync(tmp_path: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "stashplex", "sync", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )


def test_summary_and_exit_code(tmp_path: Path, sample_stash) -> None:
    env = sync_env(tmp_path, sample_stash.url)
    result = run_sync(tmp_path, env)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(f"full sync: {sample_stash.library.live_count()} added, 0 updated")
    assert lines[0].endswith("s") and "unchanged in" in lines[0]
    # The image cache filled by the sync (images outlive Stash).
    assert lines[1].startswith("images: ") and " fetched " in lines[1]
    assert any((tmp_path / "images" / "scene").rglob("*.*"))
    # No progress bar when stderr is not a terminal.
    assert "\r" not in result.stderr
    sample_stash.library.advance(600)
    sample_stash.library.edit_scene(3, title="x")
    again = run_sync(tmp_path, env)
    assert again.stdout.startswith("incremental sync: 0 added, 1 updated, 0 removed")
    one = run_sync(tmp_path, env, "--scene", "3", "4")
    assert one.stdout.startswith("scenes sync: 0 added, 0 updated, 0 removed, 2 unchanged")
    full = run_sync(tmp_path, env, "--full")
    assert full.stdout.startswith("full sync: 0 added")
    assert "images: 0 fetched" in full.stdout  # all cached already


def test_stash_unreachable_is_one_line_and_nonzero(tmp_path: Path) -> None:
    env = sync_env(tmp_path, f"http://127.0.0.1:{free_port()}")
    result = run_sync(tmp_path, env)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1].startswith("stashplex-sync: cannot reach Stash")
    assert result.stdout == ""


def test_wrong_key_is_one_line_and_never_printed(tmp_path: Path, sample_stash_factory) -> None:
    stash = sample_stash_factory(api_key="the-right-key")
    env = sync_env(tmp_path, stash.url, STASH_API_KEY="the-wrong-key")
    result = run_sync(tmp_path, env)
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"stashplex-sync: Stash at {stash.url} rejected the API key ([stash] api_key)"
    )
    assert "the-wrong-key" not in result.stderr + result.stdout


def test_bad_scene_id_is_a_usage_error(tmp_path: Path, sample_stash) -> None:
    result = run_sync(tmp_path, sync_env(tmp_path, sample_stash.url), "--scene", "x1")
    assert result.returncode == 2
    assert "not a scene id" in result.stderr


def test_sigkill_mid_sync_leaves_a_consistent_mirror(tmp_path: Path, sample_stash_factory) -> None:
    stash = sample_stash_factory(scenes=600)
    # 0.3 s a page: the 20 pages after the kill point take 6 s, so the kill lands mid-pass
    # however late this process notices the point.
    stash.faults.latency(0.3)
    env = sync_env(tmp_path, stash.url, STASHPLEX_SYNC_PAGE_SIZE="25")
    process = subprocess.Popen(
        [sys.executable, "-m", "stashplex", "sync", "--full"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    database = tmp_path / "mirror.db"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if _resume_point(database) >= 100:
                break
            time.sleep(0.02)
        else:
            pytest.fail("the sync never got going")
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == -signal.SIGKILL
    stash.faults.latency(0)

    con = sqlite3.connect(database)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert con.execute("PRAGMA foreign_key_check").fetchall() == []
    # No cursor yet: the interrupted pass never finished, so nothing claims to be up to date.
    assert con.execute("SELECT value FROM sync_state WHERE key='cursor:scene'").fetchone() is None
    mirrored_count = con.execute("SELECT count(*) FROM scenes").fetchone()[0]
    assert 0 < mirrored_count < 600
    con.close()

    result = run_sync(tmp_path, env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("full sync: ")
    settings = make_settings(tmp_path, stash.url)
    db = Database.open(settings.mirror.database)
    client = StashClient(settings.stash.url)
    try:
        Mirrored(stash, settings, db, client, Syncer(client, db, settings)).assert_matches_stash()
    finally:
        client.close()
        db.close()


def _resume_point(database: Path) -> int:
    import json

    if not database.exists():
        return 0
    try:
        con = sqlite3.connect(database, timeout=0.1)
        row = con.execute("SELECT value FROM sync_state WHERE key='full_resume'").fetchone()
        con.close()
    except sqlite3.Error:
        return 0
    return json.loads(row[0])["after"] if row else 0


def test_progress_bar_on_a_terminal(tmp_path: Path, sample_stash_factory) -> None:
    import pty

    stash = sample_stash_factory(scenes=200)
    env = sync_env(tmp_path, stash.url, STASHPLEX_SYNC_PAGE_SIZE="25")
    leader, follower = pty.openpty()
    try:
        result = subprocess.run(
            [sys.executable, "-m", "stashplex", "sync"],
            stdout=subprocess.PIPE,
            stderr=follower,
            env=env,
            cwd=tmp_path,
            timeout=120,
        )
        os.close(follower)
        drawn = b""
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:
                break
            if not chunk:
                break
            drawn += chunk
    finally:
        os.close(leader)
    assert result.returncode == 0
    text = drawn.decode()
    assert "\r" in text and "scenes" in text and "/200" in text and "#" in text
    assert result.stdout.decode().startswith("full sync: 200 added")
