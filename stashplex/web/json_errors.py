"""Every error answer is JSON: PMS's parser breaks on HTML, and tracebacks stay in our log."""

from __future__ import annotations

import json
import logging
from typing import Any

import falcon

from stashplex.redaction import redact

log = logging.getLogger(__name__)


def body(status: int, title: str, reason: str | None = None) -> bytes:
    """An error answer's JSON; the reason is redacted (it may quote Stash or a setting)."""
    payload: dict[str, Any] = {"error": {"status": status, "title": title}}
    if reason:
        payload["error"]["reason"] = redact(reason)
    return json.dumps(payload, ensure_ascii=False).encode("utf-8")


def serialize(req: falcon.Request, resp: falcon.Response, exc: falcon.HTTPError) -> None:
    """Falcon's error serializer: the same JSON shape whatever the client accepts."""
    title = str(exc.title)
    code = exc.status_code
    title = title.removeprefix(f"{code} ")  # Falcon's default titles repeat the code
    resp.content_type = falcon.MEDIA_JSON
    resp.data = body(code, title, exc.description)


def unexpected(
    req: falcon.Request, resp: falcon.Response, ex: Exception, params: dict[str, Any]
) -> None:
    """Anything no responder handled: logged with its traceback, answered as a bare 500."""
    log.exception("error answering %s %s", req.method, req.path)
    resp.status = falcon.HTTP_500
    resp.content_type = falcon.MEDIA_JSON
    resp.data = body(500, "Internal Server Error", "see the stashplex log")


def bad_request(reason: str) -> falcon.HTTPBadRequest:
    return falcon.HTTPBadRequest(title="Bad Request", description=reason)


def not_found(reason: str) -> falcon.HTTPNotFound:
    return falcon.HTTPNotFound(title="Not Found", description=reason)
