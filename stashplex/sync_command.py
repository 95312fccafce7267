"""`stashplex-sync` / `stashplex sync`: one sync pass from the command line."""

from __future__ import annotations

import argparse
import logging
import sys
import time
from typing import TextIO

from stashplex import logs
from stashplex.artwork import Artwork
from stashplex.mirror.db import Database, MirrorMoved
from stashplex.mirror.sync import SyncBusy, SyncCancelled, Syncer, SyncKind
from stashplex.redaction import redact
from stashplex.settings import Settings
from stashplex.stash.client import StashClient
from stashplex.stash.errors import StashError

log = logging.getLogger(__name__)


class ProgressBar:
    """A one-line bar redrawn in place; only used when stderr is a terminal."""

    WIDTH = 30

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self._last_draw = 0.0
        self._shown = False

    def __call__(self, phase: str, done: int, total: int | None) -> None:
        now = time.monotonic()
        if now - self._last_draw < 0.1 and (total is None or done < total):
            return
        self._last_draw = now
        if total:
            filled = int(self.WIDTH * min(done, total) / total)
            bar = "#" * filled + "-" * (self.WIDTH - filled)
            line = f"{phase:<15} [{bar}] {done}/{total}"
        else:
            line = f"{phase:<15} {done}"
        self.stream.write("\r" + line.ljust(70)[:100])
        self.stream.flush()
        self._shown = True

    def close(self) -> None:
        if self._shown:
            self.stream.write("\r" + " " * 72 + "\r")
            self.stream.flush()


def run(args: argparse.Namespace, settings: Settings) -> int:
    logs.setup(settings.stash.debug, settings.secrets, quiet=True)
    kind: SyncKind
    if args.full:
        kind = "full"
    elif args.sweep:
        kind = "sweep"
    elif args.scene:
        kind = "scenes"
    else:
        kind = "incremental"
    bar = None
    if not args.no_progress and sys.stderr.isatty():
        bar = ProgressBar(sys.stderr)
    db = Database.open(settings.mirror.database)
    client = StashClient.from_settings(settings)
    # Posters render on worker threads while the pass goes on, and are waited for after it.
    artwork = Artwork.build(
        settings, db, client, posters=not getattr(args, "no_posters", False), one_shot=True
    ).start(backfill=False)
    try:
        syncer = Syncer(client, db, settings, progress=bar, after_page=artwork.after_page)
        report = syncer.run(kind, scene_ids=args.scene)
        if bar:
            bar.close()
        extra = artwork.finish(report)
    except (StashError, SyncBusy, MirrorMoved) as exc:
        if bar:
            bar.close()
        print(f"stashplex-sync: {redact(str(exc))}", file=sys.stderr)
        return 1
    except (SyncCancelled, KeyboardInterrupt):
        if bar:
            bar.close()
        print("stashplex-sync: interrupted; the next sync carries on from here", file=sys.stderr)
        return 130
    finally:
        artwork.close()
        client.close()
        db.close()
    print(report.summary())
    for line in extra:
        print(line)
    return 0
