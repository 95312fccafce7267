"""Images outlive Stash: every sync fills the image cache, within its budget, and the image
routes answer from it while Stash is down."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from falcon import testing

from stashplex.artwork import Artwork
from stashplex.daemon import responder_client
from stashplex.mirror.image_refs import image_refs
from stashplex.mirror.sync import Syncer
from stashplex.prefetch import ImagePrefetcher
from stashplex.stash.client import StashClient
from stashplex.web.app import create_app
from stashplex.web.imagecache import ImageCache
from tests.plugins.mirror import Mirrored

ROUTES = {
    "scene": "/stash/scene/{}/screenshot",
    "performer": "/stash/performer/{}/image",
    "studio": "/stash/studio/{}/image",
    "group": "/stash/group/{}/front",
}


@pytest.fixture
def stash_client(mirrored: Mirrored) -> Iterator[StashClient]:
    client = StashClient.from_settings(mirrored.settings)
    yield client
    client.close()


def test_a_sync_fills_the_cache_and_images_outlive_stash(
    mirrored_factory, caplog: pytest.LogCaptureFixture
) -> None:
    m = mirrored_factory(sync=False)
    client = StashClient.from_settings(m.settings)
    artwork = Artwork.build(m.settings, m.db, client, one_shot=True).start(backfill=False)
    try:
        report = Syncer(client, m.db, m.settings, after_page=artwork.after_page).run("full")
        lines = artwork.finish(report, timeout=60)
    finally:
        artwork.close()
        client.close()
    refs = list(image_refs(m.db))
    kinds = {ref.kind for ref in refs}
    assert kinds == {"scene", "performer", "studio", "group"}
    assert any(line.startswith("images: ") for line in lines), lines

    # Stash goes down; every image the mirror knows is served from the cache.
    m.stash.faults.down()
    responder = responder_client(m.settings)
    app = create_app(m.settings, db=m.db, stash=responder)
    web = testing.TestClient(app)
    lib = m.stash.library
    try:
        served = 0
        for ref in refs:
            if ref.kind == "scene" and not lib.has_cover(ref.id):
                continue  # Stash has no cover: its title card, which needs no Stash
            response = web.simulate_get(ROUTES[ref.kind].format(ref.id))
            assert response.status_code == 200, (ref, response.text)
            assert response.headers["content-type"] == "image/jpeg"
            served += 1
        assert served > 20
    finally:
        app.close()
        responder.close()

    # A second pass (another process) over an unchanged library asks Stash for nothing, not
    # even for the scenes without a cover.
    m.stash.faults.up()
    client = StashClient.from_settings(m.settings)
    cache = ImageCache(m.settings.mirror.database.parent / "images", None)
    requests = m.stash.faults.requests
    again = ImagePrefetcher(m.db, cache, client).run_pass()
    client.close()
    assert again.fetched == again.absent == 0 and again.cached > 20 and again.stopped is None
    assert m.stash.faults.requests == requests


def test_the_prefetch_stays_within_its_budget(mirrored: Mirrored, stash_client, tmp_path) -> None:
    cache = ImageCache(tmp_path / "images", max_bytes=60_000)
    result = ImagePrefetcher(mirrored.db, cache, stash_client).run_pass()
    assert result.fetched > 0 and result.stopped == "the image cache is full"
    on_disk = sum(p.stat().st_size for p in (tmp_path / "images").rglob("*") if p.is_file())
    assert on_disk <= 60_000 and cache.size() == on_disk


def test_stash_down_stops_the_pass_with_one_line(
    mirrored: Mirrored, stash_client, tmp_path, caplog: pytest.LogCaptureFixture
) -> None:
    cache = ImageCache(tmp_path / "images", max_bytes=None)
    mirrored.stash.faults.down()
    prefetcher = ImagePrefetcher(mirrored.db, cache, stash_client)
    first = prefetcher.run_pass()
    second = prefetcher.run_pass()
    assert first.fetched == second.fetched == 0
    assert first.stopped and "Stash" in first.stopped
    lines = [r for r in caplog.records if r.name == "stashplex.prefetch"]
    assert [r.levelno for r in lines].count(logging.WARNING) == 1
