#!/usr/bin/env python3
"""Scan storm: a 100,000-scene mirror, 16 Plex-like clients, a full sync and a sweep at once.

Three processes on 127.0.0.1, as in production:
- the sample Stash (`stashplex sample-stash`, 100,000 scenes), the syncs' source;
- `stashplex serve` over a mirror already synced from it (the pristine copy is built once
  and kept in `--data`), with its default settings (16 request threads, `--threads` to change);
- this driver: `--clients` keep-alive connections in a closed loop (one selector thread, so
  the load generator costs little CPU next to the server), each sending the next request as
  soon as the previous answer is complete, for `--seconds`.

The request mix is what a library scan sends: matches (`POST /library/metadata/matches` with
the file's full path, half under another mount point), metadata (`GET
/library/metadata/scene-N`) and images (screenshots, on-demand posters, performer, studio
and group pictures) of random scenes, nearly all not cached yet, so they go to Stash.

Before the storm a batch of changes goes to Stash (edits, studio and tag renames, new and
deleted scenes); when the storm starts, the service is told (SIGUSR1, through a bench-only
hook in the child) to run a full sync and then a sweep, exactly as its scheduler would, and
15 s later a second batch (moved files, more deletions) lands mid-pass for the sweep to find.

Reported: requests answered, by kind and status; errors (5xx, and "database is locked"
anywhere in the service's log); p50/p99 latency; the service's RSS at the start, the end and
its peak (VmHWM); how long the passes took.

    .venv/bin/python scripts/bench_storm.py                       # 100k scenes, 16 clients, 60 s
    .venv/bin/python scripts/bench_storm.py --rounds 3                # the same storm 3 times
    .venv/bin/python scripts/bench_storm.py --scenes 20000 --seconds 20
    .venv/bin/python scripts/bench_storm.py --hold 120               # and 120 idle/slow connections
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import re
import selectors
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from bench_serve import percentile, request_bytes, rss_kb  # noqa: E402  (this folder: run as a script)

from stashplex import settings as settings_module  # noqa: E402
from stashplex.mirror.db import Database  # noqa: E402
from stashplex.mirror.sync import Syncer  # noqa: E402
from stashplex.samplestash.library import Library  # noqa: E402
from stashplex.stash.client import StashClient  # noqa: E402
from tests.plugins.net import LOOPBACK, free_port, wait_for_port  # noqa: E402
from tests.plugins.sample_stash import start_sample_stash_process  # noqa: E402

STASH_ROOT = "/data/stash"
PLEX_ROOT = "/mnt/plex/media"
SEED = 1
# Kinds of request, with their share of the mix.
MIX = (
    ("match", 0.40),
    ("metadata", 0.40),
    ("screenshot", 0.08),
    ("poster", 0.04),
    ("performer", 0.04),
    ("studio", 0.02),
    ("group", 0.02),
)
# Bench-only: SIGUSR1 makes the service queue a full sync and a sweep on its own scheduler.
SERVE_HOOK = """
import signal, sys
import stashplex.daemon as _daemon
_start_background = _daemon.Service.start_background
def _start(self):
    _start_background(self)
    def _storm(signum, frame):
        self.scheduler.run_now("full")
        self.scheduler.run_now("sweep")
    signal.signal(signal.SIGUSR1, _storm)
