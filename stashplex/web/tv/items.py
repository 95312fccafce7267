"""From a TV ratingKey to the JSON of that show, season or episode and of its children.

Everything is read per request from the TV layout's index (`mirror.tv_lookups`) and mapped by
the pure `plex.tv_mapping`; an episode starts from its scene's stored movie document. Image URLs
carry the documents' base-URL token until the resource makes the whole answer absolute.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any

from stashplex.mirror import documents
from stashplex.mirror.tv_lookups import TvLookups
from stashplex.plex import tv_mapping
from stashplex.plex.identity import (
    TV_PROVIDER_ID,
    parse_episode_rating_key,
    parse_season_rating_key,
    tv_kind_of,
)
from stashplex.plex.tv_mapping import EpisodeRow, ShowRow
from stashplex.web.context import Context
from stashplex.web.json_errors import not_found


@dataclass(frozen=True, slots=True)
class ShowItem:
    show: ShowRow


@dataclass(frozen=True, slots=True)
class SeasonItem:
    show: ShowRow
    season: int


@dataclass(frozen=True, slots=True)
class EpisodeItem:
    show: ShowRow
    episode: EpisodeRow


Item = ShowItem | SeasonItem | EpisodeItem


class TvItems:
    def __init__(self, context: Context, tv: TvLookups) -> None:
        self.context = context
        self.tv = tv
        self.options = dataclasses.replace(
            documents.mapping_options(context.settings), provider_id=TV_PROVIDER_ID
        )

    # --- finding -----------------------------------------------------------------------------

    def find(self, rating_key: str) -> Item | None:
        kind = tv_kind_of(rating_key)
        if kind == "show":
            show = self.tv.show(rating_key)
            return ShowItem(show) if show is not None else None
        if kind == "season":
            show_key, season = parse_season_rating_key(rating_key)  # type: ignore[misc]
            if not self.tv.has_season(show_key, season):
                return None
            show = self.tv.show_row(show_key)
            return SeasonItem(show, season) if show is not None else None
        if kind == "episode":
            scene_id = parse_episode_rating_key(rating_key)
            assert scene_id is not None
            episode = self.episode(scene_id)
            show = self.tv.show_row(episode.show) if episode is not None else None
            return EpisodeItem(show, episode) if show and episode else None
        return None

    def episode(self, scene_id: int) -> EpisodeRow | None:
        """The scene's episode; a scene the mirror lacks is asked of Stash live first."""
        ctx = self.context
        episode = self.tv.episode(scene_id)
        if episode is not None or ctx.fallback is None or ctx.lookups.scene(scene_id) is not None:
            return episode  # a mirrored scene without a show is no episode: nothing to ask
        return self.tv.episode(scene_id) if ctx.fallback.scene(scene_id) else None

    def get(self, rating_key: str) -> Item:
        if tv_kind_of(rating_key) is None:
            raise not_found(f"{rating_key[:100]!r} is not a ratingKey of the TV provider")
        item = self.find(rating_key)
        if item is None:
            raise not_found(f"no show, season or episode {rating_key[:100]!r} in the mirror")
        return item

    # --- metadata ----------------------------------------------------------------------------

    def metadata(self, item: Item) -> dict[str, Any]:
        opts = self.options
        if isinstance(item, ShowItem):
            key = item.show.key
            return tv_mapping.show_metadata(
                item.show,
                opts,
                first=self.tv.first_aired(key),
                latest=self.tv.latest(key),
                tags=self.tv.genres(key),
            )
        if isinstance(item, SeasonItem):
            return self.season(item.show, item.season)
        return self.episode_metadata(item.show, item.episode)

    def season(self, show: ShowRow, season: int) -> dict[str, Any]:
        first = self.tv.first_of_season(show.key, season)
        return tv_mapping.season_metadata(show, season, self.options, first=first)

    def episode_metadata(self, show: ShowRow, episode: EpisodeRow) -> dict[str, Any]:
        movie = json.loads(episode.doc) if episode.doc else {}
        return tv_mapping.episode_metadata(movie, episode, show, self.options)

    def images(self, item: Item) -> list[dict[str, str]]:
        opts = self.options
        if isinstance(item, ShowItem):
            return tv_mapping.show_images(item.show, opts, latest=self.tv.latest(item.show.key))
        if isinstance(item, SeasonItem):
            first = self.tv.first_of_season(item.show.key, item.season)
            return tv_mapping.season_images(item.show, item.season, opts, first=first)
        return tv_mapping.episode_images(item.episode, opts)

    # --- children ----------------------------------------------------------------------------

    def children(self, item: Item, start: int, size: int) -> tuple[int, list[dict[str, Any]]]:
        """(total, one page): a show's seasons, a season's episodes; an episode has none."""
        if isinstance(item, ShowItem):
            seasons = self.tv.seasons(item.show.key)
            page = seasons[start : start + size] if size else []
            return len(seasons), [self.season(item.show, s) for s in page]
        if isinstance(item, SeasonItem):
            found = self.tv.season_page(item.show.key, item.season, start, size)
            return found.total, [self.episode_metadata(item.show, e) for e in found.episodes]
        return 0, []

    def grandchildren(self, item: Item, start: int, size: int) -> tuple[int, list[dict[str, Any]]]:
        """(total, one page): every episode of a show, by season then index."""
        if isinstance(item, ShowItem):
            found = self.tv.show_page(item.show.key, start, size)
            return found.total, [self.episode_metadata(item.show, e) for e in found.episodes]
        return 0, []

    def all_children(self, item: Item) -> list[dict[str, Any]] | None:
        """`includeChildren=1`: a show's seasons in full, a season's episodes in short form
        (a season can hold thousands); None for an episode, which has no children."""
        if isinstance(item, ShowItem):
            return [self.season(item.show, s) for s in self.tv.seasons(item.show.key)]
        if isinstance(item, SeasonItem):
            episodes = self.tv.season_frames(item.show.key, item.season)
            return [tv_mapping.episode_summary(e, item.show, self.options) for e in episodes]
        return None
