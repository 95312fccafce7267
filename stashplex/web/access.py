"""Only clients from `allowed_networks` may use the provider (PMS sends no credentials).

The address checked is the TCP peer (`REMOTE_ADDR`): forwarding headers are client text.
"""

from __future__ import annotations

import ipaddress
import threading
from collections.abc import Sequence

import falcon

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
_CACHE_SIZE = 1024


class AllowedNetworks:
    """Falcon middleware refusing other peers with 403 before any routing."""

    def __init__(self, networks: Sequence[Network]) -> None:
        self.networks = tuple(networks)
        self._known: dict[str, bool] = {}
        self._lock = threading.Lock()

    def allows(self, address: str | None) -> bool:
        if not address:
            return False
        known = self._known.get(address)
        if known is not None:
            return known
        allowed = self._check(address)
        with self._lock:
            if len(self._known) >= _CACHE_SIZE:
                self._known.clear()
            self._known[address] = allowed
        return allowed

    def _check(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone id
        except ValueError:
            return False
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped  # a dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d
        return any(ip.version == net.version and ip in net for net in self.networks)

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        if not self.allows(req.remote_addr):  # the peer; never X-Forwarded-For
            raise falcon.HTTPForbidden(
                title="Forbidden",
                description="this address is not in [plexagentserver] allowed_networks",
            )
