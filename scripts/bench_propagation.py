#!/usr/bin/env python3
"""Propagation benchmark: how long an edit in Stash takes to reach stashplex and Plex.

Everything runs for real on 127.0.0.1: the sample Stash (in this process) with the plugin from
stash-plugin/stashplex/ installed, so every edit made through its control route runs the
plugin's hook as Stash does (one Python process per object, one after another); `stashplex
serve` in its own process with the webhook on, refresh-on-change on and the scheduled syncs an
hour apart (only the plugin can bring an edit in time); and the fake PMS from the tests, which
holds every scene so that each changed one is refreshed.

For each edit it measures, from the moment the edit is made in Stash:
- `title`: until `GET /library/metadata/scene-<id>` answers the new title;
- `refresh`: until the fake PMS receives `PUT /library/metadata/<key>/refresh` for that scene;
and prints the median and the worst over
- `single`: `--single` edits of one scene each, one after the other, a few seconds apart (each
  waits for the last, then for stashplex to see it as an edit of its own, not a stream);
- `bulk`: one bulk edit of `--bulk` scenes (Stash's bulk scene update: one hook per scene).

    .venv/bin/python scripts/bench_propagation.py                 # 5,000 scenes, 10 + 1,000
    .venv/bin/python scripts/bench_propagation.py --single 20 --bulk 200
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import closing
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from stashplex.change_queue import STREAM_GAP  # noqa: E402
from stashplex.mirror.db import Database  # noqa: E402
from stashplex.mirror.plex_links import PlexLinks  # noqa: E402
from stashplex.samplestash import SampleStash  # noqa: E402
from tests.plugins.daemon import wait_until  # noqa: E402
from tests.plugins.fake_pms import TOKEN as PLEX_TOKEN  # noqa: E402
from tests.plugins.fake_pms import FakePMS  # noqa: E402
from tests.plugins.net import LOOPBACK, free_port, wait_for_port  # noqa: E402

PLUGIN = ROOT / "stash-plugin" / "stashplex"
WEBHOOK_TOKEN = "bench-propagation-token"
POLL = 0.02


def plex_keys(database: Path) -> dict[int, str]:
    with closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as db:
        return dict(db.execute("SELECT scene_id, plex_key FROM plex_items").fetchall())


def start_service(stash: SampleStash, pms: FakePMS, data: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "STASH_HOST": stash.url,
        "STASHPLEX_PLEXAGENTSERVER_HOST": LOOPBACK,
        "STASHPLEX_PLEXAGENTSERVER_PORT": str(port),
        "STASHPLEX_MIRROR_DATABASE": str(data / "mirror.db"),
        "STASHPLEX_MIRROR_POSTER_DIR": str(data / "posters"),
        "STASHPLEX_SYNC_INTERVAL_MINUTES": "60",
        "STASHPLEX_SYNC_WEBHOOK_TOKEN": WEBHOOK_TOKEN,
        "PLEX_URL": pms.url,
        "PLEX_TOKEN": PLEX_TOKEN,
        "STASHPLEX_PLEX_REFRESH_ON_CHANGE": "true",
    }
    log = (data / "serve.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "stashplex.cli", "serve"],
        env=env,
        cwd=data,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    wait_for_port(port, timeout=60)
    return process, f"http://{LOOPBACK}:{port}"


def measure(
    stash: SampleStash,
    http: httpx.Client,
    pms: FakePMS,
    keys: dict[int, str],
    edits: dict[int, str],
    bulk: bool,
    timeout: float,
) -> tuple[list[float], list[float]]:
    """Make the edits (scene id -> new title); seconds to each title and each refresh."""
    already = len(pms.requests("PUT"))
    started = time.monotonic()
    if bulk:
        title = next(iter(edits.values()))
        stash.control("edit_scenes", {"ids": list(edits), "title": title})
    else:
        ((scene_id, title),) = edits.items()
        stash.control("edit_scene", {"id": scene_id, "title": title})
    titles: dict[int, float] = {}
    refreshes: dict[int, float] = {}
    wanted = {keys[scene_id]: scene_id for scene_id in edits}
    deadline = started + timeout
    # Each remaining scene is asked about at most every `period` seconds: a thousand requests
    # a round would take the CPU the hooks and the syncs need.
    period = POLL if len(edits) == 1 else 0.5
    while (len(titles) < len(edits) or len(refreshes) < len(edits)) and (
        time.monotonic() < deadline
    ):
        round_started = time.monotonic()
        for scene_id in [s for s in edits if s not in titles]:
            answer = http.get(f"/library/metadata/scene-{scene_id}")
            if answer.status_code == 200 and (
                answer.json()["MediaContainer"]["Metadata"][0].get("title") == edits[scene_id]
            ):
                titles[scene_id] = time.monotonic() - started
        for seen in pms.requests("PUT")[already:]:
            key = seen.path.split("/")[3]
            scene_id = wanted.get(key)
            if scene_id is not None and scene_id not in refreshes:
                refreshes[scene_id] = seen.at - started
        time.sleep(max(POLL, period - (time.monotonic() - round_started)))
    missing = len(edits) - min(len(titles), len(refreshes))
    if missing:
        print(f"  ! {missing} edits not seen within {timeout:.0f}s", flush=True)
    return list(titles.values()), list(refreshes.values())


def line(name: str, values: list[float]) -> str:
    if not values:
        return f"  {name:<8} (none)"
    return (
        f"  {name:<8} median {statistics.median(values):6.2f} s   worst {max(values):6.2f} s"
        f"   ({len(values)} edits)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenes", type=int, default=5000, help="scenes in the sample Stash")
    parser.add_argument("--single", type=int, default=10, help="single edits, one by one")
    parser.add_argument("--bulk", type=int, default=1000, help="scenes in the bulk edit")
    parser.add_argument("--timeout", type=float, default=900, help="seconds to wait per run")
    args = parser.parse_args()
    if args.bulk + args.single > args.scenes:
        parser.error("--scenes must hold the single and bulk edits")

    with tempfile.TemporaryDirectory(prefix="bench-propagation-") as folder:
        data = Path(folder)
        stash = SampleStash(args.scenes, host=LOOPBACK).start()
        pms = FakePMS().start()
        process, url = start_service(stash, pms, data)
        http = httpx.Client(base_url=url, timeout=30)
        try:
            wait_until(
                lambda: http.get("/health").json()["mirror"]["scenes"] == args.scenes,
                600,
                "the first sync",
            )
            ids = stash.library.scene_ids()
            single_ids, bulk_ids = ids[: args.single], ids[args.single : args.single + args.bulk]
            # PMS holds every scene, and stashplex knows their keys, as after a restart (it
            # learns them one by one as PMS asks for metadata: minutes for a thousand).
            database = Database.open(data / "mirror.db")
            links = PlexLinks(database)
            for scene_id in single_ids + bulk_ids:
                links.found(scene_id, pms.add_scene(scene_id))
            database.close()
            keys = plex_keys(data / "mirror.db")
            hooks = stash.install_plugin(
                PLUGIN, {"stashplexUrl": url, "webhookToken": WEBHOOK_TOKEN}
            )
            print(
                f"sample Stash {args.scenes:,} scenes; stashplex serve {url}; "
                f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores",
                flush=True,
            )

            titles: list[float] = []
            refreshes: list[float] = []
            for number, scene_id in enumerate(single_ids):
                t, r = measure(
                    stash, http, pms, keys, {scene_id: f"single {number}"}, False, args.timeout
                )
                titles += t
                refreshes += r
                hooks.drain(60)
                time.sleep(STREAM_GAP + 0.5)
            hook_seconds = [run.seconds for run in hooks.runs]
            print(f"single edit (x{len(single_ids)}):", flush=True)
            print(line("title", titles))
            print(line("refresh", refreshes))
            print(line("hook", hook_seconds), "<- the plugin process alone", flush=True)

            if bulk_ids:
                runs_before = len(hooks.runs)
                finished: list[float] = []
                hooks.on_run.append(lambda run: finished.append(time.monotonic()))
                started = time.monotonic()
                edits = {scene_id: "bulk edit" for scene_id in bulk_ids}
                titles, refreshes = measure(stash, http, pms, keys, edits, True, args.timeout)
                hooks.drain(args.timeout)
                hooks_done = max(finished) - started
                log = (data / "serve.log").read_text(errors="replace")
                passes = log.count("changes sync:")
                print(f"bulk edit of {len(bulk_ids):,} scenes:")
                print(line("title", titles))
                print(line("refresh", refreshes))
                print(
                    f"  hooks    {len(hooks.runs) - runs_before:,} plugin runs, the last done "
                    f"after {hooks_done:.1f} s; {passes} targeted syncs in all (singles included)"
                )
        finally:
            http.close()
            process.terminate()
            process.wait(30)
            stash.stop()
            pms.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
