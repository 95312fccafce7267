"""A scan without the scan: which of a library's files the match routes would find, and how.

Files come from Plex (`PmsClient.files`, page by page) or from the user (a list, or a folder
walked on this machine). Each goes through the match routes' own `find` over the mirror
(`web.matchers`), so the tiers are exactly the ones a scan meets; the live Stash lookup is left
out, so nothing is written and Stash is not asked. What did not match, or matched only by its
path ending or name, is compared with the paths Stash has to suggest a `path_map` line.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from stashplex.mirror import diagnosis
from stashplex.mirror.db import Database
from stashplex.plex import pathkeys
from stashplex.plex.identity import parse_episode_rating_key
from stashplex.plex.matching import MIN_SUFFIX_DEPTH
from stashplex.plex.path_hints import (
    FolderIndex,
    PathMapHint,
    common_suffix_depth,
    parent,
    suggest_path_map,
)
from stashplex.settings import Settings
from stashplex.web.matchers import Matchers

UNMATCHED_SHOWN = 10
# Stash's default video extensions (Settings › Library), lower case.
VIDEO_EXTENSIONS = frozenset(
    {"m4v", "mp4", "mov", "wmv", "avi", "mpg", "mpeg", "rmvb", "rm", "flv", "asf", "mkv", "webm"}
    | {"f4v", "ts", "m2ts", "vob", "3gp", "ogv", "divx"}
)


@dataclass
class DryRun:
    """What a scan of some files would find."""

    total: int = 0
    tiers: Counter[str] = field(default_factory=Counter)  # matched files by deciding tier
    hidden: int = 0  # known files of scenes a `[metadata] require_*` gate hides
    no_file: int = 0  # items Plex lists without a file path
    unmatched: list[str] = field(default_factory=list)  # every unmatched path, in order
    # In a TV library: files of scenes the mirror has that are no episode (no show: a scene
    # without a studio, or without a group with `[tv] show_by = group`).
    no_show: list[str] = field(default_factory=list)
    inexact: list[tuple[str, str]] = field(default_factory=list)  # (Plex path, Stash path)
    exact: int = 0  # matched files whose path (after path_map) is Stash's own

    @property
    def matched(self) -> int:
        return sum(self.tiers.values())

    def exact_hint(self) -> PathMapHint | None:
        """A path_map line that would make the inexact matches exact."""
        return suggest_path_map(self.inexact)

    def folder_hint(self, folders: FolderIndex) -> PathMapHint | None:
        """A path_map line from the folders of unmatched files that Stash has under another
        mount point (the files themselves are new to Stash, or the mirror is behind). Two
        folders must agree, as in the suffix tier: a year folder alone proves nothing."""
        pairs = []
        for path in self.unmatched:
            folder = parent(path)
            known = folders.closest(folder, MIN_SUFFIX_DEPTH)
            if known is not None:
                pairs.append((folder, known))
        return suggest_path_map(pairs)


class DryRunner:
    """Runs files through the match routes over one mirror; `close()` when done."""

    def __init__(self, settings: Settings, db: Database) -> None:
        self.settings = settings
        self.db = db
        self.matchers = Matchers.over_mirror(settings, db)

    def close(self) -> None:
        self.matchers.close()

    def run(self, files: Iterable[str | None], *, tv: bool, into: DryRun | None = None) -> DryRun:
        result = into or DryRun()
        found: list[tuple[str, int]] = []  # (Plex path, scene id) of matches
        for path in files:
            result.total += 1
            if not path:
                result.no_file += 1
                continue
            tier, scene_id, hidden = self._match(path, tv=tv)
            if tier is None and tv and self.matchers.movie(path).candidates:
                result.no_show.append(path)
            elif tier is None:
                result.unmatched.append(path)
            elif scene_id is None:
                result.hidden += int(hidden)
                if not hidden:
                    result.unmatched.append(path)
            else:
                result.tiers[f"TV {tier}" if tv else tier] += 1
                found.append((path, scene_id))
        self._compare_paths(found, result)
        return result

    def _match(self, path: str, *, tv: bool) -> tuple[str | None, int | None, bool]:
        """(deciding tier, scene id, whether a gate hid the scene)."""
        if tv:
            episode = self.matchers.episode(path)
            if not episode.candidates:  # a tier without candidates: a gate hid the scene
                return episode.tier, None, episode.tier is not None
            best = episode.candidates[0]
            return best.tier, parse_episode_rating_key(best.rating_key), False
        movie = self.matchers.movie(path)
        if movie.candidates:
            return movie.tier, movie.candidates[0].scene_id, False
        return movie.tier, None, movie.tier is not None  # a tier without candidates: a gate

    def _compare_paths(self, found: list[tuple[str, int]], result: DryRun) -> None:
        """Sort the matches into exact ones and those found by a path ending or a name."""
        if not found:
            return
        path_map = self.settings.match.path_map
        with diagnosis.read_only(self.db.path) as connection:
            paths = diagnosis.scene_paths(connection, {scene_id for _, scene_id in found})
        for plex_path, scene_id in found:
            mapped = pathkeys.apply_path_map(plex_path, path_map) if path_map else None
            wanted = pathkeys.components(mapped if mapped is not None else plex_path)
            stash_paths = paths.get(scene_id, [])
            if any(pathkeys.components(p) == wanted for p in stash_paths):
                result.exact += 1
            elif stash_paths:
                result.inexact.append((plex_path, _closest(plex_path, stash_paths)))

    def folders(self) -> FolderIndex:
        with diagnosis.read_only(self.db.path) as connection:
            return FolderIndex(parent(path) for path in diagnosis.file_paths(connection))


def _closest(plex_path: str, stash_paths: list[str]) -> str:
    """The Stash path sharing the longest ending with the Plex path."""
    plex_parts = pathkeys.components(plex_path)
    return max(stash_paths, key=lambda p: common_suffix_depth(plex_parts, pathkeys.components(p)))


def read_paths(source: Path, *, walk: Callable[[Path], Iterator[str]] | None = None) -> list[str]:
    """The paths of `--paths`: a folder walked for video files, or a file with one per line."""
    if source.is_dir():
        return sorted((walk or video_files)(source))
    text = source.read_text(encoding="utf-8-sig")
    return [line.strip() for line in text.splitlines() if line.strip() and line[0] != "#"]


def video_files(folder: Path) -> Iterator[str]:
    for root, dirs, names in os.walk(folder):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in names:
            extension = name.rpartition(".")[2].lower()
            if "." in name and extension in VIDEO_EXTENSIONS and not name.startswith("."):
                yield os.path.join(root, name)
