"""Which Stash we talk to, and which of its API generations to speak."""

from __future__ import annotations

import re
from dataclasses import dataclass

from stashplex.stash.client import StashClient
from stashplex.stash.errors import StashBadResponse, StashNotReady, StashTooOld

MINIMUM = (0, 24, 0)
GROUPS_SINCE = (0, 27, 0)
_VERSION = re.compile(r"v?(\d+)\.(\d+)\.(\d+)")


@dataclass(frozen=True, slots=True)
class StashInfo:
    version: str  # as Stash reports it, e.g. "v0.30.1-19-gcf3489ef"; "unknown" when null
    numbers: tuple[int, int, int] | None
    os: str | None
    has_groups: bool

    @property
    def separator(self) -> str:
        return "\\" if (self.os or "").lower() == "windows" else "/"


def parse_version(text: str | None) -> tuple[int, int, int] | None:
    match = _VERSION.match(text or "")
    return (int(match[1]), int(match[2]), int(match[3])) if match else None


def probe(client: StashClient) -> StashInfo:
    """Ask Stash who it is, check it is usable, and set the client's API generation."""
    data = client.execute("Version")
    try:
        version = (data.get("version") or {}).get("version") or "unknown"
        status = data["systemStatus"]
        state, os_name = status.get("status"), status.get("os")
    except (AttributeError, KeyError, TypeError):
        raise StashBadResponse("Stash answered the version probe with the wrong shape") from None
    numbers = parse_version(version)
    client.version = version
    if state != "OK":
        raise StashNotReady(
            f"Stash {version} at {client.url} is not ready (status {state}): "
            "finish its setup or migration first"
        )
    if numbers is not None and numbers < MINIMUM:
        raise StashTooOld(f"Stash {version} is too old: stashplex needs v0.24.0 or newer")
    # Development builds may report no usable version: ask the schema itself.
    fields = client.execute("TypeFields", {"name": "Scene"}).get("__type") or {}
    names = {f.get("name") for f in fields.get("fields") or [] if isinstance(f, dict)}
    has_groups = "groups" in names if names else (numbers or (0, 0, 0)) >= GROUPS_SINCE
    client.legacy = not has_groups
    return StashInfo(version=version, numbers=numbers, os=os_name, has_groups=has_groups)
