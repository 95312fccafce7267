"""This machine's own IPv4 addresses, for the start-up line of a service bound to every
interface: the URL to give Plex is one of them, never 127.0.0.1.

Read from the machine itself, never by sending anything: on Linux each interface's address
(SIOCGIFADDR) and the interface of the default route (/proc/net/route), which carries the LAN
address; elsewhere, what the host name resolves to.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import struct
from collections.abc import Iterable, Mapping
from pathlib import Path

SIOCGIFADDR = 0x8915
ROUTES = Path("/proc/net/route")
CONTAINER_MARKERS = (Path("/.dockerenv"), Path("/run/.containerenv"))
_RTF_UP_GATEWAY = 0x0003


def default_route_interface(routes: str) -> str | None:
    """The interface of the default route in /proc/net/route's text, if any."""
    for line in routes.splitlines()[1:]:
        fields = line.split()
        if len(fields) >= 4 and fields[1] == "00000000":
            with contextlib.suppress(ValueError):
                if int(fields[3], 16) & _RTF_UP_GATEWAY == _RTF_UP_GATEWAY:
                    return fields[0]
    return None


def usable(address: str) -> bool:
    """An address another machine could reach us at: not loopback, link-local or unspecified."""
    try:
        ip = ipaddress.IPv4Address(address)
    except ValueError:
        return False
    return not (ip.is_loopback or ip.is_link_local or ip.is_unspecified or ip.is_multicast)


def order(by_interface: Mapping[str, str], default: str | None) -> list[str]:
    """Usable addresses, the default route's first, then private ones, then the rest."""
    found = [(name, a) for name, a in by_interface.items() if usable(a)]
    found.sort(key=lambda item: (item[0] != default, not ipaddress.IPv4Address(item[1]).is_private))
    return list(dict.fromkeys(address for _name, address in found))


def _interface_addresses() -> dict[str, str]:
    import fcntl  # POSIX only; the caller falls back elsewhere

    found = {}
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:  # never sends anything
        for _index, name in socket.if_nameindex():
            request = struct.pack("256s", name.encode()[:15])
            try:
                answer = fcntl.ioctl(probe.fileno(), SIOCGIFADDR, request)
            except OSError:  # no IPv4 address on this interface
                continue
            found[name] = socket.inet_ntoa(answer[20:24])
    return found


def _resolved_addresses() -> Iterable[str]:
    try:
        infos = socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)
    except OSError:
        return ()
    return (str(info[4][0]) for info in infos)


def addresses() -> list[str]:
    """This machine's usable IPv4 addresses, the likeliest LAN address first; [] if unknown."""
    try:
        by_interface = _interface_addresses()
        routes = ROUTES.read_text() if ROUTES.exists() else ""
        found = order(by_interface, default_route_interface(routes))
    except (ImportError, OSError, AttributeError):  # not Linux: no SIOCGIFADDR or if_nameindex
        found = []
    if not found:
        found = order({f"resolved{i}": a for i, a in enumerate(_resolved_addresses())}, None)
    return found


def in_container() -> bool:
    return any(marker.exists() for marker in CONTAINER_MARKERS)
