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

TMP_PREFIX = ".tmp-"
# Temporary files younger than this may belong to a write in progress in another process
# (`stashplex-sync` next to the service): clean-up leaves them alone.
STALE_TMP_SECONDS = 600.0


def shard(entity_id: int) -> str:
    """The sub-folder of an id's file: 256 of them keep each folder small on a big library."""
    return f"{entity_id % 256:02x}"


def atomic_write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=TMP_PREFIX, suffix=".part", dir=path.parent)
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


def clean_temp(root: Path, older_than: float = STALE_TMP_SECONDS) -> int:
    """Remove temporary files left by interrupted writes, one folder level down from `root`
    (the shard folders); returns how many were removed."""
    if not root.is_dir():
        return 0
    cutoff = time.time() - older_than
    removed = 0
    for folder in (root, *(p for p in root.iterdir() if p.is_dir() and not p.is_symlink())):
        with os.scandir(folder) as entries:
            for entry in entries:
                if not entry.name.startswith(TMP_PREFIX):
                    continue
                with contextlib.suppress(OSError):
                    if entry.stat(follow_symlinks=False).st_mtime <= cutoff:
                        os.unlink(entry.path)
                        removed += 1
    return removed
