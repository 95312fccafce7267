#!/usr/bin/env python3
"""Re-render benchmark: what changing a `[metadata]` option costs on a filled mirror.

Fills a mirror from a sample Stash (in its own process), stops that Stash, then in a fresh
process runs the next sync pass with other document settings: the pass re-renders every stored
scene from the mirror's own rows (Stash is down, so nothing else happens) and prints the time,
scenes/s and that process's peak RSS, for the default options and for a heavy set (title
template with performers, every collection source, parent tags).

    .venv/bin/python scripts/bench_rerender.py --scenes 50000
"""

from __future__ import annotations

import argparse
import contextlib
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from stashplex import settings as settings_module  # noqa: E402
from stashplex.mirror.db import Database  # noqa: E402
from stashplex.mirror.sync import Syncer  # noqa: E402
from stashplex.stash.client import StashClient  # noqa: E402
from stashplex.stash.errors import StashError  # noqa: E402
from tests.plugins.sample_stash import start_sample_stash_process  # noqa: E402

HEAVY = {
    "STASHPLEX_METADATA_TITLE_FORMAT": "[{studio} - ]{title|code|filename}[ ({performers})]",
    "STASHPLEX_METADATA_COLLECTIONS": (
        'group, studio = "Site: ", parent_studio, network = "Network: ", performer, organized,'
        " tag:1, tag:2"
    ),
    "STASHPLEX_METADATA_PARENT_TAGS": "true",
    "STASHPLEX_METADATA_CAST_ORDER": "female_first",
    "STASHPLEX_METADATA_RATING": "user",
}
LIGHT = {"STASHPLEX_METADATA_CONTENT_RATING": "R18"}  # every document changes, nothing else


def load(database: str, stash_url: str, extra: dict[str, str]) -> settings_module.Settings:
    environ = {
        "STASH_HOST": stash_url,
        "STASHPLEX_MIRROR_DATABASE": database,
        "STASHPLEX_STASH_TIMEOUT": "120",
        **extra,
    }
    return settings_module.load(None, environ, search=False)


def render_pass(database: str, stash_url: str, heavy: bool) -> int:
    """In this (fresh) process: one pass with other settings, against a Stash that is down."""
    settings = load(database, stash_url, HEAVY if heavy else LIGHT)
    db = Database.open(settings.mirror.database)
    client = StashClient(settings.stash.url, timeout=1, retries=0)
    done: list[int] = []
    syncer = Syncer(client, db, settings, progress=lambda p, d, t: done.append(d))
    started = time.perf_counter()
    with contextlib.suppress(StashError):  # Stash is down: the render comes first
        syncer.run("incremental")
    wall = time.perf_counter() - started
    scenes = done[-1] if done else 0
    usage = resource.getrusage(resource.RUSAGE_SELF)
    rss, cpu = usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime
    name = "heavy options" if heavy else "content_rating"
    print(
        f"re-render ({name}): {scenes} scenes in {wall:.1f}s ({scenes / wall:.0f} scenes/s), "
        f"{cpu:.1f}s CPU in that process (start-up included), peak RSS {rss:.0f} MB"
    )
    client.close()
    db.close()
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenes", type=int, default=50_000)
    parser.add_argument("--render", metavar="DB", help=argparse.SUPPRESS)
    parser.add_argument("--stash-url", help=argparse.SUPPRESS)
    parser.add_argument("--heavy", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.render:
        return render_pass(args.render, args.stash_url, args.heavy)

    stash, url = start_sample_stash_process(args.scenes)
    with tempfile.TemporaryDirectory() as tmp:
        database = f"{tmp}/mirror.db"
        try:
            settings = load(database, url, {})
            db = Database.open(settings.mirror.database)
            client = StashClient(settings.stash.url, timeout=120)
            started = time.perf_counter()
            report = Syncer(client, db, settings).run("full")
            seconds = time.perf_counter() - started
            print(f"filled the mirror: {report.added} scenes in {seconds:.1f}s")
            client.close()
            db.close()
        finally:
            stash.terminate()
            stash.wait(timeout=30)
        me = [sys.executable, __file__, "--render", database, "--stash-url", url]
        subprocess.run(me, check=True)
        subprocess.run([*me, "--heavy"], check=True)
        subprocess.run(me, check=True)  # back from heavy to light: every document again
    return 0


if __name__ == "__main__":
    sys.exit(main())
