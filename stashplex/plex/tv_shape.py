"""Where a scene sits in a TV library (pure): its show, season and the start of its index range.

- show: the scene's studio (``show_by = "studio"``), the top of its studio's parent chain
  (``"parent_studio"``), or its first group (``"group"``). A scene without one is no episode.
- season: the release year; scenes without a usable date go to season 0, Plex's "Specials",
  rather than to an invented year (the movie mapping does not invent a year either).
- episode index: ``MMDD * 100 + n``, where n (1, 2, …) is the scene's slot on that day, assigned
  once (`mirror.tv_index`) and kept while the scene stays on that day in that show. Indexes so
  follow the release date, and adding or deleting other scenes never renumbers one. A day with
  more than 99 scenes runs into the next day's numbers: `assign` takes the smallest free index
  above the day's base, so indexes stay unique. Specials take the smallest free number from 1,
  in the order they were added to Stash.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from stashplex.plex.identity import SPECIALS, show_rating_key
from stashplex.plex.mapping import network_of, parse_stash_date, scene_title
from stashplex.records import Group, Scene, SceneBundle, Studio
from stashplex.settings import SHOW_BY, ShowBy

DAY_SLOTS = 100  # index = MMDD * DAY_SLOTS + slot
_DAY_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


@dataclass(frozen=True, slots=True)
class Placement:
    show: str  # the show's ratingKey
    show_title: str
    season: int
    base: int  # the episode's index is the smallest free one above this
    aired: str | None  # originallyAvailableAt: release date, or the day added for Specials
    title: str


def show_of(
    scene: Scene,
    show_by: ShowBy,
    studios: Mapping[int, Studio],
    groups: Mapping[int, Group],
) -> tuple[str, str] | None:
    """(ratingKey, title) of the scene's show; None when it has none the mirror knows."""
    if show_by == "group":
        for link in scene.groups:  # a scene in several groups is an episode of the first
            group = groups.get(link.group_id)
            if group is not None:
                return show_rating_key("group", group.id), show_title("group", group.id, group.name)
        return None
    if show_by not in SHOW_BY:
        raise ValueError(f"unknown show_by: {show_by!r}")
    studio = studios.get(scene.studio_id) if scene.studio_id else None
    if studio is None:
        return None
    if show_by == "parent_studio":
        studio = network_of(studio, studios)
    return show_rating_key("studio", studio.id), show_title("studio", studio.id, studio.name)


def show_title(kind: str, entity_id: int, name: str | None) -> str:
    """A show's title: its studio's or group's name, else "Studio 12" (never empty)."""
    return (name or "").strip() or f"{kind.title()} {entity_id}"


def added_date(scene: Scene) -> str | None:
    """The calendar day a scene was added to Stash (else last updated), as written by Stash."""
    for text in (scene.created_at, scene.updated_at):
        head = (text or "").strip()[:10]
        if _DAY_RE.fullmatch(head):
            try:
                return dt.date.fromisoformat(head).isoformat()
            except ValueError:
                continue
    return None


def day_base(date: dt.date) -> int:
    return (date.month * 100 + date.day) * DAY_SLOTS


def placement(
    scene: Scene,
    show_by: ShowBy,
    studios: Mapping[int, Studio],
    groups: Mapping[int, Group],
    title: str | None = None,
) -> Placement | None:
    """Where the scene goes; `title` is its episode title (default: the default title rule)."""
    show = show_of(scene, show_by, studios, groups)
    if show is None:
        return None
    if title is None:
        title = scene_title(SceneBundle(scene=scene))
    date = parse_stash_date(scene.date)
    if date is None:
        return Placement(show[0], show[1], SPECIALS, 0, added_date(scene), title)
    return Placement(show[0], show[1], date.year, day_base(date), date.isoformat(), title)


def assign(base: int, used: Collection[int]) -> int:
    """The smallest index above `base` that no episode of the season holds."""
    index = base + 1
    while index in used:
        index += 1
    return index


def sort_key(p: Placement, scene_id: int) -> tuple[str, int, int, str, str, int]:
    """The order in which new episodes take their indexes: by day, then title, then id."""
    return (p.show, p.season, p.base, p.aired or "", p.title.casefold(), scene_id)