_daemon.Service.start_background = _start
from stashplex.cli import main
sys.exit(main(["serve"]))
"""


# --- the processes -------------------------------------------------------------------------------


def start_stash(scenes: int, port: int) -> subprocess.Popen[bytes]:
    process, _url = start_sample_stash_process(scenes, "--seed", str(SEED), port=port)
    return process


def mirror_settings(database: Path, stash_url: str) -> settings_module.Settings:
    return settings_module.load(
        None,
        {
            "STASH_HOST": stash_url,
            "STASHPLEX_MIRROR_DATABASE": str(database),
            "STASHPLEX_STASH_TIMEOUT": "120",
        },
        search=False,
    )


def pristine_mirror(data: Path, scenes: int, stash_url: str) -> Path:
    """A mirror fully synced from the untouched sample library, built once and kept."""
    pristine = data / f"pristine-{scenes}.db"
    if pristine.exists():
        return pristine
    print(f"building the {scenes}-scene mirror once (a full sync)...", flush=True)
    building = data / "building.db"
    for leftover in data.glob("building.db*"):
        leftover.unlink()
    settings = mirror_settings(building, stash_url)
    db = Database.open(building)
    started = time.perf_counter()
    with StashClient(stash_url, timeout=120) as client:
        Syncer(client, db, settings).run("full")
    db.close()
    with contextlib.closing(sqlite3.connect(building)) as connection:  # one file to copy
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    building.rename(pristine)
    print(f"  built in {time.perf_counter() - started:.0f}s", flush=True)
    return pristine


def start_service(
    data: Path,
    stash_url: str,
    port: int,
    log: Path,
    threads: int | None = None,
    debug: bool = False,
) -> subprocess.Popen:
    env = {
        **({"STASHPLEX_PLEXAGENTSERVER_NUM_WORKERS": str(threads)} if threads else {}),
        **({"DEBUG": "true"} if debug else {}),
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "STASH_HOST": stash_url,
        "STASHPLEX_PLEXAGENTSERVER_HOST": LOOPBACK,
        "STASHPLEX_PLEXAGENTSERVER_PORT": str(port),
        "STASHPLEX_MIRROR_DATABASE": str(data / "mirror.db"),
        "STASHPLEX_MIRROR_POSTER_DIR": str(data / "posters"),
    }
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-c", SERVE_HOOK], env=env, cwd=data, stdout=out, stderr=out
        )
    wait_for_port(port, 120)
    return process


# --- changes in Stash ----------------------------------------------------------------------------


def control(http: httpx.Client, op: str, **args: object) -> None:
    response = http.post("/__sample/control", json={"op": op, "args": args})
    response.raise_for_status()


def controls(http: httpx.Client, calls: list[tuple[str, dict[str, object]]]) -> int:
    """Many control calls, a few at a time; returns how many Stash accepted (a scene deleted
    earlier cannot be moved)."""

    def one(call: tuple[str, dict[str, object]]) -> bool:
        try:
            control(http, call[0], **call[1])
        except httpx.HTTPStatusError:
            return False
        return True

    with ThreadPoolExecutor(8) as pool:
        return sum(pool.map(one, calls))


def first_batch(
    http: httpx.Client, scenes: int, rng: random.Random, number: int = 1
) -> dict[str, int]:
    """Edits, renames and additions the full sync must write; deletions it must find."""
    control(http, "advance", seconds=600)
    edited = rng.sample(range(1, scenes + 1), 3000)
    done = {
        "edited": controls(
            http,
            [("edit_scene", {"id": i, "title": f"Storm {number} edit {i}"}) for i in edited],
        ),
        "renamed": controls(
            http,
            [("rename_studio", {"id": i, "name": f"Studio {i} r{number}"}) for i in range(1, 11)]
            + [("rename_tag", {"id": i, "name": f"Tag {i} r{number}"}) for i in range(1, 11)],
        ),
    }
    control(http, "add_scenes", count=1000)
    done["added"] = 1000
    kept = set(edited)
    gone = [i for i in rng.sample(range(1, scenes + 1), 500) if i not in kept]
    done["deleted"] = controls(http, [("delete_scene", {"id": i}) for i in gone])
    return done


def second_batch(http: httpx.Client, scenes: int, rng: random.Random) -> dict[str, int]:
    """Moved files and deletions, mid-pass: the sweep's work."""
    control(http, "advance", seconds=60)
    moves = [
        ("move_file", {"file_id": 2 * i - 1, "basename": f"moved {i}.mp4"})
        for i in rng.sample(range(1, scenes + 1), 500)
    ]
    deletions = [("delete_scene", {"id": i}) for i in rng.sample(range(1, scenes + 1), 300)]
    return {"moved": controls(http, moves), "deleted": controls(http, deletions)}


