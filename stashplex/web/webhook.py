"""`POST /sync/events`: Stash's stashplex plugin reports edits here (see stash-plugin/).

Off unless `[sync] webhook_token` is set. The token comes as `Authorization: Bearer <token>`
and is compared in constant time; the events are only queued here (202): the targeted sync
runs on the scheduler's worker, coalesced with the events around them.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable

import falcon

from stashplex.changes import Changes, EventError, parse_events
from stashplex.web.body import read_json_object
from stashplex.web.json_errors import bad_request

QueueChanges = Callable[[Changes, int], None]


class SyncEventsResource:
    def __init__(self, token: str | None, queue: QueueChanges | None) -> None:
        self.token = token.encode("utf-8") if token else None
        self.queue = queue

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        if self.token is None:
            raise falcon.HTTPForbidden(
                title="Forbidden",
                description="the webhook is off: set [sync] webhook_token to turn it on",
            )
        scheme, _, given = (req.get_header("Authorization") or "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            given.strip().encode("utf-8"), self.token
        ):
            raise falcon.HTTPUnauthorized(
                title="Unauthorized",
                description="send 'Authorization: Bearer <[sync] webhook_token>'",
                challenges=["Bearer"],
            )
        if self.queue is None:
            raise falcon.HTTPServiceUnavailable(
                title="Service Unavailable", description="this process runs no syncs"
            )
        body = read_json_object(req)
        try:
            changes = parse_events(body)
        except EventError as exc:
            raise bad_request(str(exc)) from None
        events = len(body["events"])
        if events:  # none: the plugin checking its URL and token
            self.queue(changes, events)
        resp.status = falcon.HTTP_202
        resp.media = {"queued": events}
