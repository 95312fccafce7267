"""A small client for Plex Media Server's own API: find our items, upload posters, refresh.

Only what stashplex needs, with timeouts and typed errors. The token travels in the
`X-Plex-Token` header, never in a URL, so no URL we log or put in an error can carry it, and
`repr()` leaves it out.

Finding the PMS item of a scene (its `ratingKey` there, which we call the Plex key):
1. `GET /library/sections`, keeping the sections of type `movie` (cached for a minute);
2. per section `GET /library/sections/<key>/all?type=1&guid=<our guid>`: PMS filters on the
   item's primary guid (plexapi's `getGuid` relies on the same filter for `plex://` guids). The
   legacy `…/movie/stash-video-<id>` guid of the previous project is tried too;
3. if that finds nothing and the scene's title is known, `…/all?type=1&title=<title>` (a
   substring match) as a fallback, in case a PMS ignores the guid filter for custom agents.
Every candidate's `guid` is compared with ours, so neither filter is trusted blindly.

TV items are found the same way in the `show` sections (`type` 2, 3 or 4 for shows, seasons and
episodes), and `items()` pages through a section for the reconciliation.

HTTPS: PMS's own certificates are issued for `*.plex.direct` names, and a PMS reached by its LAN
address or with a self-signed certificate fails verification. `verify_tls=False` (`[plex]
verify_tls`) accepts any certificate; a verification failure names that setting.
"""

from __future__ import annotations

import re
import ssl
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Generic, TypeGuard, TypeVar

import httpx

from stashplex import __version__
from stashplex.plex.identity import (
    LEGACY_SCENE_PREFIX,
    MOVIE_PROVIDER_ID,
    make_guid,
    parse_scene_guid,
    scene_guid,
)

SECTIONS_TTL = 60.0
_UPLOAD_PATHS = {"poster": "posters", "art": "arts"}
SEARCH_PAGE = 50  # candidates looked at per search; a guid matches one item
_PLEX_KEY = re.compile(r"[0-9]{1,19}")


class PlexError(Exception):
    """PMS could not do what was asked; the message never contains the token."""

    retryable = False


class PlexUnreachable(PlexError):
    retryable = True


class PlexServerError(PlexError):
    retryable = True


class PlexAuthError(PlexError):
    """PMS refused the token ([plex] token)."""


class PlexNotFound(PlexError):
    """PMS has no item with that key (deleted, or the key is stale)."""


class PlexTlsError(PlexUnreachable):
    """PMS's certificate failed verification ([plex] verify_tls)."""


# PMS's metadata types per section type.
MOVIE, SHOW, SEASON, EPISODE = 1, 2, 3, 4
SECTION_TYPES = {"movie": (MOVIE,), "show": (SHOW, SEASON, EPISODE)}


@dataclass(frozen=True, slots=True)
class PlexSection:
    key: str
    title: str
    agent: str | None = None
    type: str = "movie"  # movie or show


T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class PlexPage(Generic[T]):
    """One page of a section: PMS's total (None when it does not say), how many entries PMS
    sent (the next page starts that far on, and a short page is the last), and those of them
    we could read."""

    total: int | None
    read: int
    items: list[T]

    def last(self, start: int, size: int) -> bool:
        """Whether the page that began at `start` ends the section."""
        return self.read < size or (self.total is not None and start + self.read >= self.total)


@dataclass(frozen=True, slots=True)
class PlexItem:
    key: str  # PMS's ratingKey
    guid: str
    title: str | None
    section: str


@dataclass(frozen=True, slots=True)
class PlexFile:
    """A library item with the path of its first file, as PMS sends it in a match request."""

    key: str
    title: str | None
    file: str | None


@dataclass(frozen=True, slots=True)
class PlexIdentity:
    version: str | None  # e.g. "1.43.0.10389-8be686aa6"
    machine: str | None


