"""`X-Plex-Container-Start` / `X-Plex-Container-Size`: which slice of a list PMS wants.

Either may come as a header or a query parameter (the query wins when both are sent). Start is
0-based, as in PMS's own API; size defaults to 20 and 0 asks for the total alone. A value that
is not a non-negative integer is a 400, not a guess; a start past the end is an empty page; a
size above MAX_SIZE is cut to it (the answer's `size` says how many came, `totalSize` how many
there are, so a client pages on).
"""

from __future__ import annotations

from dataclasses import dataclass

import falcon

from stashplex.web.json_errors import bad_request

START = "X-Plex-Container-Start"
SIZE = "X-Plex-Container-Size"
TOTAL_SIZE = "X-Plex-Container-Total-Size"
DEFAULT_SIZE = 20
MAX_SIZE = 1000
_MAX_DIGITS = 9


@dataclass(frozen=True, slots=True)
class Window:
    start: int
    size: int


def _value(req: falcon.Request, name: str) -> str | None:
    value = req.get_param(name) if req.query_string else None
    if value is None:
        value = req.get_header(name)
    return value


def _number(req: falcon.Request, name: str, default: int) -> int:
    value = _value(req, name)
    if value is None or not value.strip():
        return default
    text = value.strip()
    if not (text.isascii() and text.isdigit()) or len(text) > _MAX_DIGITS:
        raise bad_request(f"{name} must be a non-negative integer")
    return int(text)


def window(req: falcon.Request) -> Window:
    start = _number(req, START, 0)
    size = min(_number(req, SIZE, DEFAULT_SIZE), MAX_SIZE)
    return Window(start, size)


def total_header(resp: falcon.Response, total: int) -> None:
    resp.set_header(TOTAL_SIZE, str(total))
