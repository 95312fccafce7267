"""Deterministic base data of the sample library, computed from ids on demand.

Nothing per scene is stored: every scene, file and marker is a pure function of
``(seed, id)``, so a 500,000-scene library costs no memory until a page is read.
Performers, studios, tags and groups are few and built eagerly.

Invariants the rest of the package relies on:
- scene ``updated`` is non-decreasing in the id (batches of four share one second), so
  ``updated_at`` ranges map to id ranges by bisection;
- scene ``s`` owns file ids ``2s-1`` (primary) and, if it has two files, ``2s``;
- ids 1..30 are the hand-made trap scenes of :mod:`names` (when the library is that big).
"""

from __future__ import annotations

from typing import Any

from .clock import TimeFormat
from .names import (
    ADJECTIVES,
    AUDIO_CODECS,
    CJK_NAMES,
    DISAMBIGUATIONS,
    EXTENSIONS,
    FIRST_NAMES,
    FRAME_RATES,
    LAST_NAMES,
    NOUNS,
    RESOLUTIONS,
    SPECIAL_STUDIOS,
    STUDIO_SUFFIXES,
    STUDIO_WORDS,
    TAG_NAMES,
    TRAP_BY_ID,
    TRAP_SCENES,
    VIDEO_CODECS,
    TrapScene,
    windows_safe,
)
from .versions import StashVersion

MASK = (1 << 64) - 1
FIRST_YEAR, YEARS = 2005, 20
BATCH, BATCH_SECONDS = 4, 97  # four scenes per imported batch, 97 s apart
STASHDB = "https://stashdb.org/graphql"
GENDERS = ("FEMALE",) * 12 + ("MALE",) * 5 + ("TRANSGENDER_FEMALE", "NON_BINARY", None)


def mix(x: int) -> int:
    """splitmix64 finaliser: a cheap, well-spread 64-bit hash."""
    x &= MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & MASK
    return x ^ (x >> 31)


def _clamp(value: int, low: int, high: int) -> int:
    return max(low, min(high, value))


