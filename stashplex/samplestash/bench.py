"""Measure the sample Stash: start-up time, memory, and full-field page times over HTTP.

    python -m stashplex.samplestash.bench --scenes 100000 [--pages 20] [--sweep]

Run once per library size (a fresh process gives an honest RSS figure).
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time

import httpx

from .instance import SampleStash

FULL_PAGE = """
query Page($filter: FindFilterType, $scene_filter: SceneFilterType) {
  findScenes(filter: $filter, scene_filter: $scene_filter) {
    scenes {
      id title code details director urls date rating100 organized o_counter
      created_at updated_at
      files { id path basename size duration width height frame_rate bit_rate
              video_codec audio_codec mod_time updated_at fingerprints { type value } }
      paths { screenshot }
      studio { id name parent_studio { id name } }
      performers { id name disambiguation gender }
      tags { id name }
      groups { scene_index group { id name } }
      stash_ids { endpoint stash_id }
      scene_markers { id title seconds end_seconds primary_tag { id name } }
    }
  }
}
"""
ID_PAGE = """
query Ids($filter: FindFilterType, $scene_filter: SceneFilterType) {
  findScenes(filter: $filter, scene_filter: $scene_filter) { scenes { id files { path } } }
}
"""


def rss_mb() -> float:
    """Current resident set size (Linux), falling back to the peak."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def page(client: httpx.Client, query: str, after: int, per_page: int) -> list[int]:
    variables = {
        "filter": {"per_page": per_page, "sort": "id", "direction": "ASC"},
        "scene_filter": {"id": {"value": after, "modifier": "GREATER_THAN"}},
    }
    response = client.post("/graphql", json={"query": query, "variables": variables})
    response.raise_for_status()
    return [int(s["id"]) for s in response.json()["data"]["findScenes"]["scenes"]]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="samplestash-bench", description=__doc__)
    parser.add_argument("--scenes", type=int, default=100_000)
    parser.add_argument("--pages", type=int, default=20, help="full-field pages to time")
    parser.add_argument("--per-page", type=int, default=500)
    parser.add_argument("--sweep", action="store_true", help="also time a full keyset sweep")
    args = parser.parse_args(argv)

    before = rss_mb()
    started = time.perf_counter()
    stash = SampleStash(args.scenes).start()
    startup = time.perf_counter() - started
    print(f"scenes={args.scenes} start-up={startup:.3f}s rss={rss_mb():.1f}MB "
          f"(interpreter+imports {before:.1f}MB)")  # fmt: skip
    headers = {"Accept": "application/json"}
    try:
        with httpx.Client(base_url=stash.url, headers=headers, timeout=60) as client:
            times, last = [], args.scenes // 2
            for _ in range(args.pages):
                t = time.perf_counter()
                ids = page(client, FULL_PAGE, last, args.per_page)
                times.append(time.perf_counter() - t)
                last = ids[-1] if ids else 0
            median = statistics.median(times) * 1000
            print(
                f"full-field page of {args.per_page}: median {median:.1f}ms"
                f" min {min(times) * 1000:.1f}ms max {max(times) * 1000:.1f}ms"
            )
            if args.sweep:
                for query, per_page, label in (
                    (FULL_PAGE, args.per_page, "full-field"),
                    (ID_PAGE, 5000, "id+path"),
                ):
                    t, last, total = time.perf_counter(), 0, 0
                    while ids := page(client, query, last, per_page):
                        total += len(ids)
                        last = ids[-1]
                    seconds = time.perf_counter() - t
                    print(f"{label} keyset sweep: {total} scenes in {seconds:.1f}s")
        print(f"rss after queries={rss_mb():.1f}MB")
    finally:
        stash.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
