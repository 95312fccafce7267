"""The one way stashplex talks to Stash: GraphQL operations with variables, and image GETs.

Stash is a small SQLite server that sets no timeouts of its own, so every call here has a
timeout, the number of calls in flight is capped, and only failures that can pass (no answer,
5xx, garbage) are retried, with backoff. Errors come out as the typed classes of `errors`.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar

import httpx
import msgspec

from stashplex import __version__
from stashplex.settings import Settings
from stashplex.stash import operations, parse
from stashplex.stash.errors import (
    StashAuthError,
    StashBadResponse,
    StashDataError,
    StashError,
    StashQueryRejected,
    StashServerError,
    StashUnreachable,
)
from stashplex.stash.features import NEWEST, Features

log = logging.getLogger(__name__)

_REJECTED_CODES = {"GRAPHQL_VALIDATION_FAILED", "GRAPHQL_PARSE_FAILED"}

T = TypeVar("T")


class _Answer(msgspec.Struct, Generic[T]):
    """A GraphQL answer whose `data` msgspec decodes into a typed shape."""

    data: T | None = None
    errors: list[Any] | None = None


class _Errors(msgspec.Struct):
    errors: list[Any] | None = None


@dataclass(frozen=True, slots=True)
class StashImage:
    """An image route's answer. `data` is None unless Stash had a real image."""

    # "placeholder": Stash's default SVG, "missing": a 404
    state: Literal["ok", "placeholder", "missing"]
    data: bytes | None = None
    content_type: str | None = None
    etag: str | None = None


