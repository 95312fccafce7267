"""Pure mapping from the TV layout to the JSON that Plex Media Server reads (types 2, 3, 4).

A show is a studio or a group, a season one year of it (0: "Specials"), an episode a scene (see
`plex.tv_shape`). Identity follows the movie rules in the TV scheme: guids
``tv.plex.agents.custom.stashplex.tv://show/studio-12``, ``…://season/studio-12-2024`` and
``…://episode/scene-345``, ratingKey the guid's last segment, shows and seasons keyed
``/library/metadata/<ratingKey>/children``.

An episode is built from the scene's stored movie document (one primary-key read, already
rendered at sync time: title fallbacks, performers, ratings) plus its place in the layout, so
the scene's fields are mapped in one place. Genres live on the show (Plex keeps genres on shows,
not episodes): the most common tags of its newest episodes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from stashplex.plex import tv_shape
from stashplex.plex.identity import (
    SPECIALS,
    metadata_key,
    scene_rating_key,
    season_rating_key,
    tv_guid,
)
from stashplex.plex.mapping import (
    CANDIDATE_KEYS,
    MappingOptions,
    genre_allowed,
    group_front_path,
    match_candidate,
    parse_stash_date,
    scene_screenshot_path,
    studio_image_path,
)

MAX_GENRES = 10
# Fields of an episode taken from the scene's movie document as they are. Left out: tagline,
# studio, Genre, Collection, Studio (a movie's; on TV they belong to the show) and its images.
_FROM_MOVIE = (
    "title",
    "originallyAvailableAt",
    "year",
    "summary",
    "contentRating",
    "isAdult",
    "duration",
    "Role",
    "Director",
    "Guid",
    "Rating",
    "userRating",
)
_TV_CANDIDATE_KEYS = (
    *CANDIDATE_KEYS,
    "index",
    "parentIndex",
    "parentType",
    "parentRatingKey",
    "parentKey",
    "parentGuid",
    "parentTitle",
    "parentThumb",
    "grandparentType",
    "grandparentRatingKey",
    "grandparentKey",
    "grandparentGuid",
    "grandparentTitle",
    "grandparentThumb",
)


@dataclass(frozen=True, slots=True)
class ShowRow:
    """A show as the mirror knows it: a studio (name, details, image) or a group."""

    key: str  # the ratingKey: studio-12, group-7
    kind: str  # "studio" or "group"
    entity_id: int
    name: str
    summary: str | None = None
    image_version: str | None = None  # None: Stash has only its default picture
    date: str | None = None  # a group's date

    @property
    def title(self) -> str:
        return tv_shape.show_title(self.kind, self.entity_id, self.name)


@dataclass(frozen=True, slots=True)
class EpisodeRow:
    """One episode's place in the layout, with what lists of episodes show of it."""

    scene_id: int
    show: str
    season: int
    index: int
    aired: str | None  # originallyAvailableAt
    title: str
    screenshot_version: str | None = None
    doc: str | None = field(default=None, compare=False, repr=False)  # the movie document


def _put(target: dict[str, Any], key: str, value: Any) -> None:
    if value is None or value == "" or value == [] or value == {}:
        return
    target[key] = value


def season_title(season: int) -> str:
    return "Specials" if season == SPECIALS else str(season)


def _year(aired: str | None) -> int | None:
    date = parse_stash_date(aired)
    return date.year if date is not None else None


def show_poster(show: ShowRow, opts: MappingOptions) -> str | None:
    """The studio's image or the group's front cover, when Stash has a real one."""
    if not show.image_version:
        return None
    build = group_front_path if show.kind == "group" else studio_image_path
    return opts.base_url + build(show.entity_id, show.image_version)


def screenshot(episode: EpisodeRow, opts: MappingOptions) -> str:
    return opts.base_url + scene_screenshot_path(episode.scene_id, episode.screenshot_version)


def _identity(kind: str, rating_key: str, title: str, *, children: bool) -> dict[str, Any]:
    key = metadata_key(rating_key)
    return {
        "type": kind,
        "ratingKey": rating_key,
        "key": key + "/children" if children else key,
        "guid": tv_guid(kind, rating_key),  # type: ignore[arg-type]
        "title": title,
    }


def _parent(
    prefix: str, kind: str, rating_key: str, title: str, thumb: str | None
) -> dict[str, Any]:
    out = {
        f"{prefix}Type": kind,
        f"{prefix}RatingKey": rating_key,
        f"{prefix}Key": metadata_key(rating_key),
        f"{prefix}Guid": tv_guid(kind, rating_key),  # type: ignore[arg-type]
        f"{prefix}Title": title,
    }
    _put(out, f"{prefix}Thumb", thumb)
    return out


def genres(tags: Sequence[tuple[str, int, int]], opts: MappingOptions) -> list[dict[str, str]]:
    """The most common tags, (name, episodes, tag id) ordered by count, as Genre: the movie
    rules decide which tags may be genres (`ignore_tags`, `allow_tags`, `deny_tags`)."""
    out: list[dict[str, str]] = []
    seen: set[str] = set()
    for name, _count, tag_id in tags:
        tag = (name or "").strip()
        folded = tag.casefold()
        if not tag or folded in seen or not genre_allowed(tag_id, tag, opts):
            continue
        seen.add(folded)
        out.append({"tag": tag})
        if len(out) == MAX_GENRES:
            break
    return out


# --- shows --------------------------------------------------------------------------------------


def show_images(
    show: ShowRow, opts: MappingOptions, *, latest: EpisodeRow | None
) -> list[dict[str, str]]:
    """The show's poster (its own image, else its newest episode's) and background."""
    background = screenshot(latest, opts) if latest is not None else None
    return _poster_and_background(show.title, show_poster(show, opts), background)


