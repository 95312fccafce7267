"""Deployment files (Dockerfile, compose, systemd unit) refer to what exists; no Docker here."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from stashplex.cli import build_parser
from stashplex.settings import KEYS

ROOT = Path(__file__).resolve().parents[2]


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    instructions = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            instructions.append((word.upper(), rest.strip()))
    return instructions


def cli_accepts(argv: list[str]) -> None:
    try:
        build_parser().parse_args(argv)
    except SystemExit as exc:  # argparse exits on unknown commands
        pytest.fail(f"the CLI does not accept {argv}: exit {exc.code}")


def test_dockerfile_copies_files_that_exist() -> None:
    copies = [rest for word, rest in dockerfile_instructions() if word == "COPY"]
    assert copies
    for rest in copies:
        if rest.startswith("--from="):
            continue  # from the build stage, not the repository
        *sources, _destination = shlex.split(rest)
        for source in sources:
            assert (ROOT / source).exists(), f"COPY {source}: missing from the repository"


def test_dockerfile_runs_our_commands_as_non_root_with_a_data_volume() -> None:
    instructions = dockerfile_instructions()
    words = [w for w, _ in instructions]
    assert words[0] == "FROM" and "slim" in instructions[0][1]
    user = [rest for w, rest in instructions if w == "USER"]
    assert user and user[-1] not in ("root", "0")
    assert '"/data"' in dict(instructions)["VOLUME"]
    cmd = dict(instructions)["CMD"]
    argv = [a.strip('" ') for a in cmd.strip("[]").split(",")]
    assert argv[0] == "stashplex"
    cli_accepts(argv[1:])
    health = dict(instructions)["HEALTHCHECK"]
    check = health.split(" CMD ", 1)[1]
    argv = [a.strip('" ') for a in check.strip().strip("[]").split(",")]
    assert argv[0] == "stashplex" and argv[1] == "health"
    cli_accepts(argv[1:])
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert 'stashplex = "stashplex.cli:main"' in pyproject
    assert 'stashplex-sync = "stashplex.cli:sync_main"' in pyproject
    env = dict(instructions)["ENV"]
    for name in re.findall(r"(STASHPLEX_[A-Z_]+)=", env):
        if name == "STASHPLEX_SETTINGS":
            continue
        assert name in {k.generic_env for k in KEYS}, f"{name} is not a setting"


def test_systemd_unit_commands_exist() -> None:
    unit = (ROOT / "scripts" / "stashplex.service").read_text()
    assert "Restart=on-failure" in unit
    for line in unit.splitlines():
        if line.startswith(("ExecStart=", "ExecStartPre=")):
            argv = shlex.split(line.split("=", 1)[1])
            assert argv[0].endswith("/.venv/bin/stashplex")
            cli_accepts(argv[1:])


def test_compose_builds_this_dockerfile_and_mounts_settings() -> None:
    compose = (ROOT / "docker-compose.yml").read_text()
    assert "build: ." in compose
    assert "/config/settings.ini:ro" in compose
    assert '"7979:7979"' in compose
    for name in re.findall(r"- ([A-Z_]+)=", compose):
        assert name in {e for k in KEYS for e in k.env}, name


def test_health_command_reports_a_service_that_does_not_answer(capsys) -> None:
    from stashplex import healthcheck
    from stashplex.settings import load
    from tests.plugins.net import free_port

    port = free_port()  # nothing listens there
    settings = load(environ={"STASHPLEX_PLEXAGENTSERVER_PORT": str(port)}, search=False)
    assert healthcheck.health_url(settings) == f"http://127.0.0.1:{port}/health"
    assert healthcheck.run(settings, timeout=5) == 1
    assert f"no answer from http://127.0.0.1:{port}/health" in capsys.readouterr().err
    v6 = load(environ={"STASHPLEX_PLEXAGENTSERVER_HOST": "::"}, search=False)
    assert healthcheck.health_url(v6) == "http://[::1]:7979/health"
