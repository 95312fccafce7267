#!/usr/bin/env python3
"""Sync benchmark: full sync of a large sample library, then the passes that follow it.

The sample Stash runs in its own process (as a real Stash would). For each pass it prints:
- wall: the pass end to end;
- Stash answering: the sum of the times from sending a request to having its whole answer (the
  floor of any sync: it cannot finish before Stash has served every page);
- mirror's own work: the wall time the writing thread was busy, i.e. not waiting for the next
  page (decoding happens in the prefetch thread, overlapped with Stash answering the next page),
  and scenes per second of it;
- CPU seconds of stashplex (all its threads) and of the sample Stash: figures that load on the
  box moves less than wall times;
- peak RSS of both processes during the pass (the kernel's high-water mark, reset per pass).

    .venv/bin/python scripts/bench_sync.py --scenes 100000
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from stashplex import settings as settings_module  # noqa: E402
from stashplex.mirror import sync  # noqa: E402
from stashplex.mirror.db import Database  # noqa: E402
from stashplex.mirror.sync import Syncer, SyncReport  # noqa: E402
from stashplex.stash.client import StashClient  # noqa: E402
from tests.plugins.net import free_port, wait_for_port  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


class TimedClient(StashClient):
    """Adds up the time spent waiting for Stash's answers (request sent -> body received)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.waited = 0.0
        self.calls = 0
        self._count = threading.Lock()

    def _send(self, method, path, **kwargs):
        started = time.perf_counter()
        try:
            return super()._send(method, path, **kwargs)
        finally:
            with self._count:
                self.waited += time.perf_counter() - started
                self.calls += 1


class PageWaits:
    """Wraps the syncer's prefetching to add up how long the writer waited for pages."""

    def __init__(self) -> None:
        self.waited = 0.0
        self._prefetched = sync.prefetched

    def __call__(self, pages: Iterator) -> Iterator:
        source = self._prefetched(pages)
        while True:
            started = time.perf_counter()
            try:
                page = next(source)
            except StopIteration:
                self.waited += time.perf_counter() - started
                return
            self.waited += time.perf_counter() - started
            yield page


def cpu_seconds(pid: int | None = None) -> float:
    if pid is None:
        times = os.times()
        return times.user + times.system
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime


def reset_peak(pid: int | str = "self") -> None:
    with contextlib.suppress(OSError):
        Path(f"/proc/{pid}/clear_refs").write_text("5")  # resets VmHWM (Linux 4.0+)


def peak_rss_mb(pid: int | str = "self") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def run_pass(
    syncer: Syncer, client: TimedClient, waits: PageWaits, stash_pid: int, kind: str
) -> None:
    client.waited, client.calls, waits.waited = 0.0, 0, 0.0
    reset_peak()
    reset_peak(stash_pid)
    cpu, stash_cpu = cpu_seconds(), cpu_seconds(stash_pid)
    started = time.perf_counter()
    report: SyncReport = syncer.run(kind)
    wall = time.perf_counter() - started
    cpu, stash_cpu = cpu_seconds() - cpu, cpu_seconds(stash_pid) - stash_cpu
    scenes = report.added + report.updated + report.unchanged
    own = wall - waits.waited
    print(
        f"{kind + ':':<13} {wall:7.1f} s wall for {scenes} scenes "
        f"({report.added} added, {report.updated} updated, {report.unchanged} unchanged, "
        f"{report.removed} removed), {client.calls} requests"
    )
    print(
        f"  Stash answering {client.waited:6.1f} s (wall {wall / max(client.waited, 1e-9):.2f}x "
        f"of it); mirror's own work {own:6.1f} s ({scenes / max(own, 1e-9):,.0f} scenes/s)"
    )
    print(
        f"  CPU: stashplex {cpu:6.1f} s ({scenes / max(cpu, 1e-9):,.0f} scenes/s), "
        f"sample Stash {stash_cpu:6.1f} s; peak RSS: stashplex {peak_rss_mb():.0f} MB, "
        f"sample Stash {peak_rss_mb(stash_pid):.0f} MB"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenes", type=int, default=100_000)
    parser.add_argument("--page-size", type=int, default=500)
    parser.add_argument(
        "--passes",
        default="full,incremental,sweep,full",
        help="comma-separated passes after which the mirror is kept (default: %(default)s)",
    )
    args = parser.parse_args()

    with open("/proc/loadavg") as loadavg:
        print(f"load average before: {' '.join(loadavg.read().split()[:3])}")
    port = free_port()
    waits = PageWaits()
    started = time.perf_counter()
    stash = subprocess.Popen(
        [sys.executable, "-m", "stashplex", "sample-stash", "--scenes", str(args.scenes),
         "--port", str(port)],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    sync.prefetched = waits  # the Syncer looks it up at each pass
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
            for kind in args.passes.split(","):
                run_pass(syncer, client, waits, stash.pid, kind)
            size = Path(settings.mirror.database).stat().st_size / 1e6
            print(f"mirror file: {size:.0f} MB")
            client.close()
            db.close()
    finally:
        stash.terminate()
        stash.wait(timeout=30)
        sync.prefetched = waits._prefetched
    with open("/proc/loadavg") as loadavg:
        print(f"load average after: {' '.join(loadavg.read().split()[:3])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
