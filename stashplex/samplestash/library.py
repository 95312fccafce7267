"""The live sample library: the generated base plus an overlay of changes.

Reads combine :class:`~.generate.BaseData` with small overlay dicts, so a change costs
memory only for what it touches. Every change follows Stash's timestamp rules (see
the shared notes on Stash's API): scene edits bump the scene; renames bump only the renamed entity;
file moves bump only the file; folder renames and deletions leave no timestamp at all.

Every change holds :attr:`Library.lock`; the GraphQL and image layers hold it while they
read, so a request never sees half a change.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Iterable, Iterator
from typing import Any

from .clock import Clock, TimeFormat, parse_offset
from .generate import BaseData
from .names import TRAP_IDS, TRAP_SCENES
from .versions import StashVersion

SCENE_FIELDS = frozenset({
    "title", "code", "details", "director", "urls", "date", "rating100", "organized",
    "studio_id", "performer_ids", "tag_ids", "groups", "stash_ids",
})  # fmt: skip


class NotFound(KeyError):
    """An id that does not exist (or no longer exists) in the library."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "not found"


class Library:
    """Deterministic synthetic Stash library with Stash-like change semantics."""

    def __init__(
        self,
        scenes: int = 300,
        seed: int = 1,
        stash_version: str = "v0.30.1",
        os_name: str = "linux",
        utc_offset: str = "+02:00",
        clock: str = "manual",
        root: str | None = None,
    ) -> None:
        if os_name not in ("linux", "windows", "darwin"):
            raise ValueError("os_name must be linux, windows or darwin")
        self.version = StashVersion.parse(stash_version)
        self.os_name = os_name
        self.fmt = TimeFormat(parse_offset(utc_offset))
        self.base = BaseData(scenes, seed, self.version, os_name == "windows", self.fmt, root)
        # What systemStatus and version report: a Stash mid-setup or mid-migration, or a
        # development build without a version, behave like this one otherwise.
        self.status = "OK"
        self.reported_version: str | None = self.version.text
        self.sep = self.base.sep
        # Changes start well after every generated timestamp, at a fixed wall time.
        start = max(self.fmt.local(2024, 6, 1, 12, 0), self.base.last_base_updated() + 86400)
        self.clock = Clock(start, clock)
        self.lock = threading.RLock()
        self.generation = 0  # bumped by every change; caches key on it
        self.n_base = scenes
        self.deleted: set[int] = set()
        self.added: list[int] = []  # ids > n_base, ascending
        self._added_set: set[int] = set()
        self.next_id = scenes + 1
        self.scene_over: dict[int, dict[str, Any]] = {}
        self.touched: set[int] = set()  # scenes whose updated_at left the base order
        self.file_over: dict[int, tuple[int, str, int, int]] = {}  # folder, name, created, upd.
        self.folders = list(self.base.folders)
        self.tags = {t["id"]: dict(t) for t in self.base.tags}
        self.studios = {s["id"]: dict(s) for s in self.base.studios}
        self.performers = {p["id"]: dict(p) for p in self.base.performers}
        self.groups = {g["id"]: dict(g) for g in self.base.groups}
        self.tag_remap: dict[int, int] = {}
        # Settings > Plugins: plugin id -> its settings (`configuration { plugins }`).
        self.plugin_settings: dict[str, dict[str, Any]] = {}
        self.image_versions: dict[tuple[str, int], int] = {}

    # -- reading ---------------------------------------------------------------------------
    def exists(self, sid: int) -> bool:
        if sid in self.deleted:
            return False
        if 1 <= sid <= self.n_base:
            return True
        return sid in self._added_set

    def live_count(self) -> int:
        return self.n_base - sum(1 for s in self.deleted if s <= self.n_base) + len(self.added)

    def iter_ids(self, lo: int = 1, hi: int | None = None, desc: bool = False) -> Iterator[int]:
        """Live scene ids in ``[lo, hi]`` in id order, without materialising them."""
        hi = self.next_id if hi is None else hi
        lo = max(lo, 1)
        deleted = self.deleted
        base_hi = min(hi, self.n_base)
        first = bisect.bisect_left(self.added, lo)
        last = bisect.bisect_right(self.added, hi)
        added = self.added[first:last]
        if desc:
            yield from reversed(added)
            for sid in range(base_hi, lo - 1, -1):
                if sid not in deleted:
                    yield sid
        else:
            for sid in range(lo, base_hi + 1):
                if sid not in deleted:
                    yield sid
            yield from added

    def count_ids(self, lo: int = 1, hi: int | None = None) -> int:
        hi = self.next_id if hi is None else hi
        lo = max(lo, 1)
        base = max(0, min(hi, self.n_base) - lo + 1)
        gone = sum(1 for s in self.deleted if lo <= s <= hi and s <= self.n_base)
        added = bisect.bisect_right(self.added, hi) - bisect.bisect_left(self.added, lo)
        return base - gone + added

    def raw_scene(self, sid: int) -> dict[str, Any]:
        """Effective raw scene: base fields merged with the overlay (ids, unix times)."""
        if not self.exists(sid):
            raise NotFound(f"scene with id {sid} not found")
        raw = self.base.scene(sid)
        over = self.scene_over.get(sid)
        if over:
            raw.update(over)
        return raw

    def updated(self, sid: int) -> int:
        over = self.scene_over.get(sid)
        if over is not None and "updated" in over:
            return over["updated"]
        return self.base.scene_updated(sid)

    def stamp(self, unix: int) -> str:
        return self.fmt.stamp(unix)

    def file_ids(self, sid: int) -> list[int]:
        over = self.scene_over.get(sid)
        count = over.get("n_files") if over else None
        if count is None:
            count = self.base.n_files(sid)
        return [2 * sid - 1, 2 * sid][:count]

    def file_location(self, fid: int) -> tuple[str, str]:
        """(folder path, basename) of a live file."""
        over = self.file_over.get(fid)
        if over is not None:
            return self.folders[over[0]], over[1]
        folder, name = self.base.file_location(fid)
        return self.folders[folder], name

    def file_path(self, fid: int) -> str:
        folder, name = self.file_location(fid)
        return folder + self.sep + name

    def scene_paths(self, sid: int) -> list[str]:
        return [self.file_path(fid) for fid in self.file_ids(sid)]

    def file_times(self, fid: int) -> tuple[int, int, int]:
        """(mod_time, created, updated)."""
        over = self.file_over.get(fid)
        base = self.base.file_times(fid)
        if over is None:
            return base
        return (min(base[0], over[2]), over[2], over[3])

    def performer_ids(self, raw: dict[str, Any]) -> list[int]:
        return [p for p in raw["performer_ids"] if p in self.performers]

    def tag_ids(self, ids: Iterable[int]) -> list[int]:
        out: list[int] = []
        for t in ids:
            t = self.tag_remap.get(t, t)
            if t in self.tags and t not in out:
                out.append(t)
        return out

    def group_links(self, raw: dict[str, Any]) -> list[tuple[int, int | None]]:
        return [(g, i) for g, i in raw["groups"] if g in self.groups]

    def markers(self, sid: int) -> list[dict[str, Any]]:
        """Markers whose primary tag still exists (Stash cascades tag deletion)."""
        out = []
        for m in self.base.markers(sid):
            primary = self.tag_remap.get(m["primary_tag_id"], m["primary_tag_id"])
            if primary in self.tags:
                out.append({**m, "primary_tag_id": primary, "tag_ids": self.tag_ids(m["tag_ids"])})
        return out

    def has_cover(self, sid: int) -> bool:
        return bool(self.raw_scene(sid)["cover"])

    def image_version(self, kind: str, ident: int) -> int:
        """Bumped whenever an image's content changes (part of its ETag)."""
        return self.image_versions.get((kind, ident), 0)

    def scene(self, sid: int) -> dict[str, Any]:
        """A readable snapshot of one scene, for tests: what the API would report."""
        with self.lock:
            raw = self.raw_scene(sid)
            return {
                **raw,
                "performer_ids": self.performer_ids(raw),
                "tag_ids": self.tag_ids(raw["tag_ids"]),
                "groups": self.group_links(raw),
                "created_at": self.stamp(raw["created"]),
                "updated_at": self.stamp(raw["updated"]),
                "files": [
                    {"id": fid, "path": self.file_path(fid), "updated": self.file_times(fid)[2]}
                    for fid in self.file_ids(sid)
                ],
            }

    def scene_ids(self) -> list[int]:
        with self.lock:
            return list(self.iter_ids())

    @staticmethod
    def trap_ids() -> dict[str, int]:
        """Trap label -> scene id (see :mod:`.names`); present when ``scenes >= id``."""
        return dict(TRAP_IDS)

    @staticmethod
    def traps() -> list[dict[str, Any]]:
        return [
            {
                "id": t.id,
                "trap": t.trap,
                "basenames": [f.basename for f in t.files],
                "notes": t.notes,
            }
            for t in TRAP_SCENES
        ]

    # -- changing --------------------------------------------------------------------------
    def _changed(self) -> None:
        self.generation += 1

    def _bump(self, sid: int, now: int) -> dict[str, Any]:
        over = self.scene_over.setdefault(sid, {})
        over["updated"] = now
        self.touched.add(sid)
        return over

    def _require_scene(self, sid: int) -> None:
        if not self.exists(sid):
            raise NotFound(f"scene with id {sid} not found")

    def advance(self, seconds: float) -> int:
        """Move the clock forward; returns the new unix time."""
        return self.clock.advance(seconds)

    def now(self) -> str:
        return self.stamp(self.clock.now())

    def set_status(self, status: str) -> None:
        """What ``systemStatus.status`` reports: OK, SETUP or NEEDS_MIGRATION."""
        if status not in ("OK", "SETUP", "NEEDS_MIGRATION"):
            raise ValueError("status must be OK, SETUP or NEEDS_MIGRATION")
        self.status = status

    def report_version(self, text: str | None) -> None:
        """What ``version.version`` reports (None: a development build without one)."""
        self.reported_version = text

    def edit_scene(self, sid: int, **fields: Any) -> str:
        """Change scene fields the way ``sceneUpdate`` does; bumps ``updated_at``.

        Accepts ``title code details director urls date rating100 organized studio_id
        performer_ids tag_ids groups stash_ids`` (ids as ints; groups as ``[(id, index)]``).
        Returns the new ``updated_at``.
        """
        unknown = set(fields) - SCENE_FIELDS
        if unknown:
            raise ValueError(f"cannot edit scene fields: {sorted(unknown)}")
        with self.lock:
            self._require_scene(sid)
            clean = self._validate_links(fields)
            now = self.clock.now()
            self._bump(sid, now).update(clean)
            self._changed()
            return self.stamp(now)

    def _validate_links(self, fields: dict[str, Any]) -> dict[str, Any]:
        clean = dict(fields)
        if clean.get("studio_id") is not None:
            clean["studio_id"] = int(clean["studio_id"])
            if clean["studio_id"] not in self.studios:
                raise NotFound(f"studio with id {clean['studio_id']} not found")
        for key, table in (("performer_ids", self.performers), ("tag_ids", self.tags)):
            if key in clean:
                ids = [int(i) for i in clean[key] or []]
                missing = [i for i in ids if i not in table]
                if missing:
                    raise NotFound(f"{key[:-4]} with id {missing[0]} not found")
                clean[key] = ids
        if "groups" in clean:
            links = [(int(g), None if i is None else int(i)) for g, i in clean["groups"] or []]
            for g, _ in links:
                if g not in self.groups:
                    raise NotFound(f"group with id {g} not found")
            clean["groups"] = links
        if "urls" in clean:
            clean["urls"] = list(clean["urls"] or [])
        if "stash_ids" in clean:
            clean["stash_ids"] = [tuple(x) for x in clean["stash_ids"] or []]
        return clean

    def set_o_counter(self, sid: int, value: int) -> None:
        """Play/O-counter changes do not bump ``updated_at`` in Stash."""
        with self.lock:
            self._require_scene(sid)
            self.scene_over.setdefault(sid, {})["o_counter"] = int(value)
            self._changed()

    def set_cover(self, sid: int) -> str:
        """Give the scene a (new) cover: bumps ``updated_at`` and so the ``?t=``."""
        return self._cover(sid, True)

    def remove_cover(self, sid: int) -> str:
        return self._cover(sid, False)

    def _cover(self, sid: int, present: bool) -> str:
        with self.lock:
            self._require_scene(sid)
            now = self.clock.now()
            self._bump(sid, now)["cover"] = present
            key = ("scene", sid)
            self.image_versions[key] = self.image_versions.get(key, 0) + 1
            self._changed()
            return self.stamp(now)

    def _entity(self, kind: str, ident: int) -> dict[str, Any]:
        table = self.table(kind)
        if ident not in table:
            raise NotFound(f"{kind} with id {ident} not found")
        return table[ident]

    def table(self, kind: str) -> dict[int, dict[str, Any]]:
        """The live raw rows of ``performer``/``studio``/``tag``/``group``, by id."""
        tables = {
            "performer": self.performers,
            "studio": self.studios,
            "tag": self.tags,
            "group": self.groups,
        }
        if kind not in tables:
            raise ValueError(f"unknown entity kind {kind!r}")
        return tables[kind]

    def rename(self, kind: str, ident: int, name: str) -> str:
        """Rename a performer/studio/tag/group: bumps only that entity's ``updated_at``."""
        return self.update_entity(kind, ident, name=name)

    def update_entity(
        self,
        kind: str,
        ident: int,
        *,
        name: str | None = None,
        disambiguation: str | None = None,
        image: bool | None = None,
        parent_ids: list[int] | None = None,
    ) -> str:
        """Edit a performer/studio/tag/group; bumps only that entity's ``updated_at``.

        ``image`` sets (True) or removes (False) the image (a group's front image),
        which also changes the image's content and ``?t=``. ``parent_ids`` are a tag's parents.
        """
        if name is not None and not name:
            raise ValueError("name must not be empty")
        with self.lock:
            entity = self._entity(kind, ident)
            now = self.clock.now()
            if name is not None:
                entity["name"] = name
            if disambiguation is not None:
                if kind != "performer":
                    raise ValueError("only performers have a disambiguation")
                entity["disambiguation"] = disambiguation
            if parent_ids is not None:
                if kind != "tag":
                    raise ValueError("only tags have parents")
                entity["parent_ids"] = [int(p) for p in parent_ids]
            if image is not None:
                entity["front" if kind == "group" else "image"] = image
                key = (kind, ident)
                self.image_versions[key] = self.image_versions.get(key, 0) + 1
            entity["updated"] = now
            self._changed()
            return self.stamp(now)

    def rename_performer(self, ident: int, name: str) -> str:
        return self.rename("performer", ident, name)

    def rename_studio(self, ident: int, name: str) -> str:
        return self.rename("studio", ident, name)

    def rename_tag(self, ident: int, name: str) -> str:
        return self.rename("tag", ident, name)

    def rename_group(self, ident: int, name: str) -> str:
        return self.rename("group", ident, name)

    def set_entity_image(self, kind: str, ident: int, present: bool = True) -> str:
        """Set/remove a performer/studio/tag/group (front) image; bumps the entity."""
        return self.update_entity(kind, ident, image=present)

    def delete_performer(self, ident: int) -> None:
        """Links disappear from scenes; the scenes keep their ``updated_at``."""
        with self.lock:
            self._entity("performer", ident)
            del self.performers[ident]
            self._changed()

    def delete_tag(self, ident: int) -> None:
        """Links disappear (markers with it as primary tag go too); scenes not bumped."""
        with self.lock:
            self._entity("tag", ident)
            del self.tags[ident]
            self._changed()

    def merge_tags(self, sources: Iterable[int], destination: int) -> str:
        """Merge tags into ``destination``: only the destination is bumped."""
        with self.lock:
            self._entity("tag", destination)
            sources = [int(s) for s in sources if int(s) != destination]
            for s in sources:
                self._entity("tag", s)
            for s in sources:
                del self.tags[s]
                self.tag_remap[s] = destination
            for old, new in list(self.tag_remap.items()):
                if new in sources:
                    self.tag_remap[old] = destination
            now = self.clock.now()
            self.tags[destination]["updated"] = now
            self._changed()
            return self.stamp(now)

    def move_file(self, fid: int, folder: str | None = None, basename: str | None = None) -> str:
        """Move and/or rename a file: only the file's ``updated_at`` changes."""
        with self.lock:
            sid = (fid + 1) // 2
            if not self.exists(sid) or fid not in self.file_ids(sid):
                raise NotFound(f"file with id {fid} not found")
            old_folder, old_name = self.file_location(fid)
            folder = folder if folder is not None else old_folder
            name = basename if basename is not None else old_name
            if not name or self.sep in name:
                raise ValueError(f"invalid basename {name!r}")
            now = self.clock.now()
            created = self.file_times(fid)[1]
            self.file_over[fid] = (self._folder_index(folder), name, created, now)
            self._changed()
            return self.stamp(now)

    def _folder_index(self, folder: str) -> int:
        folder = folder.rstrip(self.sep) or self.sep
        try:
            return self.folders.index(folder)
        except ValueError:
            self.folders.append(folder)
            return len(self.folders) - 1

    def rename_folder(self, old: str, new: str) -> int:
        """Rename a folder (and everything below it): no timestamp changes at all.

        Returns how many folder entries were rewritten.
        """
        old, new = old.rstrip(self.sep), new.rstrip(self.sep)
        with self.lock:
            count = 0
            for i, path in enumerate(self.folders):
                if path == old or path.startswith(old + self.sep):
                    self.folders[i] = new + path[len(old) :]
                    count += 1
            if not count:
                raise NotFound(f"folder {old!r} not found")
            self._changed()
            return count

    def delete_scene(self, sid: int) -> None:
        """Deleted scenes leave no trace: no tombstone, no timestamp."""
        with self.lock:
            self._require_scene(sid)
            if sid > self.n_base:
                self.added.remove(sid)
                self._added_set.discard(sid)
            else:
                self.deleted.add(sid)
            self.scene_over.pop(sid, None)
            self.touched.discard(sid)
            for fid in (2 * sid - 1, 2 * sid):
                self.file_over.pop(fid, None)
            self._changed()

    def add_scenes(self, count: int = 1, **fields: Any) -> list[int]:
        """Add scenes (as a scan would): new ids, ``created_at = updated_at = now``."""
        if count < 1:
            raise ValueError("count must be >= 1")
        unknown = set(fields) - SCENE_FIELDS
        if unknown:
            raise ValueError(f"cannot set scene fields: {sorted(unknown)}")
        with self.lock:
            clean = self._validate_links(fields)
            now = self.clock.now()
            ids = []
            for _ in range(count):
                sid = self.next_id
                self.next_id += 1
                self.added.append(sid)
                self._added_set.add(sid)
                over = self._bump(sid, now)
                over.update(clean)
                over["created"] = now
                for fid in (2 * sid - 1, 2 * sid)[: self.base.n_files(sid)]:
                    folder, name = self.base.file_location(fid)
                    self.file_over[fid] = (folder, name, now, now)
                ids.append(sid)
            self._changed()
            return ids
