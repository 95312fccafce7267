#!/usr/bin/env python3
"""Sync benchmark: a full sync of a large sample library, then a no-change incremental pass.

The sample Stash runs in its own process (as a real Stash would), so the figures for stashplex
are its own: wall time, scenes/s, peak RSS of this process, and the mirror's own share of the
time, i.e. everything except waiting for Stash's HTTP answers.

    .venv/bin/python scripts/bench_sync.py --scenes 100000
"""

from __future__ import annotations

import argparse
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
from tests.plugins.net import free_port, wait_for_port  # noqa: E402


class TimedClient(StashClient):
    """Counts the time spent waiting for Stash's answers (request sent -> body received)."""

    waited = 0.0
    calls = 0

    def _send(self, method, path, **kwargs):
        started = time.perf_counter()
        try:
            return super()._send(method, path, **kwargs)
        finally:
            self.waited += time.perf_counter() - started
            self.calls += 1


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_pass(syncer: Syncer, client: TimedClient, kind: str) -> tuple[float, float, object]:
    client.waited, client.calls = 0.0, 0
    started = time.perf_counter()
    report = syncer.run(kind)
    return time.perf_counter() - started, client.waited, report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenes", type=int, default=100_000)
    parser.add_argument("--page-size", type=int, default=500)
    args = parser.parse_args()

    port = free_port()
    started = time.perf_counter()
    stash = subprocess.Popen(
        [sys.executable, "-m", "stashplex", "sample-stash", "--scenes", str(args.scenes),
         "--port", str(port)],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_for_port(port, timeout=300)
        print(f"sample Stash with {args.scenes} scenes up in {time.perf_counter() - started:.1f}s")
        with tempfile.TemporaryDirectory() as tmp:
            settings = settings_module.load(
                None,
                {
                    "STASH_HOST": f"http://127.0.0.1:{port}",
                    "STASHPLEX_MIRROR_DATABASE": f"{tmp}/mirror.db",
                    "STASHPLEX_SYNC_PAGE_SIZE": str(args.page_size),
                    "STASHPLEX_STASH_TIMEOUT": "120",
                },
                search=False,
            )
            db = Database.open(settings.mirror.database)
            client = TimedClient(settings.stash.url, timeout=120)
            syncer = Syncer(client, db, settings)

            wall, waited, report = run_pass(syncer, client, "full")
            own = wall - waited
            print(
                f"full sync:        {report.added} scenes in {wall:.1f}s "
                f"({report.added / wall:.0f} scenes/s end to end), {client.calls} requests"
            )
            print(
                f"  waiting on Stash {waited:.1f}s; mirror's own work {own:.1f}s "
                f"({report.added / own:.0f} scenes/s)"
            )
            print(f"  peak RSS of stashplex: {peak_rss_mb():.0f} MB")
            size = Path(settings.mirror.database).stat().st_size / 1e6
            print(f"  mirror file: {size:.0f} MB")

            wall, waited, report = run_pass(syncer, client, "incremental")
            print(
                f"no-change incremental: {wall:.2f}s ({waited:.2f}s waiting on Stash, "
                f"{client.calls} requests, {report.unchanged} scenes re-read)"
            )

            wall, waited, report = run_pass(syncer, client, "sweep")
            print(
                f"sweep:            {wall:.1f}s ({waited:.1f}s waiting on Stash, "
                f"{report.unchanged} unchanged, {report.updated} updated)"
            )

            wall, waited, report = run_pass(syncer, client, "full")
            print(
                f"no-change full:   {wall:.1f}s ({waited:.1f}s waiting on Stash, "
                f"mirror's own work {wall - waited:.1f}s)"
            )
            print(f"peak RSS of stashplex overall: {peak_rss_mb():.0f} MB")
            client.close()
            db.close()
    finally:
        stash.terminate()
        stash.wait(timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
