"""HTTP transport: a threaded stdlib server that can stop and listen again on its port.

The stdlib server (rather than waitress) because the ``down`` fault needs exact control:
stop accepting (connection refused), cut every open keep-alive connection, and later bind
the same port again.
"""

from __future__ import annotations

import contextlib
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from .routes import Request, Response, SampleApp

MAX_BODY = 64 * 1024 * 1024
_local = threading.local()  # the connection a handler thread serves (spared by a stop)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like Go's server
    server: _Server
    _headers_buffer: list[bytes]  # BaseHTTPRequestHandler's own; its stubs leave it out
    timeout = 120  # idle keep-alive connections end eventually

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self._send(Response(413, b"request body too large"))
            return
        body = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        headers = {k.lower(): v for k, v in self.headers.items()}
        host = headers.get("host") or "{}:{}".format(*self.server.server_address[:2])
        request = Request(self.command, parts.path, parts.query, headers, body, host)
        response = self.server.app.handle(request)
        if response.before is not None:
            _local.spare = self.connection
            try:
                response.before()
            finally:
                _local.spare = None
            self.close_connection = True
        if response.drop:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
        else:
            self._send(response, head=self.command == "HEAD")

    def setup(self) -> None:
        super().setup()
        # Small responses must not wait for delayed ACKs (Nagle): 40 ms per request otherwise.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _send(self, response: Response, head: bool = False) -> None:
        self.send_response_only(response.status)
        self.send_header("Date", self.date_time_string())
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        if not head and response.body:
            # One write for head and body.
            self._headers_buffer.append(b"\r\n" + response.body)
            self.flush_headers()
        else:
            self.end_headers()

    do_GET = do_POST = do_HEAD = do_PUT = do_DELETE = _serve

    def log_message(self, format: str, *args: Any) -> None:
        pass  # tests and benchmarks do not want a line per request


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    block_on_close = False
    request_queue_size = 64

    def __init__(self, address: tuple[str, int], app: SampleApp) -> None:
        self.app = app
        self.open: set[socket.socket] = set()
        self.open_lock = threading.Lock()
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.open_lock:
            self.open.add(request)
        super().process_request(request, client_address)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up (timeout, dropped connection) is routine here, not an error.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self.open_lock:
            self.open.discard(request)
        super().shutdown_request(request)

    def cut_connections(self) -> None:
        spare = getattr(_local, "spare", None)
        with self.open_lock:
            sockets = [s for s in self.open if s is not spare]
            self.open.difference_update(sockets)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


class HTTPServer:
    """Serves a :class:`SampleApp` from a background thread; ``stop``/``start`` reuse the port."""

    def __init__(self, app: SampleApp, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app = app
        self.host = host
        self.port = port
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def running(self) -> bool:
        return self._server is not None

    def start(self) -> None:
        with self._lock:
            if self._server is not None:
                return
            server = _Server((self.host, self.port), self.app)
            self.port = server.server_address[1]  # keep a port once chosen: up() reuses it
            thread = threading.Thread(
                target=server.serve_forever,
                kwargs={"poll_interval": 0.05},
                name=f"sample-stash:{self.port}",
                daemon=True,
            )
            thread.start()
            self._server, self._thread = server, thread

    def stop(self) -> None:
        with self._lock:
            server, thread = self._server, self._thread
            self._server = self._thread = None
        if server is None:
            return
        server.shutdown()
        server.server_close()  # closes the listening socket: new connections are refused
        server.cut_connections()
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)
