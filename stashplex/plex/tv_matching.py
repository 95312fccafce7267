"""Which show, season or episode a TV match request means (pure over lookups).

Tiers, in order; the first that finds something decides (Fix Match, ``manual``, gathers them
all, best first):

1. ``file``: the movie provider's file and id tiers (`plex.matching.match` without its title
   tier: full path, path suffix, basename, stem, ``{stash-123}``, our guid), over the same index
   lookups. The scene found is the episode; its season and show answer types 3 and 2, since PMS
   sends the first file of a show or season along.
2. ``guid``: our own TV guid of the requested kind in the ``guid`` hint.
3. titles: type 2 by ``title``; type 3 by ``parentTitle`` and ``index``; type 4 by
   ``grandparentTitle`` and ``date`` (Plex's scanner reads ``Studio - 2024-05-01 - Title.mp4``),
   then by ``grandparentTitle``, ``parentIndex`` and ``index``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from stashplex.plex import matching, pathkeys
from stashplex.plex.identity import (
    MAX_SEASON,
    parse_episode_rating_key,
    parse_tv_guid,
    scene_guid,
    scene_rating_key,
    season_rating_key,
)
from stashplex.plex.tv_mapping import EpisodeRow, ShowRow

SHOW, SEASON, EPISODE = 2, 3, 4
KIND_NAMES = {SHOW: "show", SEASON: "season", EPISODE: "episode"}

CERTAIN = matching.CERTAIN
TITLE_UNIQUE = 90  # one show with this name
DATE_OF_SEVERAL = 90  # the best of several episodes that aired that day
AMBIGUOUS = 80
STEP = matching.STEP
FLOOR = matching.FLOOR
MAX_CANDIDATES = matching.MAX_CANDIDATES


class TvLookups(Protocol):
    def show(self, show_key: str) -> ShowRow | None: ...

    def episode(self, scene_id: int) -> EpisodeRow | None: ...

    def has_season(self, show_key: str, season: int) -> bool: ...

    def shows_by_title(self, title: str) -> list[str]: ...

    def by_aired(self, show_key: str, aired: str) -> list[tuple[int, str]]: ...

    def by_index(self, show_key: str, season: int, index: int) -> int | None: ...


@dataclass(frozen=True, slots=True)
class TvMatchRequest:
    kind: int  # 2 show, 3 season, 4 episode
    title: str | None = None
    parent_title: str | None = None
    grandparent_title: str | None = None
    index: int | None = None
    parent_index: int | None = None
    date: str | None = None  # YYYY-MM-DD
    filename: str | None = None
    guid: str | None = None
    manual: bool = False

    def file_request(self) -> matching.MatchRequest:
        """The movie matcher's request for the file tiers: an episode guid in its movie form."""
        guid = self.guid
        parsed = parse_tv_guid(guid) if guid else None
        if parsed is not None and parsed[0] == "episode":
            scene_id = parse_episode_rating_key(parsed[1])
            guid = scene_guid(scene_id) if scene_id is not None else None
        return matching.MatchRequest(filename=self.filename, guid=guid, manual=self.manual)


@dataclass(frozen=True, slots=True)
class TvCandidate:
    rating_key: str
    score: int
    tier: str


@dataclass(frozen=True, slots=True)
class TvMatchResult:
    tier: str | None
    candidates: tuple[TvCandidate, ...] = field(default_factory=tuple)

    @property
    def found(self) -> bool:
        return bool(self.candidates)


def _ranked(keys: Sequence[str], tier: str, certain: int, best: int) -> list[TvCandidate]:
    unique = list(dict.fromkeys(keys))
    if len(unique) == 1:
        return [TvCandidate(unique[0], certain, tier)]
    return [
        TvCandidate(key, max(FLOOR, best - STEP * i), tier)
        for i, key in enumerate(unique[:MAX_CANDIDATES])
    ]


def _key_for(kind: int, episode: EpisodeRow) -> str:
    if kind == SHOW:
        return episode.show
    if kind == SEASON:
        return season_rating_key(episode.show, episode.season)
    return scene_rating_key(episode.scene_id)


class FileTier:
    """The scenes the movie file and id tiers find, as episodes (or their seasons or shows);
    a tier (callable), run once, that also tells whether the file is a hidden scene."""

    def __init__(
        self,
        request: TvMatchRequest,
        tv: TvLookups,
        files: matching.Lookups,
        path_map: tuple[tuple[str, str], ...] = (),
    ) -> None:
        self.request, self.tv, self.files, self.path_map = request, tv, files, path_map

    @functools.cached_property
    def found(self) -> matching.MatchResult:
        return matching.match(self.request.file_request(), self.files, self.path_map, titles=False)

    @property
    def hidden(self) -> bool:
        """The file is a scene that fails a gate (`[metadata] require_*`): known, never
        offered, so neither Stash nor the name and date tiers should find it something else."""
        return self.found.tier is not None and not self.found.candidates

    def __call__(self) -> list[TvCandidate]:
        return self.candidates

    @functools.cached_property
    def candidates(self) -> list[TvCandidate]:
        best: dict[str, int] = {}
        for candidate in self.found.candidates:
            episode = self.tv.episode(candidate.scene_id)
            if episode is not None:  # a scene without a show is no episode
                best.setdefault(_key_for(self.request.kind, episode), candidate.score)
        return [TvCandidate(key, score, "file") for key, score in best.items()]


