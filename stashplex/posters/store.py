"""Rendered posters on disk: one JPEG per scene, written atomically.

Layout (names are built from the integer scene id only, never from request text):

    <poster_dir>/<id % 256 as 2 hex digits>/<id>.jpg

256 shard folders keep each folder small on a big library. Writes are atomic (`diskio`): a
reader sees the old poster or the new one, never a truncated JPEG.
"""

from __future__ import annotations

from pathlib import Path

from stashplex.diskio import STALE_TMP_SECONDS, TMP_PREFIX, atomic_write, clean_temp, shard
from stashplex.plex.identity import require_stash_id

__all__ = ["STALE_TMP_SECONDS", "TMP_PREFIX", "PosterStore", "shard"]


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
        return atomic_write(self.path(scene_id), data)

    def remove(self, scene_id: int) -> bool:
        """Delete the scene's poster; True if there was one."""
        path = self.path(scene_id)
        try:
            path.unlink()
        except FileNotFoundError:
            return False
        except OSError:
            # A read-only folder refuses even to unlink what is not there: nothing to remove.
            if not path.exists():
                return False
            raise
        return True

    def clean_temp(self, older_than: float = STALE_TMP_SECONDS, *, at_start: bool = False) -> int:
        """Remove temporary files left by interrupted writes; returns how many were removed."""
        return clean_temp(self.root, older_than, at_start=at_start)