# --- the load ------------------------------------------------------------------------------------


def build_requests(
    library: Library, scenes: int, port: int, count: int, only: list[str] | None = None
) -> list[tuple[str, bytes]]:
    rng = random.Random(42)
    kinds = [kind for kind, _share in MIX if not only or kind in only]
    weights = [share for kind, share in MIX if not only or kind in only]
    out = []
    for _ in range(count):
        kind = rng.choices(kinds, weights)[0]
        scene_id = rng.randint(1, scenes)
        if kind == "match":
            path = library.scene_paths(scene_id)[0]
            if rng.random() < 0.5:  # Plex sees the files under another mount point
                path = PLEX_ROOT + path.removeprefix(STASH_ROOT)
            body = json.dumps({"type": 1, "filename": path, "title": "x"}).encode()
            out.append((kind, request_bytes("POST", "/library/metadata/matches", port, body)))
        elif kind == "metadata":
            out.append((kind, request_bytes("GET", f"/library/metadata/scene-{scene_id}", port)))
        elif kind == "screenshot":
            out.append((kind, request_bytes("GET", f"/stash/scene/{scene_id}/screenshot", port)))
        elif kind == "poster":
            out.append((kind, request_bytes("GET", f"/stash/scene/{scene_id}/poster", port)))
        else:
            entity = rng.randint(1, {"performer": 2000, "studio": 300, "group": 200}[kind])
            name = {"performer": "image", "studio": "image", "group": "front"}[kind]
            out.append((kind, request_bytes("GET", f"/stash/{kind}/{entity}/{name}", port)))
    return out


@dataclass
class Conn:
    sock: socket.socket
    kind: str = ""
    started: float = 0.0
    buffer: bytearray = field(default_factory=bytearray)
    index: int = 0


@dataclass
class Results:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: Counter = field(default_factory=Counter)
    by_kind: Counter = field(default_factory=Counter)
    reasons: Counter = field(default_factory=Counter)  # (kind, description) of each 5xx
    reconnects: int = 0


