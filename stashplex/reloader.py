"""`DEV=true`: run `serve` in a child process and restart it whenever a source file changes.

Polling file times once a second is plenty for a developer and needs no extra dependency.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

log = logging.getLogger(__name__)

CHILD_MARKER = "STASHPLEX_RELOADER_CHILD"
WATCHED_SUFFIXES = (".py", ".graphql", ".html", ".ini")


def is_child() -> bool:
    return os.environ.get(CHILD_MARKER) == "1"


def snapshot(roots: Sequence[Path]) -> dict[Path, float]:
    found: dict[Path, float] = {}
    for root in roots:
        if root.is_file():
            found[root] = root.stat().st_mtime
            continue
        for path in root.rglob("*"):
            if path.suffix in WATCHED_SUFFIXES and "__pycache__" not in path.parts:
                try:
                    found[path] = path.stat().st_mtime
                except OSError:
                    continue
    return found


def run(argv: Sequence[str], roots: Sequence[Path], interval: float = 1.0) -> int:
    """Run `argv` (with the child marker set) and restart it on changes under `roots`."""
    env = {**os.environ, CHILD_MARKER: "1"}
    stopping = False

    def on_signal(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    while True:
        seen = snapshot(roots)
        child = subprocess.Popen(list(argv), env=env)
        log.info("development mode: serving (pid %d), restarting on code changes", child.pid)
        while not stopping and child.poll() is None:
            time.sleep(interval)
            if snapshot(roots) != seen:
                log.info("code changed: restarting")
                break
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        if stopping:
            return 0
        if child.returncode not in (0, -signal.SIGTERM, None) and snapshot(roots) == seen:
            # It failed by itself: wait for a fix instead of restarting in a tight loop.
            log.error("the service exited with %s; waiting for a code change", child.returncode)
            while not stopping and snapshot(roots) == seen:
                time.sleep(interval)
            if stopping:
                return 0


def serve_command() -> list[str]:
    """The command line that started this process, to start it again as the child."""
    return [sys.executable, "-m", "stashplex", *sys.argv[1:]]
