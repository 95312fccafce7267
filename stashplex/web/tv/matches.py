"""`POST /tv/library/metadata/matches`: which show, season or episode PMS has found."""

from __future__ import annotations

import datetime as dt
from typing import Any

import falcon

from stashplex.plex.mapping import container
from stashplex.plex.tv_mapping import tv_candidate, with_children
from stashplex.plex.tv_matching import (
    EPISODE,
    KIND_NAMES,
    FileTier,
    TvMatchRequest,
    TvMatchResult,
    exact_tv_tiers,
    rank_tv,
    title_tv_tiers,
)
from stashplex.web.body import int_field, read_json_object, text_field
from stashplex.web.json_errors import bad_request
from stashplex.web.tv.items import TvItems
from stashplex.web.tv.metadata import send

MOVIE = 1


def _date(value: str | None) -> str | None:
    """A YYYY-MM-DD air date (a timestamp's date part will do); None for anything else: a
    nonsense hint is no hint."""
    head = (value or "").strip()[:10]
    try:
        return dt.date.fromisoformat(head).isoformat() if len(head) == 10 else None
    except ValueError:
        return None


def _flag(value: Any, name: str) -> bool:
    if isinstance(value, bool):
        return value
    return bool(int_field(value, name))


def parse_request(
    body: dict[str, Any], query: dict[str, str | None] | None = None
) -> tuple[TvMatchRequest, bool]:
    """The match request and whether children are wanted; 400 for anything PMS would not send."""
    query = query or {}
    kind = body.get("type")
    if kind is None:
        raise bad_request("'type' is required (2 show, 3 season, 4 episode)")
    if isinstance(kind, bool) or not isinstance(kind, int):
        raise bad_request("'type' must be an integer (2 show, 3 season, 4 episode)")
    if kind == MOVIE:
        raise bad_request("type 1 (movie) is served by the movie provider at /, not /tv")
    if kind not in KIND_NAMES:
        raise bad_request(f"unknown type {kind}: this provider serves 2, 3 and 4")
    int_field(body.get("year"), "year")  # validated like the movie provider's; not used
    request = TvMatchRequest(
        kind=kind,
        title=text_field(body, "title"),
        parent_title=text_field(body, "parentTitle"),
        grandparent_title=text_field(body, "grandparentTitle"),
        index=int_field(body.get("index"), "index"),
        parent_index=int_field(body.get("parentIndex"), "parentIndex"),
        date=_date(text_field(body, "date")),
        filename=text_field(body, "filename"),
        guid=text_field(body, "guid"),
        manual=_flag(body.get("manual", query.get("manual")), "manual"),
    )
    children = _flag(body.get("includeChildren", query.get("includeChildren")), "includeChildren")
    return request, children


class TvMatchesResource:
    def __init__(self, items: TvItems) -> None:
        self.items = items
        self.path_map = items.context.settings.match.path_map

    def find(self, request: TvMatchRequest) -> TvMatchResult:
        """File and guid tiers over the mirror; on a miss Stash live, then the mirror again;
        the name and date tiers only when neither knows the file (and for Fix Match)."""
        ctx, tv = self.items.context, self.items.tv
        exact = exact_tv_tiers(request, tv, ctx.lookups, self.path_map)
        result = rank_tv(request, exact)
        file_tier = exact[0]
        if not result.found and isinstance(file_tier, FileTier) and file_tier.hidden:
            return TvMatchResult("file")
        fallback = ctx.fallback
        if not result.found and fallback is not None and fallback.match(request.file_request()):
            exact = exact_tv_tiers(request, tv, ctx.lookups, self.path_map)
            result = rank_tv(request, exact)
        if not result.found or request.manual:
            result = rank_tv(request, exact + title_tv_tiers(request, tv))  # exact: no rerun
        return result

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        items = self.items
        ctx = items.context
        query = (
            {name: req.get_param(name) for name in ("manual", "includeChildren")}
            if req.query_string
            else None
        )
        request, children = parse_request(read_json_object(req), query)
        result = self.find(request)
        if request.kind == EPISODE:  # the status page lists files no scene was found for
            if result.found or result.tier is not None:  # a tier with no candidate: hidden
                ctx.misses.found(request.filename)
            else:
                ctx.misses.add(request.filename, request.title)
        found = []
        for candidate in result.candidates:
            item = items.find(candidate.rating_key)
            if item is None:  # gone with a sync since the lookup
                continue
            metadata = items.metadata(item)
            if children:
                embedded = items.all_children(item)
                if embedded is not None:
                    with_children(metadata, embedded)
            found.append(tv_candidate(metadata, candidate.score))
        send(req, resp, items, container(found, identifier=ctx.identifier))
