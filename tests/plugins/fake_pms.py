"""A fake Plex Media Server on 127.0.0.1: the few endpoints stashplex uses, recording requests.

- ``GET /identity`` (no token needed, as on PMS): the server's ``version``;
- ``GET /media/providers/metadata``: the metadata providers added (``add_provider``);
- ``GET /library/sections``: a movie section "1" and a TV section "2" on stashplex's agents, and
  a second, empty movie section "3" on Plex Movie (``agents`` changes them);
- ``GET /library/sections/<key>/all?type=N&guid=…|title=…``: items of that type (1 movie,
  2 show, 3 season, 4 episode), exact guid filter (unless ``ignore_guid_filter``: then the whole
  section, as a PMS that does not know the filter would), case-insensitive title substring,
  paged by ``X-Plex-Container-Start``/``-Size`` with ``totalSize``; an item with a ``file``
  carries it as ``Media[0].Part[0].file`` (``add_file``);
- ``POST /library/metadata/<key>/posters`` and ``…/arts`` (the body is the image) and
  ``PUT /library/metadata/<key>/refresh``: 404 for unknown keys;
- every route wants ``X-Plex-Token``; items can become visible only after a delay (a new item
  PMS is still ingesting), answers can be slowed down, failures injected, and ``tls`` serves
  HTTPS with a certificate and key given as PEM files.
"""

from __future__ import annotations

import hashlib
import json
import ssl
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from stashplex.plex.identity import MOVIE_PROVIDER_ID, TV_PROVIDER_ID, scene_guid

from .net import LOOPBACK

TOKEN = "fake-plex-token-4f9c2b7e"


@dataclass
class Item:
    key: str
    guid: str
    title: str
    section: str = "1"
    visible_at: float = 0.0  # time.monotonic() from which searches find it
    type: int = 1  # 1 movie, 2 show, 3 season, 4 episode
    file: str | None = None  # the path of its first media part


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, list[str]]
    token: str | None
    at: float
    body_hash: str | None = None
    body_size: int = 0
    content_type: str | None = None


