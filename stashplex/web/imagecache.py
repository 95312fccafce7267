"""Stash's images on local disk, as fetched (rendered posters live in `posters.store`).

Layout (every name built from numeric ids and Stash's version strings, never from request text):

    <images>/<kind>/<id % 256 as 2 hex digits>/<id>.<version tag>

The version tag is Stash's `t` value for the image (when it is short and alphanumeric, else a
hash of it), so a changed cover is a new file and the old one is removed when the new one lands.
Writes are atomic (`diskio`): a reader sees the old file or the new one, never half of one.
The cache is bounded: past `max_bytes` the files used longest ago are removed until it is back
under 80% of the limit. "Used" is the file's access time, which `get` sets itself (at most once
an hour per file, and whatever the mount's atime options): serving a file never changes its
modification time, so its ETag and Last-Modified stay put.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import logging
import os
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from stashplex.diskio import STALE_TMP_SECONDS, TMP_PREFIX, atomic_write, shard, stale_temp
from stashplex.mirror.lookups import IMAGE_KINDS, ImageKind

log = logging.getLogger(__name__)

# Stash's images, and the title cards of scenes without a cover (16:9 and 2:3).
CacheKind = ImageKind | Literal["card", "cardposter"]
CACHE_KINDS: tuple[CacheKind, ...] = (*IMAGE_KINDS, "card", "cardposter")
DEFAULT_MAX_BYTES = 2 * 1024**3
TOUCH_SECONDS = 3600  # a file's last use is recorded at most this often
PRUNE_TO = 0.8  # of max_bytes, after going over it
FILL_TO = 0.9  # of max_bytes: where prefetching stops, so it never evicts what Plex uses
_PLAIN_VERSION = re.compile(r"[0-9A-Za-z]{1,40}")


@dataclass(frozen=True, slots=True)
class CachedFile:
    path: Path
    size: int
    mtime_ns: int

    @property
    def etag(self) -> str:
        # Changes whenever the file is replaced; cheap, and never derived from request text.
        return f'"{self.mtime_ns:x}-{self.size:x}"'

    @property
    def last_modified(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.mtime_ns // 1_000_000_000, dt.timezone.utc)

    def read(self) -> bytes:
        return self.path.read_bytes()


@dataclass(frozen=True, slots=True)
class HeldImage:
    """An image that could not be stored (the cache folder is full or read-only), served
    from memory with the same validators as a cached file."""

    data: bytes
    fetched_at: float = field(default_factory=time.time)

    @property
    def size(self) -> int:
        return len(self.data)

    @property
    def etag(self) -> str:
        return f'"m{hashlib.blake2b(self.data, digest_size=8).hexdigest()}"'

    @property
    def last_modified(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(int(self.fetched_at), dt.timezone.utc)

    def read(self) -> bytes:
        return self.data


@dataclass(frozen=True, slots=True)
class StaleFile(CachedFile):
    """An older version of an image, served while its current one cannot be fetched."""


Image = CachedFile | HeldImage


def version_tag(version: str | None) -> str:
    if not version:
        return "0"
    if _PLAIN_VERSION.fullmatch(version):
        return version
    return "h" + hashlib.blake2b(version.encode("utf-8"), digest_size=8).hexdigest()


def stat(path: Path) -> CachedFile | None:
    try:
        info = path.stat()
    except OSError:
        return None
    if info.st_size == 0:  # an interrupted write on a crashed machine: treat as absent
        return None
    return CachedFile(path, info.st_size, info.st_mtime_ns)


def write(path: Path, data: bytes) -> CachedFile:
    """Store `data` atomically (see `diskio`) and describe the file."""
    found = stat(atomic_write(path, data))
    if found is None:
        raise OSError(f"{path} vanished right after it was written")
    return found


def _versions(folder: Path, entity_id: int) -> list[os.DirEntry[str]]:
    """The files of one id in its folder, whatever their version."""
    prefix = f"{int(entity_id)}."
    with contextlib.suppress(OSError), os.scandir(folder) as entries:
        return [entry for entry in entries if entry.name.startswith(prefix)]
    return []  # no folder yet


class ImageCache:
    """Stash's images by kind, id and version, bounded in total size."""

    def __init__(self, root: Path, max_bytes: int | None = DEFAULT_MAX_BYTES) -> None:
        self.root = Path(root)
        self.max_bytes = max_bytes
        self._size: int | None = None  # measured on the first write
        self._lock = threading.Lock()

    def path(self, kind: CacheKind, entity_id: int, version: str | None) -> Path:
        if kind not in CACHE_KINDS:
            raise ValueError(f"unknown image kind {kind!r}")
        name = f"{int(entity_id)}.{version_tag(version)}"
        return self.root / kind / shard(entity_id) / name

    def get(self, kind: CacheKind, entity_id: int, version: str | None) -> CachedFile | None:
        path = self.path(kind, entity_id, version)
        try:
            info = path.stat()
        except OSError:
            return None
        if info.st_size == 0:  # an interrupted write on a crashed machine: treat as absent
            return None
        if time.time() - info.st_atime > TOUCH_SECONDS:  # recently used: evicted last
            with contextlib.suppress(OSError):
                os.utime(path, ns=(time.time_ns(), info.st_mtime_ns))
        return CachedFile(path, info.st_size, info.st_mtime_ns)

    def size(self) -> int:
        """Bytes stored now (measured once, then kept up to date by writes)."""
        with self._lock:
            if self._size is None:
                self._size = self._measure()
            return self._size

    def has_room(self) -> bool:
        """Below the prefetch's share of the budget (always true without a budget)."""
        return self.max_bytes is None or self.size() < self.max_bytes * FILL_TO

    def latest(self, kind: CacheKind, entity_id: int) -> StaleFile | None:
        """The newest stored version of an image, whatever its version (for stale answers)."""
        best: StaleFile | None = None
        for entry in _versions(self.path(kind, entity_id, None).parent, entity_id):
            found = stat(Path(entry.path))
            if found is not None and (best is None or found.mtime_ns > best.mtime_ns):
                best = StaleFile(found.path, found.size, found.mtime_ns)
        return best

    def put(self, kind: CacheKind, entity_id: int, version: str | None, data: bytes) -> CachedFile:
        path = self.path(kind, entity_id, version)
        # One write at a time, its accounting with it: a prune scanning the folder meanwhile
        # would otherwise count a new file twice, or one it removed as still there.
        with self._lock:
            stored = write(path, data)
            removed = self._remove_other_versions(path, entity_id)
            if self._size is None:
                self._size = self._measure()
            else:
                self._size += stored.size - removed
            over = self.max_bytes is not None and self._size > self.max_bytes
        if over:
            self.prune()
        return stored

    def _remove_other_versions(self, keep: Path, entity_id: int) -> int:
        freed = 0
        for entry in _versions(keep.parent, entity_id):
            if entry.name != keep.name:
                with contextlib.suppress(OSError):
                    size = entry.stat().st_size
                    os.unlink(entry.path)
                    freed += size
        return freed

    def start(self) -> int:
        """At start-up, before this process writes anything: remove what interrupted writes
        left (see `diskio.stale_temp`) and measure the cache; its size in bytes."""
        with self._lock:
            self._size = sum(size for _used, size, _path in self._files(at_start=True))
            return self._size

    def _files(self, at_start: bool = False) -> list[tuple[int, int, str]]:
        """(last use in ns, size, path) of every cached file; stale temporary files are
        removed."""
        found = []
        for folder, _dirs, names in os.walk(self.root):
            for name in names:
                path = os.path.join(folder, name)
                try:
                    info = os.stat(path)
                except OSError:
                    continue
                if name.startswith(TMP_PREFIX):
                    if stale_temp(name, info.st_mtime, STALE_TMP_SECONDS, at_start):
                        with contextlib.suppress(OSError):
                            os.unlink(path)
                    continue
                found.append((max(info.st_atime_ns, info.st_mtime_ns), info.st_size, path))
        return found

    def _measure(self) -> int:
        return sum(size for _used, size, _path in self._files())

    def prune(self) -> int:
        """Remove the files used longest ago until under 80% of the limit; returns the bytes
        freed."""
        if self.max_bytes is None:
            return 0
        with self._lock:
            files = sorted(self._files())
            total = sum(size for _used, size, _path in files)
            target = int(self.max_bytes * PRUNE_TO)
            freed = 0
            for _used, size, path in files:
                if total - freed <= target:
                    break
                with contextlib.suppress(OSError):
                    os.unlink(path)
                    freed += size
            self._size = total - freed
        if freed:
            log.info("image cache over %d bytes: removed %d bytes", self.max_bytes, freed)
        return freed