def _connect(port: int) -> socket.socket:
    sock = socket.create_connection((LOOPBACK, port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.setblocking(False)
    return sock


def drive(port: int, requests: list[tuple[str, bytes]], clients: int, seconds: float) -> Results:
    selector = selectors.DefaultSelector()
    results = Results()
    total = len(requests)
    end = time.perf_counter() + seconds

    def send(conn: Conn) -> None:
        kind, data = requests[conn.index % total]
        conn.index += clients
        conn.kind, conn.started = kind, time.perf_counter()
        conn.sock.sendall(data)

    conns = []
    for offset in range(clients):
        conn = Conn(_connect(port), index=offset)
        conns.append(conn)
        selector.register(conn.sock, selectors.EVENT_READ, conn)
        send(conn)
    active = len(conns)
    while active:
        for key, _events in selector.select(timeout=30):
            conn: Conn = key.data
            chunk = conn.sock.recv(1 << 18)
            if not chunk:  # the server closed this connection: open another
                selector.unregister(conn.sock)
                conn.sock.close()
                results.reconnects += 1
                conn.sock, conn.buffer = _connect(port), bytearray()
                selector.register(conn.sock, selectors.EVENT_READ, conn)
                send(conn)
                continue
            conn.buffer += chunk
            head_end = conn.buffer.find(b"\r\n\r\n")
            if head_end < 0:
                continue
            head = bytes(conn.buffer[:head_end]).lower()
            match = re.search(rb"content-length:\s*(\d+)", head)
            length = int(match[1]) if match else 0
            if len(conn.buffer) < head_end + 4 + length:
                continue
            done = time.perf_counter()
            status = int(head[9:12])
            results.statuses[status] += 1
            results.by_kind[conn.kind, status] += 1
            results.latencies[conn.kind].append(done - conn.started)
            if status >= 500:
                body = bytes(conn.buffer[head_end + 4 : head_end + 4 + length])
                at = int(done - (end - seconds))
                results.reasons[conn.kind, f"{_description(body)} (at {at} s)"] += 1
            del conn.buffer[: head_end + 4 + length]
            if done < end:
                send(conn)
            else:
                selector.unregister(conn.sock)
                conn.sock.close()
                active -= 1
    return results


class Held:
    """`count` connections held open during the storm, as a hostile or broken client would: a
    third idle after one answered request, a third sending a header line every second, a
    third with a body announced and never sent."""

    def __init__(self, port: int, count: int) -> None:
        self.socks: list[tuple[str, socket.socket]] = []
        self.stop = threading.Event()
        for i in range(count):
            sock = socket.create_connection((LOOPBACK, port), timeout=30)
            kind = ("idle", "trickle", "half")[i % 3]
            if kind == "idle":
                sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
                sock.recv(65536)
            elif kind == "trickle":
                sock.sendall(b"GET / HTTP/1.1\r\n")
            else:
                sock.sendall(
                    b"POST /library/metadata/matches HTTP/1.1\r\nHost: x\r\n"
                    b"Content-Length: 1000\r\n\r\n{"
                )
            self.socks.append((kind, sock))
        self.thread = threading.Thread(target=self._trickle, daemon=True)
        self.thread.start()

    def _trickle(self) -> None:
        n = 0
        while not self.stop.wait(1.0):
            n += 1
            for kind, sock in self.socks:
                if kind == "trickle":
                    with contextlib.suppress(OSError):
                        sock.sendall(b"X-Slow-%d: %d\r\n" % (n, n))

    def open_now(self) -> int:
        """How many the server has not closed."""
        alive = 0
        for _kind, sock in self.socks:
            sock.setblocking(False)
            try:
                alive += sock.recv(1, socket.MSG_PEEK) != b""
            except BlockingIOError:
                alive += 1  # nothing to read: still open
            except OSError:
                pass
        return alive

    def close(self) -> None:
        self.stop.set()
        self.thread.join(5)
        for _kind, sock in self.socks:
            sock.close()


def _description(body: bytes) -> str:
    try:
        return str(json.loads(body)["error"].get("reason", ""))
    except (ValueError, KeyError, TypeError, AttributeError):
        return body[:80].decode("utf-8", "replace")


# --- main ----------------------------------------------------------------------------------------


_T0 = time.monotonic()


def note(text: str) -> None:
    print(f"[{time.monotonic() - _T0:6.1f}s] {text}", file=sys.stderr, flush=True)


@dataclass
class Round:
    results: Results
    changed_before: dict[str, int]
    changed_during: dict[str, int]
    passes: list[tuple[str, str]]
    passes_seconds: float
    rss_start: int
    rss_end: int
    rss_rest: int
    rss_samples: list[int]


def storm_round(
    args: argparse.Namespace,
    number: int,
    service: subprocess.Popen,
    stash_url: str,
    serve_port: int,
    requests: list[tuple[str, bytes]],
    log: Path,
) -> Round:
    """Changes in Stash, then the storm with a full sync and a sweep under it."""
    with httpx.Client(base_url=stash_url, timeout=30) as stash_http:
        before = first_batch(stash_http, args.scenes, random.Random(7 + number), number)
    note(f"round {number}: Stash changed: {before}")
    seen_passes = len(re.findall(r"sweep sync: ", log.read_text()))
    rss_start = rss_kb(service.pid)[0]
    started = time.monotonic()
    if not args.no_sync:
        service.send_signal(signal.SIGUSR1)  # a full sync, then a sweep
    during: dict[str, int] = {}

    def mid_pass() -> None:
        time.sleep(15)
        with httpx.Client(base_url=stash_url, timeout=30) as stash_http:
            during.update(second_batch(stash_http, args.scenes, random.Random(80 + number)))

    changer = threading.Thread(target=mid_pass, daemon=True)
    changer.start()
    samples: list[int] = []
    sampling = threading.Event()

    def sample_rss() -> None:
        while not sampling.wait(1.0):
            samples.append(rss_kb(service.pid)[0])

    sampler = threading.Thread(target=sample_rss, daemon=True)
    sampler.start()
    held = Held(serve_port, args.hold) if args.hold else None
    try:
        results = drive(serve_port, requests, args.clients, args.seconds)
    finally:
        if held is not None:
            note(f"round {number}: {held.open_now()} of {args.hold} held connections still open")
            held.close()
    rss_end = rss_kb(service.pid)[0]
    changer.join()
    # Let the passes finish (they may outlast the storm), then measure again at rest.
    deadline = time.monotonic() + (0 if args.no_sync else 600)
    while time.monotonic() < deadline:
        if len(re.findall(r"sweep sync: ", log.read_text())) > seen_passes:
            break
        time.sleep(0.5)
    passes_seconds = time.monotonic() - started
    sampling.set()
    sampler.join()
    text = log.read_text(errors="replace")
    passes = re.findall(r"(full|sweep) sync: (.*)", text)[-2:] if not args.no_sync else []
    return Round(
        results,
        before,
        during,
        passes,
        passes_seconds,
        rss_start,
        rss_end,
        rss_kb(service.pid)[0],
        samples,
    )


def report(args: argparse.Namespace, number: int, found: Round) -> dict[str, object]:
    results = found.results
    served = sum(results.statuses.values())
    every = [v for values in results.latencies.values() for v in values]
    errors_5xx = sum(n for status, n in results.statuses.items() if status >= 500)
    print(f"\n--- round {number} ---")
    print(f"requests answered: {served} in {args.seconds:g}s ({served / args.seconds:.0f}/s)")
    print(f"statuses: {dict(sorted(results.statuses.items()))}; reconnects: {results.reconnects}")
    print(
        f"latency: p50 {statistics.median(every) * 1000:.1f} ms, "
        f"p99 {percentile(every, 0.99) * 1000:.1f} ms"
    )
    print(f"{'kind':<11} {'count':>7} {'p50 ms':>8} {'p99 ms':>8}  statuses")
    for kind, _share in MIX:
        values = results.latencies.get(kind, [])
        statuses = {s: n for (k, s), n in results.by_kind.items() if k == kind}
        p50 = statistics.median(values) * 1000 if values else 0.0
        print(
            f"{kind:<11} {len(values):>7} {p50:>8.1f} {percentile(values, 0.99) * 1000:>8.1f}  "
            f"{dict(sorted(statuses.items()))}"
        )
    for (kind, reason), count in sorted(results.reasons.items()):
        print(f"5xx {kind}: {count} x {reason}")
    print(f"passes: {found.passes}; done {found.passes_seconds:.0f}s after the storm began")
    print(f"Stash changed before: {found.changed_before}; mid-pass: {found.changed_during}")
    print(
        f"RSS: {found.rss_start / 1024:.0f} MB at the start, {found.rss_end / 1024:.0f} MB at "
        f"the end of the storm, {found.rss_rest / 1024:.0f} MB after the passes "
        f"(during: {min(found.rss_samples, default=0) / 1024:.0f}-"
        f"{max(found.rss_samples, default=0) / 1024:.0f} MB)"
    )
    return {
        "round": number,
        "served": served,
        "seconds": args.seconds,
        "statuses": dict(results.statuses),
        "errors_5xx": errors_5xx,
        "p50_ms": statistics.median(every) * 1000,
        "p99_ms": percentile(every, 0.99) * 1000,
        "p99_ms_by_kind": {k: percentile(v, 0.99) * 1000 for k, v in results.latencies.items()},
        "rss_kb": {"start": found.rss_start, "end": found.rss_end, "rest": found.rss_rest},
        "passes": found.passes,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenes", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--rounds", type=int, default=1, help="storms in a row (memory trend)")
    parser.add_argument("--data", type=Path, default=None, help="folder for the mirrors (kept)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON too")
    parser.add_argument("--no-sync", action="store_true", help="the storm without the passes")
    parser.add_argument(
        "--only", nargs="+", choices=[kind for kind, _ in MIX], help="only these request kinds"
    )
    parser.add_argument("--threads", type=int, default=None, help="the service's threads")
    parser.add_argument("--debug", action="store_true", help="the service logs each Stash call")
    parser.add_argument(
        "--hold",
        type=int,
        default=0,
        metavar="N",
        help="hold N more connections open during the storm (idle, trickling, half-sent)",
    )
    args = parser.parse_args()

    data = args.data or Path(tempfile.gettempdir()) / f"stashplex-storm-{args.scenes}"
    data.mkdir(parents=True, exist_ok=True)
    stash_port, serve_port = free_port(), free_port()
    stash_url = f"http://{LOOPBACK}:{stash_port}"
    stash = start_stash(args.scenes, stash_port)
    service = None
    figures = []
    try:
        pristine = pristine_mirror(data, args.scenes, stash_url)
        run = data / "run"
        shutil.rmtree(run, ignore_errors=True)
        run.mkdir()
        shutil.copyfile(pristine, run / "mirror.db")
        log = run / "serve.log"
        service = start_service(run, stash_url, serve_port, log, args.threads, args.debug)
        with httpx.Client(base_url=f"http://{LOOPBACK}:{serve_port}", timeout=30) as http:
            # The boot sync (incremental, nothing to do) first: the storm's passes are alone.
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                last = http.get("/health").json()["sync"]["last_run"] or {}
                if last.get("kind") == "incremental" and last.get("result") != "running":
                    break
                time.sleep(0.2)
        rss_boot = rss_kb(service.pid)[0]
        library = Library(args.scenes, SEED, clock="real")
        requests = build_requests(library, args.scenes, serve_port, 50_000, args.only)
        print(
            f"storm: {args.clients} clients for {args.seconds:g}s against {args.scenes} scenes, "
            f"{args.rounds} round(s); service RSS after boot {rss_boot / 1024:.0f} MB",
            flush=True,
        )
        for number in range(1, args.rounds + 1):
            found = storm_round(args, number, service, stash_url, serve_port, requests, log)
            figures.append(report(args, number, found))
        text = log.read_text(errors="replace")
        rss_final, rss_peak = rss_kb(service.pid)
    finally:
        if service is not None:
            service.terminate()
            service.wait(30)
        stash.terminate()
        stash.wait(30)

    errors_5xx = sum(int(f["errors_5xx"]) for f in figures)  # type: ignore[call-overload]
    locked = text.count("database is locked")
    tracebacks = text.count("Traceback")
    print(
        f"\ntotal: 5xx {errors_5xx}; 'database is locked' in the service's log: {locked}; "
        f"tracebacks: {tracebacks}; RSS {rss_boot / 1024:.0f} MB after boot, "
        f"{rss_final / 1024:.0f} MB at the end, peak {rss_peak / 1024:.0f} MB"
    )
    if args.json:
        summary = {"rounds": figures, "database_locked": locked, "tracebacks": tracebacks,
                   "rss_kb": {"boot": rss_boot, "final": rss_final, "peak": rss_peak}}  # fmt: skip
        print(json.dumps(summary, default=str, indent=1))
    return 1 if errors_5xx or locked or tracebacks else 0


if __name__ == "__main__":
    sys.exit(main())
