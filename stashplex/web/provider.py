"""`GET /`: the MediaProvider description PMS reads when the provider is added.

A person opening the same address in a browser is sent to the status page instead. Only when
the request clearly comes from a browser: it prefers HTML (`text/html` listed before any JSON
type in Accept), it is not PMS (whose user agent says PlexMediaServer), and it has no query
string (PMS adds some, e.g. `includePreferences`). Anything else gets the JSON, as PMS always must.
"""

from __future__ import annotations

import json
from typing import Any

import falcon

from stashplex import __version__
from stashplex.plex.identity import MOVIE_PROVIDER_ID

TITLE = "Stash (stashplex)"
STATUS_PAGE = "/status"


def description(
    identifier: str = MOVIE_PROVIDER_ID, types: tuple[int, ...] = (1,)
) -> dict[str, Any]:
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


def prefers_html(accept: str) -> bool:
    """True when `text/html` comes before any JSON type in an Accept header (q=0 means no)."""
    for item in accept.split(","):
        media, *params = (part.strip().lower() for part in item.split(";"))
        if any(_refused(param) for param in params):
            continue
        if media == "text/html":
            return True
        if media.endswith(("/json", "+json")):
            return False
    return False


def _refused(param: str) -> bool:
    name, _, value = param.partition("=")
    if name.strip() != "q":
        return False
    try:
        return float(value) == 0
    except ValueError:
        return False


def from_a_browser(req: falcon.Request) -> bool:
    if req.query_string or "plexmediaserver" in (req.user_agent or "").lower():
        return False
    return prefers_html(req.accept or "")


class ProviderResource:
    def __init__(self, identifier: str = MOVIE_PROVIDER_ID, types: tuple[int, ...] = (1,)) -> None:
        self._body = json.dumps(description(identifier, types)).encode("utf-8")

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.vary = ("Accept", "User-Agent")  # one URL, two answers: caches must keep both
        if from_a_browser(req):
            resp.status = falcon.HTTP_302
            resp.location = STATUS_PAGE
            return
        resp.content_type = falcon.MEDIA_JSON
        resp.data = self._body