class StashClient:
    def __init__(
        self,
        url: str,
        api_key: str | None = None,
        *,
        timeout: float = 10.0,
        retries: int = 3,
        backoff: float = 0.5,
        max_in_flight: int = 3,
        debug: bool = False,
        sleep: Callable[[float], Any] | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self.retries = retries
        self.backoff = backoff
        self.debug = debug
        # What the running Stash's API has: set by `version.probe`, newest until then.
        self.features: Features = NEWEST
        self.probed = False  # whether `features` come from the running Stash
        self.version: str | None = None  # filled in by the version probe, for messages
        self._stop = threading.Event()
        self._sleep = sleep or self._stop.wait
        self._slots = threading.BoundedSemaphore(max_in_flight)
        headers = {
            # With Accept */* Stash v0.29+ reports rejected queries as 400 instead of 422.
            "Accept": "application/json",
            "User-Agent": f"stashplex/{__version__}",
        }
        if api_key:  # sending any key to a Stash without one configured fails
            headers["ApiKey"] = api_key
        self._http = httpx.Client(
            base_url=self.url,
            headers=headers,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
            follow_redirects=False,
            limits=httpx.Limits(
                max_connections=max_in_flight, max_keepalive_connections=max_in_flight
            ),
        )
        self.has_api_key = bool(api_key)

    @classmethod
    def from_settings(cls, settings: Settings, **options: Any) -> StashClient:
        """A client for `[stash]`; `options` (retries, max_in_flight, ...) vary by user."""
        options.setdefault("timeout", settings.stash.timeout)
        options.setdefault("debug", settings.stash.debug)
        return cls(settings.stash.url, settings.stash.api_key, **options)

    def close(self) -> None:
        self._stop.set()
        self._http.close()

    def __enter__(self) -> StashClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def stop(self) -> None:
        """Wake any backoff sleep and make further retries give up (for shutdown)."""
        self._stop.set()

    @property
    def legacy(self) -> bool:
        """True on Stash before v0.27: movies (and /movie/ image routes) instead of groups."""
        return not self.features.groups

    # --- GraphQL ---------------------------------------------------------------------------

    def execute(
        self,
        operation: str,
        variables: Mapping[str, Any] | None = None,
        *,
        retries: int | None = None,
    ) -> dict[str, Any]:
        """Run a named operation from `operations` and return its `data`."""
        return self._execute(operation, variables, retries, None)

    def execute_typed(
        self,
        operation: str,
        variables: Mapping[str, Any] | None,
        data_type: type[T],
        *,
        retries: int | None = None,
    ) -> T:
        """Like `execute`, with `data` decoded straight from the body into `data_type` (a
        msgspec Struct); an answer of another shape raises StashBadResponse."""
        return self._execute(operation, variables, retries, data_type)

    def _execute(
        self,
        operation: str,
        variables: Mapping[str, Any] | None,
        retries: int | None,
        data_type: type | None,
    ) -> Any:
        body = {
            "operationName": operation,
            "query": operations.document(operation, self.features),
            "variables": dict(variables or {}),
        }
        return self._with_retries(
            operation, lambda: self._post_graphql(operation, body, data_type), retries, variables
        )

    def find_scenes_by_ids(self, ids: Sequence[int]) -> list[Any]:
        """Full scenes by id in one query (`ids` from Stash v0.25, `scene_ids` before), in
        Stash's raw form. One id Stash does not have fails it all (StashDataError)."""
        if not ids:  # an empty id list means "no id filter" to Stash: every scene
            return []
        if self.features.id_lists:
            data = self.execute("FindScenesByIds", {"ids": [str(int(i)) for i in ids]})
        else:
            data = self.execute("FindScenesBySceneIds", {"scene_ids": [int(i) for i in ids]})
        return parse.listing(data, "findScenes", "scenes")

    def _post_graphql(
        self, operation: str, body: dict[str, Any], data_type: type | None = None
    ) -> Any:
        response = self._send("POST", "/graphql", json=body)
        status = response.status_code
        if status == 401 or (status == 500 and response.text.strip().lower() == "unauthorized"):
            raise self._auth_error()
        if 300 <= status < 400:
            where = response.headers.get("location", "?")
            raise StashError(f"Stash at {self.url} redirected /graphql to {where}; check the URL")
        if status >= 500:
            raise StashServerError(f"Stash at {self.url} answered HTTP {status} to {operation}")
        if status == 200 and data_type is not None:
            return self._typed(response, operation, data_type)
        payload = self._json(response, operation)
        if status in (400, 422):
            raise StashQueryRejected(self._rejection(operation, payload, status))
        if status != 200:
            raise StashServerError(f"Stash at {self.url} answered HTTP {status} to {operation}")
        errors = payload.get("errors")
        if errors:
            raise StashDataError(
                f"Stash reported an error for {operation}: {_first_message(errors)}"
            )
        data = payload.get("data")
        if not isinstance(data, dict):
            raise StashBadResponse(f"Stash answered {operation} without data")
        return data

    def _json(self, response: httpx.Response, operation: str) -> dict[str, Any]:
        try:
            payload = json.loads(response.content)
        except ValueError:
            kind = response.headers.get("content-type", "unknown type")
            raise StashBadResponse(
                f"Stash at {self.url} answered {operation} with something that is not JSON ({kind})"
            ) from None
        if not isinstance(payload, dict):
            raise StashBadResponse(f"Stash answered {operation} with JSON of the wrong shape")
        return payload

    def _typed(self, response: httpx.Response, operation: str, data_type: type) -> Any:
        answer_type = _Answer[data_type]  # type: ignore[valid-type]
        try:
            answer = msgspec.json.decode(response.content, type=answer_type, strict=False)
        except msgspec.DecodeError as exc:  # ValidationError is a DecodeError as well
            if not isinstance(exc, msgspec.ValidationError):
                kind = response.headers.get("content-type", "unknown type")
                raise StashBadResponse(
                    f"Stash at {self.url} answered {operation} with something that is not JSON"
                    f" ({kind})"
                ) from None
            # A failing resolver nulls part of `data`: its error is the news, not the shape.
            errors = _errors_of(response.content)
            if errors:
                raise StashDataError(
                    f"Stash reported an error for {operation}: {_first_message(errors)}"
                ) from None
            raise StashBadResponse(
                f"Stash answered {operation} with unusable data ({exc})"
            ) from None
        if answer.errors:
            raise StashDataError(
                f"Stash reported an error for {operation}: {_first_message(answer.errors)}"
            )
        if answer.data is None:
            raise StashBadResponse(f"Stash answered {operation} without data")
        return answer.data

    def _rejection(self, operation: str, payload: dict[str, Any], status: int) -> str:
        errors = payload.get("errors") or []
        codes = {(e.get("extensions") or {}).get("code") for e in errors if isinstance(e, dict)}
        version = self.version or "of unknown version"
        what = "rejected" if codes & _REJECTED_CODES else f"answered HTTP {status} to"
        return f"Stash {version} {what} query {operation}: {_first_message(errors)}"

    def _auth_error(self) -> StashAuthError:
        if self.has_api_key:
            return StashAuthError(f"Stash at {self.url} rejected the API key ([stash] api_key)")
        return StashAuthError(
            f"Stash at {self.url} requires an API key: set [stash] api_key or STASH_API_KEY"
        )

    # --- images and liveness ---------------------------------------------------------------

    def image(
        self, path: str, *, etag: str | None = None, retries: int | None = None
    ) -> StashImage:
        """GET one of Stash's image routes; `path` is built by the caller from numeric ids."""
        headers = {"Accept": "image/*", **({"If-None-Match": etag} if etag else {})}

        def attempt() -> StashImage:
            response = self._send("GET", path, headers=headers)
            status = response.status_code
            if status == 304:
                return StashImage("ok", None, None, etag)
            if status in (401, 403) or (300 <= status < 400):
                # Without a valid key Stash redirects image routes to its /login page.
                raise self._auth_error()
            if status in (400, 404):
                return StashImage("missing")
            if status >= 500:
                raise StashServerError(f"Stash at {self.url} answered HTTP {status} to {path}")
            kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
            if kind == "image/svg+xml":
                return StashImage("placeholder")
            if not kind.startswith("image/"):
                raise StashBadResponse(f"Stash answered {path} with {kind or 'no type'}")
            return StashImage("ok", response.content, kind, response.headers.get("etag"))

        return self._with_retries(path, attempt, retries, None)

    def healthz(self) -> bool:
        """Stash's unauthenticated liveness route; False on any failure."""
        try:
            return self._send("GET", "/healthz").status_code == 200
        except StashError:
            return False

    # --- plumbing --------------------------------------------------------------------------

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        with self._slots:
            try:
                return self._http.request(method, path, **kwargs)
            except httpx.TimeoutException:
                raise StashUnreachable(f"Stash at {self.url} did not answer in time") from None
            except httpx.TransportError as exc:
                reason = type(exc).__name__
                raise StashUnreachable(f"cannot reach Stash at {self.url} ({reason})") from None

    def _with_retries(
        self,
        what: str,
        attempt: Callable[[], Any],
        retries: int | None,
        variables: Mapping[str, Any] | None,
    ) -> Any:
        limit = self.retries if retries is None else retries
        tries = 0
        while True:
            started = time.perf_counter()
            try:
                result = attempt()
            except StashError as exc:
                if self.debug:
                    log.debug("stash %s %s failed: %s", what, _vars(variables), exc)
                if not exc.retryable or tries >= limit or self._stop.is_set():
                    raise
                delay = self.backoff * (2**tries) * (0.5 + random.random())
                tries += 1
                log.debug("retrying %s in %.1fs (%d/%d)", what, delay, tries, limit)
                self._sleep(delay)
                continue
            if self.debug:
                ms = (time.perf_counter() - started) * 1000
                log.debug("stash %s %s %.0f ms", what, _vars(variables), ms)
            return result


def _errors_of(content: bytes) -> list[Any] | None:
    try:
        return msgspec.json.decode(content, type=_Errors).errors
    except msgspec.DecodeError:
        return None


def _first_message(errors: Any) -> str:
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        message = str(errors[0].get("message") or "no message")
    else:
        message = "no message"
    return message if len(message) <= 300 else message[:300] + "…"


def _vars(variables: Mapping[str, Any] | None) -> str:
    if not variables:
        return ""
    text = json.dumps(variables, ensure_ascii=False, separators=(",", ":"))
    return text if len(text) <= 500 else text[:500] + "…"
