"""Bad input on every route: never a 500, never a traceback, every answer JSON (or an image, or
the status page), every body over the limit refused with 413.

The routes are read from the app itself (`falcon.inspect`), so a route added later is fuzzed
too. In process (falcon's test client) for volume; over real HTTP (waitress on 127.0.0.1, raw
sockets) for what only the wire can carry: invalid UTF-8, NUL bytes, broken framing.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from falcon import inspect, testing
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stashplex.web.app import create_app
from stashplex.web.body import MAX_BODY
from tests.plugins.net import LOOPBACK
from tests.plugins.webkit import Provider, serving, synced_sample

FUZZ = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
MATCH_KEYS = (
    "type",
    "title",
    "year",
    "guid",
    "filename",
    "manual",
    "includeAdult",
    "includeChildren",
    "parentTitle",
    "grandparentTitle",
    "index",
    "parentIndex",
    "date",
    "includeFields",
    "excludeFields",
    "includeElements",
    "excludeElements",
)
TRICKY_SEGMENTS = (
    "..",
    ".",
    "%2e%2e",
    "%2E%2e",
    "%252e%252e",
    "..%2f..%2fgraphql",
    "1/../../graphql",
    "\x00",
    "1\x00",
    "%00",
    "-1",
    "0",
    "+1",
    " 1",
    "1 ",
    "1e3",
    "0x10",
    "１２",  # fullwidth digits: str.isdigit() says yes
    "²",
    "99999999999999999999999999",
    "9223372036854775808",
    "scene-1",
    "scene-0",
    "scene--1",
    "scene-1e3",
    "scene-１",
    "stash-video-1",
    "http:",
    "//evil.example",
    "a" * 5000,
    "é" * 300,
)


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Provider]:
    with synced_sample(tmp_path_factory.mktemp("fuzz")) as found:
        yield found


@pytest.fixture(scope="module")
def routes(provider: Provider) -> list[tuple[str, list[str]]]:
    found = [
        (route.path, [m.method for m in route.methods if not m.internal])
        for route in inspect.inspect_routes(provider.app)
    ]
    assert any("{" in path for path, _ in found) and any("POST" in m for _, m in found)
    return found


def check(response: Any, path: str = "", method: str = "GET") -> None:
    """The rules every answer follows, whatever was asked."""
    status = response.status_code
    assert status < 500 or status == 503, (path, status, response.text[:300])
    kind = (response.headers.get("content-type") or "").split(";")[0]
    body = response.content
    if method == "HEAD":
        assert body == b"", path  # the GET answer's status and headers, never a body
    if status == 304 or method == "HEAD" or getattr(response, "head", False):
        return  # no body
    assert b"Traceback" not in body
    if kind == "application/json":
        json.loads(body)
    elif kind.startswith("image/"):
        assert body
    else:
        assert kind == "text/html" and path.startswith("/status") and status == 200, (kind, path)


@pytest.fixture(autouse=True)
def no_tracebacks(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    caplog.set_level(logging.ERROR)
    yield
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [r.getMessage() for r in errors]


def fill(template: str, segment: str) -> str:
    return re.sub(r"\{[^}]+\}", lambda _m: segment, template)


json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=200)
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=30), children, max_size=5)
    ),
    max_leaves=20,
)
segments = st.sampled_from(TRICKY_SEGMENTS) | st.text(
    st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=80
)


# --- in process ------------------------------------------------------------------------------


@FUZZ
@given(segment=segments, pick=st.integers(min_value=0))
def test_path_segments_on_every_route(provider: Provider, routes, segment: str, pick: int) -> None:
    templated = [(path, methods) for path, methods in routes if "{" in path]
    template, methods = templated[pick % len(templated)]
    path = fill(template, segment)
    for method in methods:
        body = b'{"type": 1}' if method == "POST" else None
        check(provider.client.simulate_request(method, path, body=body), path, method)


@FUZZ
@given(body=json_values, pick=st.integers(min_value=0))
def test_any_json_to_every_route(provider: Provider, routes, body: Any, pick: int) -> None:
    path, methods = routes[pick % len(routes)]
    path = fill(path, "1")
    for method in methods:
        check(provider.client.simulate_request(method, path, json=body), path, method)


@FUZZ
@given(
    body=st.fixed_dictionaries({}, optional={key: json_values for key in MATCH_KEYS}),
    tv=st.booleans(),
    manual=st.sampled_from(["", "1", "0", "yes", "-1", "1" * 50]),
)
def test_match_bodies_with_every_key_of_any_type(
    provider: Provider, routes, body: dict[str, Any], tv: bool, manual: str
) -> None:
    posts = [path for path, methods in routes if "POST" in methods]
    for path in posts:
        if tv != path.startswith("/tv"):
            continue
        query = f"manual={manual}" if manual else None
        check(provider.client.simulate_post(path, json=body, query_string=query), path)


@FUZZ
@given(
    body=st.binary(max_size=3000),
    content_type=st.sampled_from(
        ["application/json", "text/plain", "application/json; charset=latin-1", "", "*/*"]
    ),
)
def test_raw_bytes_and_invalid_utf8(
    provider: Provider, routes, body: bytes, content_type: str
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    for path, methods in routes:
        if "POST" in methods:
            check(provider.client.simulate_post(path, body=body, headers=headers), path)
    invalid = b'{"type": 1, "filename": "\xff\xfe/bad\xc3(.mp4"}'
    check(provider.client.simulate_post("/library/metadata/matches", body=invalid), "matches")


header_text = st.text(
    st.characters(min_codepoint=0x20, max_codepoint=0xFF, blacklist_characters="\x7f"),
    max_size=300,
)


@FUZZ
@given(
    query=st.dictionaries(st.text(min_size=1, max_size=3000), st.text(max_size=300), max_size=4),
    headers=st.dictionaries(
        st.sampled_from(
            [
                "Host",
                "X-Forwarded-For",
                "X-Forwarded-Host",
                "Forwarded",
                "If-None-Match",
                "If-Modified-Since",
                "Accept",
                "Accept-Encoding",
                "X-Plex-Container-Start",
                "X-Plex-Container-Size",
                "X-Plex-Language",
                "Range",
                "Content-Type",
                "X-" + "a" * 500,
            ]
        ),
        header_text,
        max_size=6,
    ),
    pick=st.integers(min_value=0),
)
def test_query_strings_and_header_abuse(
    provider: Provider, routes, query: dict[str, str], headers: dict[str, str], pick: int
) -> None:
    path, methods = routes[pick % len(routes)]
    path = fill(path, "scene-1" if "metadata" in path else "1")
    for method in methods:
        body = b'{"type": 1}' if method == "POST" else None
        response = provider.client.simulate_request(
            method, path, params=query, headers=headers, body=body
        )
        check(response, path, method)
        if response.status_code == 200 and "json" in response.headers.get("content-type", ""):
            text = response.text
            # Client text never becomes a URL we hand out (Host is checked, forwarding ignored).
            for value in headers.values():
                suspect = len(value) > 8 and not re.fullmatch(r"[A-Za-z0-9.:\[\]-]+", value)
                if suspect and value in text:  # unless the answer holds that text anyway
                    plain = provider.client.simulate_request(method, path, params=query, body=body)
                    assert value in plain.text


def test_deeply_nested_and_huge_bodies(provider: Provider, routes) -> None:
    deep = [b"[" * 100_000 + b"]" * 100_000, b'{"a":' * 50_000 + b"1" + b"}" * 50_000]
    for path, methods in routes:
        if "POST" not in methods:
            continue
        for body in deep:
            # The match routes must read and refuse it; the sync controls and the webhook may
            # refuse earlier (415: one media type only; 403: the webhook is off).
            refusals = {400} if path.endswith("/matches") else {400, 403, 415}
            for typed in ({}, {"Content-Type": "application/json"}):
                response = provider.client.simulate_post(path, body=body, headers=typed)
                assert response.status_code in refusals, (path, response.status_code)
                check(response, path)
        at_limit = b'{"type": 1, "title": "' + b"a" * (MAX_BODY - 30) + b'"}'
        assert len(at_limit) <= MAX_BODY
        check(provider.client.simulate_post(path, body=at_limit), path)
    over = b" " * (MAX_BODY + 1)
    for path, methods in routes:
        for method in methods:
            response = provider.client.simulate_request(method, fill(path, "1"), body=over)
            assert response.status_code == 413, (method, path)
            if method != "HEAD":  # the same answer without its body
                assert response.json["error"]["status"] == 413


# --- over real HTTP --------------------------------------------------------------------------


def exchange(
    port: int, data: bytes, timeout: float = 10, *, head: bool = False
) -> tuple[int, dict[str, str], bytes]:
    """Send raw bytes, read one answer; returns status, headers (lower-case names), body."""
    with socket.create_connection((LOOPBACK, port), timeout=timeout) as sock:
        # The server may answer (and close) before reading it all: the answer is still read.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(data)
        buffer = b""
        while b"\r\n\r\n" not in buffer:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            buffer += chunk
        top, _, body = buffer.partition(b"\r\n\r\n")
        lines = top.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = 0 if head else int(headers.get("content-length", "0"))
        while len(body) < length:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            body += chunk
    return status, headers, body


class Raw:
    """An answer read off the wire, shaped for `check`."""

    head = False  # an answer without a body to check (HEAD, OPTIONS)

    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status_code, self.headers, self.content = status, headers, body
        self.text = body.decode("utf-8", "replace")


@pytest.fixture(scope="module")
def wire(provider: Provider) -> Iterator[int]:
    with serving(provider.app, provider.settings) as url:
        yield int(url.rsplit(":", 1)[1])


def request(method: bytes, target: bytes, headers: bytes = b"", body: bytes = b"") -> bytes:
    length = b"Content-Length: %d\r\n" % len(body) if body else b""
    return (
        method + b" " + target + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        + headers + length + b"\r\n" + body
    )  # fmt: skip


WIRE_CASES = {
    "invalid utf-8 path": request(b"GET", b"/library/metadata/\xff\xfe\xc3("),
    "invalid utf-8 image id": request(b"GET", b"/stash/scene/\xff/screenshot"),
    "raw NUL in path": request(b"GET", b"/stash/scene/1\x00/screenshot"),
    "encoded NUL": request(b"GET", b"/library/metadata/scene-1%00"),
    "dot segments": request(b"GET", b"/stash/scene/../../../../etc/passwd/screenshot"),
    "encoded dot segments": request(b"GET", b"/stash/scene/%2e%2e%2f%2e%2e%2fgraphql/screenshot"),
    "double-encoded dots": request(b"GET", b"/stash/scene/%252e%252e/screenshot"),
    "absolute-form target": request(b"GET", b"http://evil.example/stash/scene/1/screenshot"),
    "long key": request(b"GET", b"/library/metadata/" + b"k" * 60_000),
    "long query key": request(b"GET", b"/health?" + b"q" * 60_000 + b"=1"),
    "garbage start line": b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n",
    "no method": b" / HTTP/1.1\r\nHost: x\r\n\r\n",
    "bad content-length": request(b"POST", b"/library/metadata/matches", b"Content-Length: x\r\n"),
    "negative content-length": request(
        b"POST", b"/library/metadata/matches", b"Content-Length: -1\r\n"
    ),
    "header without colon": request(b"GET", b"/", b"NoColonHere\r\n"),
    "huge header": request(b"GET", b"/", b"X-Big: " + b"a" * 300_000 + b"\r\n"),
    "many headers": request(b"GET", b"/", b"".join(b"X-%d: v\r\n" % i for i in range(2000))),
    "latin-1 header value": request(
        b"GET", b"/library/metadata/scene-1", b"X-Plex-Language: \xe9\xff\r\n"
    ),
    "host header junk": request(b"GET", b"/library/metadata/scene-1", b"Host: a b\"<x>\r\n"),
    "body over the limit": request(
        b"POST", b"/library/metadata/matches", body=b"{" * (MAX_BODY + 1)
    ),
    "body on a GET over the limit": request(b"GET", b"/health", body=b"a" * (MAX_BODY + 1)),
    "chunked body over the limit": (
        b"POST /library/metadata/matches HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n%x\r\n" % (MAX_BODY + 1)
        + b"a" * (MAX_BODY + 1) + b"\r\n0\r\n\r\n"
    ),
    "bad chunk": (
        b"POST /library/metadata/matches HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
        b"Transfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n"
    ),
    "body past waitress's own cap": request(
        b"POST", b"/library/metadata/matches", body=b"a" * (17 * 1024 * 1024)
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", list(WIRE_CASES))
def test_bad_requests_on_the_wire(wire: int, case: str) -> None:
    status, headers, body = exchange(wire, WIRE_CASES[case])
    check(Raw(status, headers, body), "")
    if "over the limit" in case or "cap" in case:
        assert status == 413
    assert headers.get("content-type", "").startswith(("application/json", "image/"))


@settings(max_examples=150, deadline=None)
@given(
    method=st.sampled_from([b"GET", b"POST", b"HEAD", b"PUT", b"DELETE", b"OPTIONS", b"G\xffT"]),
    target=st.binary(max_size=200).map(
        lambda b: b"/" + b.replace(b" ", b"%20").replace(b"\r", b"").replace(b"\n", b"")
    ),
    header=st.binary(max_size=100).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b"")),
    body=st.binary(max_size=200),
)
def test_random_bytes_on_the_wire(
    wire: int, method: bytes, target: bytes, header: bytes, body: bytes
) -> None:
    data = request(method, target, b"X-Fuzz: " + header + b"\r\n", body)
    status, headers, answer = exchange(wire, data, head=method == b"HEAD")
    raw = Raw(status, headers, answer)
    raw.head = method in (b"HEAD", b"OPTIONS")  # OPTIONS: an Allow header, no body
    check(raw, target.decode("latin-1"))
    kind = headers.get("content-type", "")
    assert kind.startswith(("application/json", "image/")) or (
        kind.startswith("text/html") and target.startswith(b"/status")
    ), (status, kind, target)


def test_a_traceback_never_reaches_a_client(
    provider: Provider, caplog: pytest.LogCaptureFixture
) -> None:
    """Whatever breaks inside a responder is a JSON 500 naming no internals (forced here)."""

    class Broken:
        def on_get(self, req: Any, resp: Any) -> None:
            raise RuntimeError("secret internals /etc/shadow")

    app = create_app(provider.settings, db=provider.db)
    try:
        app.add_route("/broken", Broken())
        response = testing.TestClient(app).simulate_get("/broken")
    finally:
        app.close()
    assert response.status_code == 500
    assert response.json == {
        "error": {
            "status": 500,
            "title": "Internal Server Error",
            "reason": "see the stashplex log",
        }
    }
    assert "secret internals" not in response.text
    assert any("secret internals" in (r.exc_text or "") for r in caplog.records)  # logged
    caplog.clear()  # expected here
