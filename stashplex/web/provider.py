"""`GET /`: the MediaProvider description PMS reads when the provider is added."""

from __future__ import annotations

import json

import falcon

from stashplex import __version__
from stashplex.plex.identity import MOVIE_PROVIDER_ID

TITLE = "Stash (stashplex)"


def description(identifier: str = MOVIE_PROVIDER_ID, types: tuple[int, ...] = (1,)) -> dict:
    # Feature keys are relative: PMS appends them to the registered base URL (the TV provider's
    # `/tv` too). No `images` feature: declaring it stops PMS falling back to other artwork.
    return {
        "MediaProvider": {
            "identifier": identifier,
            "title": TITLE,
            "version": __version__,
            "Types": [{"type": t, "Scheme": [{"scheme": identifier}]} for t in types],
            "Feature": [
                {"type": "metadata", "key": "/library/metadata"},
                {"type": "match", "key": "/library/metadata/matches"},
            ],
        }
    }


class ProviderResource:
    def __init__(self, identifier: str = MOVIE_PROVIDER_ID, types: tuple[int, ...] = (1,)) -> None:
        self._body = json.dumps(description(identifier, types)).encode("utf-8")

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.content_type = falcon.MEDIA_JSON
        resp.data = self._body
