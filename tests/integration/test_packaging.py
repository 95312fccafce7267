"""The wheel, as users install it: built from the files the Dockerfile copies, installed
non-editable into a fresh virtualenv, and run there against a sample Stash over HTTP.

Nothing is downloaded: the wheel is built with the dev virtualenv's setuptools (no build
isolation) and installed without its dependencies, which the fresh virtualenv reads from the
dev virtualenv's site-packages through a path file (a plain path line: the dev virtualenv's own
.pth files, among them the editable install of the checkout, are not processed).
"""

from __future__ import annotations

import ast
import functools
import importlib.metadata
import os
import re
import shlex
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import venv
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from stashplex import __version__
from tests.plugins.daemon import mounts_available
from tests.plugins.net import LOOPBACK, free_port, wait_for_port

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
# Source folders and the package each installs as.
SOURCES = {"stashplex": "stashplex", "migrations": "stashplex_migrations"}
SMOKE = ROOT / "tests" / "plugins" / "smoke.py"


def build_stage_copies() -> list[str]:
    """What the Dockerfile's build stage copies into its build folder: exactly what the test
    builds from, so the image cannot need a file the test does not."""
    copies: list[str] = []
    in_build = False
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    for line in text.splitlines():
        word, _, rest = line.strip().partition(" ")
        if word.upper() == "FROM":
            in_build = rest.split()[-1] == "build"
        elif word.upper() == "COPY" and in_build:
            copies.extend(shlex.split(rest)[:-1])
    return copies


def image_environment() -> dict[str, str]:
    """The ENV of the Dockerfile's last stage."""
    found: dict[str, str] = {}
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    for line in text.splitlines():
        word, _, rest = line.strip().partition(" ")
        if word.upper() == "FROM":
            found = {}
        elif word.upper() == "ENV":
            found.update(item.split("=", 1) for item in shlex.split(rest))
    return found


