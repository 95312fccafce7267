"""Loopback helpers: every server a test starts binds 127.0.0.1 on a free port."""

from __future__ import annotations

import random
import socket
import time
from pathlib import Path

import pytest

LOOPBACK = "127.0.0.1"


# Its own generator, seeded from the OS: the global one is reseeded by hypothesis, and two
# xdist workers drawing the same sequence would pick the same ports.
_random = random.Random()
_LOWEST = 10_000


def _ephemeral_range() -> tuple[int, int]:
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32_768, 60_999  # Linux's default


def free_port() -> int:
    """A port nothing listens on, for a server started later (often in another process).

    Drawn below the kernel's ephemeral range: outgoing connections take their local ports from
    that range (thousands a second in the flood and storm tests), and one of them could take
    a port handed out here before its server has bound it."""
    low, _high = _ephemeral_range()
    for _ in range(200):
        port = _random.randrange(_LOWEST, low) if low > _LOWEST + 1_000 else 0
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind((LOOPBACK, port))
            except OSError:
                continue  # taken
            return s.getsockname()[1]
    raise RuntimeError("no free port on the loopback interface")


def wait_for_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((LOOPBACK, port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.02)
    raise TimeoutError(f"nothing listening on {LOOPBACK}:{port} after {timeout}s")


@pytest.fixture
def port() -> int:
    return free_port()
