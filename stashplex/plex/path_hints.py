"""A `[match] path_map` line that explains how Plex's paths differ from Stash's (pure).

Given pairs of a path as Plex sees it and the path Stash has for the same file (or the same
folder), the longest common path suffix is what both agree on; what is left in front of it are
the two mount points. When most pairs differ by the same two prefixes, that is the line to add:
`path_map = /mnt/media = /data/stash` makes the full-path tier find the files exactly, instead of
by their ending or their name alone (which a file of the same name in another folder can fool).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from stashplex.plex import pathkeys

_SEPARATORS = re.compile(r"[/\\]+")


@dataclass(frozen=True, slots=True)
class PathMapHint:
    plex_prefix: str
    stash_prefix: str
    explained: int  # pairs these prefixes explain
    compared: int  # pairs looked at

    @property
    def line(self) -> str:
        return f"path_map = {self.plex_prefix} = {self.stash_prefix}"


def common_suffix_depth(a: Sequence[str], b: Sequence[str]) -> int:
    depth = 0
    for mine, theirs in zip(reversed(a), reversed(b), strict=False):
        if mine != theirs:
            break
        depth += 1
    return depth


def strip_components(path: str, count: int) -> str:
    """`path` without its last `count` components, written as the user wrote it ("/" for the
    root of a POSIX path, "C:" -> "C:\\" for a Windows drive)."""
    rest = path.rstrip("/\\")
    for _ in range(count):
        cut = max(rest.rfind("/"), rest.rfind("\\"))
        rest = rest[:cut].rstrip("/\\") if cut >= 0 else ""
    if not rest:
        return "/" if path.startswith("/") else ""
    if re.fullmatch(r"[A-Za-z]:", rest):
        return rest + "\\"
    return rest


def differing_prefixes(plex_path: str, stash_path: str) -> tuple[str, str] | None:
    """(Plex's prefix, Stash's prefix) in front of the longest common suffix; None when the
    paths share no component at the end, or when nothing differs but the separators."""
    plex_parts = pathkeys.components(plex_path)
    stash_parts = pathkeys.components(stash_path)
    depth = common_suffix_depth(plex_parts, stash_parts)
    if depth == 0:
        return None
    plex_prefix = strip_components(plex_path, depth)
    stash_prefix = strip_components(stash_path, depth)
    if pathkeys.components(plex_prefix) == pathkeys.components(stash_prefix):
        return None
    if not pathkeys.components(plex_prefix):
        return None  # a relative path or the root itself: no prefix to map
    return plex_prefix, stash_prefix


def suggest_path_map(pairs: Iterable[tuple[str, str]]) -> PathMapHint | None:
    """The prefix pair that explains the most (Plex path, Stash path) pairs, if it explains at
    least half of those that differ at all."""
    found: Counter[tuple[str, str]] = Counter()
    compared = 0
    for plex_path, stash_path in pairs:
        compared += 1
        prefixes = differing_prefixes(plex_path, stash_path)
        if prefixes is not None:
            found[prefixes] += 1
    if not found:
        return None
    (plex_prefix, stash_prefix), explained = found.most_common(1)[0]
    if explained * 2 < sum(found.values()):
        return None
    return PathMapHint(plex_prefix, stash_prefix, explained, compared)


def parent(path: str) -> str:
    """The folder a file is in, written as in `path`."""
    return strip_components(path, 1)


class FolderIndex:
    """Stash's folders by every ending of their path, to find the folder of Stash's that is
    most like a folder Plex has (a new file's folder, for a file Stash does not know yet)."""

    def __init__(self, folders: Iterable[str]) -> None:
        self._by_ending: dict[tuple[str, ...], str] = {}
        for folder in sorted(set(folders)):  # sorted: the same folder wins on every run
            parts = pathkeys.components(folder)
            for depth in range(1, len(parts) + 1):
                self._by_ending.setdefault(tuple(parts[-depth:]), folder)

    def closest(self, folder: str, min_depth: int = 1) -> str | None:
        """Stash's folder sharing the longest ending (of at least `min_depth` components) with
        `folder`, or None."""
        parts = pathkeys.components(folder)
        for depth in range(len(parts), max(min_depth, 1) - 1, -1):
            found = self._by_ending.get(tuple(parts[-depth:]))
            if found is not None:
                return found
        return None
