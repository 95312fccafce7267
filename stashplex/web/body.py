"""Reading a JSON request body, bounded in size and depth, and made of valid text.

JSON escapes can spell a lone UTF-16 surrogate (`"\\ud800"`): Python accepts it as a str, but
nothing can encode it (SQLite, the log, an HTML page). Every string of a body, keys included, is
checked once here, so no handler, no stored miss and no page ever meets one. Paths and query
strings cannot carry one: Falcon decodes them as UTF-8, replacing what is invalid.
"""

from __future__ import annotations

import json
from typing import Any

import falcon

from stashplex.web.json_errors import bad_request

MAX_BODY = 1024 * 1024
MAX_TEXT = 4096  # PATH_MAX: no real file name or title is longer


def read_json_object(req: falcon.Request, limit: int = MAX_BODY) -> dict[str, Any]:
    """The body as a JSON object; 413 past `limit` bytes, 400 for anything but an object."""
    length = req.content_length
    if length is not None and length > limit:
        raise too_large(limit)
    if length is not None:
        raw = req.stream.read(length)  # the server never hands more than Content-Length
    else:  # chunked: no length up front
        raw = req.bounded_stream.read(limit + 1)
        if len(raw) > limit:
            raise too_large(limit)
    if not raw.strip():
        raise bad_request("the body must be a JSON object; it is empty")
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):  # RecursionError: absurdly nested arrays
        raise bad_request("the body is not valid JSON (UTF-8)") from None
    if not isinstance(value, dict):
        raise bad_request("the body must be a JSON object")
    where = invalid_text(value)
    if where is not None:
        raise bad_request(f"{where} is not valid Unicode text (it holds a lone surrogate)")
    return value


def invalid_text(value: Any) -> str | None:
    """Where in a parsed JSON value a string cannot be encoded as UTF-8 (e.g. "'filename'"),
    or None when every string, key or value, at any depth, is valid text."""
    stack: list[tuple[str, Any]] = [("the body", value)]
    while stack:  # iterative: json.loads accepts nesting deeper than Python's recursion
        where, item = stack.pop()
        if isinstance(item, str):
            if not _encodable(item):
                return where
        elif isinstance(item, dict):
            for key, child in item.items():
                if not _encodable(key):
                    return "a key of the body"
                stack.append((f"'{key}'" if where == "the body" else where, child))
        elif isinstance(item, list):
            stack.extend((where, child) for child in item)
    return None


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def text_field(body: dict[str, Any], name: str) -> str | None:
    """A string field of a request body; None when absent or null, 400 for anything else."""
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise bad_request(f"'{name}' must be a string")
    if len(value) > MAX_TEXT:
        raise bad_request(f"'{name}' is longer than {MAX_TEXT} characters")
    return value


def int_field(value: Any, name: str) -> int | None:
    """An int, or a string of ASCII digits (query-string style); None for null or ""."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise bad_request(f"'{name}' must be an integer")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 9:
        return int(value)
    raise bad_request(f"'{name}' must be an integer")


class BodyLimit:
    """Falcon middleware: any request with a body past `limit` is refused with a JSON 413,
    whatever the route (waitress has already read it, up to its own hard cap, and hands a
    chunked body over with its length)."""

    def __init__(self, limit: int = MAX_BODY) -> None:
        self.limit = limit

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        length = req.content_length
        if length is not None and length > self.limit:
            raise too_large(self.limit)


def too_large(limit: int) -> falcon.HTTPContentTooLarge:
    return falcon.HTTPContentTooLarge(
        title="Content Too Large", description=f"the body is larger than {limit} bytes"
    )
