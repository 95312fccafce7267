"""What every resource shares: settings, the mirror's reads, the live fallback, the base URL."""

from __future__ import annotations

from dataclasses import dataclass

import falcon

from stashplex.fallback import Fallback
from stashplex.mirror.db import Database
from stashplex.mirror.lookups import MirrorLookups
from stashplex.plex.identity import MOVIE_PROVIDER_ID
from stashplex.settings import Settings
from stashplex.web.baseurl import BaseUrl


@dataclass
class Context:
    settings: Settings
    db: Database
    lookups: MirrorLookups
    base_url: BaseUrl
    fallback: Fallback | None = None
    identifier: str = MOVIE_PROVIDER_ID

    def base(self, req: falcon.Request) -> str:
        return self.base_url.for_request(req.scheme, req.env.get("HTTP_HOST"))

    @property
    def stash_timeout(self) -> float:
        return self.settings.stash.timeout
