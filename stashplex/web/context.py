"""What every resource shares: settings, the mirror's reads, the live fallback, the base URL."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import falcon

from stashplex.mirror import documents
from stashplex.mirror.db import Database
from stashplex.mirror.lookups import MirrorLookups
from stashplex.plex.identity import MOVIE_PROVIDER_ID
from stashplex.settings import Settings
from stashplex.web.answers import AnswerCache
from stashplex.web.baseurl import BaseUrl
from stashplex.web.fallback import Fallback
from stashplex.web.misses import RecentMisses


@dataclass
class Context:
    settings: Settings
    db: Database
    lookups: MirrorLookups
    base_url: BaseUrl
    fallback: Fallback | None = None
    identifier: str = MOVIE_PROVIDER_ID
    # Told about every metadata answer (e.g. the poster uploader); must only queue work.
    on_metadata: Callable[[int], None] | None = None
    # Told the guid of every TV item (show, season, episode) answered; must only queue work.
    on_item: Callable[[str], None] | None = None
    misses: RecentMisses = field(default_factory=RecentMisses)
    # Encoded answers to repeated requests, per route (see `web.answers`).
    answers: AnswerCache[Any] = field(default_factory=AnswerCache)

    def base(self, req: falcon.Request) -> str:
        return self.base_url.for_request(req.scheme, req.env.get("HTTP_HOST"))

    def absolute(self, doc: str, req: falcon.Request) -> str:
        """The stored document `doc` with image URLs for this request's base URL."""
        return documents.absolute(doc, self.base(req))
