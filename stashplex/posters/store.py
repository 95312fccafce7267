"""Rendered posters on disk: one JPEG per scene, written atomically.

Layout (names are built from the integer scene id only, never from request text):

    <poster_dir>/<id % 256 as 2 hex digits>/<id>.jpg

256 shard folders keep each folder small on a big library; the layout is the one the web layer's
on-demand poster cache uses, so either can read what the other wrote. A write goes to a temporary
file in the same folder (same file system, so the rename is atomic), is flushed and fsynced, and
is then renamed over the final name: a reader sees the old poster or the new one, and a crash at
any point leaves at worst a temporary file, which is never served and is removed at start-up.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from pathlib import Path

from stashplex.plex.identity import require_stash_id

TMP_PREFIX = ".tmp-"
# Temporary files younger than this may belong to a write in progress in another process
# (`stashplex-sync` next to the service): clean-up leaves them alone.
STALE_TMP_SECONDS = 600.0


def shard(scene_id: int) -> str:
    return f"{scene_id % 256:02x}"


class PosterStore:
    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    def path(self, scene_id: int) -> Path:
        """Where the scene's poster lives (whether or not it exists)."""
        scene_id = require_stash_id(scene_id)
        return self.root / shard(scene_id) / f"{scene_id}.jpg"

    def exists(self, scene_id: int) -> bool:
        try:
            return self.path(scene_id).stat().st_size > 0
        except OSError:
            return False

    def read(self, scene_id: int) -> bytes | None:
        try:
            data = self.path(scene_id).read_bytes()
        except OSError:
            return None
        return data or None

    def write(self, scene_id: int, data: bytes) -> Path:
        """Store `data` as the scene's poster, atomically; returns the final path."""
        if not data:
            raise ValueError("refusing to store an empty poster")
        final = self.path(scene_id)
        final.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=TMP_PREFIX, suffix=".part", dir=final.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                # Without this a power cut after the rename can leave a zero-length file under
                # the final name on some file systems.
                os.fsync(fh.fileno())
            os.chmod(tmp, 0o644)  # mkstemp makes 0600; other local tools may read posters
            os.replace(tmp, final)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        return final

    def remove(self, scene_id: int) -> bool:
        """Delete the scene's poster; True if there was one."""
        try:
            self.path(scene_id).unlink()
        except FileNotFoundError:
            return False
        return True

    def clean_temp(self, older_than: float = STALE_TMP_SECONDS) -> int:
        """Remove temporary files left by interrupted writes; returns how many were removed."""
        if not self.root.is_dir():
            return 0
        cutoff = time.time() - older_than
        removed = 0
        with os.scandir(self.root) as shards:
            for folder in shards:
                if not folder.is_dir(follow_symlinks=False):
                    continue
                with os.scandir(folder.path) as entries:
                    for entry in entries:
                        if not entry.name.startswith(TMP_PREFIX):
                            continue
                        with contextlib.suppress(OSError):
                            if entry.stat(follow_symlinks=False).st_mtime <= cutoff:
                                os.unlink(entry.path)
                                removed += 1
        return removed
