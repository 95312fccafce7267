"""The base URL that image URLs in our answers start with.

`agent_base_url` when configured; else the scheme and Host header of the request, so Plex gets
URLs it can reach the way it reached us. A Host header is client text: only a well-formed host
name, IPv4 or bracketed IPv6 address with an optional port is used, anything else falls back to
the address we listen on, so no request can put arbitrary text into the URLs we hand out.
"""

from __future__ import annotations

import ipaddress
import re
import threading

_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOST = re.compile(
    rf"(?P<name>{_LABEL}(?:\.{_LABEL})*|\[(?P<ip6>[0-9A-Fa-f:.]{{2,45}})\])(?::(?P<port>[0-9]{{1,5}}))?"
)
_WILDCARDS = ("0.0.0.0", "::", "")
_CACHE_SIZE = 256


def valid_host(host: str) -> bool:
    """True for `name[:port]`, `1.2.3.4[:port]` or `[v6][:port]`, nothing else."""
    if not host or len(host) > 261:
        return False
    match = _HOST.fullmatch(host)
    if match is None:
        return False
    port = match.group("port")
    if port is not None and not 0 < int(port) <= 65535:
        return False
    if match.group("ip6") is not None:
        try:
            ipaddress.IPv6Address(match.group("ip6"))
        except ValueError:
            return False
    return True


def listening_base_url(host: str, port: int) -> str:
    """Where we listen, as a URL: a wildcard bind is shown as loopback (a last resort)."""
    if host in _WILDCARDS:
        host = "127.0.0.1"
    elif ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{port}"


class BaseUrl:
    def __init__(self, configured: str | None, fallback: str) -> None:
        self.configured = configured.rstrip("/") if configured else None
        self.fallback = fallback.rstrip("/")
        self._known: dict[tuple[str, str], str] = {}
        self._lock = threading.Lock()

    def for_request(self, scheme: str, host: str | None) -> str:
        if self.configured:
            return self.configured
        key = (scheme, host or "")
        found = self._known.get(key)
        if found is not None:
            return found
        if scheme in ("http", "https") and host and valid_host(host):
            found = f"{scheme}://{host.lower()}"
        else:
            found = self.fallback
        with self._lock:
            if len(self._known) >= _CACHE_SIZE:  # a client inventing hosts cannot grow this
                self._known.clear()
            self._known[key] = found
        return found
