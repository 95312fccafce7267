"""The artwork side against the fake PMS: `plex_side(mirrored, **plex)` and small helpers."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator

import httpx
import pytest

from stashplex.artwork import Artwork
from stashplex.settings import Settings
from stashplex.stash.client import StashClient

from .fake_pms import TOKEN, FakePMS
from .mirror import Mirrored

QUICK = (0.05, 0.1, 0.1, 0.1)  # retry delays short enough for tests


def with_plex(settings: Settings, fake: FakePMS, **plex: object) -> Settings:
    """The settings with [plex] pointing at the fake PMS; `poster_mode` goes to its section."""
    server = settings.server
    if "poster_mode" in plex:
        server = dataclasses.replace(server, poster_mode=plex.pop("poster_mode"))
    plex.setdefault("uploads_per_second", 1000.0)
    plex.setdefault("reconcile_hours", 0)  # tests walk the library themselves
    section = dataclasses.replace(settings.plex, url=fake.url, token=TOKEN, **plex)
    return dataclasses.replace(settings, server=server, plex=section)


@pytest.fixture(name="plex_side")
def plex_side_fixture(fake_pms: FakePMS) -> Iterator[Callable[..., Artwork]]:
    """`make(mirrored, **plex)`: the artwork side over a mirror, talking to the fake PMS."""
    made: list[tuple[Artwork, StashClient]] = []

    def make(m: Mirrored, *, retry_delays=QUICK, **plex: object) -> Artwork:
        client = StashClient(m.settings.stash.url, timeout=5, backoff=0.01)
        settings = with_plex(m.settings, fake_pms, **plex)
        artwork = Artwork.build(settings, m.db, client, posters=False)
        assert artwork.uploader is not None
        artwork.uploader.retry_delays = retry_delays
        made.append((artwork.start(), client))
        return artwork

    yield make
    for artwork, client in made:
        artwork.close()
        client.close()


def covered(m: Mirrored, n: int = 3) -> list[int]:
    lib = m.stash.library
    return [i for i in sorted(m.scenes()) if lib.has_cover(i)][:n]


def stash_image(m: Mirrored, path: str) -> bytes:
    """An image as the sample Stash serves it."""
    response = httpx.get(m.settings.stash.url + path, timeout=10)
    assert response.status_code == 200 and response.headers["content-type"] == "image/jpeg"
    return response.content
