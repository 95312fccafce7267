"""Keys under which files and titles are indexed, computed the same way when stored and looked up.

Paths are split on both separators: Plex may run on Windows while Stash runs on Linux (or the
other way round), and a path is only ever compared with another path split the same way.
"""

from __future__ import annotations

import re
import unicodedata

# Quality and release tags that tell copies of one scene apart: "x.1080p.mp4" is "x.mp4".
_QUALITY = re.compile(
    r"(?:[\s._\-\[\(]+(?:\d{3,4}p|[248]k|uhd|fhd|hd|sd|hevc|h\.?26[45]|x26[45]|av1|vp9|"
    r"web-?dl|webrip|bluray|remux|\d+fps|\d+(?:\.\d+)?mbps)[\])]?)+$",
    re.IGNORECASE,
)
_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)


def components(path: str) -> list[str]:
    """Path components, split on either separator, without empty parts."""
    return [part for part in path.replace("\\", "/").split("/") if part]


def reversed_path(path: str) -> str:
    """'/data/Site/x.mp4' -> 'x.mp4/Site/data': common suffixes become common prefixes."""
    return "/".join(reversed(components(path)))


def basename(path: str) -> str:
    parts = components(path)
    return parts[-1] if parts else ""


def fold(text: str) -> str:
    """Case- and width-insensitive form (NFKC, then casefold)."""
    if text.isascii():  # the common case, where both steps reduce to lower()
        return text.lower()
    return unicodedata.normalize("NFKC", text).casefold()


def split_extension(name: str) -> tuple[str, str]:
    stem, dot, extension = name.rpartition(".")
    # ".hidden" and "name." have no extension, and "x.final-cut" is not one either.
    if not dot or not stem or not extension or len(extension) > 5 or not extension.isalnum():
        return name, ""
    return stem, extension


def stem_key(name: str) -> str:
    """A basename without extension and quality tags, folded: the fuzziest file tier."""
    stem, _ = split_extension(fold(name))
    stem = _QUALITY.sub("", stem)
    return _NON_WORD.sub(" ", stem).strip()


def title_key(title: str | None) -> str | None:
    """A title reduced to words, for the title tier."""
    if not title:
        return None
    key = _NON_WORD.sub(" ", fold(title)).strip()
    return key or None


def apply_path_map(path: str, path_map: tuple[tuple[str, str], ...]) -> str | None:
    """The Stash path for a Plex path under the first matching prefix, else None."""
    plex_parts = components(path)
    for plex_prefix, stash_prefix in path_map:  # longest prefix first (settings sorts them)
        prefix = components(plex_prefix)
        if prefix and plex_parts[: len(prefix)] == prefix:
            # Stash's separator does not matter: stored paths are compared by components.
            return "/".join(components(stash_prefix) + plex_parts[len(prefix) :])
    return None
