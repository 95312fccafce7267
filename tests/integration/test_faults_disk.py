"""A poster folder that refuses writes (disk full, read-only): metadata is served as usual and
the poster route degrades to the scene's screenshot, with one clear log line.

What "degrade" means: the documents keep pointing `thumb` at `/stash/scene/<id>/poster` (they
are stored in the mirror and must not flip with the state of a disk), and that route answers
the 16:9 screenshot (the same bytes as `/stash/scene/<id>/screenshot`) whenever it cannot store
a poster. Posters already on disk are still served. Once the folder takes writes again (tried
again at most every `STORE_RETRY_SECONDS`), posters are rendered and served as before.

The real-process tests give the child a private tmpfs over its poster folder (full to the last
block, or read-only), so the kernel itself answers ENOSPC or EROFS; they are skipped where the
machine allows no mount namespace. The in-process tests cover the same logic everywhere.
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Callable

import pytest
from PIL import Image

from stashplex.posters import service as poster_service
from tests.integration.test_faults_stash import warnings
from tests.plugins.daemon import mounts_available, wait_until
from tests.plugins.webkit import Provider


def size_of(content: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(content)) as image:
        image.load()
        return image.size


@pytest.mark.skipif(not mounts_available(), reason="no mount namespace for a tmpfs here")
@pytest.mark.parametrize(
    ("mount", "reason"), [("full", "No space left on device"), ("ro", "Read-only file system")]
)
def test_a_poster_folder_refusing_writes(
    mount: str, reason: str, sample_stash_factory, daemon_factory
) -> None:
    stash = sample_stash_factory(scenes=40)
    lib = stash.library
    daemon = daemon_factory(stash.url, mount=mount, POSTER_MODE="true")
    wait_until(lambda: daemon.scenes() == lib.live_count(), what="the first sync")
    with_cover = [i for i in lib.scene_ids() if lib.has_cover(i)][:12]
    without = [i for i in lib.scene_ids() if not lib.has_cover(i)][:2]
    for scene_id in with_cover:
        # Metadata as usual, its thumb still the poster route.
        doc = daemon.metadata(scene_id)
        assert f"/stash/scene/{scene_id}/poster" in doc["thumb"]
        assert daemon.match(lib.scene_paths(scene_id)[0])[0]["ratingKey"] == f"scene-{scene_id}"
        poster = daemon.http.get(f"/stash/scene/{scene_id}/poster")
        assert poster.status_code == 200 and poster.headers["content-type"] == "image/jpeg"
        screenshot = daemon.http.get(f"/stash/scene/{scene_id}/screenshot")
        assert poster.content == screenshot.content  # the degraded answer: the screenshot
        width, height = size_of(poster.content)
        assert width > height
    for scene_id in without:  # no cover: the title card, from the image cache's folder
        response = daemon.http.get(f"/stash/scene/{scene_id}/poster")
        assert response.status_code == 200 and size_of(response.content) == (600, 900)
    lines = warnings(daemon)
    # One line, from the poster service (the web route and the pre-rendering workers both
    # met the problem), naming the folder and the system's reason.
    assert len(lines) == 1, lines
    assert re.search(rf"cannot write posters to \S+posters: {reason}", lines[0]), lines
    assert "Traceback" not in daemon.log()
    assert daemon.terminate() == 0


def test_the_poster_route_degrades_and_recovers_in_process(
    synced_provider: Callable[..., Provider],
    tmp_path,
    caplog,
) -> None:
    provider = synced_provider()
    images = provider.app.images
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the poster folder should be")
    images.posters.store.root = blocked / "posters"  # ENOTDIR on every write
    lib = provider.mirrored.stash.library
    covered = [i for i in lib.scene_ids() if lib.has_cover(i)][:5]
    caplog.set_level(logging.INFO, logger="stashplex")
    for scene_id in covered:
        poster = provider.client.simulate_get(f"/stash/scene/{scene_id}/poster")
        screenshot = provider.client.simulate_get(f"/stash/scene/{scene_id}/screenshot")
        assert poster.status_code == 200 and poster.content == screenshot.content
    said = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(said) == 1 and "cannot write posters to" in said[0], said

    # The folder is back; once the retry delay has passed, posters again.
    images.posters.store.root = tmp_path / "posters"
    images.posters._store_failed_at -= poster_service.STORE_RETRY_SECONDS
    poster = provider.client.simulate_get(f"/stash/scene/{covered[0]}/poster")
    assert poster.status_code == 200 and size_of(poster.content) == (600, 900)
    assert any("stored in" in r.getMessage() and "again" in r.getMessage() for r in caplog.records)


def test_images_are_served_when_the_image_cache_cannot_store_them(
    synced_provider: Callable[..., Provider],
    tmp_path,
    caplog,
) -> None:
    provider = synced_provider()
    cache = provider.app.images.cache
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("x")
    cache.root = blocked / "images"
    lib = provider.mirrored.stash.library
    covered = [i for i in lib.scene_ids() if lib.has_cover(i)][:4]
    caplog.set_level(logging.WARNING, logger="stashplex")
    for scene_id in covered:
        response = provider.client.simulate_get(f"/stash/scene/{scene_id}/screenshot")
        assert response.status_code == 200 and response.headers["content-type"] == "image/jpeg"
        etag = response.headers["etag"]
        again = provider.client.simulate_get(
            f"/stash/scene/{scene_id}/screenshot", headers={"If-None-Match": etag}
        )
        assert again.status_code == 304
    said = [r.getMessage() for r in caplog.records]
    assert len(said) == 1 and "cannot store images in" in said[0], said
