"""The waitress server the app runs under: its limits, its error answers, its sockets.

This is the one module that knows waitress beyond `create_server` and `run`: the socket map of a
server, its wake-up trigger, the channel class it instantiates and the error task that class
uses. `tests/test_server.py` checks each of these still exists, so a waitress upgrade that moves
them fails there, not in production.

Limits, sized from `num_workers` (see README, "Reliability"):
- `connection_limit`: connections waiting for headers or idling between requests cost no
  thread (waitress reads them on its event loop), only a file descriptor; the limit is high
  enough that a client holding a hundred of them open keeps nobody out, and the process's
  open-files limit is raised to fit it;
- `channel_timeout`: an idle keep-alive connection, or a request sent half way, is closed after
  this many seconds without a byte (`cleanup_interval` is how often that is checked); and a
  request still arriving after REQUEST_READ_SECONDS (a header line every few seconds) is cut;
- `backlog`: connections the kernel queues before waitress accepts them;
- the event loop uses poll(), as select() cannot watch descriptors past 1024.

waitress's own error answers (a malformed request line or header, a body past its hard cap,
headers too large) are JSON like the app's: PMS's parser breaks on anything else.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import time
from typing import Any, TypeAlias

import waitress
from waitress import trigger, wasyncore
from waitress.channel import HTTPChannel
from waitress.server import BaseWSGIServer, MultiSocketServer
from waitress.task import ErrorTask

from stashplex.settings import Settings
from stashplex.web.json_errors import body

log = logging.getLogger(__name__)

Server: TypeAlias = BaseWSGIServer | MultiSocketServer

# The app answers bodies over 1 MB with a JSON 413; waitress buffers a body before the app sees
# it, so it gets a hard cap of its own (its plain-text 413 only meets absurd uploads).
MAX_BODY = 16 * 1024 * 1024
CONNECTIONS_PER_WORKER = 32
MIN_CONNECTIONS = 256
CHANNEL_TIMEOUT = 60  # seconds without a byte before an idle or half-sent connection is closed
REQUEST_READ_SECONDS = 30.0  # a whole request (headers and body) must arrive within this
CLEANUP_INTERVAL = 10
BACKLOG = 1024
SPARE_FILES = 128  # descriptors kept for the mirror, the image cache, logs and Stash calls
WANTED_OPEN_FILES = 8192


def open_files_limit(wanted: int = WANTED_OPEN_FILES) -> int:
    """Raise this process's soft limit on open files towards `wanted` (never past the hard
    limit); the soft limit now in force."""
    try:
        import resource
    except ImportError:  # not POSIX
        return wanted
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
    return wanted if soft == resource.RLIM_INFINITY else soft


def limits(num_workers: int, open_files: int | None = None) -> dict[str, Any]:
    """waitress's connection limits for `num_workers` request threads."""
    files = open_files_limit() if open_files is None else open_files
    connections = max(MIN_CONNECTIONS, CONNECTIONS_PER_WORKER * num_workers)
    return {
        "threads": num_workers,
        "connection_limit": max(num_workers * 4, min(connections, files - SPARE_FILES)),
        "channel_timeout": CHANNEL_TIMEOUT,
        "cleanup_interval": CLEANUP_INTERVAL,
        "backlog": BACKLOG,
        "asyncore_use_poll": True,
    }


def dual_stack_socket(host: str, port: int) -> socket.socket | None:
    """A listening socket on the IPv6 wildcard that takes IPv4 too, for `host = ::`; None when
    `host` is anything else or the OS cannot (then waitress binds IPv6 only, as asked)."""
    if host not in ("::", "[::]") or not socket.has_dualstack_ipv6():
        return None
    return socket.create_server(
        ("::", port), family=socket.AF_INET6, backlog=BACKLOG, dualstack_ipv6=True
    )


def create_server(
    app: Any, settings: Settings, *, host: str | None = None, port: int | None = None
) -> Server:
    host = settings.server.host if host is None else host
    port = settings.server.port if port is None else port
    where: dict[str, Any] = {"host": host, "port": port}
    dual = dual_stack_socket(host, port)
    if dual is not None:
        where = {"sockets": [dual]}
    try:
        server = waitress.create_server(
            app,
            **where,
            **limits(settings.server.num_workers),
            ident="stashplex",
            max_request_body_size=MAX_BODY,
            clear_untrusted_proxy_headers=True,
            expose_tracebacks=False,
        )
    except BaseException:
        if dual is not None:
            dual.close()
        raise
    for item in list(_socket_map(server).values()):
        if isinstance(item, BaseWSGIServer):
            item.channel_class = JsonErrorChannel
    return server


def stop_server(server: Server) -> None:
    """End a waitress server's loop from any thread: its sockets are closed on the loop's own
    thread (through its wake-up trigger), and the loop returns once it has none left."""
    sockets = _socket_map(server)
    wakers = [item for item in list(sockets.values()) if isinstance(item, trigger.trigger)]
    if wakers:
        try:
            wakers[0].pull_trigger(lambda: wasyncore.close_all(sockets))
            return
        except OSError:  # the trigger is closed already: the loop is ending; finish it here
            pass
    wasyncore.close_all(sockets)


def close_server(server: Server) -> None:
    """After the loop returned: stop the request threads and close what is left."""
    server.task_dispatcher.shutdown()
    wasyncore.close_all(_socket_map(server))


def _socket_map(server: Server) -> dict[Any, Any]:
    return server._map if isinstance(server, BaseWSGIServer) else server.map


class JsonErrorTask(ErrorTask):
    def execute(self) -> None:
        error = self.request.error
        data = body(error.code, error.reason, str(error.body or "") or None)
        self.status = f"{error.code} {error.reason}"
        self.response_headers.append(("Content-Type", "application/json"))
        self.set_close_on_finish()  # the request could not be read: the connection is spent
        self.content_length = len(data)
        self.write(data)


class JsonErrorChannel(HTTPChannel):
    """waitress's channel, answering its errors in JSON and closing a connection whose request
    takes longer than REQUEST_READ_SECONDS to arrive: `channel_timeout` only counts silence, so
    a client sending a header line every few seconds would otherwise hold its slot forever."""

    error_task_class = JsonErrorTask
    reading_since: float | None = None  # when the request being read began to arrive

    def received(self, data: bytes) -> bool:
        now = time.monotonic()
        before = self.request  # the request read so far, if one is half way
        since = self.reading_since
        if before is not None and since is not None and now - since > REQUEST_READ_SECONDS:
            self.will_close = True  # the event loop closes it; others may have the slot
            return False
        done = bool(super().received(data))
        if self.request is None:
            self.reading_since = None
        elif self.request is not before:  # this data began a new request
            self.reading_since = now
        return done
