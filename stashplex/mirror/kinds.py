"""The four kinds of related entity, described once: their Stash operations and mirror tables."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table

from stashplex.mirror import models
from stashplex.records import Group, Performer, Studio, Tag
from stashplex.stash import parse


@dataclass(frozen=True)
class EntityKind:
    name: str  # "performer"
    record: type
    table: Table
    parse: Callable[[Any], Any]
    find_many: str  # operation names
    find_one: str
    sweep: str
    root: str  # result field of find_many / sweep, e.g. "findPerformers"
    items: str  # list field inside it, e.g. "performers"
    one_root: str  # result field of find_one, e.g. "findPerformer"
    filter_var: str  # e.g. "performer_filter"
    link: Table | None  # scene link table (studios link through scenes.studio_id)
    link_column: str


PERFORMERS = EntityKind(
    "performer",
    Performer,
    models.performers,
    parse.performer,
    "FindPerformers",
    "FindPerformer",
    "SweepPerformers",
    "findPerformers",
    "performers",
    "findPerformer",
    "performer_filter",
    models.scene_performers,
    "performer_id",
)
STUDIOS = EntityKind(
    "studio",
    Studio,
    models.studios,
    parse.studio,
    "FindStudios",
    "FindStudio",
    "SweepStudios",
    "findStudios",
    "studios",
    "findStudio",
    "studio_filter",
    None,
    "studio_id",
)
TAGS = EntityKind(
    "tag",
    Tag,
    models.tags,
    parse.tag,
    "FindTags",
    "FindTag",
    "SweepTags",
    "findTags",
    "tags",
    "findTag",
    "tag_filter",
    models.scene_tags,
    "tag_id",
)
GROUPS = EntityKind(
    "group",
    Group,
    models.groups,
    parse.group,
    "FindGroups",
    "FindGroup",
    "SweepGroups",
    "findGroups",
    "groups",
    "findGroup",
    "group_filter",
    models.scene_groups,
    "group_id",
)
# Stash before v0.27 calls groups movies; the mirror keeps calling them groups.
MOVIES = EntityKind(
    "group",
    Group,
    models.groups,
    parse.group,
    "FindMovies",
    "FindMovie",
    "SweepMovies",
    "findMovies",
    "movies",
    "findMovie",
    "movie_filter",
    models.scene_groups,
    "group_id",
)


def entity_kinds(legacy: bool) -> tuple[EntityKind, ...]:
    # Studios first: a studio's parent is looked up among the studios already synced.
    return (STUDIOS, PERFORMERS, TAGS, MOVIES if legacy else GROUPS)
