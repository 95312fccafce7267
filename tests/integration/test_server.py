"""The waitress server: the internals `stashplex.web.server` relies on, its connection limits
under a client holding many connections open, and a dual-stack `host = ::`."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
from waitress import trigger, wasyncore
from waitress.adjustments import Adjustments
from waitress.channel import HTTPChannel
from waitress.server import BaseWSGIServer, MultiSocketServer
from waitress.task import ErrorTask

from stashplex.web import server as web_server
from stashplex.web.server import close_server, create_server, limits, stop_server
from tests.plugins.net import LOOPBACK
from tests.plugins.webkit import Provider, serving

HELD = 120  # idle, trickling and half-sent connections, a third each
PATIENCE = 20.0  # seconds a fresh request may take while they are held: far above any load


@pytest.fixture
def provider(hand_provider) -> Provider:
    return hand_provider()


def test_the_waitress_internals_we_rely_on_are_still_there(provider: Provider) -> None:
    """Fails when a waitress release moves what `stashplex.web.server` reaches into."""
    assert {"channel_timeout", "cleanup_interval", "connection_limit", "backlog"} <= {
        name for name, _ in Adjustments._params
    }
    assert "asyncore_use_poll" in {name for name, _ in Adjustments._params}
    assert HTTPChannel.error_task_class is ErrorTask or issubclass(
        HTTPChannel.error_task_class, ErrorTask
    )
    assert callable(ErrorTask.execute) and hasattr(ErrorTask, "set_close_on_finish")
    assert BaseWSGIServer.channel_class is HTTPChannel
    # The request being read, and the flag the event loop closes a channel on.
    assert HTTPChannel.request is None and HTTPChannel.will_close is False
    assert callable(HTTPChannel.received) and callable(HTTPChannel.writable)
    assert hasattr(MultiSocketServer, "__init__") and callable(wasyncore.close_all)
    server = create_server(provider.app, provider.settings, host=LOOPBACK, port=0)
    try:
        assert isinstance(server, BaseWSGIServer)
        sockets = server._map
        assert server in sockets.values()
        assert any(isinstance(item, trigger.trigger) for item in sockets.values())
        assert server.channel_class is web_server.JsonErrorChannel
        assert (
            server.adj.connection_limit
            == limits(provider.settings.server.num_workers)["connection_limit"]
        )
        assert callable(server.task_dispatcher.shutdown) and callable(server.maintenance)
    finally:
        stop_server(server)
        close_server(server)


def test_limits_grow_with_the_workers_and_fit_the_open_files() -> None:
    small, big = limits(4, open_files=100_000), limits(64, open_files=100_000)
    assert small["connection_limit"] >= 2 * HELD
    assert big["connection_limit"] == 64 * web_server.CONNECTIONS_PER_WORKER
    assert limits(64, open_files=1024)["connection_limit"] == 1024 - web_server.SPARE_FILES
    assert small["channel_timeout"] < 120 and small["asyncore_use_poll"] is True


def test_waitress_errors_are_json(provider: Provider) -> None:
    with serving(provider.app, provider.settings) as url:
        port = int(url.rsplit(":", 1)[1])
        with socket.create_connection((LOOPBACK, port), timeout=10) as conn:
            conn.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n")
            answer = b""
            while chunk := conn.recv(65536):  # until waitress closes the spent connection
                answer += chunk
    assert answer.split(b" ", 2)[1] == b"400" and b"application/json" in answer
    assert b'"status": 400' in answer


class Holder:
    """Connections held open the ways a hostile or broken client can."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.idle: list[socket.socket] = []
        self.trickling: list[socket.socket] = []
        self.half: list[socket.socket] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._trickle, daemon=True)

    def open(self, n: int) -> None:
        for i in range(n):
            conn = socket.create_connection((LOOPBACK, self.port), timeout=10)
            kind = i % 3
            if kind == 0:  # one request, answered, then silence on a keep-alive connection
                conn.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
                self.idle.append(conn)
            elif kind == 1:  # a request line, then a header line now and then
                conn.sendall(b"GET / HTTP/1.1\r\n")
                self.trickling.append(conn)
            else:  # a body announced and never sent
                conn.sendall(
                    b"POST /library/metadata/matches HTTP/1.1\r\nHost: x\r\n"
                    b'Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"ty'
                )
                self.half.append(conn)
        for conn in self.idle:  # their answers arrived: now they only idle
            conn.recv(65536)
        self.thread.start()

    def _trickle(self) -> None:
        n = 0
        while not self.stop.wait(1.0):
            n += 1
            for conn in self.trickling:
                with contextlib.suppress(OSError):
                    conn.sendall(b"X-Slow-%d: %d\r\n" % (n, n))

    def alive(self) -> int:
        return len(self.idle) + len(self.trickling) + len(self.half)

    def close(self) -> None:
        self.stop.set()
        self.thread.join(5)
        for conn in self.idle + self.trickling + self.half:
            conn.close()


