"""Which mirrored scenes a Plex match request means, and how sure we are (pure).

The tiers run in order and the first one that finds something decides:

1. ``path``: the full path after the configured ``path_map`` (or as sent, when no prefix maps);
2. ``suffix``: the longest common path suffix of at least two components (a different mount
   point with the same folders below it);
3. ``basename``, ``basename_folded``, ``stem``: the file name exactly, case-insensitively, then
   without extension and quality tags (``x.1080p.mp4`` ~ ``x.mp4``), the stem only when it names
   one scene;
4. ``filename_id``: ``{stash-123}`` or ``[stash-123]`` written in the file name;
5. ``guid``: our own guid in the request's ``guid`` hint;
6. ``title``: the title (and year) against scene titles.

A tier that names exactly one scene is certain (score 100; the title tier is never certain).
Several scenes are ranked, organized scenes first, then newer dates, then newer ids, with
falling scores below 100. The lookups behind the tiers are an interface (`Lookups`) so the rules
are tested without a database; `stashplex.mirror.lookups` answers them with index seeks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from stashplex.plex import pathkeys
from stashplex.plex.identity import parse_scene_guid, scene_id_in_filename

MAX_CANDIDATES = 10
MIN_SUFFIX_DEPTH = 2  # depth 1 is the basename alone: that is the basename tier's job

CERTAIN = 100
# Scores of ranked (ambiguous) candidates: the best one of a tier, falling by STEP per rank.
AMBIGUOUS_FILE = 90  # several files share the path suffix / name
TITLE_WITH_YEAR = 90  # one scene with this title and year
TITLE_ONLY = 80  # one scene with this title (no year sent, or none with that year)
AMBIGUOUS_TITLE = 70
STEP = 2
FLOOR = 1


@dataclass(frozen=True, slots=True)
class Hit:
    """A scene found by a lookup, with what ranking needs (and its document, if read along)."""

    scene_id: int
    organized: bool = False
    date: str | None = None  # YYYY, YYYY-MM or YYYY-MM-DD
    doc: str | None = field(default=None, compare=False, repr=False)
    # Fails a gate (`[metadata] require_*`): found, so the file is known, but never offered.
    hidden: bool = False


@dataclass(frozen=True, slots=True)
class NamedFile:
    """A file whose last path component is the one asked for, with its reversed path."""

    hit: Hit
    rpath: str  # components reversed and joined by "/" (see mirror.pathkeys)


@dataclass(frozen=True, slots=True)
class SameName:
    """A file whose folded basename is the one asked for, with its basename as stored."""

    hit: Hit
    basename: str


class Lookups(Protocol):
    """Index lookups over mirrored files and scenes. Each returns a few hits, in any order."""

    def files_ending(self, component: str) -> tuple[list[NamedFile], bool]:
        """Files whose last path component is `component`, and whether that is all of them
        (lookups return a bounded number of rows)."""

    def by_path(self, components: Sequence[str]) -> list[Hit]:
        """Files whose path has exactly these components."""

    def by_longest_suffix(self, components: Sequence[str], min_depth: int) -> list[Hit]:
        """Files sharing the longest common suffix (of at least `min_depth` components)."""

    def files_named(self, name: str) -> list[SameName]:
        """Files whose basename is this one compared case- and width-insensitively, each with
        its own basename (so one read decides the exact and the folded tier)."""

    def by_stem(self, name: str) -> list[Hit]:
        """Files whose basename has the same stem key (no extension or quality tags)."""

    def scene(self, scene_id: int) -> Hit | None:
        """The scene with this id, if mirrored."""

    def by_title(self, title: str) -> list[Hit]:
        """Scenes whose title reduces to the same words."""


@dataclass(frozen=True, slots=True)
class MatchRequest:
    filename: str | None = None
    title: str | None = None
    year: int | None = None
    guid: str | None = None
    manual: bool = False


@dataclass(frozen=True, slots=True)
class Candidate:
    scene_id: int
    score: int
    tier: str
    doc: str | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class MatchResult:
    tier: str | None  # the tier that decided, None when nothing matched
    candidates: tuple[Candidate, ...] = field(default_factory=tuple)

    @property
    def found(self) -> bool:
        return bool(self.candidates)


# --- ranking ---------------------------------------------------------------------------------


def _unique(hits: Sequence[Hit]) -> list[Hit]:
    """One hit per scene (a scene with two matching files counts once)."""
    seen: dict[int, Hit] = {}
    for hit in hits:
        seen.setdefault(hit.scene_id, hit)
    return list(seen.values())


def rank(hits: Sequence[Hit]) -> list[Hit]:
    """Organized first, then newer dates (undated last), then newer ids: deterministic."""
    return sorted(_unique(hits), key=lambda h: (not h.organized, _neg_date(h.date), -h.scene_id))


def _neg_date(date: str | None) -> tuple[int, ...]:
    # Newest first: negated (year, month, day); a partial date counts from its first day, as
    # the mapping reads it ("2019" is 2019-01-01), so "2019-07" is newer than "2019".
    if not date:
        return (1,)  # after every dated scene
    parts = [int(p) if p.isdigit() else 1 for p in date.split("-")[:3]]
    parts += [1] * (3 - len(parts))
    return (0, *(-p for p in parts))


def _scored(hits: Sequence[Hit], tier: str, certain: int, best: int) -> list[Candidate]:
    """Candidates from a tier's hits; hidden scenes are left out, so a file known only as a
    hidden scene decides its tier with no candidate (no live lookup, no weaker tier)."""
    hits = [h for h in hits if not h.hidden]
    if not hits:
        return []
    if len(hits) == 1:  # the usual case: nothing to rank
        return [Candidate(hits[0].scene_id, certain, tier, hits[0].doc)]
    ranked = rank(hits)
    if len(ranked) == 1:
        return [Candidate(ranked[0].scene_id, certain, tier, ranked[0].doc)]
    return [
        Candidate(h.scene_id, max(FLOOR, best - STEP * i), tier, h.doc)
        for i, h in enumerate(ranked[:MAX_CANDIDATES])
    ]


def _year_of(date: str | None) -> int | None:
    head = (date or "")[:4]
    return int(head) if len(head) == 4 and head.isdigit() else None


# --- tiers -----------------------------------------------------------------------------------


def file_basenames(filename: str) -> list[str]:
    """The file name as PMS's OS sees it, then split on either separator if that differs.

    A POSIX path may hold a literal backslash in a name (``back\\slash.mp4``); a Windows path
    has no ``/``. The mirror stores Stash's own basename, so both readings are tried.
    """
    posix = filename.rsplit("/", 1)[-1] if "/" in filename else filename.rsplit("\\", 1)[-1]
    parts = pathkeys.components(filename)
    names = [posix] if posix else []
    if parts and parts[-1] not in names:
        names.append(parts[-1])
    return names


def _common_depth(rpath: str, reversed_parts: list[str]) -> int:
    depth = 0
    for mine, theirs in zip(rpath.split("/"), reversed_parts, strict=False):
        if mine != theirs:
            break
        depth += 1
    return depth


def _path_tiers(parts: list[str], lookups: Lookups) -> MatchResult | None:
    """Tiers 1 and 2. Usually one index range read (every file ending in the same component,
    documents included) decides both; only when that set is cut short by the row limit do the
    exact per-depth seeks run."""
    named, complete = lookups.files_ending(parts[-1])
    if not named:
        return None
    if complete:
        reversed_parts = parts[::-1]
        depths = [(_common_depth(f.rpath, reversed_parts), f) for f in named]
        whole = len(parts)
        exact = [f.hit for depth, f in depths if depth == whole and f.rpath.count("/") + 1 == whole]
        if exact:
            return MatchResult("path", tuple(_scored(exact, "path", CERTAIN, AMBIGUOUS_FILE)))
        deepest = max(depth for depth, _f in depths)
        if deepest >= MIN_SUFFIX_DEPTH:
            hits = [f.hit for depth, f in depths if depth == deepest]
            return MatchResult("suffix", tuple(_scored(hits, "suffix", CERTAIN, AMBIGUOUS_FILE)))
        return None
    hits = lookups.by_path(parts)
    if hits:
        return MatchResult("path", tuple(_scored(hits, "path", CERTAIN, AMBIGUOUS_FILE)))
    if len(parts) >= MIN_SUFFIX_DEPTH:
        hits = lookups.by_longest_suffix(parts, MIN_SUFFIX_DEPTH)
        if hits:
            return MatchResult("suffix", tuple(_scored(hits, "suffix", CERTAIN, AMBIGUOUS_FILE)))
    return None


def _file_tiers(
    request: MatchRequest, lookups: Lookups, path_map: tuple[tuple[str, str], ...]
) -> MatchResult | None:
    filename = request.filename
    if not filename or not filename.strip():
        return None
    mapped = pathkeys.apply_path_map(filename, path_map) if path_map else None
    parts = pathkeys.components(mapped if mapped is not None else filename)
    if not parts:
        return None

    result = _path_tiers(parts, lookups)
    if result is not None:
        return result

    names = file_basenames(filename)
    # One read per folded name serves both tiers: the exact one is a subset of the folded one.
    read: dict[str, list[SameName]] = {}
    named: dict[str, list[SameName]] = {}
    for name in names:
        key = pathkeys.fold(name)
        if key not in read:
            read[key] = lookups.files_named(name)
        named[name] = read[key]
    for tier, exact in (("basename", True), ("basename_folded", False)):
        for name in names:
            hits = [f.hit for f in named[name] if not exact or f.basename == name]
            if hits:
                return MatchResult(tier, tuple(_scored(hits, tier, CERTAIN, AMBIGUOUS_FILE)))
    for name in names:
        scenes = _unique(lookups.by_stem(name))
        if len(scenes) == 1:  # several resolutions of different scenes: not a stem match
            shown = () if scenes[0].hidden else (Candidate(scenes[0].scene_id, CERTAIN, "stem"),)
            return MatchResult("stem", shown)
    return None


def _id_tiers(request: MatchRequest, lookups: Lookups) -> MatchResult | None:
    for tier, scene_id in (
        ("filename_id", scene_id_in_filename(request.filename) if request.filename else None),
        ("guid", parse_scene_guid(request.guid) if request.guid else None),
    ):
        if scene_id is not None:
            hit = lookups.scene(scene_id)
            if hit is not None:
                shown = () if hit.hidden else (Candidate(hit.scene_id, CERTAIN, tier),)
                return MatchResult(tier, shown)
    return None


def _title_tier(request: MatchRequest, lookups: Lookups) -> MatchResult | None:
    if not request.title or not pathkeys.title_key(request.title):
        return None
    # A title is weak evidence: a hidden scene with it decides nothing.
    hits = [h for h in _unique(lookups.by_title(request.title)) if not h.hidden]
    if not hits:
        return None
    if request.year is not None:
        same_year = [h for h in hits if _year_of(h.date) == request.year]
        if same_year:
            return MatchResult(
                "title", tuple(_scored(same_year, "title", TITLE_WITH_YEAR, AMBIGUOUS_TITLE))
            )
    return MatchResult("title", tuple(_scored(hits, "title", TITLE_ONLY, AMBIGUOUS_TITLE)))


def wanted_ids(request: MatchRequest) -> list[int]:
    """Scene ids the request names outright (file name or our guid): for the live fallback."""
    ids = []
    if request.filename:
        found = scene_id_in_filename(request.filename)
        if found is not None:
            ids.append(found)
    if request.guid:
        found = parse_scene_guid(request.guid)
        if found is not None and found not in ids:
            ids.append(found)
    return ids


def match(
    request: MatchRequest,
    lookups: Lookups,
    path_map: tuple[tuple[str, str], ...] = (),
    *,
    titles: bool = True,
) -> MatchResult:
    """The candidates for a match request: the best one, or up to ten with ``manual``.

    With ``titles=False`` only the file and id tiers run: the caller asks Stash live for the
    file before settling for a title match, which is the weakest evidence.

    For Fix Match (``manual``) the title tier also adds its scenes after those of the deciding
    tier, with lower scores: the user is searching by title, often because the file tier chose
    the wrong scene.
    """
    return settle(request, lookups, exact_tiers(request, lookups, path_map), titles=titles)


def exact_tiers(
    request: MatchRequest, lookups: Lookups, path_map: tuple[tuple[str, str], ...] = ()
) -> MatchResult | None:
    """The file and id tiers, every candidate of the first that finds something; None if
    none does."""
    return _file_tiers(request, lookups, path_map) or _id_tiers(request, lookups)


def settle(
    request: MatchRequest,
    lookups: Lookups,
    result: MatchResult | None,
    *,
    titles: bool = True,
) -> MatchResult:
    """`match` from the result of `exact_tiers`: the title tier when that found nothing (or, for
    Fix Match, below what it found), then the best candidate or up to ten."""
    if result is None and titles:
        result = _title_tier(request, lookups)
    if result is None:
        return MatchResult(None)
    if not request.manual:
        return MatchResult(result.tier, result.candidates[:1])
    candidates = list(result.candidates)
    if titles and result.tier != "title":
        extra = _title_tier(request, lookups)
        if extra is not None:
            seen = {c.scene_id for c in candidates}
            # Below everything the deciding tier found, whatever the title tier's own score.
            below = min((c.score for c in candidates), default=CERTAIN + 1) - 1
            for c in extra.candidates:
                if c.scene_id not in seen:
                    score = max(FLOOR, min(c.score, below))
                    candidates.append(Candidate(c.scene_id, score, c.tier, c.doc))
                    seen.add(c.scene_id)
                    below = candidates[-1].score - STEP
    return MatchResult(result.tier, tuple(candidates[:MAX_CANDIDATES]))
