"""What every resource shares: settings, the mirror's reads, the live fallback, the base URL."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field

import falcon

from stashplex.fallback import Fallback
from stashplex.mirror import documents
from stashplex.mirror.db import Database
from stashplex.mirror.lookups import MirrorLookups
from stashplex.plex.identity import MOVIE_PROVIDER_ID
from stashplex.settings import Settings
from stashplex.web.baseurl import BaseUrl
from stashplex.web.misses import RecentMisses

# How a stored document spells the start of an image URL (see mirror.documents).
TOKEN_JSON = json.dumps(documents.BASE_TOKEN)[:-1]
_MAX_BASES = 256


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
    misses: RecentMisses = field(default_factory=RecentMisses)

    _replacements: dict[str, str] = field(default_factory=dict, repr=False)

    def base(self, req: falcon.Request) -> str:
        return self.base_url.for_request(req.scheme, req.env.get("HTTP_HOST"))

    def absolute(self, doc: str, req: falcon.Request) -> str:
        """`documents.absolute(doc, base)` for the request's base, the base's JSON form cached
        (it is computed per request otherwise, on the hottest path)."""
        base = self.base(req)
        replacement = self._replacements.get(base)
        if replacement is None:
            if len(self._replacements) >= _MAX_BASES:
                self._replacements.clear()
            replacement = json.dumps(base.rstrip("/"), ensure_ascii=False)[:-1]
            self._replacements[base] = replacement
        return doc.replace(TOKEN_JSON, replacement)
