"""The TV provider: shows, seasons and episodes at base URL `/tv`, beside the movie provider.

Registered in PMS as `http://host:port/tv`; its feature keys are relative to that base, as PMS
appends them to it, while the routes themselves live under `/tv`. Image URLs in its answers are
the movie provider's `/stash/...` routes, which serve both.
"""

from __future__ import annotations

import dataclasses

import falcon

from stashplex.mirror.lookups import ReadConnections
from stashplex.mirror.tv_lookups import TvLookups
from stashplex.plex.identity import TV_PROVIDER_ID
from stashplex.web.context import Context
from stashplex.web.provider import ProviderResource
from stashplex.web.tv.items import TvItems
from stashplex.web.tv.matches import TvMatchesResource
from stashplex.web.tv.metadata import (
    TvChildrenResource,
    TvExtrasResource,
    TvImagesResource,
    TvMetadataResource,
)

PREFIX = "/tv"
TV_TYPES = (2, 3, 4)


def tv_items(context: Context, connections: ReadConnections) -> TvItems:
    """The TV provider's reads over the movie provider's context and mirror connections."""
    # Its own identifier; TV answers go to `on_item` (by guid), not to the movies' hook.
    tv_context = dataclasses.replace(context, identifier=TV_PROVIDER_ID, on_metadata=None)
    return TvItems(tv_context, TvLookups(connections))


def add_tv_routes(
    app: falcon.App[falcon.Request, falcon.Response],
    context: Context,
    connections: ReadConnections,
) -> TvItems:
    """Route the TV provider under PREFIX, sharing the movie app's mirror reads and fallback."""
    items = tv_items(context, connections)
    base = f"{PREFIX}/library/metadata"
    app.add_route(PREFIX, ProviderResource(TV_PROVIDER_ID, TV_TYPES))
    app.add_route(f"{base}/matches", TvMatchesResource(items))
    app.add_route(f"{base}/{{rating_key}}", TvMetadataResource(items))
    app.add_route(f"{base}/{{rating_key}}/children", TvChildrenResource(items))
    app.add_route(f"{base}/{{rating_key}}/grandchildren", TvChildrenResource(items, grand=True))
    app.add_route(f"{base}/{{rating_key}}/images", TvImagesResource(items))
    app.add_route(f"{base}/{{rating_key}}/extras", TvExtrasResource(items))
    return items