def guid_tier(request: TvMatchRequest, tv: TvLookups) -> list[TvCandidate]:
    """Our own show or season guid sent back as a hint (episodes go through the file tier)."""
    parsed = parse_tv_guid(request.guid) if request.guid else None
    if parsed is None or parsed[0] != KIND_NAMES[request.kind] or request.kind == EPISODE:
        return []
    kind, key = parsed
    if kind == "show" and tv.show(key) is not None:
        return [TvCandidate(key, CERTAIN, "guid")]
    if kind == "season":
        show_key, _sep, season = key.rpartition("-")
        if tv.has_season(show_key, int(season)):
            return [TvCandidate(key, CERTAIN, "guid")]
    return []


def _shows(title: str | None, tv: TvLookups) -> list[str]:
    return tv.shows_by_title(title) if title and pathkeys.title_key(title) else []


def show_title_tier(request: TvMatchRequest, tv: TvLookups) -> list[TvCandidate]:
    return _ranked(_shows(request.title, tv), "title", TITLE_UNIQUE, AMBIGUOUS)


def season_tier(request: TvMatchRequest, tv: TvLookups) -> list[TvCandidate]:
    season = request.index
    if season is None or not 0 <= season <= MAX_SEASON:
        return []
    shows = _shows(request.parent_title, tv)
    keys = [season_rating_key(show, season) for show in shows if tv.has_season(show, season)]
    certain = CERTAIN if len(shows) == 1 else TITLE_UNIQUE
    return _ranked(keys, "season", certain, AMBIGUOUS)


def date_tier(request: TvMatchRequest, tv: TvLookups) -> list[TvCandidate]:
    """Episodes of the named show that aired that day. Of several, the one whose title is the
    one the scanner read (when exactly one is) is as certain as a single one."""
    if not request.date:
        return []
    shows = _shows(request.grandparent_title, tv)
    hits = [(show, *hit) for show in shows for hit in tv.by_aired(show, request.date)]
    certain = CERTAIN if len(shows) == 1 else TITLE_UNIQUE
    if len(hits) == 1:
        return [TvCandidate(scene_rating_key(hits[0][1]), certain, "date")]
    wanted = pathkeys.title_key(request.title) if request.title else None
    same = [h for h in hits if wanted is not None and pathkeys.title_key(h[2]) == wanted]
    ordered = same + [h for h in hits if h not in same]
    top = certain if len(same) == 1 else DATE_OF_SEVERAL
    return [
        TvCandidate(
            scene_rating_key(scene_id),
            top if i == 0 else max(FLOOR, DATE_OF_SEVERAL - STEP * i),
            "date",
        )
        for i, (_show, scene_id, _title) in enumerate(ordered[:MAX_CANDIDATES])
    ]


def index_tier(request: TvMatchRequest, tv: TvLookups) -> list[TvCandidate]:
    season, index = request.parent_index, request.index
    if season is None or index is None:
        return []
    shows = _shows(request.grandparent_title, tv)
    found = [tv.by_index(show, season, index) for show in shows]
    keys = [scene_rating_key(scene_id) for scene_id in found if scene_id is not None]
    certain = CERTAIN if len(shows) == 1 else TITLE_UNIQUE
    return _ranked(keys, "index", certain, AMBIGUOUS)


Tier = Callable[[], list[TvCandidate]]


def exact_tv_tiers(
    request: TvMatchRequest,
    tv: TvLookups,
    files: matching.Lookups,
    path_map: tuple[tuple[str, str], ...] = (),
) -> list[Tier]:
    """The file and guid tiers, each run once and only when first asked. A caller ranks these
    alone first, and asks Stash live about an unknown file before adding `title_tv_tiers`."""
    return [
        FileTier(request, tv, files, path_map),
        functools.cache(lambda: guid_tier(request, tv)),
    ]


def title_tv_tiers(request: TvMatchRequest, tv: TvLookups) -> list[Tier]:
    """The tiers by name, season or date, for when the file is unknown (and for Fix Match)."""
    if request.kind == SHOW:
        return [lambda: show_title_tier(request, tv)]
    if request.kind == SEASON:
        return [lambda: season_tier(request, tv)]
    return [lambda: date_tier(request, tv), lambda: index_tier(request, tv)]


def rank_tv(request: TvMatchRequest, tiers: list[Tier]) -> TvMatchResult:
    """The first tier that finds something decides; with ``manual`` later tiers add their
    candidates below it."""
    gathered: list[TvCandidate] = []
    decided: str | None = None
    for tier in tiers:
        found = tier()
        if not found:
            continue
        if decided is None:
            decided = found[0].tier
            if not request.manual:
                return TvMatchResult(decided, (found[0],))
            gathered.extend(found)
            continue
        # A later tier's candidates rank below everything found before them.
        seen = {c.rating_key for c in gathered}
        below = min(c.score for c in gathered) - 1
        for c in found:
            if c.rating_key not in seen:
                score = max(FLOOR, min(c.score, below))
                gathered.append(TvCandidate(c.rating_key, score, c.tier))
                seen.add(c.rating_key)
                below = score - STEP
    return TvMatchResult(decided, tuple(gathered[:MAX_CANDIDATES]))
