#!/usr/bin/env python3
"""Responder benchmark: the provider under waitress against a 100,000-scene mirror.

The responder runs in its own process (as `stashplex serve` would), with the settings' waitress
options. This process drives it over HTTP on 127.0.0.1 with N concurrent keep-alive clients
(closed loop: each sends its next request when the previous answer is complete; one selector
loop, so the load generator costs little CPU next to the server), for each mix:

- `metadata`: GET /library/metadata/scene-<random id>
- `match`: POST /library/metadata/matches, half full paths (path tier), half the same files
  under another mount point (longest-suffix tier)

and reports requests/s, p50 and p99 latency, next to the same figures for a trivial Falcon app
answering a constant JSON body on the same waitress settings (the ceiling), plus the responder's
resident memory (current and peak) at the end. Each client cycles through a list of
`--requests` requests (4,000 by default), so after the first pass the app answers repeated
requests, as it does for PMS refreshing a library; `--requests 100000` measures mostly first
answers. Both servers run side by side and the runs
alternate, round after round; each figure is the median round, so a machine whose speed drifts
(other work on it) skews the app and the ceiling alike.

    .venv/bin/python scripts/bench_serve.py                    # 100k scenes, 8 clients
    .venv/bin/python scripts/bench_serve.py --clients 1 8 16 --seconds 10 --rounds 5
    .venv/bin/python scripts/bench_serve.py --requests 100000  # few repeats: the uncached path

The mirror is generated straight into SQLite through MirrorWriter (no Stash needed) and kept in
`--data` between runs.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import selectors
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from stashplex import settings as settings_module  # noqa: E402
from stashplex.mirror import documents  # noqa: E402
from stashplex.mirror.db import Database  # noqa: E402
from stashplex.mirror.kinds import GROUPS, PERFORMERS, STUDIOS, TAGS  # noqa: E402
from stashplex.mirror.writer import MirrorWriter, count_scenes  # noqa: E402
from stashplex.records import (  # noqa: E402
    Group,
    Performer,
    Scene,
    SceneGroup,
    StashId,
    Studio,
    Tag,
    VideoFile,
)
from tests.plugins.net import LOOPBACK, free_port, wait_for_port  # noqa: E402

MIXES = ("metadata", "match")
WORDS = (
    "golden",
    "silent",
    "velvet",
    "crimson",
    "electric",
    "hidden",
    "lazy",
    "midnight",
    "neon",
    "quiet",
    "rapid",
    "secret",
    "sunny",
    "wild",
    "blue",
    "frozen",
    "gentle",
    "lucky",
    "urban",
    "vintage",
    "afternoon",
    "balcony",
    "canyon",
    "dream",
    "echo",
    "festival",
    "garden",
    "harbor",
    "island",
    "journey",
    "kitchen",
    "lagoon",
    "meadow",
    "night",
    "ocean",
    "palace",
    "river",
    "sunset",
)
STASH_ROOT = "/data/stash"
PLEX_ROOT = "/mnt/plex/media"


# --- the mirror ------------------------------------------------------------------------------


def scene_path(scene_id: int) -> str:
    rng = random.Random(scene_id)
    studio = 1 + scene_id % 300
    year = 2010 + scene_id % 15
    title = " ".join(rng.choice(WORDS) for _ in range(4)).title()
    return f"{STASH_ROOT}/Studio {studio}/{year}/{title} {scene_id}.mp4"


def generated_scene(scene_id: int) -> Scene:
    rng = random.Random(scene_id * 7919)
    path = scene_path(scene_id)
    basename = path.rsplit("/", 1)[-1]
    return Scene(
        id=scene_id,
        updated_at="2024-05-01T12:00:00+02:00",
        title=basename.removesuffix(".mp4"),
        code=f"SP-{scene_id:06d}",
        details=" ".join(rng.choice(WORDS) for _ in range(40)).capitalize() + ".",
        director=rng.choice(("Jane Doe", "John Roe", None)),
        urls=(f"https://example.com/scenes/{scene_id}",),
        date=f"{2010 + scene_id % 15}-{1 + scene_id % 12:02d}-{1 + scene_id % 28:02d}",
        rating100=rng.choice((None, 60, 80, 95)),
        organized=scene_id % 3 != 0,
        created_at="2024-01-01T10:00:00+02:00",
        screenshot_version=str(1_700_000_000 + scene_id),
        files=(
            VideoFile(
                id=scene_id,
                path=path,
                basename=basename,
                size=1_000_000_000 + scene_id,
                duration=1200.0 + scene_id % 900,
                width=1920,
                height=1080,
                frame_rate=29.97,
                bit_rate=8_000_000,
                video_codec="h264",
                audio_codec="aac",
            ),
        ),
        studio_id=1 + scene_id % 300,
        performer_ids=tuple(sorted({1 + rng.randrange(2000) for _ in range(3)})),
        tag_ids=tuple(sorted({1 + rng.randrange(500) for _ in range(6)})),
        groups=(SceneGroup(1 + scene_id % 200, 1 + scene_id % 10),) if scene_id % 4 == 0 else (),
        stash_ids=(
            StashId("https://stashdb.org/graphql", f"{scene_id:08x}-0000-4000-8000-000000000000"),
        ),
    )


def build_mirror(path: Path, scenes: int) -> float:
    started = time.perf_counter()
    db = Database.open(path)
    try:
        with db.reader.connect() as connection:
            if count_scenes(connection) == scenes:
                return 0.0
        settings = bench_settings(path, 0)
        writer = MirrorWriter(db, documents.mapping_options(settings))
        writer.apply_entities(
            STUDIOS,
            [
                Studio(i, f"Studio {i}", parent_id=None if i <= 20 else 1 + i % 20)
                for i in range(1, 301)
            ],
        )
        writer.apply_entities(
            PERFORMERS,
            [
                Performer(i, f"Performer {i}", image_version=str(i) if i % 5 else None)
                for i in range(1, 2001)
            ],
        )
        writer.apply_entities(TAGS, [Tag(i, f"Tag {i}") for i in range(1, 501)])
        writer.apply_entities(
            GROUPS, [Group(i, f"Series {i}", front_image_version=str(i)) for i in range(1, 201)]
        )
        step = 5000
        for start in range(1, scenes + 1, step):
            writer.apply_scenes(
                [generated_scene(i) for i in range(start, min(start + step, scenes + 1))]
            )
            print(
                f"\r  mirror: {min(start + step - 1, scenes)}/{scenes} scenes",
                end="",
                file=sys.stderr,
            )
        print(file=sys.stderr)
    finally:
        db.close()
    return time.perf_counter() - started


# --- the server process ------------------------------------------------------------------------


def bench_settings(database: Path, port: int, threads: int = 8) -> settings_module.Settings:
    environ = {
        "STASHPLEX_PLEXAGENTSERVER_HOST": LOOPBACK,
        "STASHPLEX_PLEXAGENTSERVER_PORT": str(port or 7979),
        "STASHPLEX_PLEXAGENTSERVER_NUM_WORKERS": str(threads),
        "STASHPLEX_MIRROR_DATABASE": str(database),
        "STASHPLEX_MIRROR_POSTER_DIR": str(database.parent / "posters"),
    }
    return settings_module.load(None, environ, search=False)


def ceiling_app():
    import falcon

    body = json.dumps({"MediaContainer": {"size": 0, "Metadata": []}}).encode()

    def constant(req: falcon.Request, resp: falcon.Response, **kwargs: object) -> None:
        req.bounded_stream.read()
        resp.content_type = falcon.MEDIA_JSON
        resp.data = body

    app = falcon.App()
    app.add_sink(constant, prefix="/")
    return app


def serve(database: Path, port: int, threads: int, which: str) -> None:
    """The child process: run one app under waitress until killed."""
    import logging

    from stashplex.web.app import create_app
    from stashplex.web.server import create_server

    logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # as `stashplex serve` does
    settings = bench_settings(database, port, threads)
    if which == "ceiling":
        app = ceiling_app()
    else:
        app = create_app(settings, db=Database.open(database, migrate=False), stash=None)
    server = create_server(app, settings, host=LOOPBACK, port=port)
    print("READY", flush=True)
    server.run()


def rss_kb(pid: int) -> tuple[int, int]:
    fields = {}
    with open(f"/proc/{pid}/status", encoding="ascii") as fh:
        for line in fh:
            name, _, value = line.partition(":")
            fields[name] = value.strip()
    return int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0])


class Server:
    def __init__(self, database: Path, threads: int, which: str) -> None:
        self.port = free_port()
        self.process = subprocess.Popen(
            [
                sys.executable,
                __file__,
                "--serve",
                which,
                "--data",
                str(database.parent),
                "--port",
                str(self.port),
                "--threads",
                str(threads),
            ],
            stdout=subprocess.PIPE,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if b"READY" not in line:
            raise RuntimeError(f"the {which} server did not start")
        wait_for_port(self.port, 10)

    def rss(self) -> tuple[int, int]:
        return rss_kb(self.process.pid)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


# --- the load generator ------------------------------------------------------------------------


def request_bytes(method: str, path: str, port: int, body: bytes = b"") -> bytes:
    head = [f"{method} {path} HTTP/1.1", f"Host: {LOOPBACK}:{port}", "Accept: application/json"]
    if method == "POST":
        head += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def mix(kind: str, scenes: int, port: int, count: int = 4000) -> list[bytes]:
    rng = random.Random(42)
    out = []
    for i in range(count):
        scene_id = rng.randint(1, scenes)
        if kind == "metadata":
            out.append(request_bytes("GET", f"/library/metadata/scene-{scene_id}", port))
        elif kind == "provider":
            out.append(request_bytes("GET", "/", port))
        else:
            path = scene_path(scene_id)
            if i % 2:  # another mount point: the suffix tier
                path = PLEX_ROOT + path.removeprefix(STASH_ROOT)
            body = json.dumps({"type": 1, "filename": path, "title": "x", "year": 2020}).encode()
            out.append(request_bytes("POST", "/library/metadata/matches", port, body))
    return out


def content_length(head: bytes) -> int:
    at = head.find(b"content-length:")
    if at < 0:
        return 0
    line_end = head.find(b"\r\n", at)
    return int(head[at + 15 : line_end if line_end > 0 else len(head)])


@dataclass
class Connection:
    sock: socket.socket
    started: float = 0.0
    buffer: bytearray = field(default_factory=bytearray)
    index: int = 0


def drive(port: int, requests: list[bytes], clients: int, seconds: float, warmup: float):
    """Closed-loop load; returns (latencies in s of the measured window, errors)."""
    selector = selectors.DefaultSelector()
    conns = []
    for offset in range(clients):
        sock = socket.create_connection((LOOPBACK, port))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.setblocking(False)
        conn = Connection(sock, index=offset * 97)
        conns.append(conn)
        selector.register(sock, selectors.EVENT_READ, conn)
    begin = time.perf_counter()
    measure_from = begin + warmup
    end = measure_from + seconds
    latencies: list[float] = []
    errors = 0
    total = len(requests)

    def send(conn: Connection) -> None:
        conn.started = time.perf_counter()
        conn.sock.sendall(requests[conn.index % total])
        conn.index += 1

    for conn in conns:
        send(conn)
    active = len(conns)
    while active:
        for key, _events in selector.select(timeout=5):
            conn: Connection = key.data
            chunk = conn.sock.recv(262144)
            if not chunk:
                raise RuntimeError("the server closed a connection")
            conn.buffer += chunk
            head_end = conn.buffer.find(b"\r\n\r\n")
            if head_end < 0:
                continue
            head = bytes(conn.buffer[:head_end]).lower()
            length = content_length(head)
            if len(conn.buffer) < head_end + 4 + length:
                continue
            done = time.perf_counter()
            if not head.startswith(b"http/1.1 200"):
                errors += 1
            del conn.buffer[: head_end + 4 + length]
            if conn.started >= measure_from:
                latencies.append(done - conn.started)
            if done < end:
                send(conn)
            else:
                selector.unregister(conn.sock)
                conn.sock.close()
                active -= 1
    return latencies, errors


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))] if ordered else 0.0


@dataclass
class Figures:
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int


def measure(port: int, requests: list[bytes], clients: int, seconds: float) -> Figures:
    latencies, errors = drive(port, requests, clients, seconds, warmup=min(1.0, seconds / 3))
    return Figures(
        rps=len(latencies) / seconds,
        p50_ms=statistics.median(latencies) * 1000,
        p99_ms=percentile(latencies, 0.99) * 1000,
        errors=errors,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenes", type=int, default=100_000)
    parser.add_argument("--clients", type=int, nargs="+", default=[8])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=3, help="alternating runs per figure")
    parser.add_argument("--threads", type=int, default=None, help="waitress threads (settings)")
    parser.add_argument("--data", type=Path, default=None, help="folder for the mirror (kept)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON too")
    parser.add_argument(
        "--requests", type=int, default=4000, help="distinct requests each client cycles through"
    )
    parser.add_argument("--serve", choices=("app", "ceiling"), help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()

    data = args.data or Path(tempfile.gettempdir()) / f"stashplex-bench-{args.scenes}"
    data.mkdir(parents=True, exist_ok=True)
    database = data / "mirror.db"
    threads = args.threads or bench_settings(database, 0).server.num_workers
    if args.serve:
        serve(database, args.port, threads, args.serve)
        return 0

    built = build_mirror(database, args.scenes)
    print(
        f"mirror: {args.scenes} scenes in {database}"
        + (f" (built in {built:.0f}s)" if built else " (reused)")
    )
    print(
        f"waitress threads: {threads}; {args.rounds} rounds of {args.seconds:g}s per figure "
        "after a warm-up (median round); "
        f"{os.cpu_count()} CPUs\n"
    )

    # Both servers run side by side and the runs alternate, round after round, so drift in
    # the machine's speed hits the app and the ceiling alike; the median round is reported.
    servers = {which: Server(database, threads, which) for which in ("ceiling", "app")}
    runs: dict[tuple[str, str, int], list[Figures]] = {}
    try:
        for _round in range(args.rounds):
            for clients in args.clients:
                for kind in MIXES:
                    for which, server in servers.items():
                        requests = mix(kind, args.scenes, server.port, args.requests)
                        figures = measure(server.port, requests, clients, args.seconds)
                        runs.setdefault((which, kind, clients), []).append(figures)
        rss = servers["app"].rss()
    finally:
        for server in servers.values():
            server.stop()

    def median(which: str, kind: str, clients: int) -> Figures:
        found = sorted(runs[which, kind, clients], key=lambda f: f.rps)
        return found[len(found) // 2]

    print(
        f"{'mix':<9} {'clients':>7} {'ceiling req/s':>14} {'app req/s':>10} {'ratio':>6} "
        f"{'p50 ms':>7} {'p99 ms':>7} {'ceil p99':>8} {'errors':>6}"
    )
    results: dict[str, dict] = {}
    for clients in args.clients:
        for kind in MIXES:
            app, ceiling = median("app", kind, clients), median("ceiling", kind, clients)
            errors = sum(f.errors for w in ("app", "ceiling") for f in runs[w, kind, clients])
            results[f"{kind}/{clients}"] = {"app": app.__dict__, "ceiling": ceiling.__dict__}
            print(
                f"{kind:<9} {clients:>7} {ceiling.rps:>14.0f} {app.rps:>10.0f} "
                f"{app.rps / ceiling.rps:>6.0%} {app.p50_ms:>7.2f} {app.p99_ms:>7.2f} "
                f"{ceiling.p99_ms:>8.2f} {errors:>6}"
            )
    print(f"\nresponder RSS at the end: {rss[0] / 1024:.0f} MB (peak {rss[1] / 1024:.0f} MB)")
    if args.json:
        print(json.dumps({"results": results, "rss_kb": rss[0], "peak_rss_kb": rss[1]}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