def source_files() -> set[str]:
    """Every file of the packages in the tree, as its path inside the wheel."""
    found = set()
    for folder, package in SOURCES.items():
        for path in (ROOT / folder).rglob("*"):
            relative = path.relative_to(ROOT / folder)
            if path.is_dir() or "__pycache__" in relative.parts or path.suffix == ".pyc":
                continue
            if any(part.startswith(".") for part in relative.parts):
                continue  # editor and tool files
            found.add(f"{package}/{relative.as_posix()}")
    return found


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"
    source.mkdir()
    copies = build_stage_copies()
    assert "pyproject.toml" in copies and "stashplex" in copies, copies
    for name in copies:
        if (ROOT / name).is_dir():
            shutil.copytree(
                ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__")
            )
        else:
            shutil.copy2(ROOT / name, source / name)
    result = subprocess.run(
        [
            *(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation"),
            *("--no-index", "--wheel-dir", str(work / "dist"), str(source)),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    # setuptools' deprecation and "package would be ignored" warnings mean a broken config.
    assert "Warning" not in result.stderr + result.stdout, result.stderr + result.stdout
    (built,) = (work / "dist").glob("stashplex-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtualenv holding the wheel, non-editable; its bin folder."""
    target = tmp_path_factory.mktemp("venv") / "venv"
    venv.EnvBuilder(with_pip=False).create(target)
    python = target / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    Path(purelib, "dev-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    result = subprocess.run(
        [
            *(sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps"),
            *("--no-index", "--no-compile", str(wheel)),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return target / "bin"


def run_env(tmp_path: Path, bin_dir: Path, **extra: str) -> dict[str, str]:
    return {
        "PATH": f"{bin_dir}:{os.environ.get('PATH', '/usr/bin:/bin')}",
        "HOME": str(tmp_path),
        "STASHPLEX_MIRROR_DATABASE": str(tmp_path / "data" / "mirror.db"),
        "STASHPLEX_MIRROR_POSTER_DIR": str(tmp_path / "data" / "posters"),
        **extra,
    }


def run(bin_dir: Path, tmp_path: Path, *argv: str, **env: str) -> str:
    result = subprocess.run(
        [str(bin_dir / argv[0]), *argv[1:]],
        env=run_env(tmp_path, bin_dir, **env),
        cwd=tmp_path,  # not the checkout: nothing may be imported from it
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, f"{argv}: {result.stdout}{result.stderr}"
    return result.stdout


def test_the_wheel_holds_every_package_and_data_file(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    missing = source_files() - names
    assert not missing, f"not in the wheel: {sorted(missing)}"
    info = f"stashplex-{__version__}.dist-info"
    assert f"{info}/licenses/LICENSE" in names
    metadata = zipfile.ZipFile(wheel).read(f"{info}/METADATA").decode()
    assert "License-Expression: MIT" in metadata
    assert {name.split("/")[0] for name in names} == {*SOURCES.values(), info}


def imported_distributions() -> set[str]:
    """The distributions (normalized names) of every third-party module the package imports."""
    modules = set()
    for folder in SOURCES:
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    modules.update(alias.name.split(".")[0] for alias in node.names)
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    modules.add(node.module.split(".")[0])
    ours = {"__future__", *SOURCES.values()}
    third_party = {m for m in modules if m not in sys.stdlib_module_names and m not in ours}
    found = importlib.metadata.packages_distributions()
    missing = sorted(m for m in third_party if m not in found)
    assert not missing, f"imported but installed by no distribution: {missing}"
    return {normalized(name) for m in third_party for name in found[m]}


def normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_every_library_the_code_imports_is_a_dependency_of_the_wheel(wheel: Path) -> None:
    """The wheel is installed without its dependencies here: this is what catches a library
    the code imports that a user's `pip install` would not bring."""
    with zipfile.ZipFile(wheel) as archive:
        metadata = archive.read(f"stashplex-{__version__}.dist-info/METADATA").decode()
    required = {
        normalized(re.split(r"[ ;<>=!~\[(]", line.split(":", 1)[1].strip())[0])
        for line in metadata.splitlines()
        if line.startswith("Requires-Dist:") and "extra ==" not in line
    }
    assert "httpx" in required
    undeclared = imported_distributions() - required
    assert not undeclared, f"imported but not in [project] dependencies: {sorted(undeclared)}"


def test_the_source_file_list_sees_a_new_package(tmp_path: Path) -> None:
    """The check above is real: a package added to the tree shows up in `source_files`."""
    assert "stashplex/web/tv/__init__.py" in source_files()
    assert "stashplex/stash/operations/fragments/before_v027/GroupFields.graphql" in (
        source_files()
    )
    assert "stashplex_migrations/script.py.mako" in source_files()


@pytest.fixture
def served(
    installed: Path, sample_stash, tmp_path: Path
) -> Iterator[tuple[httpx.Client, dict[str, str]]]:
    port = free_port()
    env = run_env(
        tmp_path,
        installed,
        STASH_HOST=sample_stash.url,
        STASHPLEX_PLEXAGENTSERVER_HOST=LOOPBACK,
        STASHPLEX_PLEXAGENTSERVER_PORT=str(port),
    )
    log_path = tmp_path / "serve.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(installed / "stashplex"), "serve"],
            env=env,
            cwd=tmp_path,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        try:
            wait_for_port(port, timeout=60)
        except TimeoutError:
            pytest.fail(f"stashplex serve did not start:\n{log_path.read_text()}")
        with httpx.Client(base_url=f"http://{LOOPBACK}:{port}", timeout=15) as http:
            yield http, env
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_the_installed_commands_sync_and_serve(
    installed: Path, sample_stash, tmp_path: Path
) -> None:
    where = subprocess.run(
        [str(installed / "python"), "-c", "import stashplex; print(stashplex.__file__)"],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin"},
    ).stdout
    assert where.startswith(str(installed.parent)), f"not the installed copy: {where}"

    assert run(installed, tmp_path, "stashplex", "--version").strip() == (
        f"stashplex {__version__}"
    )
    assert run(installed, tmp_path, "stashplex-sync", "--version").strip() == (
        f"stashplex-sync {__version__}"
    )
    upgraded = run(installed, tmp_path, "stashplex", "db", "upgrade")
    assert "schema at revision" in upgraded
    lib = sample_stash.library
    synced = run(
        installed,
        tmp_path,
        "stashplex-sync",
        "--full",
        "--no-progress",
        STASH_HOST=sample_stash.url,
    )
    assert synced.startswith("full sync:") and f"{lib.live_count()} added" in synced, synced


def test_the_installed_service_answers_plex(
    installed: Path, sample_stash, served, tmp_path: Path
) -> None:
    http, served_env = served
    # The HTTP checks scripts/docker-smoke runs in the image, run the same way here.
    url = str(http.base_url).rstrip("/")
    checked = subprocess.run(
        [str(installed / "python"), str(SMOKE), url, sample_stash.url],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=tmp_path,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.startswith(f"smoke: {url} mirrors and answers"), checked.stdout
    # The image's health check: the installed command finds the port in the settings.
    checked = subprocess.run(
        [str(installed / "stashplex"), "health"],
        env=served_env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert checked.returncode == 0, checked.stderr
    port = served_env["STASHPLEX_PLEXAGENTSERVER_PORT"]
    assert checked.stdout.startswith(f"http://127.0.0.1:{port}/health: ok"), checked.stdout


def unshare() -> list[str]:
    # As root a mount namespace is enough; otherwise a user namespace maps us to root in it.
    command = ["unshare", "--mount", "--propagation", "private"]
    return command if os.geteuid() == 0 else [*command, "--user", "--map-root-user"]


def read_only_root(writable: Path) -> str:
    """Shell commands (in a private mount namespace) that leave only `writable` writable."""
    target = shlex.quote(str(writable))
    return f"mount --bind {target} {target} && mount -o remount,bind,ro /"


@functools.cache
def read_only_roots_available() -> bool:
    if not mounts_available():
        return False
    with tempfile.TemporaryDirectory() as outside:
        inside = Path(outside, "data")
        inside.mkdir()
        here, there = shlex.quote(str(inside / "ok")), shlex.quote(str(Path(outside, "ok")))
        probe = f"{read_only_root(inside)} && touch {here} && ! touch {there} 2>/dev/null"
        result = subprocess.run(
            [*unshare(), "sh", "-c", probe], capture_output=True, text=True, timeout=30
        )
        return result.returncode == 0 and (inside / "ok").exists()


@pytest.mark.skipif(not read_only_roots_available(), reason="no read-only root namespace here")
def test_the_image_environment_on_a_read_only_root(
    installed: Path, sample_stash, tmp_path: Path
) -> None:
    """As the container runs (`docker run --read-only`, compose's read_only): the image's
    environment and settings file, a root filesystem that refuses every write, and one
    writable folder standing for the /data volume. Posters on, so images are written too."""
    data, config = tmp_path / "data", tmp_path / "config"
    (data / "tmp").mkdir(parents=True)  # the image makes /data/tmp
    config.mkdir()
    shutil.copy(ROOT / "settings.ini", config / "settings.ini")  # the image's sample
    env = {
        name: value.replace("/data", str(data)).replace("/config", str(config))
        for name, value in image_environment().items()
    }
    assert env["TMPDIR"].startswith(str(data)) and env["MALLOC_MMAP_THRESHOLD_"]
    port = free_port()
    env |= {
        "PATH": f"{installed}:/usr/bin:/bin",
        "HOME": str(data),  # the image's user has /data as home
        "STASH_HOST": sample_stash.url,
        "POSTER_MODE": "true",
        "STASHPLEX_PLEXAGENTSERVER_HOST": LOOPBACK,
        "STASHPLEX_PLEXAGENTSERVER_PORT": str(port),
    }
    command = ["stashplex", "serve"]
    log_path = tmp_path / "serve.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [*unshare(), "sh", "-c", f"{read_only_root(data)} && exec {shlex.join(command)}"],
            env=env,
            cwd=data,  # the image's WORKDIR
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        try:
            wait_for_port(port, timeout=60)
        except TimeoutError:
            pytest.fail(f"stashplex serve did not start read-only:\n{log_path.read_text()}")
        url = f"http://{LOOPBACK}:{port}"
        checked = subprocess.run(
            [str(installed / "python"), str(SMOKE), url, sample_stash.url],
            capture_output=True,
            text=True,
            timeout=180,
            cwd=tmp_path,
        )
        assert checked.returncode == 0, checked.stdout + checked.stderr + log_path.read_text()
        with httpx.Client(base_url=url, timeout=30) as http:
            for path in ("/stash/scene/7/poster", "/stash/performer/1/image"):
                assert http.get(path).status_code in (200, 404), path
        health = subprocess.run(
            [str(installed / "stashplex"), "health"], env=env, capture_output=True, timeout=60
        )
        assert health.returncode == 0, health.stderr
    finally:
        process.terminate()
        process.wait(timeout=30)
    log_text = log_path.read_text()
    assert "Read-only file system" not in log_text and "Traceback" not in log_text, log_text
    assert process.returncode == 0, log_text
    assert (data / "stashplex.db").exists() and any((data / "posters").rglob("*.jpg"))