class BaseData:
    """The untouched library: entity tables, the folder table and per-id functions."""

    def __init__(
        self,
        scenes: int,
        seed: int,
        version: StashVersion,
        windows: bool,
        fmt: TimeFormat,
        root: str | None = None,
    ) -> None:
        if scenes < 0:
            raise ValueError("scenes must be >= 0")
        self.n_scenes = scenes
        self.seed = seed
        self.version = version
        self.windows = windows
        self.fmt = fmt
        self.sep = "\\" if windows else "/"
        self.root = (root or ("C:\\Stash\\Library" if windows else "/data/stash")).rstrip("\\/")
        self._salt = mix(seed * 0x9E3779B97F4A7C15 + 0x632BE59BD9B4E019)
        # Every untouched scene was created after the entities, batch by batch.
        self.t0 = fmt.local(2022, 1, 3, 9, 0)
        self.n_tags = _clamp(40 + scenes // 500, 40, 1000)
        self.n_studios = _clamp(12 + scenes // 250, 12, 2500)
        self.n_performers = _clamp(30 + scenes // 25, 30, 25000)
        self.n_groups = _clamp(6 + scenes // 100, 6, 6000)
        self.n_networks = max(3, self.n_studios // 8)
        self.tags = [self._tag(i) for i in range(1, self.n_tags + 1)]
        self.studios = self._studios()
        self.performers = [self._performer(i) for i in range(1, self.n_performers + 1)]
        self.groups = [self._group(i) for i in range(1, self.n_groups + 1)]
        self.folders: list[str] = []
        self._trap_folder: dict[tuple[str, ...], int] = {}
        for trap in TRAP_SCENES:
            for f in trap.files:
                if f.folder not in self._trap_folder:
                    self._trap_folder[f.folder] = len(self.folders)
                    self.folders.append(self._join(f.folder))
        self._studio_folder_base = len(self.folders)
        for studio in self.studios:
            folder = self._name_part(studio["name"])
            self.folders.extend(self._join((folder, str(FIRST_YEAR + y))) for y in range(YEARS))
        self.folders.extend(self._join(("Unsorted", str(FIRST_YEAR + y))) for y in range(YEARS))

    # -- helpers -------------------------------------------------------------------------
    def h(self, kind: int, ident: int) -> int:
        return mix(self._salt ^ (ident * 0xD1B54A32D192ED03 + kind * 0xA24BAED4963EE407))

    def _join(self, parts: tuple[str, ...]) -> str:
        return self.sep.join((self.root, *(self._name_part(p) for p in parts)))

    def _name_part(self, name: str) -> str:
        return windows_safe(name) if self.windows else name

    def last_base_updated(self) -> int:
        return self.scene_updated(self.n_scenes) if self.n_scenes else self.t0

    # -- entities ------------------------------------------------------------------------
    def _entity_times(self, kind: int, ident: int, days_before: int) -> tuple[int, int]:
        created = self.t0 - days_before * 86400 + ident * 60
        return created, created + (self.h(kind, ident) % 50)

    def _tag(self, i: int) -> dict[str, Any]:
        r = self.h(11, i)
        if i <= len(TAG_NAMES):
            name = TAG_NAMES[i - 1]
        else:
            name = f"{ADJECTIVES[r % len(ADJECTIVES)]} {NOUNS[(r >> 8) % len(NOUNS)]} {i}"
        created, updated = self._entity_times(11, i, 400)
        # A quarter of the tags past the first ten sit under one of those ten (Stash's tag
        # hierarchy); a parent always has a smaller id, so the generated tree has no cycle.
        parents = [1 + (r >> 20) % 10] if i > 10 and (r >> 24) % 4 == 0 else []
        return {
            "id": i,
            "name": name,
            "parent_ids": parents,
            "description": "" if r % 3 else f"All about {name.lower()}.",
            "image": (r >> 16) % 10 < 3,
            "created": created,
            "updated": updated,
        }

    def _studios(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        seen: set[str] = set()
        for i in range(1, self.n_studios + 1):
            r = self.h(12, i)
            if i <= len(SPECIAL_STUDIOS):
                name = SPECIAL_STUDIOS[i - 1]
            else:
                word = STUDIO_WORDS[r % len(STUDIO_WORDS)]
                name = f"{word} {STUDIO_SUFFIXES[(r >> 8) % len(STUDIO_SUFFIXES)]}"
            if name in seen:
                name = f"{name} {i}"
            seen.add(name)
            parent = None
            if i > self.n_networks and (r >> 16) % 2:
                parent = 1 + (r >> 20) % self.n_networks
            slug = "".join(c for c in name.lower() if c.isascii() and c.isalnum()) or f"s{i}"
            created, updated = self._entity_times(12, i, 380)
            out.append(
                {
                    "id": i,
                    "name": name,
                    "parent_id": parent,
                    "image": (r >> 32) % 10 < 8,
                    "urls": [f"https://{slug}.example/"],
                    "details": ""
                    if (r >> 36) % 2
                    else f"{name} has made films since {2000 + i % 20}.",
                    "created": created,
                    "updated": updated,
                }
            )
        return out

    def _performer(self, i: int) -> dict[str, Any]:
        r = self.h(13, i)
        disambiguation = ""
        if i > 17 and i % 17 == 0:
            # Same name as an earlier performer: Stash needs a disambiguation to tell them apart.
            name = self._performer_name(i - 7)
            disambiguation = DISAMBIGUATIONS[(r >> 4) % len(DISAMBIGUATIONS)]
        else:
            name = self._performer_name(i)
            if r % 20 == 0:
                disambiguation = DISAMBIGUATIONS[(r >> 4) % len(DISAMBIGUATIONS)]
        created, updated = self._entity_times(13, i, 360)
        return {
            "id": i,
            "name": name,
            "disambiguation": disambiguation,
            "gender": GENDERS[(r >> 12) % len(GENDERS)],
            "image": (r >> 20) % 4 != 0,
            "created": created,
            "updated": updated,
        }

    def _performer_name(self, i: int) -> str:
        r = self.h(14, i)
        if r % 25 == 0:
            return CJK_NAMES[(r >> 8) % len(CJK_NAMES)] + ("" if i < 200 else f" {i}")
        first = FIRST_NAMES[(r >> 8) % len(FIRST_NAMES)]
        if (r >> 16) % 10 == 0:
            return first if i < 60 else f"{first} {i}"  # mononyms
        last = LAST_NAMES[(r >> 24) % len(LAST_NAMES)]
        base = f"{first} {last}"
        # Keep names mostly unique in big libraries without making them look synthetic.
        return base if i <= len(FIRST_NAMES) * 4 else f"{base} {chr(65 + (i % 26))}."

    def _group(self, i: int) -> dict[str, Any]:
        r = self.h(15, i)
        created, updated = self._entity_times(15, i, 370)
        year = FIRST_YEAR + r % YEARS
        return {
            "id": i,
            "name": f"{ADJECTIVES[(r >> 8) % len(ADJECTIVES)]} {NOUNS[(r >> 16) % len(NOUNS)]}"
            f" Vol. {1 + (r >> 24) % 9}",
            "date": f"{year}-{1 + (r >> 28) % 12:02d}-{1 + (r >> 32) % 28:02d}",
            "synopsis": "" if (r >> 36) % 3 == 0 else "A collection of scenes.",
            "director": "" if (r >> 38) % 2 else f"{FIRST_NAMES[(r >> 40) % len(FIRST_NAMES)]}",
            "studio_id": 1 + (r >> 44) % self.n_studios,
            "front": (r >> 52) % 10 < 7,
            "back": (r >> 56) % 10 < 3,
            "created": created,
            "updated": updated,
        }

    # -- scenes --------------------------------------------------------------------------
    def scene_updated(self, sid: int) -> int:
        """Non-decreasing in ``sid``; four consecutive scenes share each second."""
        return self.t0 + (sid // BATCH) * BATCH_SECONDS

    def scene_created(self, sid: int) -> int:
        return self.scene_updated(sid) - self.h(1, sid) % (86400 * 20)

    def _date(self, r: int) -> str | None:
        kind = r % 100
        year = FIRST_YEAR + (r >> 8) % YEARS
        month, day = 1 + (r >> 16) % 12, 1 + (r >> 24) % 28
        if kind < 8:
            return None
        if kind < 12 and self.version.partial_dates:
            return str(year)
        if kind < 16 and self.version.partial_dates:
            return f"{year}-{month:02d}"
        return f"{year}-{month:02d}-{day:02d}"

    def trap(self, sid: int) -> TrapScene | None:
        """The hand-made trap scene for ``sid``; scenes added later never are traps."""
        return TRAP_BY_ID.get(sid) if sid <= self.n_scenes else None

    def _scene_bits(self, sid: int) -> tuple[int, int]:
        return self.h(2, sid), self.h(3, sid)

    def _studio_of(self, r: int) -> int | None:
        return None if (r >> 34) % 10 == 0 else 1 + (r >> 38) % self.n_studios

    def _title_of(self, sid: int, r: int) -> str:
        trap = self.trap(sid)
        if trap is not None:
            return trap.title
        return "" if r % 100 < 8 else self.title(r >> 8)

    def _date_of(self, sid: int, r2: int) -> str | None:
        trap = self.trap(sid)
        return self._trap_date(trap.date) if trap is not None else self._date(r2)

    def _n_performers(self, r: int) -> int:
        return (0, 1, 1, 1, 2, 2, 3, 4)[(r >> 28) % 8]

    def scene(self, sid: int) -> dict[str, Any]:
        """Raw fields of an untouched scene (ids and unix times, not GraphQL values)."""
        r, r2 = self._scene_bits(sid)
        trap = self.trap(sid)
        title = self._title_of(sid, r)
        if trap is not None:
            organized, cover = trap.organized, trap.cover
        else:
            organized = title != "" and (r >> 20) % 10 < 7
            cover = (r >> 24) % 100 >= 12
        n_tags = (0, 1, 2, 2, 3, 4, 5, 6)[(r >> 31) % 8]
        perf = self._pick(r2 >> 32, self._n_performers(r), self.n_performers)
        tags = self._pick(r2 >> 40, n_tags, self.n_tags)
        studio = self._studio_of(r)
        groups: list[tuple[int, int | None]] = []
        if (r >> 44) % 100 < 12:
            groups.append((1 + (r2 >> 8) % self.n_groups, None if sid % 5 == 0 else sid % 30 + 1))
        stash_ids: list[tuple[str, str]] = []
        if (r >> 50) % 10 < 4:
            u = self.h(4, sid)
            x = f"{u:016x}{mix(u):016x}"
            stash_ids.append((STASHDB, f"{x[:8]}-{x[8:12]}-4{x[13:16]}-a{x[17:20]}-{x[20:32]}"))
        return {
            "id": sid,
            "title": title,
            "code": f"SP-{sid:06d}" if (r >> 54) % 10 < 6 else "",
            "details": "" if (r >> 57) % 3 else f"Scene {sid}: {title or 'untitled'}.",
            "director": "" if (r >> 59) % 4 else FIRST_NAMES[(r2 >> 20) % len(FIRST_NAMES)],
            "urls": [f"https://studio{studio or 0}.example/scenes/{sid}"] if (r2 >> 1) % 2 else [],
            "date": self._date_of(sid, r2),
            "rating100": None if (r2 >> 2) % 2 else 20 * (1 + (r2 >> 3) % 5),
            "organized": organized,
            "o_counter": (r2 >> 6) % 4,
            "created": self.scene_created(sid),
            "updated": self.scene_updated(sid),
            "studio_id": studio,
            "performer_ids": perf,
            "tag_ids": tags,
            "groups": groups,
            "stash_ids": stash_ids,
            "cover": cover,
        }

    def _trap_date(self, date: str | None) -> str | None:
        if date is None or self.version.partial_dates:
            return date
        return (date + "-01-01")[:10] if len(date) == 4 else (date + "-01")[:10]

    def title(self, r: int) -> str:
        adjective, noun = ADJECTIVES[r % len(ADJECTIVES)], NOUNS[(r >> 6) % len(NOUNS)]
        tail = (r >> 12) % 8
        return f"{adjective} {noun}" if tail < 5 else f"{adjective} {noun} {tail}"

    @staticmethod
    def _pick(r: int, count: int, size: int) -> list[int]:
        out: list[int] = []
        while len(out) < min(count, size):
            r = mix(r + 0x9E37)
            value = 1 + r % size
            if value not in out:
                out.append(value)
        return out

    def n_files(self, sid: int) -> int:
        trap = self.trap(sid)
        if trap is not None:
            return len(trap.files)
        return 2 if self.h(5, sid) % 10 == 0 else 1

    def file_location(self, fid: int) -> tuple[int, str]:
        """(folder index, basename) of an untouched file, from a few hash bits only."""
        sid, second = (fid + 1) // 2, fid % 2 == 0
        trap = self.trap(sid)
        if trap is not None:
            f = trap.files[1 if second else 0]
            return self._trap_folder[f.folder], self._name_part(f.basename)
        r, r2 = self._scene_bits(sid)
        date = self._date(r2)
        year = int(date[:4]) if date else 2020
        studio = self._studio_of(r)
        column = self.n_studios if studio is None else studio - 1
        folder = self._studio_folder_base + column * YEARS + (year - FIRST_YEAR)
        perf = ""
        if self._n_performers(r):
            perf = self.performers[self._pick(r2 >> 32, 1, self.n_performers)[0] - 1]["name"]
        studio_name = self.studios[studio - 1]["name"] if studio else "Unknown"
        r6 = self.h(6, sid)
        stem = self._stem(sid, self._title_of(sid, r), date, studio_name, perf, r6)
        if second:
            alt = r6 % 2
            return folder, self._name_part(
                f"{stem}{' (alt)' if alt else '.720p'}.{'mkv' if alt else 'mp4'}"
            )
        return folder, self._name_part(f"{stem}.{EXTENSIONS[(r6 >> 4) % len(EXTENSIONS)]}")

    @staticmethod
    def _stem(sid: int, title: str, date: str | None, studio: str, perf: str, r: int) -> str:
        code = f"SP-{sid:06d}"
        title = title or "untitled"
        date = date or "2020-01-01"
        pattern = (r >> 8) % 4
        if pattern == 0:
            return f"{studio} - {date} - {title} [{code}]"
        if pattern == 1:
            compact = "".join(studio.split())
            slug = "-".join(perf.lower().split()) or "various"
            height = RESOLUTIONS[(r >> 12) % len(RESOLUTIONS)][1]
            month, day = (date[5:7] or "01"), (date[8:10] or "01")
            return f"{compact}.{date[2:4]}.{month}.{day}.{slug}.{height}p.{code}"
        if pattern == 2:
            return f"{title} ({date[:4]}) {code}"
        return f"{perf or 'Various'} - {title} - {code}"

    def file_detail(self, fid: int) -> dict[str, Any]:
        """Media facts of a file (never change in the sample library)."""
        r = self.h(7, fid)
        r2 = self.h(8, fid)
        width, height = RESOLUTIONS[r % len(RESOLUTIONS)]
        duration = round(240 + (r >> 8) % 5400 + ((r >> 24) % 1000) / 1000, 3)
        bit_rate = 800_000 + (r >> 32) % 12_000_000
        fps = FRAME_RATES[(r >> 40) % len(FRAME_RATES)]
        fingerprints = [("oshash", f"{r2:016x}")]
        if (r >> 44) % 10 < 6:
            fingerprints.append(("md5", f"{mix(r2):016x}{mix(r2 + 1):016x}"))
        if (r >> 48) % 10 < 8:
            fingerprints.append(("phash", f"{mix(r2 + 2):016x}"))
        return {
            "size": int(bit_rate * duration / 8),
            "duration": duration,
            "width": width,
            "height": height,
            "frame_rate": fps,
            "bit_rate": bit_rate,
            "video_codec": VIDEO_CODECS[(r >> 52) % len(VIDEO_CODECS)],
            "audio_codec": AUDIO_CODECS[(r >> 56) % len(AUDIO_CODECS)],
            "fingerprints": fingerprints,
        }

    def file_times(self, fid: int) -> tuple[int, int, int]:
        """(mod_time, created, updated) of an untouched file: all before its scene's."""
        sid = (fid + 1) // 2
        created = self.scene_created(sid) - 60
        return created - self.h(9, fid) % (86400 * 200), created, created

    def markers(self, sid: int) -> list[dict[str, Any]]:
        r = self.h(10, sid)
        if r % 100 >= 15:
            return []
        out = []
        for k in range(1 + (r >> 8) % 3):
            rk = mix(r + k)
            seconds = float(30 + k * 300 + rk % 240)
            out.append(
                {
                    "id": sid * 3 - 2 + k,
                    "title": "" if rk % 5 == 0 else f"Chapter {k + 1}",
                    "seconds": seconds,
                    "end_seconds": None if (rk >> 8) % 2 else seconds + 45.5,
                    "primary_tag_id": 1 + (rk >> 16) % self.n_tags,
                    "tag_ids": self._pick(rk >> 24, (rk >> 20) % 3, self.n_tags),
                }
            )
        return out
