"""Plex identity rules: provider identifiers, ratingKeys, guids and keys.

Every identifier stashplex hands to Plex Media Server is built and parsed here, so the strict
rules of the provider contract live in one place:

- identifier: ``tv.plex.agents.custom.`` + ``[A-Za-z0-9.]``; the guid scheme equals it.
- ratingKey: ``[A-Za-z0-9_-]+`` and equal to the guid's last segment (PMS derives it from there).
- guid: ``<identifier>://<kind>/<ratingKey>``; key: ``/library/metadata/<ratingKey>``.

The layout is generic over the provider and the kind so that a TV provider
(``TV_PROVIDER_ID``, kinds ``show``/``season``/``episode``) only needs its own ratingKey
builders and parsers on top of ``make_guid`` / ``split_guid``.
"""

from __future__ import annotations

import re
from typing import Literal

MOVIE_PROVIDER_ID = "tv.plex.agents.custom.stashplex"
# The TV provider (base URL `/tv`): guids such as "tv.plex.agents.custom.stashplex.tv://show/studio-12".
TV_PROVIDER_ID = "tv.plex.agents.custom.stashplex.tv"

GuidKind = Literal["movie", "show", "season", "episode"]
GUID_KINDS: frozenset[str] = frozenset({"movie", "show", "season", "episode"})

# Stash stores ids as SQLite integers: anything beyond a signed 64-bit value is not an id.
MAX_ID = 2**63 - 1
_MAX_ID_DIGITS = len(str(MAX_ID))

# Explicit ASCII classes: `\d` would also accept Arabic-Indic and other Unicode digits, and
# fullmatch (not `$`) so a trailing newline is rejected.
_PROVIDER_ID_RE = re.compile(r"tv\.plex\.agents\.custom\.[A-Za-z0-9.]+")
_RATING_KEY_RE = re.compile(r"[A-Za-z0-9_-]+")
# No leading zeros: one scene has exactly one ratingKey, so parse and build round-trip.
_SCENE_KEY_RE = re.compile(r"(?:scene|stash-video)-([1-9][0-9]*)")
# In file names users type ids by hand, so leading zeros are tolerated there.
_FILENAME_ID_RE = re.compile(r"\{stash-([0-9]+)\}|\[stash-([0-9]+)\]", re.IGNORECASE)

SCENE_PREFIX = "scene-"
# The previous project's ratingKeys; libraries matched by it must keep refreshing.
LEGACY_SCENE_PREFIX = "stash-video-"


def is_stash_id(value: object) -> bool:
    """True for a positive integer that fits Stash's 63-bit ids (bool is not an id)."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ID


def require_stash_id(value: object) -> int:
    """The value itself if it is a Stash id, else ValueError (ids end up in URLs and keys)."""
    if not is_stash_id(value):
        raise ValueError(f"not a Stash id: {value!r}")
    return value  # type: ignore[return-value]


def _parse_digits(digits: str) -> int | None:
    # Length check first: int() on thousands of digits is slow and past 4300 it raises.
    digits = digits.lstrip("0") or "0"
    if len(digits) > _MAX_ID_DIGITS:
        return None
    value = int(digits)
    return value if 0 < value <= MAX_ID else None


def is_valid_provider_id(text: str) -> bool:
    return isinstance(text, str) and _PROVIDER_ID_RE.fullmatch(text) is not None


def is_valid_rating_key(text: str) -> bool:
    return isinstance(text, str) and _RATING_KEY_RE.fullmatch(text) is not None


def make_guid(provider_id: str, kind: GuidKind, rating_key: str) -> str:
    """``<provider_id>://<kind>/<rating_key>``; raises ValueError on any invalid part."""
    if not is_valid_provider_id(provider_id):
        raise ValueError(f"invalid provider identifier: {provider_id!r}")
    if kind not in GUID_KINDS:
        raise ValueError(f"invalid guid kind: {kind!r}")
    if not is_valid_rating_key(rating_key):
        raise ValueError(f"invalid ratingKey: {rating_key!r}")
    return f"{provider_id}://{kind}/{rating_key}"


def split_guid(text: str, provider_id: str) -> tuple[str, str] | None:
    """``(kind, rating_key)`` of a guid in exactly ``provider_id``'s scheme, else None.

    The scheme is compared whole, so the TV scheme (which extends the movie one) never passes
    for the movie scheme. A query string or fragment is ignored: legacy Plex agents stored
    guids like ``…?lang=en``, and the ratingKey is still unambiguous before it.
    """
    if not isinstance(text, str):
        return None
    scheme, sep, rest = text.partition("://")
    if not sep or scheme != provider_id:
        return None
    rest = re.split(r"[?#]", rest, maxsplit=1)[0]
    kind, sep, rating_key = rest.partition("/")
    if not sep or kind not in GUID_KINDS or not is_valid_rating_key(rating_key):
        return None
    return kind, rating_key


def metadata_key(rating_key: str) -> str:
    if not is_valid_rating_key(rating_key):
        raise ValueError(f"invalid ratingKey: {rating_key!r}")
    return f"/library/metadata/{rating_key}"


# --- movies: one Stash scene is one Plex movie ------------------------------------------------


def scene_rating_key(scene_id: int) -> str:
    return f"{SCENE_PREFIX}{require_stash_id(scene_id)}"