@pytest.fixture
def held(provider: Provider) -> Iterator[tuple[str, Holder]]:
    with serving(provider.app, provider.settings) as url:
        holder = Holder(int(url.rsplit(":", 1)[1]))
        try:
            holder.open(HELD)
            yield url, holder
        finally:
            holder.close()


def test_a_new_request_is_answered_while_many_connections_are_held(
    held: tuple[str, Holder],
) -> None:
    url, holder = held
    assert holder.alive() == HELD
    time.sleep(1.5)  # the trickling connections have sent more since
    started = time.monotonic()
    response = httpx.get(f"{url}/library/metadata/scene-1", timeout=PATIENCE)
    assert response.status_code == 200
    assert time.monotonic() - started < PATIENCE
    # And a second client at once, on a new connection each time.
    for _ in range(3):
        assert httpx.get(f"{url}/health", timeout=PATIENCE).status_code == 200


def test_a_request_trickling_in_is_cut_off(provider: Provider, monkeypatch) -> None:
    monkeypatch.setattr(web_server, "REQUEST_READ_SECONDS", 1.0)
    with serving(provider.app, provider.settings) as url:
        port = int(url.rsplit(":", 1)[1])
        with socket.create_connection((LOOPBACK, port), timeout=10) as conn:
            conn.sendall(b"GET / HTTP/1.1\r\n")
            closed_after = None
            started = time.monotonic()
            for n in range(40):  # a header line every 0.25 s, for up to 10 s
                time.sleep(0.25)
                try:
                    conn.sendall(b"X-Slow-%d: %d\r\n" % (n, n))
                    conn.settimeout(0.01)
                    if conn.recv(1) == b"":
                        closed_after = time.monotonic() - started
                        break
                except TimeoutError:
                    pass
                except OSError:
                    closed_after = time.monotonic() - started
                    break
                finally:
                    conn.settimeout(10)
        assert closed_after is not None and closed_after < 8, "a trickling request kept its slot"
        # A request that arrives at once is unaffected, on a connection kept alive.
        with httpx.Client(base_url=url, timeout=10) as client:
            for _ in range(3):
                assert client.get("/health").status_code == 200
                time.sleep(0.6)


def test_host_double_colon_serves_ipv4_too(provider: Provider) -> None:
    if not socket.has_dualstack_ipv6():
        pytest.skip("this OS has no dual-stack IPv6 sockets")
    try:
        server = create_server(provider.app, provider.settings, host="::", port=0)
    except OSError as exc:
        pytest.skip(f"no IPv6 here: {exc}")
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        assert isinstance(server, BaseWSGIServer)
        port = server.socket.getsockname()[1]
        assert httpx.get(f"http://{LOOPBACK}:{port}/", timeout=10).status_code == 200
        try:
            answer = httpx.get(f"http://[::1]:{port}/", timeout=10)
        except httpx.ConnectError:
            pass  # IPv6 loopback is not configured in this container: IPv4 was the point
        else:
            assert answer.status_code == 200
    finally:
        stop_server(server)
        thread.join(10)
        close_server(server)
