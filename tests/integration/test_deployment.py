"""Deployment files (Dockerfile, compose, systemd unit) refer to what exists; no Docker here."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
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


def test_systemd_unit_writes_only_to_the_data_folder_the_steps_create() -> None:
    unit = (ROOT / "scripts" / "stashplex.service").read_text()
    assert "ProtectSystem=strict" in unit
    # "-": a missing folder must not fail the start with 226/NAMESPACE.
    assert "ReadWritePaths=-/opt/stashplex/data" in unit
    steps = [line.lstrip("# ").strip() for line in unit.splitlines() if line.startswith("#   sudo")]
    assert any("scripts/run db upgrade" in step for step in steps)  # makes .venv and data/
    assert any(
        step.startswith("sudo chown -R stashplex:stashplex /opt/stashplex") for step in steps
    )
    # The README lists exactly these steps.
    readme = (ROOT / "README.md").read_text()
    for step in steps:
        assert step.split("  #")[0].strip() in readme, step


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze here")
def test_systemd_analyze_verify_is_clean(tmp_path: Path) -> None:
    # The unit as installed, with the checkout and the virtualenv running these tests standing
    # for /opt/stashplex and its .venv (verify checks that the commands exist).
    unit = (ROOT / "scripts" / "stashplex.service").read_text()
    unit = unit.replace("/opt/stashplex/.venv", sys.prefix).replace("/opt/stashplex", str(ROOT))
    path = tmp_path / "stashplex.service"
    path.write_text(unit)
    result = subprocess.run(
        ["systemd-analyze", "verify", str(path)], capture_output=True, text=True, timeout=120
    )
    complaints = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    assert result.returncode == 0 and not complaints, complaints


def test_compose_builds_this_dockerfile_and_mounts_settings() -> None:
    compose = (ROOT / "docker-compose.yml").read_text()
    assert "build: ." in compose
    assert "/config/settings.ini:ro" in compose
    assert '"7979:7979"' in compose
    for name in re.findall(r"- ([A-Z_]+)=", compose):
        assert name in {e for k in KEYS for e in k.env}, name
    # Read-only, and both ways to reach Stash from a container are shown.
    assert "read_only: true" in compose
    assert '"host.docker.internal:host-gateway"' in compose
    assert "- STASH_HOST=http://host.docker.internal:9999" in compose
    assert "http://stash:9999" in compose


def test_the_image_writes_only_to_data() -> None:
    instructions = dockerfile_instructions()
    runtime = instructions[max(i for i, (w, _) in enumerate(instructions) if w == "FROM") :]
    env = dict(item.split("=", 1) for item in shlex.split(dict(runtime)["ENV"]))
    assert env["TMPDIR"].startswith("/data/")
    assert env["PYTHONDONTWRITEBYTECODE"] == "1"
    assert env["STASHPLEX_MIRROR_DATABASE"].startswith("/data/")
    assert env["STASHPLEX_MIRROR_POSTER_DIR"].startswith("/data/")
    assert [rest for word, rest in runtime if word == "WORKDIR"][-1] == "/data"
    # glibc keeps the poster renderer's buffers for reuse (what posters/heap.py used to set).
    assert env["MALLOC_MMAP_THRESHOLD_"] == str(8 * 1024 * 1024)
    assert env["MALLOC_TRIM_THRESHOLD_"] == str(32 * 1024 * 1024)


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


def test_health_command_says_why_the_service_is_degraded(synced_provider, capsys) -> None:
    from stashplex import healthcheck
    from stashplex.settings import load
    from tests.plugins.webkit import serving

    provider = synced_provider()
    provider.mirrored.stash.faults.down()  # Stash unreachable: degraded, and said why
    with serving(provider.app, provider.settings) as url:
        port = url.rsplit(":", 1)[1]
        settings = load(environ={"STASHPLEX_PLEXAGENTSERVER_PORT": port}, search=False)
        assert healthcheck.run(settings, timeout=30) == 0  # up: the container is not restarted
    assert "degraded (Stash cannot be reached)" in capsys.readouterr().out
    provider.mirrored.stash.faults.up()


def test_health_command_counts_a_refusing_service_as_up(synced_provider, capsys) -> None:
    """With loopback left out of allowed_networks, /health answers 403: the service is up, and
    a container restarted for it would only be refused again."""
    from stashplex import healthcheck
    from stashplex.settings import load
    from tests.plugins.webkit import serving

    provider = synced_provider(env={"STASHPLEX_PLEXAGENTSERVER_ALLOWED_NETWORKS": "10.0.0.0/8"})
    with serving(provider.app, provider.settings) as url:
        port = url.rsplit(":", 1)[1]
        settings = load(environ={"STASHPLEX_PLEXAGENTSERVER_PORT": port}, search=False)
        assert healthcheck.run(settings, timeout=30) == 0
    assert "403" in capsys.readouterr().out


def test_docker_smoke_says_plainly_that_it_checked_nothing_without_docker(tmp_path: Path) -> None:
    script = ROOT / "scripts" / "docker-smoke"
    assert (ROOT / "tests" / "plugins" / "smoke.py").is_file()  # the checks it runs
    # No Docker client at all (never a daemon, wherever DOCKER_HOST points).
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "DOCKER": str(tmp_path / "none")}
    result = subprocess.run([str(script)], capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode == 77  # "skipped", not a pass
    assert "skipped, no Docker daemon" in result.stderr
