"""Command line: `stashplex serve | sync | doctor | sample-stash | demo | db upgrade | health |
settings`.

`stashplex-sync` is the sync subcommand's own entry point. Modules are imported per command so
`stashplex --help` and the sample Stash start fast and never touch the mirror.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from stashplex import __version__, redaction
from stashplex.settings import Settings, SettingsError

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2  # bad settings or arguments
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, what a shell reports for a command cut off by `head`


def _settings_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--settings",
        metavar="PATH",
        default=argparse.SUPPRESS,
        help="settings file (default: $STASHPLEX_SETTINGS, else ./settings.ini or "
        "./stashplexagent.config)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="stashplex",
        description="A Plex metadata provider that answers from a local mirror of Stash.",
    )
    parser.add_argument("--version", action="version", version=f"stashplex {__version__}")
    _settings_option(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    serve = sub.add_parser("serve", help="run the provider and the scheduled sync")
    _settings_option(serve)
    serve.set_defaults(func=_cmd_serve)

    sync = sub.add_parser("sync", help="sync the mirror from Stash once, then exit")
    _settings_option(sync)
    _sync_arguments(sync)
    sync.set_defaults(func=_cmd_sync)

    sample = sub.add_parser("sample-stash", help="run the sample Stash server (tests, demos)")
    from stashplex.samplestash import main as sample_command

    sample_command.add_arguments(sample)
    sample.set_defaults(func=sample_command.run, needs_settings=False)

    demo = sub.add_parser("demo", help="run a sample Stash and the provider against it")
    demo.add_argument("--scenes", type=int, default=3000, help="scenes in the sample library")
    demo.add_argument("--port", type=int, default=7979, help="port of the provider")
    demo.add_argument("--data", metavar="DIR", default=None, help="folder for the demo mirror")
    demo.add_argument("--host", default="0.0.0.0", help="address the provider listens on")
    demo.set_defaults(func=_cmd_demo, needs_settings=False)

    db = sub.add_parser("db", help="mirror database maintenance")
    db_sub = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    upgrade = db_sub.add_parser("upgrade", help="migrate the mirror to the current schema")
    _settings_option(upgrade)
    upgrade.set_defaults(func=_cmd_db_upgrade)

    health = sub.add_parser(
        "health", help="ask the running service's /health (exit 0 when it answers)"
    )
    _settings_option(health)
    health.set_defaults(func=_cmd_health)

    doctor = sub.add_parser(
        "doctor", help="check Stash, the mirror, the provider and Plex, and dry-run a scan"
    )
    _settings_option(doctor)
    _doctor_arguments(doctor)
    doctor.set_defaults(func=_cmd_doctor)

    show = sub.add_parser("settings", help="check the settings and print them (secrets hidden)")
    _settings_option(show)
    show.set_defaults(func=_cmd_settings)
    return parser


def _sync_arguments(parser: argparse.ArgumentParser) -> None:
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--full", action="store_true", help="re-read every scene from Stash")
    mode.add_argument("--sweep", action="store_true", help="find deleted and moved scenes")
    mode.add_argument(
        "--scene", metavar="ID", nargs="+", type=_scene_id, help="re-read only these scenes"
    )
    parser.add_argument(
        "--no-progress", action="store_true", help="no progress bar, even on a terminal"
    )
    parser.add_argument(
        "--no-posters",
        action="store_true",
        help="do not render posters for changed scenes (with poster_mode on)",
    )


def _doctor_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--library",
        metavar="NAME|ID",
        help="dry-run this Plex library (default: those on stashplex's agent, else all)",
    )
    parser.add_argument(
        "--paths",
        metavar="FILE|FOLDER",
        type=Path,
        help="dry-run these paths instead of Plex's: a file with one path per line, or a "
        "folder walked for video files",
    )


def _scene_id(text: str) -> int:
    if not text.isascii() or not text.isdigit() or len(text) > 18:
        raise argparse.ArgumentTypeError(f"not a scene id: {text!r}")
    return int(text)


def build_sync_parser() -> argparse.ArgumentParser:
    """`stashplex-sync`: the sync subcommand as a command of its own."""
    parser = argparse.ArgumentParser(
        prog="stashplex-sync", description="Sync the stashplex mirror from Stash once, then exit."
    )
    parser.add_argument("--version", action="version", version=f"stashplex-sync {__version__}")
    _settings_option(parser)
    _sync_arguments(parser)
    parser.set_defaults(func=_cmd_sync)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    return _closed_pipe_is_quiet(lambda: _run(build_parser().parse_args(argv)))


def sync_main(argv: Sequence[str] | None = None) -> int:
    """`stashplex-sync`: the same as `stashplex sync`."""
    return _closed_pipe_is_quiet(lambda: _run(build_sync_parser().parse_args(argv)))


def _closed_pipe_is_quiet(command: Callable[[], int]) -> int:
    """`stashplex settings | head`: a reader that stops early is not worth a traceback."""
    try:
        try:
            return command()  # argparse's --help and --version exit from inside
        finally:
            sys.stdout.flush()  # here, where a closed pipe can be caught, not at exit
    except BrokenPipeError:
        # Python flushes stdout once more at exit: let that flush write to /dev/null.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_BROKEN_PIPE


def _run(args: argparse.Namespace) -> int:
    settings = None
    if getattr(args, "needs_settings", True):
        try:
            settings = _load_settings(args)
        except SettingsError as exc:
            print(f"stashplex: {exc}", file=sys.stderr)
            return EXIT_USAGE
        redaction.register(settings.secrets)  # before anything can print or log
    try:
        return int(args.func(args, settings) if settings is not None else args.func(args))
    except KeyboardInterrupt:
        return 130


def _load_settings(args: argparse.Namespace) -> Settings:
    from stashplex import settings as settings_module

    return settings_module.load(getattr(args, "settings", None))


def _cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    from stashplex import daemon

    return daemon.serve(settings)


def _cmd_sync(args: argparse.Namespace, settings: Settings) -> int:
    from stashplex import sync_command as command

    return command.run(args, settings)


def _cmd_demo(args: argparse.Namespace) -> int:
    from stashplex import demo

    return demo.run(scenes=args.scenes, port=args.port, data_dir=args.data, host=args.host)


def _cmd_db_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    from stashplex import logs
    from stashplex.mirror import db

    logs.setup(settings.stash.debug, settings.secrets)
    revision = db.migrate_to_head(settings.mirror.database)
    print(f"{settings.mirror.database}: schema at revision {revision}")
    return EXIT_OK


def _cmd_health(args: argparse.Namespace, settings: Settings) -> int:
    from stashplex import healthcheck

    return healthcheck.run(settings)


def _cmd_doctor(args: argparse.Namespace, settings: Settings) -> int:
    from stashplex import doctor

    return doctor.run(args, settings)


def _cmd_settings(args: argparse.Namespace, settings: Settings) -> int:
    from stashplex.settings import describe

    print(describe(settings))
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
