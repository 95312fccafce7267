"""`DEV=true`: serve from a child process that hupper restarts whenever a source file changes.

hupper watches every imported module by itself; the package's data files (GraphQL operations,
page templates) and the settings file are added here, since editing them changes what runs too.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import hupper

log = logging.getLogger(__name__)

DATA_SUFFIXES = (".graphql", ".html", ".css")
# How long a child gets to stop by itself (its sync finishing a page) before it is killed.
SHUTDOWN_SECONDS = 15


class _HupperLog:
    """hupper's logger interface on top of ours, so its lines go where the service's go."""

    def info(self, message: str) -> None:
        log.info("%s", message)

    def error(self, message: str) -> None:
        log.error("%s", message)

    def debug(self, message: str) -> None:
        log.debug("%s", message)


def restart_on_changes(settings_file: Path | None) -> None:
    """In the first process: never return, run `serve` in a child and restart it on changes.

    In that child (hupper is active there): start watching the data files and return, so the
    caller goes on to serve.
    """
    if not hupper.is_active():
        # Runs stashplex.cli.main(argv) in the child with this process's arguments.
        hupper.start_reloader(
            "stashplex.cli.main",
            logger=_HupperLog(),
            shutdown_interval=SHUTDOWN_SECONDS,
            worker_kwargs={"argv": sys.argv[1:]},
        )
        return  # not reached: start_reloader exits with the monitor
    package = Path(__file__).resolve().parent
    files = [p for p in package.rglob("*") if p.suffix in DATA_SUFFIXES]
    if settings_file is not None:
        files.append(settings_file.resolve())
    hupper.get_reloader().watch_files([str(p) for p in files])
    log.info("development mode: serving, restarting on code changes")
