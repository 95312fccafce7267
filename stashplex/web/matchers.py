"""The match routes' own objects, outside a request: for `stashplex doctor`'s dry run.

A dry run must find what a scan would find, so it asks the very resources the routes use
(`MatchesResource.find`, `TvMatchesResource.find`) over the mirror, built the way `create_app`
builds them. Without a live fallback: a dry run never writes to the mirror or asks Stash.
"""

from __future__ import annotations

from dataclasses import dataclass

from stashplex.mirror.db import Database
from stashplex.mirror.lookups import MirrorLookups, ReadConnections
from stashplex.plex.matching import MatchRequest, MatchResult
from stashplex.plex.tv_matching import EPISODE, TvMatchRequest, TvMatchResult
from stashplex.settings import Settings
from stashplex.web.baseurl import BaseUrl, listening_base_url
from stashplex.web.context import Context
from stashplex.web.movie_matches import MatchesResource
from stashplex.web.tv import tv_items
from stashplex.web.tv.matches import TvMatchesResource


@dataclass
class Matchers:
    movies: MatchesResource
    tv: TvMatchesResource
    connections: ReadConnections

    @classmethod
    def over_mirror(cls, settings: Settings, db: Database) -> Matchers:
        connections = ReadConnections(db.path)
        base_url = BaseUrl(
            settings.server.agent_base_url,
            listening_base_url(settings.server.host, settings.server.port),
        )
        context = Context(settings, db, MirrorLookups(connections), base_url, fallback=None)
        return cls(
            MatchesResource(context), TvMatchesResource(tv_items(context, connections)), connections
        )

    def movie(self, filename: str) -> MatchResult:
        """What a movie library's match request for this file finds (file and id tiers: the
        title PMS sends is its scanner's reading of the file name, which we do not have)."""
        result, _asked = self.movies.find(MatchRequest(filename=filename))
        return result

    def episode(self, filename: str) -> TvMatchResult:
        """What a TV library's match request for this episode file finds."""
        return self.tv.find(TvMatchRequest(kind=EPISODE, filename=filename))

    def close(self) -> None:
        self.connections.close()
