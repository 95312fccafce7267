#!/usr/bin/env python3
"""Artwork benchmark: the image prefetch's cost per sync, and uploads per second into a PMS.

1. A sample Stash with `--scenes` scenes (its own process), a full sync, then the prefetch
   pass that fills the image cache (first fill), then an incremental sync and the prefetch over
   an unchanged library (what every later sync adds), and the cache's size on disk.
2. `--uploads` movie items in the fake PMS (tests/plugins/fake_pms.py, over real HTTP on
   127.0.0.1): one walk of its library uploading every poster and background, with the rate
   limit lifted, images already in the cache: the upload path's own throughput (the default
   `[plex] uploads_per_second = 4` is what a real PMS gets).

    .venv/bin/python scripts/bench_artwork.py --scenes 10000 --uploads 1000

The sample Stash draws synthetic JPEGs (smooth gradients, a few tens of KB); real covers are
larger, so the cache's size per scene is printed for both what was measured and the mean
image size, to scale with your own library's.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from stashplex import settings as settings_module  # noqa: E402
from stashplex.artwork import Artwork  # noqa: E402
from stashplex.mirror.db import Database  # noqa: E402
from stashplex.mirror.image_refs import image_refs  # noqa: E402
from stashplex.mirror.plex_links import PlexLinks  # noqa: E402
from stashplex.mirror.sync import Syncer  # noqa: E402
from stashplex.pms.reconciler import Reconciler  # noqa: E402
from stashplex.pms.sender import RateLimit  # noqa: E402
from stashplex.prefetch import ImagePrefetcher  # noqa: E402
from stashplex.stash.client import StashClient  # noqa: E402
from tests.plugins.fake_pms import TOKEN, FakePMS  # noqa: E402
from tests.plugins.sample_stash import start_sample_stash_process  # noqa: E402


def timed(fn):  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    value = fn()
    return time.perf_counter() - started, value


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenes", type=int, default=10_000)
    parser.add_argument("--uploads", type=int, default=1000, help="PMS movie items to upload to")
    args = parser.parse_args()

    stash, stash_url = start_sample_stash_process(args.scenes)
    pms = FakePMS().start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            env = {
                "STASH_HOST": stash_url,
                "STASHPLEX_MIRROR_DATABASE": f"{tmp}/mirror.db",
                "STASHPLEX_STASH_TIMEOUT": "120",
                "STASHPLEX_IMAGES_CACHE_MB": "100000",
                "PLEX_URL": pms.url,
                "PLEX_TOKEN": TOKEN,
                "STASHPLEX_PLEX_UPLOADS_PER_SECOND": "100",
                "STASHPLEX_PLEX_RECONCILE_HOURS": "0",
            }
            settings = settings_module.load(None, env, search=False)
            db = Database.open(settings.mirror.database)
            client = StashClient.from_settings(settings)
            syncer = Syncer(client, db, settings)
            artwork = Artwork.build(settings, db, client, posters=False, one_shot=True)
            assert artwork.prefetcher is not None
            prefetcher: ImagePrefetcher = artwork.prefetcher

            sync_s, report = timed(lambda: syncer.run("full"))
            print(f"full sync of {report.added} scenes: {sync_s:.1f}s")
            fill_s, fill = timed(prefetcher.run_pass)
            print(f"prefetch, first fill: {fill_s:.1f}s, {fill.summary()}")
            kinds = Counter(ref.kind for ref in image_refs(db))
            print("  images by kind: " + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())))
            root = settings.mirror.database.parent / "images"
            size = sum(p.stat().st_size for p in root.rglob("*") if p.is_file())
            per_scene = size / report.added
            mean = size / max(1, fill.fetched)
            print(
                f"  cache on disk: {size / 1e6:.1f} MB = {per_scene / 1e3:.1f} KB per scene "
                f"(mean image {mean / 1e3:.1f} KB; {per_scene / mean:.2f} images per scene)"
            )

            inc_s, _ = timed(lambda: syncer.run("incremental"))
            again_s, again = timed(prefetcher.run_pass)
            print(
                f"no-change incremental sync: {inc_s:.2f}s; prefetch after it: {again_s:.2f}s "
                f"({again.cached} cached images checked, {again.fetched} fetched)"
            )

            # Uploads: movie items in the fake PMS, images already cached.
            scene_ids = [row.id for row in image_refs(db) if row.kind == "scene"][: args.uploads]
            for scene_id in scene_ids:
                pms.add_scene(scene_id)
            assert artwork.sender is not None
            artwork.sender.limit = RateLimit(0)  # no limit: the path's own throughput
            walk = Reconciler(artwork.sender, PlexLinks(db), page_pause=0, start_delay=0)
            walk_s, _ = timed(walk.walk)
            sent = len(pms.uploads)
            print(
                f"walk over {len(scene_ids)} PMS items: {sent} images uploaded in {walk_s:.1f}s "
                f"= {sent / walk_s:.0f} uploads/s (no rate limit)"
            )
            again_walk_s, _ = timed(walk.walk)
            print(f"second walk, nothing to upload: {again_walk_s:.2f}s")
            artwork.close()
            client.close()
            db.close()
    finally:
        pms.stop()
        stash.terminate()
        stash.wait(timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
