"""Posters on disk: layout from integer ids only, atomic writes, and what a crash leaves behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from stashplex.posters.store import TMP_PREFIX, PosterStore

ROOT = Path(__file__).resolve().parents[2]


def test_layout_is_sharded_by_integer_id(tmp_path: Path) -> None:
    store = PosterStore(tmp_path)
    assert store.path(5) == tmp_path / "05" / "5.jpg"
    assert store.path(256 + 171) == tmp_path / "ab" / "427.jpg"
    assert store.path(2**63 - 1).parent.parent == tmp_path


@pytest.mark.parametrize("bad", [0, -1, True, "5", "../5", 5.0, 2**63, None])
def test_only_stash_ids_make_paths(tmp_path: Path, bad: object) -> None:
    with pytest.raises(ValueError):
        PosterStore(tmp_path).path(bad)  # type: ignore[arg-type]


def test_write_read_replace_remove(tmp_path: Path) -> None:
    store = PosterStore(tmp_path / "posters")  # created on the first write
    assert not store.exists(7) and store.read(7) is None
    path = store.write(7, b"first")
    assert path == store.path(7) and store.read(7) == b"first"
    assert path.stat().st_mode & 0o777 == 0o644
    store.write(7, b"second")
    assert store.read(7) == b"second"
    assert os.listdir(path.parent) == ["7.jpg"]  # no temporary file left
    assert store.remove(7) and not store.remove(7)
    assert not store.exists(7)
    with pytest.raises(ValueError):
        store.write(7, b"")


def test_failed_write_keeps_the_old_poster_and_no_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = PosterStore(tmp_path)
    store.write(9, b"old poster")

    def broken_fsync(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(OSError):
        store.write(9, b"new poster that never lands")
    assert store.read(9) == b"old poster"
    assert os.listdir(store.path(9).parent) == ["9.jpg"]


def test_clean_temp_removes_only_stale_leftovers(tmp_path: Path) -> None:
    store = PosterStore(tmp_path)
    store.write(1, b"poster")
    stale = store.path(1).parent / f"{TMP_PREFIX}abc.part"
    young = store.path(1).parent / f"{TMP_PREFIX}def.part"
    stale.write_bytes(b"half a")
    young.write_bytes(b"half b")
    old = time.time() - 3600
    os.utime(stale, (old, old))
    (tmp_path / "not-a-shard.txt").write_text("ignored")
    assert store.clean_temp() == 1
    assert not stale.exists() and young.exists()
    assert store.clean_temp(older_than=0) == 1
    assert store.read(1) == b"poster"
    assert PosterStore(tmp_path / "absent").clean_temp() == 0


# A child that rewrites one poster as fast as it can, alternating two large payloads, until it
# is killed. Whatever moment the SIGKILL lands, the poster's final name must hold one complete
# payload (or nothing before the first rename).
_WRITER = """
import sys
from stashplex.posters.store import PosterStore
store = PosterStore(sys.argv[1])
a = b"A" * 3_000_000 + b"END-A"
b = b"B" * 3_000_000 + b"END-B"
print("ready", flush=True)
while True:
    store.write(42, a)
    store.write(42, b)
"""


def test_sigkill_mid_write_never_leaves_a_partial_poster(tmp_path: Path) -> None:
    store = PosterStore(tmp_path)
    complete = {b"A" * 3_000_000 + b"END-A", b"B" * 3_000_000 + b"END-B"}
    for delay in (0.0, 0.013, 0.031, 0.057, 0.083, 0.11):
        child = subprocess.Popen(
            [sys.executable, "-c", _WRITER, str(tmp_path)],
            stdout=subprocess.PIPE,
            cwd=ROOT,
        )
        assert child.stdout is not None and child.stdout.readline() == b"ready\n"
        time.sleep(delay)
        os.kill(child.pid, signal.SIGKILL)
        child.wait(10)
        child.stdout.close()
        data = store.read(42)
        assert data is None or data in complete
    # Interrupted writes leave temporary files; they are never served and are cleaned up.
    leftovers = sum(name.startswith(TMP_PREFIX) for name in _names(store.path(42).parent))
    assert leftovers >= 1  # at least one kill landed mid-write (each write is milliseconds)
    assert store.clean_temp(older_than=0) == leftovers
    assert _names(store.path(42).parent) in ([], ["42.jpg"])


def _names(folder: Path) -> list[str]:
    return sorted(os.listdir(folder)) if folder.is_dir() else []


def test_leftovers_of_a_dead_writer_go_at_once(tmp_path: Path) -> None:
    import subprocess
    import sys

    from stashplex.web.imagecache import ImageCache

    store = PosterStore(tmp_path / "posters")
    store.write(1, b"poster")
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True
    )
    dead_pid = int(gone.stdout)  # a process that has exited
    folder = store.path(1).parent
    dead = folder / f"{TMP_PREFIX}{dead_pid}-abc.part"
    mine = folder / f"{TMP_PREFIX}{os.getpid()}-def.part"  # an earlier process with our id
    alive = folder / f"{TMP_PREFIX}1-ghi.part"  # init: alive, another user's maybe
    for path in (dead, mine, alive):
        path.write_bytes(b"half")
    assert store.clean_temp() == 1 and not dead.exists() and mine.exists()
    assert store.clean_temp(at_start=True) == 1 and not mine.exists() and alive.exists()

    cache = ImageCache(tmp_path / "images")
    cache.put("scene", 5, "v1", b"image")
    shard_folder = cache.path("scene", 5, "v1").parent
    (shard_folder / f"{TMP_PREFIX}{os.getpid()}-x.part").write_bytes(b"half")
    (shard_folder / f"{TMP_PREFIX}{dead_pid}-y.part").write_bytes(b"half")
    assert cache.start() == len(b"image")
    assert sorted(os.listdir(shard_folder)) == [cache.path("scene", 5, "v1").name]
