"""Which Stash we talk to, whether it is ready, and which features of its API to use."""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass

from stashplex.stash import features as feature_table
from stashplex.stash.client import StashClient
from stashplex.stash.errors import (
    StashBadResponse,
    StashDataError,
    StashNotReady,
    StashQueryRejected,
    StashTooOld,
)
from stashplex.stash.features import Features

log = logging.getLogger(__name__)

MINIMUM = (0, 24, 0)
NO_VERSION = "development build"
_VERSION = re.compile(r"v?(\d+)\.(\d+)\.(\d+)")
_RELEASE = re.compile(r"v?\d+\.\d+\.\d+")  # exactly a tag: v0.30.1, not v0.30.1-19-gcf3489ef


@dataclass(frozen=True, slots=True)
class StashInfo:
    # As Stash reports it, e.g. "v0.30.1-19-gcf3489ef"; null (a build without version
    # information) reads "development build" in messages: "Stash development build at ...".
    version: str
    numbers: tuple[int, int, int] | None
    os: str | None
    features: Features

    @property
    def has_groups(self) -> bool:
        return self.features.groups

    @property
    def separator(self) -> str:
        return "\\" if (self.os or "").lower() == "windows" else "/"


def parse_version(text: str | None) -> tuple[int, int, int] | None:
    match = _VERSION.match(text or "")
    return (int(match[1]), int(match[2]), int(match[3])) if match else None


def probe(client: StashClient) -> StashInfo:
    """Ask Stash who it is, check it is usable, and set the features the client speaks."""
    data = client.execute("Version")
    try:
        reported = (data.get("version") or {}).get("version")
        status = data["systemStatus"]
        state, os_name = status.get("status"), status.get("os")
    except (AttributeError, KeyError, TypeError):
        raise StashBadResponse("Stash answered the version probe with the wrong shape") from None
    version = reported if isinstance(reported, str) and reported else NO_VERSION
    numbers = parse_version(version)
    client.version = version
    if state != "OK":
        raise StashNotReady(_not_ready(client.url, version, state))
    if numbers is not None and numbers < MINIMUM:
        raise StashTooOld(f"Stash {version} is too old: stashplex needs v0.24.0 or newer")
    if numbers is not None and _RELEASE.fullmatch(version):
        found = feature_table.for_version(numbers)
    else:
        found = _introspect(client, numbers)
    client.features = found
    client.probed = True
    info = StashInfo(version=version, numbers=numbers, os=os_name, features=found)
    _tell_once(client.url, info)
    return info


def _not_ready(url: str, version: str, state: object) -> str:
    who = f"Stash {version} at {url}"
    if state == "SETUP":
        return f"{who} is not set up yet (status SETUP): finish its setup in Stash's web interface"
    if state == "NEEDS_MIGRATION":
        return (
            f"{who} needs a database migration (status NEEDS_MIGRATION): "
            "run it from Stash's web interface"
        )
    return f"{who} is not ready (status {state})"


def _introspect(client: StashClient, numbers: tuple[int, int, int] | None) -> Features:
    """A build between releases, or without a version: ask its schema what it has."""
    try:
        found = feature_table.from_schema(client.execute("Features"))
    except (StashQueryRejected, StashDataError, StashBadResponse):
        found = None  # introspection turned off or mangled: fall back on the number
    if found is not None:
        return found
    return feature_table.for_version(numbers) if numbers else feature_table.NEWEST


_told: set[tuple[str, StashInfo]] = set()
_told_lock = threading.Lock()


def _tell_once(url: str, info: StashInfo) -> None:
    """A Stash that is not a release is worth one line per process (the sync's and the live
    lookups' clients both probe, at every pass): what it is, and what stashplex uses of it."""
    if info.numbers is not None and _RELEASE.fullmatch(info.version):
        return
    with _told_lock:
        if (url, info) in _told:
            return
        _told.add((url, info))
    features = ", ".join(info.features.names()) or "none of the optional ones"
    if info.numbers is None:
        log.warning(
            "Stash at %s reports no version (a development build?): using the API its schema "
            "shows (%s)",
            url,
            features,
        )
    else:
        log.info(
            "Stash at %s is a development build (%s): using the API its schema shows (%s)",
            url,
            info.version,
            features,
        )
