"""Injected failures: latency, 5xx, broken JSON, GraphQL errors, 401, dropped or refused
connections, each optionally limited to the next ``times`` requests or armed to start
after ``N`` more requests (to break a sync mid-way).

Faults apply to every route except the control route. ``down`` stops listening (new
connections are refused) and drops open ones; ``up`` listens again on the same port.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

KINDS = ("status", "invalid_json", "graphql_errors", "unauthorized", "drop", "down")


@dataclass
class Fault:
    kind: str
    args: dict[str, Any] = field(default_factory=dict)
    times: int | None = None  # None: until cleared


@dataclass
class Decision:
    """What the server must do with one request."""

    delay: float = 0.0
    fault: Fault | None = None


class Faults:
    """Thread-safe fault switchboard shared by the HTTP server and tests."""

    def __init__(
        self,
        on_down: Callable[[float | None], None] | None = None,
        on_up: Callable[[], None] | None = None,
    ) -> None:
        self._lock = threading.Lock()
        self._on_down = on_down
        self._on_up = on_up
        self._latency = 0.0
        self._active: Fault | None = None
        self._armed: list[list[Any]] = []  # [requests left, Fault]
        self.requests = 0  # requests seen (control route excluded)

    # -- switching ---------------------------------------------------------------------------
    def latency(self, seconds: float) -> None:
        """Delay every response by ``seconds`` (0 to stop)."""
        with self._lock:
            self._latency = max(0.0, float(seconds))

    def status(self, code: int = 503, times: int | None = None) -> None:
        """Answer with HTTP ``code`` (and a short text body)."""
        if not 400 <= int(code) <= 599:
            raise ValueError("status faults need a 4xx/5xx code")
        self._set(Fault("status", {"code": int(code)}, times))

    def invalid_json(self, times: int | None = None) -> None:
        """``/graphql`` answers 200 with a truncated JSON body."""
        self._set(Fault("invalid_json", {}, times))

    def graphql_errors(
        self, message: str = "database is locked", partial: bool = False, times: int | None = None
    ) -> None:
        """``/graphql`` answers 200 with ``errors``; ``partial`` keeps data but nulls one
        root field (as a failing resolver would), otherwise ``data`` is null."""
        self._set(Fault("graphql_errors", {"message": message, "partial": bool(partial)}, times))

    def unauthorized(self, times: int | None = None) -> None:
        """Answer 401 with an empty body, as Stash does for a wrong API key."""
        self._set(Fault("unauthorized", {}, times))

    def drop(self, times: int | None = None) -> None:
        """Close the connection without answering."""
        self._set(Fault("drop", {}, times))

    def down(self, seconds: float | None = None) -> None:
        """Stop listening now (connection refused); back up after ``seconds`` if given."""
        if self._on_down is None:
            raise RuntimeError("this fault switchboard is not attached to a server")
        self._on_down(seconds)

    def up(self) -> None:
        if self._on_up is None:
            raise RuntimeError("this fault switchboard is not attached to a server")
        self._on_up()

    def after(self, requests: int, fault: str, **args: Any) -> None:
        """Start ``fault`` (a method name above, with its args) after ``requests`` more
        requests have been answered normally."""
        if fault not in KINDS:
            raise ValueError(f"unknown fault {fault!r}; one of {', '.join(KINDS)}")
        if requests < 0:
            raise ValueError("requests must be >= 0")
        times = args.pop("times", None)
        if fault == "down":
            times = 1  # going down is an event, not a state: up() must stay up
        with self._lock:
            self._armed.append([int(requests), Fault(fault, args, times)])

    def clear(self) -> None:
        """Remove every fault (latency included). Does not bring a downed server up."""
        with self._lock:
            self._latency = 0.0
            self._active = None
            self._armed.clear()

    def _set(self, fault: Fault) -> None:
        if fault.times is not None and fault.times < 1:
            raise ValueError("times must be >= 1")
        with self._lock:
            self._active = fault

    # -- serving -----------------------------------------------------------------------------
    def decide(self) -> Decision:
        """Called once per request (control route excluded)."""
        with self._lock:
            self.requests += 1
            for entry in list(self._armed):
                if entry[0] <= 0:
                    self._armed.remove(entry)
                    self._active = entry[1]
                else:
                    entry[0] -= 1
            fault = self._active
            if fault is not None and fault.times is not None:
                fault.times -= 1
                if fault.times <= 0:
                    self._active = None
            return Decision(self._latency, fault)

    def state(self) -> dict[str, Any]:
        with self._lock:
            active = self._active
            return {
                "latency": self._latency,
                "active": None if active is None else {"kind": active.kind, **active.args},
                "armed": [{"in": n, "kind": f.kind, **f.args} for n, f in self._armed],
                "requests": self.requests,
            }