@dataclass(frozen=True, slots=True)
class PlexProvider:
    """A metadata provider registered in PMS (Settings › Metadata Agents › Add Provider)."""

    identifier: str
    uri: str  # the address PMS reaches it at
    title: str | None = None


def is_plex_key(text: object) -> TypeGuard[str]:
    return isinstance(text, str) and _PLEX_KEY.fullmatch(text) is not None


def legacy_scene_guid(scene_id: int, provider_id: str = MOVIE_PROVIDER_ID) -> str:
    return make_guid(provider_id, "movie", f"{LEGACY_SCENE_PREFIX}{int(scene_id)}")


class PmsClient:
    def __init__(
        self,
        url: str,
        token: str,
        *,
        timeout: float = 10.0,
        sections_ttl: float = SECTIONS_TTL,
        provider_id: str = MOVIE_PROVIDER_ID,
        verify_tls: bool = True,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self.provider_id = provider_id
        self.sections_ttl = sections_ttl
        self.verify_tls = verify_tls
        self._sections: tuple[float, list[PlexSection]] | None = None
        self._lock = threading.Lock()
        self._http = httpx.Client(
            base_url=self.url,
            headers={
                "X-Plex-Token": token,
                "Accept": "application/json",
                "X-Plex-Product": "stashplex",
                "X-Plex-Version": __version__,
                "X-Plex-Client-Identifier": "stashplex",
                "User-Agent": f"stashplex/{__version__}",
            },
            timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
            follow_redirects=False,
            verify=verify_tls,
            transport=transport,
        )

    def __repr__(self) -> str:
        return f"PmsClient({self.url!r})"

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> PmsClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- reads ---------------------------------------------------------------------------------

    def sections(self, *, fresh: bool = False) -> list[PlexSection]:
        """The movie sections (libraries), cached for `sections_ttl` seconds."""
        return [s for s in self.libraries(fresh=fresh) if s.type == "movie"]

    def libraries(self, *, fresh: bool = False) -> list[PlexSection]:
        """The movie and TV sections, cached for `sections_ttl` seconds."""
        with self._lock:
            cached = self._sections
        if cached and not fresh and time.monotonic() - cached[0] < self.sections_ttl:
            return cached[1]
        body = self._json(self._request("GET", "/library/sections"), "/library/sections")
        found = []
        for entry in _list(body, "Directory"):
            key, kind = entry.get("key"), entry.get("type")
            if kind in SECTION_TYPES and is_plex_key(key):
                title = str(entry.get("title") or "")
                found.append(PlexSection(key, title, entry.get("agent"), kind))
        with self._lock:
            self._sections = (time.monotonic(), found)
        return found

    def find(self, guid: str, plex_type: int) -> PlexItem | None:
        """The PMS item of any type whose guid is exactly `guid` (TV items), or None."""
        for section in self.libraries():
            if plex_type not in SECTION_TYPES[section.type]:
                continue
            for entry in self._search(section, {"guid": guid}, plex_type):
                key = entry.get("ratingKey")
                if entry.get("guid") == guid and is_plex_key(key):
                    return PlexItem(key, guid, entry.get("title"), section.key)
        return None

    def items(
        self, section: PlexSection, plex_type: int, start: int, size: int
    ) -> PlexPage[PlexItem]:
        """One page of a section's items of a type."""
        total, entries = self._page(section, {"type": str(plex_type)}, start, size)
        found = []
        for entry in entries:
            key, guid = entry.get("ratingKey"), entry.get("guid")
            if is_plex_key(key) and isinstance(guid, str):
                found.append(PlexItem(key, guid, entry.get("title"), section.key))
        return PlexPage(total, len(entries), found)

    def providers(self) -> list[PlexProvider] | None:
        """`GET /media/providers/metadata`: the registered metadata providers; None when this
        PMS has no such route (the custom provider API is from 1.43.0)."""
        path = "/media/providers/metadata"
        response = self._request("GET", path)
        if response.status_code == 404:
            return None
        found = []
        for entry in _list(self._json(response, path), "MetadataAgentProvider"):
            identifier, uri, title = entry.get("identifier"), entry.get("uri"), entry.get("title")
            if isinstance(identifier, str) and isinstance(uri, str):
                found.append(
                    PlexProvider(identifier, uri, title if isinstance(title, str) else None)
                )
        return found

    def identity(self) -> PlexIdentity:
        """`GET /identity`: the server's version (PMS answers it even without a token)."""
        body = self._json(self._request("GET", "/identity"), "/identity")
        version, machine = body.get("version"), body.get("machineIdentifier")
        return PlexIdentity(
            version if isinstance(version, str) else None,
            machine if isinstance(machine, str) else None,
        )

    def files(self, section: PlexSection, start: int, size: int) -> PlexPage[PlexFile]:
        """One page of a section's videos (movies, or a TV section's episodes) with the path of
        each one's first file."""
        kind = MOVIE if section.type == "movie" else EPISODE
        total, entries = self._page(section, {"type": str(kind), "includeGuids": "1"}, start, size)
        found = []
        for entry in entries:
            key = entry.get("ratingKey")
            if not is_plex_key(key):
                continue
            title = entry.get("title")
            found.append(
                PlexFile(key, title if isinstance(title, str) else None, _first_file(entry))
            )
        return PlexPage(total, len(entries), found)

    def find_scene(self, scene_id: int, *, title: str | None = None) -> PlexItem | None:
        """The PMS item whose guid is this scene's (new or legacy form), or None."""
        sections = self.sections()
        guids = (
            scene_guid(scene_id, self.provider_id),
            legacy_scene_guid(scene_id, self.provider_id),
        )
        for guid in guids:
            for section in sections:
                item = self._first_match(section, {"guid": guid}, scene_id)
                if item is not None:
                    return item
        if title:
            for section in sections:
                item = self._first_match(section, {"title": title}, scene_id)
                if item is not None:
                    return item
        return None

    def _first_match(
        self, section: PlexSection, criteria: dict[str, str], scene_id: int
    ) -> PlexItem | None:
        for entry in self._search(section, criteria):
            guid = entry.get("guid")
            key = entry.get("ratingKey")
            if (
                isinstance(guid, str)
                and is_plex_key(key)
                and parse_scene_guid(guid, self.provider_id) == scene_id
            ):
                return PlexItem(key, guid, entry.get("title"), section.key)
        return None

    def _search(
        self, section: PlexSection, criteria: dict[str, str], plex_type: int = MOVIE
    ) -> Iterator[dict[str, Any]]:
        path = f"/library/sections/{section.key}/all"
        params = {
            "type": str(plex_type),
            **criteria,
            "X-Plex-Container-Start": "0",
            "X-Plex-Container-Size": str(SEARCH_PAGE),
        }
        response = self._request("GET", path, params=params)
        if response.status_code == 404:  # the section went away since we listed them
            with self._lock:
                self._sections = None
            return iter(())
        return iter(_list(self._json(response, path), "Metadata"))

    # --- writes --------------------------------------------------------------------------------

    def upload_poster(self, plex_key: str, data: bytes, content_type: str = "image/jpeg") -> None:
        """`POST /library/metadata/<key>/posters` with the image bytes as the body."""
        self.upload(plex_key, "poster", data, content_type)

    def upload(
        self, plex_key: str, kind: str, data: bytes, content_type: str = "image/jpeg"
    ) -> None:
        """`POST /library/metadata/<key>/posters` (kind `poster`: a poster, an episode's thumb)
        or `…/arts` (kind `art`: the background), the image bytes as the body; PMS stores the
        image and selects it."""
        if kind not in _UPLOAD_PATHS:
            raise ValueError(f"unknown upload kind {kind!r}")
        path = f"/library/metadata/{_checked(plex_key)}/{_UPLOAD_PATHS[kind]}"
        response = self._request("POST", path, content=data, headers={"Content-Type": content_type})
        self._expect_ok(response, path)

    def refresh(self, plex_key: str) -> None:
        """`PUT /library/metadata/<key>/refresh`: PMS asks its agents for the item again."""
        path = f"/library/metadata/{_checked(plex_key)}/refresh"
        self._expect_ok(self._request("PUT", path), path)

    # --- plumbing ------------------------------------------------------------------------------

    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.TimeoutException:
            raise PlexUnreachable(f"Plex at {self.url} did not answer in time") from None
        except httpx.ConnectError as exc:
            if _is_certificate_failure(exc):
                raise PlexTlsError(
                    f"Plex at {self.url} sent a certificate that cannot be verified "
                    "(self-signed, or issued for *.plex.direct and not this address); use its "
                    "plex.direct URL or set [plex] verify_tls = false"
                ) from None
            raise PlexUnreachable(
                f"cannot reach Plex at {self.url} ({type(exc).__name__})"
            ) from None
        except httpx.TransportError as exc:
            raise PlexUnreachable(
                f"cannot reach Plex at {self.url} ({type(exc).__name__})"
            ) from None
        status = response.status_code
        if status in (401, 403):
            hint = ""
            if self.url.startswith("http://"):
                # PMS set to "Secure connections: Required" refuses plain HTTP the same way.
                hint = "; if Plex requires secure connections, use its https:// URL"
            raise PlexAuthError(f"Plex at {self.url} refused the token ([plex] token){hint}")
        if status >= 500:
            raise PlexServerError(f"Plex at {self.url} answered HTTP {status} to {method} {path}")
        return response

    def _expect_ok(self, response: httpx.Response, path: str) -> None:
        status = response.status_code
        if status == 404:
            raise PlexNotFound(f"Plex has no item at {path}")
        if not 200 <= status < 300:
            raise PlexError(f"Plex at {self.url} answered HTTP {status} to {path}")

    def _page(
        self, section: PlexSection, params: dict[str, str], start: int, size: int
    ) -> tuple[int | None, list[dict[str, Any]]]:
        """One page of `/library/sections/<key>/all`: (the total PMS gives in the body or the
        header, None when it gives neither, and the page's entries)."""
        path = f"/library/sections/{section.key}/all"
        paged = {**params, "X-Plex-Container-Start": str(start), "X-Plex-Container-Size": str(size)}
        response = self._request("GET", path, params=paged)
        body = self._json(response, path)
        total = body.get("totalSize")
        if not isinstance(total, int) or isinstance(total, bool):
            header = response.headers.get("X-Plex-Container-Total-Size", "")
            total = int(header) if header.isdigit() else None
        return total, _list(body, "Metadata")

    def _json(self, response: httpx.Response, path: str) -> dict[str, Any]:
        self._expect_ok(response, path)
        try:
            body = response.json()
        except ValueError:
            raise PlexError(f"Plex answered {path} with something that is not JSON") from None
        container = body.get("MediaContainer") if isinstance(body, dict) else None
        if not isinstance(container, dict):
            raise PlexError(f"Plex answered {path} without a MediaContainer")
        return container


def _is_certificate_failure(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError) or "CERTIFICATE_VERIFY_FAILED" in str(
            seen
        ):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _list(container: dict[str, Any], name: str) -> list[dict[str, Any]]:
    items = container.get(name) or []
    return [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []


def _first_file(entry: dict[str, Any]) -> str | None:
    """The path of an item's first media part (`Media[].Part[].file`): the file PMS names."""
    for media in _list(entry, "Media"):
        for part in _list(media, "Part"):
            file = part.get("file")
            if isinstance(file, str) and file:
                return file
    return None


def _checked(plex_key: str) -> str:
    if not is_plex_key(plex_key):
        raise ValueError(f"not a Plex key: {plex_key!r}")
    return plex_key
