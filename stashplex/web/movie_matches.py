"""`POST /library/metadata/matches`: which scene a file is, from the mirror (Stash on a miss)."""

from __future__ import annotations

import json
import sys
from typing import Any

import falcon

from stashplex.mirror import documents
from stashplex.plex.mapping import container, match_candidate
from stashplex.plex.matching import MatchRequest, MatchResult, exact_tiers, settle
from stashplex.web.body import int_field, read_json_object, text_field
from stashplex.web.context import Context
from stashplex.web.json_errors import bad_request

MOVIE = 1
TV_TYPES = {2: "show", 3: "season", 4: "episode"}


def parse_request(body: dict[str, Any], query_manual: str | None = None) -> MatchRequest:
    """Validate a match body: 400 with the reason for anything PMS would not send."""
    kind = body.get("type")
    if kind is None:
        raise bad_request("'type' is required (1 for a movie)")
    if isinstance(kind, bool) or not isinstance(kind, int):
        raise bad_request("'type' must be an integer (1 for a movie)")
    if kind in TV_TYPES:
        raise bad_request(
            f"type {kind} ({TV_TYPES[kind]}) is not supported: this provider serves movies (1)"
        )
    if kind != MOVIE:
        raise bad_request(f"unknown type {kind}: this provider serves movies (1)")

    year = int_field(body.get("year"), "year")
    if year is not None and not 1 <= year <= 9999:
        year = None  # a nonsense year hint is no hint
    manual_value = body.get("manual", query_manual)
    if isinstance(manual_value, bool):
        manual = manual_value
    else:
        manual_number = int_field(manual_value, "manual")
        manual = bool(manual_number)
    return MatchRequest(
        filename=text_field(body, "filename"),
        title=text_field(body, "title"),
        year=year,
        guid=text_field(body, "guid"),
        manual=manual,
    )


class MatchesResource:
    def __init__(self, context: Context) -> None:
        self.context = context
        self.path_map = context.settings.match.path_map

    def find(self, request: MatchRequest) -> tuple[MatchResult, bool]:
        """The mirror's file and id tiers; on a miss Stash live, then the mirror again; the
        title tier only when neither knows the file (and for Fix Match's extra candidates).
        Also whether Stash was asked."""
        ctx = self.context
        exact = exact_tiers(request, ctx.lookups, self.path_map)
        asked = exact is None and ctx.fallback is not None
        if asked and ctx.fallback is not None and ctx.fallback.match(request):
            exact = exact_tiers(request, ctx.lookups, self.path_map)
        return settle(request, ctx.lookups, exact), asked

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        ctx = self.context
        request = parse_request(
            read_json_object(req), req.get_param("manual") if req.query_string else None
        )
        base = ctx.base(req)
        generation = ctx.lookups.generation()
        key = ("match", request, base)
        cached = ctx.answers.get(key, generation)
        if cached is not None:
            body, known = cached
        else:
            result, asked = self.find(request)
            # A tier with no candidate: hidden by a gate, but the file is known.
            known = result.found or result.tier is not None
            body = self.answer(result, base)
            # Not kept when Stash was asked: its "nothing" has its own memory (`[stash]
            # cache_ttl`), and what it added has raised the generation anyway.
            if not asked:
                text = (request.filename, request.title, request.guid, base)
                size = sum(sys.getsizeof(t) for t in text if t is not None)
                ctx.answers.put(key, generation, body, known, key_bytes=size)
        if known:
            ctx.misses.found(request.filename)
        else:
            ctx.misses.add(request.filename, request.title)
        resp.content_type = falcon.MEDIA_JSON
        resp.data = body

    def answer(self, result: MatchResult, base: str) -> bytes:
        ctx = self.context
        items = []
        for candidate in result.candidates:
            doc = candidate.doc or ctx.lookups.doc(candidate.scene_id)
            if doc is None:  # deleted by a sync since the lookup
                continue
            metadata = json.loads(documents.absolute(doc, base))
            items.append(match_candidate(metadata, candidate.score))
        return json.dumps(
            container(items, identifier=ctx.identifier), ensure_ascii=False, separators=(",", ":")
        ).encode("utf-8")
