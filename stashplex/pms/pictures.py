"""Which of our images each Plex item should carry, read from the mirror.

The answer is what the item's metadata names: a movie's stored document's `thumb` (the 2:3
poster with `poster_mode`, else the cover) and `art` (the cover); a TV show's poster and
background, a season's poster, an episode's thumbnail, as `plex.tv_mapping` builds them. Each is
our image route's path with its version (`/stash/scene/5/poster?v=…`), so what is uploaded is
exactly what the URL serves, and a new version is a new source.
"""

from __future__ import annotations

import dataclasses
import json

from stashplex.mirror import documents
from stashplex.mirror.lookups import MirrorLookups, ReadConnections
from stashplex.mirror.tv_lookups import TvLookups
from stashplex.plex import tv_mapping
from stashplex.plex.identity import (
    MOVIE_PROVIDER_ID,
    TV_PROVIDER_ID,
    parse_episode_rating_key,
    parse_scene_guid,
    parse_season_rating_key,
    parse_tv_guid,
)
from stashplex.settings import Settings

POSTER = "poster"  # POST …/posters: a movie's or show's poster, a season's, an episode's thumb
ART = "art"  # POST …/arts: the background
KINDS = (POSTER, ART)

Wanted = dict[str, str]  # kind -> our image path with its version


def _path(url: object) -> str | None:
    """Our image path from a URL built on the base token; None for anything else."""
    if not isinstance(url, str) or not url.startswith(documents.BASE_TOKEN):
        return None
    path = url[len(documents.BASE_TOKEN) :]
    return path if path.startswith("/stash/") else None


def _from_images(images: list[dict[str, str]], kinds: dict[str, str]) -> Wanted:
    wanted: Wanted = {}
    for image in images:
        kind = kinds.get(image.get("type", ""))
        path = _path(image.get("url"))
        if kind is not None and path is not None and kind not in wanted:
            wanted[kind] = path
    return wanted


class Pictures:
    def __init__(self, settings: Settings, connections: ReadConnections) -> None:
        self.movies = MirrorLookups(connections)
        self.tv = TvLookups(connections)
        self.tv_options = dataclasses.replace(
            documents.mapping_options(settings), provider_id=TV_PROVIDER_ID
        )

    def is_ours(self, guid: object) -> bool:
        return isinstance(guid, str) and (
            parse_scene_guid(guid, MOVIE_PROVIDER_ID) is not None or parse_tv_guid(guid) is not None
        )

    def wanted(self, guid: str) -> Wanted:
        """kind -> image path for one of our guids; empty for an item the mirror lacks."""
        scene_id = parse_scene_guid(guid, MOVIE_PROVIDER_ID)
        if scene_id is not None:
            return self.movie(scene_id)
        parsed = parse_tv_guid(guid)
        if parsed is None:
            return {}
        kind, rating_key = parsed
        if kind == "show":
            show = self.tv.show(rating_key)
            if show is None:
                return {}
            images = tv_mapping.show_images(
                show, self.tv_options, latest=self.tv.latest(rating_key)
            )
            return _from_images(images, {"coverPoster": POSTER, "background": ART})
        if kind == "season":
            show_key, season = parse_season_rating_key(rating_key)  # type: ignore[misc]
            show = self.tv.show_row(show_key) if self.tv.has_season(show_key, season) else None
            if show is None:
                return {}
            first = self.tv.first_of_season(show_key, season)
            images = tv_mapping.season_images(show, season, self.tv_options, first=first)
            return _from_images(images, {"coverPoster": POSTER})
        episode = self.tv.episode(parse_episode_rating_key(rating_key))  # type: ignore[arg-type]
        if episode is None:
            return {}
        path = _path(tv_mapping.screenshot(episode, self.tv_options))
        return {POSTER: path} if path else {}

    def movie(self, scene_id: int) -> Wanted:
        doc = self.movies.doc(scene_id)
        if not doc:
            return {}
        try:
            metadata = json.loads(doc)
        except ValueError:
            return {}
        wanted: Wanted = {}
        for kind, field in ((POSTER, "thumb"), (ART, "art")):
            path = _path(metadata.get(field))
            if path is not None:
                wanted[kind] = path
        return wanted

    def title(self, guid: str) -> str | None:
        """The title PMS shows for a movie (for its title search fallback)."""
        scene_id = parse_scene_guid(guid, MOVIE_PROVIDER_ID)
        doc = self.movies.doc(scene_id) if scene_id is not None else None
        if not doc:
            return None
        try:
            title = json.loads(doc).get("title")
        except (ValueError, AttributeError):
            return None
        return title if isinstance(title, str) and title.strip() else None
