"""Routing, authentication and fault handling, independent of the HTTP transport.

Stash's rules (internal/api/authentication.go): with an API key configured, requests
must carry it in the ``ApiKey`` header or ``?apikey=``. A wrong key (or any key when none
is configured) answers 401 with an empty body (500 ``unauthorized`` up to v0.25). Without
a key, ``/graphql`` and paths with a file extension answer 401, everything else redirects
to ``/login``. ``/healthz`` and ``/login`` are always open.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, quote, urlencode

from .engine import Engine, dumps
from .faults import Faults
from .imagery import DEFAULT_SVG, SCENE_PLACEHOLDER_SVG, ImageCache, etag
from .library import Library

CONTROL_PATH = "/__sample/control"
LOGIN_HTML = (
    b"<!DOCTYPE html><html><head><title>Login - Stash</title></head><body>"
    b'<form method="post" action="/login"><input name="username"><input name="password" '
    b'type="password"><button>Login</button></form></body></html>'
)
INDEX_HTML = b"<!DOCTYPE html><html><head><title>Stash</title></head><body></body></html>"
_IMAGE_ROUTE = re.compile(r"^/(scene|performer|studio|tag|group|movie)/([^/]+)/([a-z]+)$")
_IMAGE_ENDPOINTS = {
    "scene": ("screenshot",),
    "performer": ("image",),
    "studio": ("image",),
    "tag": ("image",),
    "group": ("frontimage", "backimage"),
    "movie": ("frontimage", "backimage"),
}


@dataclass
class Request:
    method: str
    path: str
    query: str
    headers: dict[str, str]  # lower-case names
    body: bytes = b""
    host: str = ""

    def param(self, name: str) -> str | None:
        values = parse_qs(self.query, keep_blank_values=True).get(name)
        return values[0] if values else None


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False  # close the connection without answering
    # Run before answering (and then close the connection): used to stop listening
    # first, so that a client reconnecting after the answer is refused, not reset.
    before: Callable[[], None] | None = None


def text(status: int, body: str = "") -> Response:
    return Response(status, body.encode(), {"Content-Type": "text/plain; charset=utf-8"})


def json_response(status: int, payload: Any) -> Response:
    return Response(status, dumps(payload), {"Content-Type": "application/json"})


class SampleApp:
    def __init__(
        self,
        library: Library,
        faults: Faults,
        api_key: str | None,
        control: Callable[[str, dict[str, Any]], Any],
    ) -> None:
        self.lib = library
        self.faults = faults
        self.api_key = api_key or None
        self.engine = Engine(library)
        self.images = ImageCache()
        self.control = control

    def handle(self, req: Request) -> Response:
        if req.path == CONTROL_PATH:
            return self._control(req)
        decision = self.faults.decide()
        if decision.delay:
            time.sleep(decision.delay)
        fault = decision.fault
        if fault is not None:
            early = self._fault(fault, req)
            if early is not None:
                return early
        response = self._route(req)
        if fault is not None and req.path == "/graphql" and response.status == 200:
            response = self._graphql_fault(fault, response)
        return response

    # -- faults --------------------------------------------------------------------------
    def _fault(self, fault: Any, req: Request) -> Response | None:
        if fault.kind == "status":
            code = fault.args["code"]
            try:
                phrase = HTTPStatus(code).phrase
            except ValueError:
                phrase = "Error"
            return text(code, phrase + "\n")
        if fault.kind == "unauthorized":
            return Response(401, b"", {"WWW-Authenticate": "FormBased"})
        if fault.kind == "drop":
            return Response(0, drop=True)
        if fault.kind == "down":
            seconds = fault.args.get("seconds")
            return Response(0, drop=True, before=lambda: self.faults.down(seconds))
        if fault.kind == "invalid_json" and req.path == "/graphql":
            body = b'{"data":{"findScenes":{"count":12,"scenes":[{"id":"1","title":"trunc'
            return Response(200, body, {"Content-Type": "application/json"})
        return None

    def _graphql_fault(self, fault: Any, response: Response) -> Response:
        if fault.kind != "graphql_errors":
            return response
        message = fault.args.get("message", "database is locked")
        data = json.loads(response.body).get("data") if fault.args.get("partial") else None
        if not data:
            return json_response(200, {"errors": [{"message": message}], "data": None})
        first = next(iter(data))
        data[first] = None
        return json_response(200, {"errors": [{"message": message, "path": [first]}], "data": data})

    # -- routing -------------------------------------------------------------------------
    def _route(self, req: Request) -> Response:
        if req.path == "/healthz":
            return json_response(200, {"status": "ok"})
        if req.path.startswith("/login"):
            return Response(200, LOGIN_HTML, {"Content-Type": "text/html; charset=utf-8"})
        denied = self._authenticate(req)
        if denied is not None:
            return denied
        if req.path == "/graphql":
            return self._graphql(req)
        match = _IMAGE_ROUTE.match(req.path)
        if match and req.method in ("GET", "HEAD"):
            return self._image(req, match[1], match[2], match[3])
        if req.path == "/" and req.method in ("GET", "HEAD"):
            return Response(200, INDEX_HTML, {"Content-Type": "text/html; charset=utf-8"})
        return text(404, "404 page not found\n")

    def _authenticate(self, req: Request) -> Response | None:
        key = req.headers.get("apikey") or req.param("apikey")
        if key:
            if key == self.api_key:
                return None
            if self.lib.version.legacy_auth_500:
                return text(500, "unauthorized")
            return Response(401, b"", {"WWW-Authenticate": "FormBased"})
        if self.api_key is None:
            return None
        last = req.path.rsplit("/", 1)[-1]
        extension = last.rsplit(".", 1)[-1] if "." in last else ""
        if req.path == "/graphql" or (extension and extension != "html"):
            return Response(401, b"", {"WWW-Authenticate": "FormBased"})
        target = req.path + (f"?{req.query}" if req.query else "")
        location = "/login?" + urlencode({"returnURL": target}, quote_via=quote)
        return Response(302, b"", {"Location": location})

    def _graphql(self, req: Request) -> Response:
        if req.method == "POST":
            try:
                payload = json.loads(req.body.decode("utf-8"))
            except (UnicodeDecodeError, ValueError) as err:
                message = f"json request body could not be decoded: {err}"
                return json_response(400, {"errors": [{"message": message}], "data": None})
        elif req.method == "GET":
            variables = req.param("variables")
            try:
                payload = {
                    "query": req.param("query"),
                    "operationName": req.param("operationName"),
                    "variables": json.loads(variables) if variables else None,
                }
            except ValueError:
                return json_response(
                    400, {"errors": [{"message": "variables could not be decoded"}], "data": None}
                )
        else:
            return text(405, "")
        accept = req.headers.get("accept", "")
        base_url = f"http://{req.host}"
        status, body = self.engine.run(
            payload, base_url, self.api_key, "application/json" in accept
        )
        return json_response(status, body)

    def _image(self, req: Request, kind: str, raw_id: str, endpoint: str) -> Response:
        if kind in ("group", "movie") and kind != self.engine.group_route:  # /group/ from v0.27
            return text(404, "404 page not found\n")
        if endpoint not in _IMAGE_ENDPOINTS[kind]:
            return text(404, "404 page not found\n")
        if not raw_id.isdigit():
            return text(400, f'strconv.Atoi: parsing "{raw_id}": invalid syntax\n')
        ident = int(raw_id)
        lib = self.lib
        with lib.lock:
            if kind == "scene":
                if not lib.exists(ident):
                    return text(404, "scene not found\n")
                present = lib.has_cover(ident)
                version = lib.image_version("scene", ident)
            else:
                table = lib.table("group" if kind == "movie" else kind)
                entity = table.get(ident)
                if entity is None:
                    return text(404, f"{kind} not found\n")
                flag = {"frontimage": "front", "backimage": "back"}.get(endpoint, "image")
                present = bool(entity[flag])
                version = lib.image_version("group" if kind == "movie" else kind, ident)
        if req.param("default") == "true" or not present:
            if kind == "scene":
                data, content_type = SCENE_PLACEHOLDER_SVG, "image/svg+xml"
            elif endpoint == "backimage":
                return text(404, "no back image\n")
            else:
                data, content_type = DEFAULT_SVG[kind], "image/svg+xml"
            tag = etag(data)
        else:
            variant = "back" if endpoint == "backimage" else ""
            data, tag = self.images.jpeg(
                "group" if kind == "movie" else kind, ident, version, variant
            )
            content_type = "image/jpeg"
        if req.headers.get("if-none-match") == tag:
            return Response(304, b"", {"ETag": tag})
        return Response(200, data, {"Content-Type": content_type, "ETag": tag})

    def _control(self, req: Request) -> Response:
        if req.method != "POST":
            return json_response(405, {"ok": False, "error": "POST a JSON {op, args} object"})
        try:
            payload = json.loads(req.body.decode("utf-8") or "{}")
            op = payload["op"]
            args = payload.get("args") or {}
            if not isinstance(op, str) or not isinstance(args, dict):
                raise TypeError("op must be a string and args an object")
        except (ValueError, KeyError, TypeError, UnicodeDecodeError) as err:
            return json_response(400, {"ok": False, "error": f"bad control request: {err}"})
        try:
            result = self.control(op, args)
        except Exception as err:  # reported to the caller, whatever it is
            return json_response(400, {"ok": False, "error": f"{type(err).__name__}: {err}"})
        if op == "down":
            body = dumps({"ok": True, "result": None})
            return Response(200, body, {"Content-Type": "application/json"}, before=result)
        return json_response(200, {"ok": True, "result": result})