@dataclass
class FakePMS:
    token: str = TOKEN
    ignore_guid_filter: bool = False
    delay: float = 0.0  # seconds before every answer (a slow PMS)
    items: dict[str, Item] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)
    uploads: list[tuple[str, str, bytes]] = field(default_factory=list)  # (key, kind, bytes)
    failures: list[int] = field(default_factory=list)  # statuses for the next requests
    fail_from: int | None = None  # every request from the n-th on (counting all) answers 503
    no_totals: bool = False  # pages without totalSize, as some PMS answers come
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None
    tls: tuple[str, str] | None = None  # (certificate PEM file, key PEM file): serve HTTPS
    version: str = "1.43.1.10611-1e34174b1"
    agents: dict[str, str] = field(
        default_factory=lambda: {
            "1": MOVIE_PROVIDER_ID,
            "2": TV_PROVIDER_ID,
            "3": "tv.plex.agents.movie",
        }
    )
    # Metadata providers added in PMS (`GET /media/providers/metadata`); None: a PMS without
    # that route (404). Tests fill it with `add_provider`.
    providers: list[dict[str, str]] | None = field(default_factory=list)
    _next_key: int = 1000

    @property
    def url(self) -> str:
        assert self.server is not None
        scheme = "https" if self.tls else "http"
        return f"{scheme}://{LOOPBACK}:{self.server.server_address[1]}"

    def add_scene(
        self,
        scene_id: int,
        *,
        title: str | None = None,
        after: float = 0.0,
        section: str = "1",
        guid: str | None = None,
    ) -> str:
        """Add the PMS item of a scene (visible `after` seconds from now); returns its key."""
        return self.add_item(
            guid or scene_guid(scene_id), title=title or f"Scene {scene_id}", after=after,
            section=section,
        )  # fmt: skip

    def add_item(
        self, guid: str, *, type: int = 1, title: str = "", after: float = 0.0, section: str = "1"
    ) -> str:
        """Add any PMS item (TV ones: type 2, 3 or 4 in section "2"); returns its key."""
        with self.lock:
            self._next_key += 1
            key = str(self._next_key)
            self.items[key] = Item(key, guid, title, section, time.monotonic() + after, type)
            return key

    def add_file(self, path: str, *, section: str = "1", title: str = "") -> str:
        """A file Plex scanned but has not matched to us (a movie, or an episode in "2")."""
        kind = 4 if section == "2" else 1
        key = self.add_item(
            f"local://{len(self.items) + 1}", type=kind, title=title, section=section
        )
        with self.lock:
            self.items[key].file = path
        return key

    def add_provider(self, identifier: str, uri: str, title: str = "Stash (stashplex)") -> None:
        assert self.providers is not None
        self.providers.append({"identifier": identifier, "uri": uri, "title": title})

    def requests(self, method: str | None = None, contains: str = "") -> list[Seen]:
        with self.lock:
            return [
                s
                for s in self.seen
                if (method is None or s.method == method) and contains in s.path
            ]

    def uploads_to(self, key: str, kind: str = "poster") -> list[bytes]:
        with self.lock:
            return [data for k, what, data in self.uploads if k == key and what == kind]

    # --- serving -----------------------------------------------------------------------------

    def start(self) -> FakePMS:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # One write per response and no Nagle delay: otherwise every request costs ~40 ms.
            wbufsize = 1 << 16
            disable_nagle_algorithm = True

            def log_message(self, *args: object) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                status, payload = fake.answer(self.command, self.path, self.headers, body)
                data = json.dumps(payload).encode() if payload is not None else b""
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = _handle

        self.server = ThreadingHTTPServer((LOOPBACK, 0), Handler)
        self.server.daemon_threads = True
        if self.tls is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*self.tls)
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def answer(self, method: str, raw_path: str, headers, body: bytes) -> tuple[int, object]:
        if self.delay:
            time.sleep(self.delay)
        parts = urlsplit(raw_path)
        query = parse_qs(parts.query)
        seen = Seen(method, parts.path, query, headers.get("X-Plex-Token"), time.monotonic())
        if body:
            seen.body_hash = hashlib.sha256(body).hexdigest()
            seen.body_size = len(body)
            seen.content_type = headers.get("Content-Type")
        with self.lock:
            self.seen.append(seen)
            failure = self.failures.pop(0) if self.failures else None
            if self.fail_from is not None and len(self.seen) > self.fail_from:
                failure = 503
        segments = [s for s in parts.path.split("/") if s]
        if method == "GET" and segments == ["identity"] and failure is None:
            identity = {"size": 0, "machineIdentifier": "fake-pms", "version": self.version}
            return 200, {"MediaContainer": identity}
        if headers.get("X-Plex-Token") != self.token:
            return 401, None
        if failure is not None:
            return failure, {"error": "injected"}
        if method == "GET" and segments == ["media", "providers", "metadata"]:
            if self.providers is None:
                return 404, {"error": "unknown route"}
            return 200, {"MediaContainer": {"MetadataAgentProvider": self.providers}}
        if method == "GET" and segments == ["library", "sections"]:
            return 200, {"MediaContainer": {"size": 3, "Directory": self._sections()}}
        if method == "GET" and segments[:2] == ["library", "sections"] and segments[3:] == ["all"]:
            return self._search(segments[2], query)
        if len(segments) == 4 and segments[:2] == ["library", "metadata"]:
            key, action = segments[2], segments[3]
            with self.lock:
                known = key in self.items and self.items[key].visible_at <= time.monotonic()
                if not known:
                    return 404, {"error": "no such item"}
                if method == "POST" and action in ("posters", "arts"):
                    self.uploads.append((key, action[:-1], body))
                    return 200, None
                if method == "PUT" and action == "refresh":
                    return 200, None
        return 404, {"error": "unknown route"}

    def _sections(self) -> list[dict]:
        return [
            {"key": "1", "type": "movie", "title": "Scenes", "agent": self.agents["1"]},
            {"key": "2", "type": "show", "title": "Studios", "agent": self.agents["2"]},
            {"key": "3", "type": "movie", "title": "More", "agent": self.agents["3"]},
        ]

    def _search(self, section: str, query: dict[str, list[str]]) -> tuple[int, object]:
        if section not in ("1", "2", "3"):
            return 404, {"error": "no such section"}
        now = time.monotonic()
        wanted_type = int(query.get("type", ["1"])[0])
        with self.lock:
            found = [
                i
                for i in self.items.values()
                if i.section == section and i.visible_at <= now and i.type == wanted_type
            ]
        guid = query.get("guid", [None])[0]
        title = query.get("title", [None])[0]
        if guid is not None and not self.ignore_guid_filter:
            found = [i for i in found if i.guid == guid]
        if title is not None:
            found = [i for i in found if title.casefold() in i.title.casefold()]
        start = int(query.get("X-Plex-Container-Start", ["0"])[0])
        size = int(query.get("X-Plex-Container-Size", ["50"])[0])
        kind = {1: "movie", 2: "show", 3: "season", 4: "episode"}[wanted_type]
        metadata = [
            {"ratingKey": i.key, "key": f"/library/metadata/{i.key}", "guid": i.guid,
             "title": i.title, "type": kind,
             **({"Media": [{"id": 1, "Part": [{"id": 1, "file": i.file}]}]} if i.file else {})}
            for i in found[start : start + size]
        ]  # fmt: skip
        container = {"size": len(metadata), "offset": start}
        if not self.no_totals:
            container["totalSize"] = len(found)
        return 200, {"MediaContainer": {**container, "Metadata": metadata}}


# Registered under the name `fake_pms`; test modules import `fake_pms_fixture` (or conftest lists
# this plugin).
@pytest.fixture(name="fake_pms")
def fake_pms_fixture() -> Iterator[FakePMS]:
    fake = FakePMS().start()
    yield fake
    fake.stop()
