"""Files written so that a crash never leaves a half-written one under its real name.

A write goes to a temporary file in the same folder (same file system, so the rename is atomic),
is flushed and fsynced, and is renamed over the final name: a reader sees the old file or the
new one. A crash leaves at worst a temporary file, never served, removed by `clean_temp`.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from pathlib import Path

TMP_PREFIX = ".tmp-"  # then the writer's process id: ".tmp-1234-<random>.part"
# Temporary files younger than this may belong to a write in progress in another process
# (`stashplex-sync` next to the service): clean-up leaves them alone, unless their writer is
# gone (a kill mid-write) or, at start-up, was an earlier process with this one's id (PID 1 in
# a container).
STALE_TMP_SECONDS = 600.0


def shard(entity_id: int) -> str:
    """The sub-folder of an id's file: 256 of them keep each folder small on a big library."""
    return f"{entity_id % 256:02x}"


def atomic_write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        prefix=f"{TMP_PREFIX}{os.getpid()}-", suffix=".part", dir=path.parent
    )
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            # Without this a power cut after the rename can leave a zero-length file under
            # the final name on some file systems.
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; other local tools may read these files
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return path


def writer_pid(name: str) -> int | None:
    """The process id in a temporary file's name; None for a name without one."""
    head = name[len(TMP_PREFIX) :].split("-", 1)[0]
    return int(head) if head.isascii() and head.isdigit() and len(head) < 10 else None


def stale_temp(name: str, mtime: float, older_than: float, at_start: bool = False) -> bool:
    """Whether a temporary file can only be a leftover: old, or its writer is gone (or, at
    start-up, it was an earlier process that had this one's id)."""
    if time.time() - mtime > older_than:
        return True
    pid = writer_pid(name)
    if pid is None:
        return at_start  # a name from before ids were written in them
    if pid == os.getpid():
        return at_start  # nothing is written before the start-up clean-up
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # alive, under another user
        return False
    return False


def clean_temp(root: Path, older_than: float = STALE_TMP_SECONDS, *, at_start: bool = False) -> int:
    """Remove temporary files left by interrupted writes, one folder level down from `root`
    (the shard folders); returns how many were removed. `at_start`: this process has written
    nothing yet (see `stale_temp`)."""
    if not root.is_dir():
        return 0
    removed = 0
    for folder in (root, *(p for p in root.iterdir() if p.is_dir() and not p.is_symlink())):
        with os.scandir(folder) as entries:
            for entry in entries:
                if not entry.name.startswith(TMP_PREFIX):
                    continue
                with contextlib.suppress(OSError):
                    mtime = entry.stat(follow_symlinks=False).st_mtime
                    if stale_temp(entry.name, mtime, older_than, at_start):
                        os.unlink(entry.path)
                        removed += 1
    return removed