def show_metadata(
    show: ShowRow,
    opts: MappingOptions,
    *,
    first: EpisodeRow | None,
    latest: EpisodeRow | None,
    tags: Sequence[tuple[str, int, int]] = (),
) -> dict[str, Any]:
    """A show; `first` is its earliest dated episode (else its first), `latest` its newest."""
    out = _identity("show", show.key, show.title, children=True)
    # A group has a date of its own; a studio's show starts with its first dated episode.
    own_date = parse_stash_date(show.date) if show.kind == "group" else None
    aired: str | None
    if own_date is not None:
        aired, dated = own_date.isoformat(), True
    elif first is not None:
        aired, dated = first.aired, first.season != SPECIALS
    else:
        aired, dated = None, False
    _put(out, "originallyAvailableAt", aired)
    if dated:
        _put(out, "year", _year(aired))
    _put(out, "summary", (show.summary or "").strip())
    if show.kind == "studio":
        _put(out, "studio", show.title)
    _put(out, "contentRating", opts.content_rating.strip())
    out["isAdult"] = True
    images = show_images(show, opts, latest=latest)
    for image in images:
        if image["type"] == "coverPoster":
            out["thumb"] = image["url"]
        elif image["type"] == "background":
            out["art"] = image["url"]
    _put(out, "Image", images)
    _put(out, "Genre", genres(tags, opts))
    if show.kind == "studio":
        out["Studio"] = [{"tag": show.title}]
    return out


# --- seasons ------------------------------------------------------------------------------------


def season_images(
    show: ShowRow, season: int, opts: MappingOptions, *, first: EpisodeRow | None
) -> list[dict[str, str]]:
    """A season's poster is the show's (else its first episode's); background its first."""
    background = screenshot(first, opts) if first is not None else None
    return _poster_and_background(season_title(season), show_poster(show, opts), background)


def _poster_and_background(
    title: str, poster: str | None, background: str | None
) -> list[dict[str, str]]:
    """`Image[]`: the poster (the background stands in for a missing one), the background."""
    images: list[dict[str, str]] = []
    cover = poster or background
    if cover:
        images.append({"type": "coverPoster", "url": cover, "alt": title})
    if background:
        images.append({"type": "background", "url": background, "alt": title})
    return images


def season_metadata(
    show: ShowRow, season: int, opts: MappingOptions, *, first: EpisodeRow | None
) -> dict[str, Any]:
    rating_key = season_rating_key(show.key, season)
    out = _identity("season", rating_key, season_title(season), children=True)
    out.update(_parent("parent", "show", show.key, show.title, show_poster(show, opts)))
    out["index"] = season
    _put(out, "originallyAvailableAt", first.aired if first is not None else None)
    if season != SPECIALS:
        out["year"] = season
    _put(out, "contentRating", opts.content_rating.strip())
    out["isAdult"] = True
    images = season_images(show, season, opts, first=first)
    for image in images:
        if image["type"] == "coverPoster":
            out["thumb"] = image["url"]
        elif image["type"] == "background":
            out["art"] = image["url"]
    _put(out, "Image", images)
    return out


# --- episodes -----------------------------------------------------------------------------------


def episode_images(episode: EpisodeRow, opts: MappingOptions) -> list[dict[str, str]]:
    url = screenshot(episode, opts)
    return [
        {"type": "snapshot", "url": url, "alt": episode.title},
        {"type": "background", "url": url, "alt": episode.title},
    ]


def _episode_frame(episode: EpisodeRow, show: ShowRow, opts: MappingOptions) -> dict[str, Any]:
    """Identity, place and picture: all a list of episodes needs."""
    out = _identity("episode", scene_rating_key(episode.scene_id), episode.title, children=False)
    poster = show_poster(show, opts)
    season_key = season_rating_key(show.key, episode.season)
    out.update(_parent("parent", "season", season_key, season_title(episode.season), poster))
    out.update(_parent("grandparent", "show", show.key, show.title, poster))
    out["index"] = episode.index
    out["parentIndex"] = episode.season
    _put(out, "originallyAvailableAt", episode.aired)
    if episode.season != SPECIALS:
        _put(out, "year", _year(episode.aired))
    out["thumb"] = screenshot(episode, opts)
    return out


def episode_summary(episode: EpisodeRow, show: ShowRow, opts: MappingOptions) -> dict[str, Any]:
    """The short form embedded in a season's `Children` (all of them, so kept small)."""
    return _episode_frame(episode, show, opts)


def episode_metadata(
    movie: Mapping[str, Any], episode: EpisodeRow, show: ShowRow, opts: MappingOptions
) -> dict[str, Any]:
    """The full episode: the scene's movie document recast, placed in its show and season."""
    out = _episode_frame(episode, show, opts)
    for key in _FROM_MOVIE:
        _put(out, key, movie.get(key))
    if episode.season == SPECIALS:
        out.pop("year", None)  # the day it was added is no release year
    out["Image"] = episode_images(episode, opts)
    return out


# --- containers and matches ---------------------------------------------------------------------


def with_children(
    metadata: dict[str, Any], children: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    """`includeChildren=1`: every child inside the item, as a small container."""
    metadata["Children"] = {"size": len(children), "Metadata": [dict(c) for c in children]}
    return metadata


def tv_candidate(metadata: Mapping[str, Any], score: int) -> dict[str, Any]:
    """The Metadata object of a match answer (with its place in the show) and a score."""
    out = match_candidate(metadata, score, _TV_CANDIDATE_KEYS)
    if "Children" in metadata:
        out["Children"] = metadata["Children"]
    return out