def scene_guid(scene_id: int, provider_id: str = MOVIE_PROVIDER_ID) -> str:
    return make_guid(provider_id, "movie", scene_rating_key(scene_id))


def scene_key(scene_id: int) -> str:
    return metadata_key(scene_rating_key(scene_id))


def parse_scene_rating_key(text: str) -> int | None:
    """Scene id from ``scene-<id>`` or the legacy ``stash-video-<id>``; None for anything else."""
    if not isinstance(text, str):
        return None
    match = _SCENE_KEY_RE.fullmatch(text)
    return _parse_digits(match.group(1)) if match else None


def parse_scene_guid(text: str, provider_id: str = MOVIE_PROVIDER_ID) -> int | None:
    """Scene id from one of our own movie guids; None for ``plex://``, ``imdb://`` and the rest.

    The last segment accepts the same forms as ``parse_scene_rating_key``, because PMS turns
    that segment into the ratingKey it asks for.
    """
    parts = split_guid(text, provider_id)
    if parts is None or parts[0] != "movie":
        return None
    return parse_scene_rating_key(parts[1])


def scene_id_in_filename(path: str) -> int | None:
    """A scene id written into a file name as ``{stash-123}`` or ``[stash-123]``.

    Only the basename counts (``/`` or ``\\`` separators): an id in a folder name usually tags a
    whole set of files. Several distinct ids make the name ambiguous, so None.
    """
    if not isinstance(path, str):
        return None
    basename = re.split(r"[/\\]", path)[-1]
    ids: set[int] = set()
    for match in _FILENAME_ID_RE.finditer(basename):
        value = _parse_digits(match.group(1) or match.group(2))
        if value is not None:
            ids.add(value)
    return ids.pop() if len(ids) == 1 else None


# --- TV: a show is a studio or a group, a season one year of it, an episode a scene ----------

ShowKind = Literal["studio", "group"]
SHOW_KINDS: frozenset[str] = frozenset({"studio", "group"})
SPECIALS = 0  # the season of scenes without a release date (Plex's "Specials")
MAX_SEASON = 9999  # seasons are years
# Strict forms, no leading zeros, so parse and build round-trip; the season is the last "-" part.
_SHOW_KEY_RE = re.compile(r"(studio|group)-([1-9][0-9]*)")
_SEASON_KEY_RE = re.compile(r"((?:studio|group)-[1-9][0-9]*)-(0|[1-9][0-9]{0,3})")
_EPISODE_KEY_RE = re.compile(r"scene-([1-9][0-9]*)")


def show_rating_key(kind: ShowKind, entity_id: int) -> str:
    if kind not in SHOW_KINDS:
        raise ValueError(f"invalid show kind: {kind!r}")
    return f"{kind}-{require_stash_id(entity_id)}"


def season_rating_key(show_key: str, season: int) -> str:
    if parse_show_rating_key(show_key) is None:
        raise ValueError(f"invalid show ratingKey: {show_key!r}")
    if not isinstance(season, int) or isinstance(season, bool) or not 0 <= season <= MAX_SEASON:
        raise ValueError(f"invalid season: {season!r}")
    return f"{show_key}-{season}"


def tv_guid(kind: Literal["show", "season", "episode"], rating_key: str) -> str:
    return make_guid(TV_PROVIDER_ID, kind, rating_key)


def parse_show_rating_key(text: str) -> tuple[ShowKind, int] | None:
    """``("studio", 12)`` from ``studio-12``; None for anything else."""
    if not isinstance(text, str):
        return None
    match = _SHOW_KEY_RE.fullmatch(text)
    if match is None:
        return None
    entity_id = _parse_digits(match.group(2))
    return (match.group(1), entity_id) if entity_id is not None else None  # type: ignore[return-value]


def parse_season_rating_key(text: str) -> tuple[str, int] | None:
    """``("studio-12", 2024)`` from ``studio-12-2024`` (season 0: Specials); else None."""
    if not isinstance(text, str):
        return None
    match = _SEASON_KEY_RE.fullmatch(text)
    if match is None or parse_show_rating_key(match.group(1)) is None:
        return None
    return match.group(1), int(match.group(2))


def parse_episode_rating_key(text: str) -> int | None:
    """Scene id from ``scene-<id>`` only: the TV provider has no legacy keys to honour."""
    if not isinstance(text, str):
        return None
    match = _EPISODE_KEY_RE.fullmatch(text)
    return _parse_digits(match.group(1)) if match else None


def tv_kind_of(rating_key: str) -> Literal["show", "season", "episode"] | None:
    """Which TV item a ratingKey names; the three forms never overlap."""
    if parse_episode_rating_key(rating_key) is not None:
        return "episode"
    if parse_show_rating_key(rating_key) is not None:
        return "show"
    if parse_season_rating_key(rating_key) is not None:
        return "season"
    return None


def parse_tv_guid(text: str) -> tuple[Literal["show", "season", "episode"], str] | None:
    """``(kind, ratingKey)`` of one of our TV guids whose kind agrees with its ratingKey."""
    parts = split_guid(text, TV_PROVIDER_ID)
    if parts is None or parts[0] != tv_kind_of(parts[1]):
        return None
    return parts  # type: ignore[return-value]
