"""The image cache's budget: least recently used evicted first, kept under concurrent writes."""

from __future__ import annotations

import os
import threading
import time

from stashplex.web.imagecache import TOUCH_SECONDS, ImageCache


def test_writes_from_many_threads_keep_the_budget(tmp_path) -> None:
    cache = ImageCache(tmp_path, max_bytes=100_000)
    data = os.urandom(5_000)

    def write(worker: int) -> None:
        for n in range(30):
            cache.put("scene", worker * 1000 + n + 1, "1", data)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    on_disk = sum(p.stat().st_size for p in tmp_path.rglob("*") if p.is_file())
    assert on_disk <= 100_000 and cache.size() == on_disk
    assert on_disk >= 100_000 * 0.8 - 4 * 5_000  # pruned to 80%, not emptied


def test_the_least_recently_used_go_first(tmp_path) -> None:
    cache = ImageCache(tmp_path, max_bytes=35_000)
    data = os.urandom(10_000)
    old = int(time.time()) - 3 * TOUCH_SECONDS
    for scene_id in (1, 2, 3):
        stored = cache.put("scene", scene_id, "1", data)
        os.utime(stored.path, (old + scene_id, old + scene_id))  # fetched long ago, in order
    used = cache.get("scene", 1, "1")  # Plex asks for the oldest one: it becomes the newest
    assert used is not None and used.mtime_ns == (old + 1) * 10**9  # its ETag unchanged
    cache.put("scene", 4, "1", data)  # over the budget: down to 80% (two files go)
    assert cache.get("scene", 1, "1") is not None and cache.get("scene", 4, "1") is not None
    assert cache.get("scene", 2, "1") is None and cache.get("scene", 3, "1") is None
