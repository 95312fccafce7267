"""``stashplex sample-stash``: serve a sample Stash until SIGINT/SIGTERM."""

from __future__ import annotations

import argparse
import signal
import threading
import time

from .instance import SampleStash


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--scenes", type=int, default=1000, help="number of scenes (default 1000)")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=9999, help="port (default 9999; 0 = any free)")
    parser.add_argument("--api-key", default=None, help="require this API key (enables auth)")
    parser.add_argument("--seed", type=int, default=1, help="library seed (default 1)")
    parser.add_argument(
        "--stash-version", default="v0.30.1", help="Stash version to imitate (>= v0.24.0)"
    )
    parser.add_argument("--os", dest="os_name", default="linux", choices=("linux", "windows"))
    parser.add_argument("--utc-offset", default="+02:00", help="server local offset (+02:00)")
    parser.add_argument(
        "--root", default=None, help="library folder (default /data/stash, C:\\Stash\\Library)"
    )


def run(args: argparse.Namespace) -> int:
    started = time.monotonic()
    stash = SampleStash(
        args.scenes,
        api_key=args.api_key,
        seed=args.seed,
        stash_version=args.stash_version,
        os_name=args.os_name,
        utc_offset=args.utc_offset,
        host=args.host,
        port=args.port,
        clock="real",
        root=args.root,
    )
    stash.start()
    stopping = threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        stopping.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    auth = "API key required" if args.api_key else "no auth"
    print(
        f"sample Stash {stash.library.version.text} ({args.os_name}, {args.scenes} scenes, "
        f"{auth}) ready in {time.monotonic() - started:.2f}s at {stash.url}",
        flush=True,
    )
    try:
        while not stopping.wait(0.5):
            pass
    finally:
        stash.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run without the stashplex CLI: ``python -m stashplex.samplestash.main``."""
    parser = argparse.ArgumentParser(prog="sample-stash", description=__doc__)
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
