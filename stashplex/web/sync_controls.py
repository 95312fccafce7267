"""Starting a sync by hand: the buttons of `/status` and `POST /api/sync` for scripts.

Both refuse requests another site makes a browser send: the browser's `Sec-Fetch-Site` and
`Origin` must say the page came from here, the JSON route takes only `application/json` (a
cross-site form cannot send it without the browser asking first) and the form carries a token
only our own page knows. The pass runs in the background; `/status` shows its progress.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

import falcon

from stashplex.mirror.sync import SyncKind
from stashplex.scheduler import KINDS
from stashplex.web.body import read_json_object
from stashplex.web.json_errors import bad_request

RunSync = Callable[[SyncKind], None]
FORM_LIMIT = 4096


def cross_site(req: falcon.Request) -> bool:
    """True when a browser says another site sent this request (tools send neither header)."""
    site = req.get_header("Sec-Fetch-Site")
    if site is not None and site.strip().lower() not in ("same-origin", "none"):
        return True
    origin = req.get_header("Origin")
    if origin is None:
        return False
    host = req.get_header("Host") or ""
    return origin == "null" or urlsplit(origin).netloc.lower() != host.strip().lower()


def _refuse_cross_site(req: falcon.Request) -> None:
    if cross_site(req):
        raise falcon.HTTPForbidden(
            title="Forbidden", description="the status page's controls only answer its own pages"
        )


def _check_kind(kind: object) -> SyncKind:
    for known in KINDS:
        if kind == known:
            return known
    raise bad_request("'kind' must be one of " + ", ".join(KINDS))


class FormToken:
    """The token of the status page's form: fixed for the life of the process, unguessable."""

    def __init__(self, secret: bytes | None = None) -> None:
        self._secret = secret or os.urandom(32)
        self.value = hmac.new(self._secret, b"status-sync", hashlib.sha256).hexdigest()

    def check(self, given: str | None) -> bool:
        return given is not None and hmac.compare_digest(given.encode(), self.value.encode())


def _first(form: dict[str, list[str]], name: str) -> str | None:
    values = form.get(name)
    return values[0] if values else None


def _unavailable() -> falcon.HTTPServiceUnavailable:
    return falcon.HTTPServiceUnavailable(
        title="Service Unavailable", description="this process runs no syncs"
    )


class SyncApiResource:
    """`POST /api/sync` with `{"kind": "incremental" | "full" | "sweep"}` -> 202."""

    def __init__(self, run: RunSync | None) -> None:
        self.run = run

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        _refuse_cross_site(req)
        if (req.content_type or "").split(";")[0].strip().lower() != falcon.MEDIA_JSON:
            raise falcon.HTTPUnsupportedMediaType(
                title="Unsupported Media Type", description="send a JSON body (application/json)"
            )
        kind = _check_kind(read_json_object(req).get("kind"))
        if self.run is None:
            raise _unavailable()
        self.run(kind)
        resp.status = falcon.HTTP_202
        resp.media = {"queued": kind, "status": "/status"}


def read_page_form(req: falcon.Request, token: FormToken) -> dict[str, list[str]]:
    """The fields of a form posted by the status page itself: 403 for a cross-site request or
    a missing or stale token, 400 for an oversized form."""
    _refuse_cross_site(req)
    raw = req.bounded_stream.read(FORM_LIMIT + 1)
    if len(raw) > FORM_LIMIT:
        raise bad_request("the form is too large")
    form = parse_qs(raw.decode("utf-8", "replace"))
    if not token.check(_first(form, "token")):
        raise falcon.HTTPForbidden(
            title="Forbidden", description="the form is stale: reload /status and try again"
        )
    return form


class StatusSyncForm:
    """`POST /status/sync`: the status page's buttons; back to the page (303) once queued."""

    def __init__(self, run: RunSync | None, token: FormToken) -> None:
        self.run = run
        self.token = token

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        form = read_page_form(req, self.token)
        kind = _check_kind(_first(form, "kind"))
        if self.run is None:
            raise _unavailable()
        self.run(kind)
        raise falcon.HTTPSeeOther("/status")
