#!/usr/bin/env python3
"""Doctor benchmark: the dry run of a scan over a large library, files per second.

A sample Stash with `--scenes` scenes (its own process), a full sync, then `--files` movie items
in the fake PMS (tests/plugins/fake_pms.py, over real HTTP on 127.0.0.1): a third at Stash's own
paths, a third under another mount point (found by the suffix tier), a third unknown to Stash.
It times `doctor.examine` (every check and the dry run, reading Plex 200 items a page) and the
dry run alone over the same paths without Plex, and prints the peak RSS.

    .venv/bin/python scripts/bench_doctor.py --scenes 20000 --files 20000
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from stashplex import doctor  # noqa: E402
from stashplex import settings as settings_module  # noqa: E402
from stashplex.checklist import render_text  # noqa: E402
from stashplex.dry_run import DryRunner  # noqa: E402
from stashplex.mirror.db import Database  # noqa: E402
from stashplex.mirror.sync import Syncer  # noqa: E402
from stashplex.stash.client import StashClient  # noqa: E402
from tests.plugins.fake_pms import TOKEN, FakePMS  # noqa: E402
from tests.plugins.net import free_port  # noqa: E402
from tests.plugins.sample_stash import start_sample_stash_process  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenes", type=int, default=20_000)
    parser.add_argument("--files", type=int, default=20_000, help="items in the Plex library")
    args = parser.parse_args()

    stash, stash_url = start_sample_stash_process(args.scenes)
    pms = FakePMS().start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            env = {
                "STASH_HOST": stash_url,
                "STASHPLEX_MIRROR_DATABASE": f"{tmp}/mirror.db",
                "STASHPLEX_MIRROR_POSTER_DIR": f"{tmp}/posters",
                "STASHPLEX_STASH_TIMEOUT": "120",
                "PLEX_URL": pms.url,
                "PLEX_TOKEN": TOKEN,
                # Nothing listens here: the provider line fails, the rest is what is measured.
                "AGENT_BASE_URL": f"http://127.0.0.1:{free_port()}",
            }
            settings = settings_module.load(None, env, search=False)
            db = Database.open(settings.mirror.database)
            client = StashClient.from_settings(settings)
            started = time.perf_counter()
            report = Syncer(client, db, settings).run("full")
            print(f"full sync of {report.added} scenes: {time.perf_counter() - started:.1f}s")
            with db.reader.connect() as connection:
                paths = list(
                    connection.exec_driver_sql(
                        "SELECT path FROM files WHERE position = 0 ORDER BY scene_id"
                    ).scalars()
                )
            files = []
            for n in range(args.files):
                path = paths[n % len(paths)]
                kind = n % 3
                if kind == 1:
                    path = "/mnt/media" + path.removeprefix("/data/stash")
                elif kind == 2:
                    path = f"/mnt/media/New/{n}/unknown {n}.mp4"
                files.append(path)
                pms.add_file(path)

            started = time.perf_counter()
            checked = doctor.examine(settings)
            whole = time.perf_counter() - started
            dry = [c.text for c in checked.checks if "would match" in c.text]
            print(f"doctor.examine with a dry run of {args.files} Plex items: {whole:.1f}s")
            print(f"  {dry[0] if dry else render_text(checked)}")
            pages = len(pms.requests("GET", "/library/sections/1/all"))
            print(f"  {args.files / whole:,.0f} files/s end to end, {pages} pages from Plex")

            runner = DryRunner(settings, db)
            started = time.perf_counter()
            result = runner.run(files, tv=False)
            alone = time.perf_counter() - started
            runner.close()
            print(
                f"dry run alone (no Plex): {alone:.2f}s, {args.files / alone:,.0f} files/s; "
                f"{result.matched} matched, {len(result.unmatched)} unmatched"
            )
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            print(f"peak RSS of this process (sync, fake PMS and doctor together): {peak:.0f} MB")
            client.close()
            db.close()
    finally:
        pms.stop()
        stash.terminate()
        stash.wait(10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
