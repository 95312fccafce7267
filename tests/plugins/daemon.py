"""`stashplex serve` as a real process on 127.0.0.1, for the fault, kill and secrets tests.

``daemon_factory(stash_url, data=..., hook=..., mount=..., **env)`` starts one and waits until
it listens; every one still running is killed at teardown. Options:

- ``data``: the folder holding the mirror and posters (reuse it to restart on the same files);
- ``hook``: Python source run in the child before the CLI (test-only instrumentation, e.g. a
  pause at a precise point so the test can SIGKILL there; production code has no such hooks);
- ``mount``: ``"full"`` or ``"ro"``: the poster folder becomes a tiny full tmpfs or a read-only
  one, in a private mount namespace of the child (``unshare``), so the kernel itself answers
  ENOSPC or EROFS. ``mounts_available()`` says whether this machine allows it.
"""

from __future__ import annotations

import functools
import os
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from .net import LOOPBACK, free_port, wait_for_port

_BOOT = "import sys\n{hook}\nfrom stashplex.cli import main\nsys.exit(main(sys.argv[1:]))\n"


def wait_until(condition: Callable[[], Any], timeout: float = 30.0, what: str = "") -> Any:
    """Poll `condition` until it returns something true (HTTP errors count as false)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = condition()
            if value:
                return value
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what or condition}")
        time.sleep(0.05)


class Daemon:
    def __init__(self, process: subprocess.Popen, port: int, log_path: Path, data: Path) -> None:
        self.process = process
        self.port = port
        self.url = f"http://{LOOPBACK}:{port}"
        self.http = httpx.Client(base_url=self.url, timeout=15)
        self.log_path = log_path
        self.data = data

    @property
    def database(self) -> Path:
        return self.data / "mirror.db"

    @property
    def posters(self) -> Path:
        return self.data / "posters"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def count(self, text: str) -> int:
        return self.log().count(text)

    def health(self) -> dict[str, Any]:
        return self.http.get("/health").json()

    def scenes(self) -> int:
        return self.health()["mirror"]["scenes"]

    def match(self, filename: str) -> list[dict[str, Any]]:
        response = self.http.post(
            "/library/metadata/matches", json={"type": 1, "filename": filename}
        )
        assert response.status_code == 200, response.text
        return response.json()["MediaContainer"].get("Metadata", [])

    def metadata(self, scene_id: int) -> dict[str, Any]:
        response = self.http.get(f"/library/metadata/scene-{scene_id}")
        assert response.status_code == 200, response.text
        return response.json()["MediaContainer"]["Metadata"][0]

    def title(self, scene_id: int) -> str:
        return self.metadata(scene_id)["title"]

    def kill(self) -> None:
        """SIGKILL: no clean-up of any kind runs in the child."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)
        self.http.close()

    def terminate(self, timeout: float = 15) -> int:
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=timeout)
        self.http.close()
        return code


@functools.cache
def mounts_available() -> bool:
    """Can a child get a private mount namespace with a tmpfs (as root, or via a user ns)?"""
    try:
        result = subprocess.run(
            [*_unshare(), "sh", "-c", "mount -t tmpfs -o size=64k tmpfs /mnt && echo ok"],
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return result.stdout.strip() == "ok"


def _unshare() -> list[str]:
    # As root a mount namespace is enough; otherwise a user namespace maps us to root in it.
    return ["unshare", "--mount", "--propagation", "private"] + (
        [] if os.geteuid() == 0 else ["--user", "--map-root-user"]
    )


def _mounted(command: list[str], folder: Path, mode: str) -> list[str]:
    target = shlex.quote(str(folder))
    if mode == "full":
        # A 256 kB tmpfs filled to the last block: the first poster write gets ENOSPC.
        setup = (
            f"mount -t tmpfs -o size=256k tmpfs {target} && "
            f"(dd if=/dev/zero of={target}/filler bs=4k 2>/dev/null; true)"
        )
    elif mode == "ro":
        setup = f"mount -t tmpfs -o ro,size=256k tmpfs {target}"
    else:
        raise ValueError(f"unknown mount mode {mode!r}")
    return [*_unshare(), "sh", "-c", f"{setup} && exec {shlex.join(command)}"]


@pytest.fixture
def daemon_factory(tmp_path: Path) -> Iterator[Callable[..., Daemon]]:
    started: list[Daemon] = []

    def start(
        stash_url: str,
        *args: str,
        data: Path | None = None,
        hook: str | None = None,
        mount: str | None = None,
        wait: bool = True,
        **env: str,
    ) -> Daemon:
        port = free_port()
        data = data or tmp_path / "data"
        data.mkdir(parents=True, exist_ok=True)
        (data / "posters").mkdir(exist_ok=True)
        log_path = tmp_path / f"serve-{len(started)}-{port}.log"
        environment = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "STASH_HOST": stash_url,
            "STASHPLEX_PLEXAGENTSERVER_HOST": LOOPBACK,
            "STASHPLEX_PLEXAGENTSERVER_PORT": str(port),
            "STASHPLEX_MIRROR_DATABASE": str(data / "mirror.db"),
            "STASHPLEX_MIRROR_POSTER_DIR": str(data / "posters"),
            "STASHPLEX_SYNC_INTERVAL_MINUTES": "0.05",  # 3 s: retries and syncs come quickly
            "STASHPLEX_STASH_TIMEOUT": "3",
            **env,
        }
        command = [sys.executable, "-c", _BOOT.format(hook=hook or ""), *(args or ("serve",))]
        if mount is not None:
            command = _mounted(command, data / "posters", mount)
        with log_path.open("wb") as log_file:
            process = subprocess.Popen(
                command, env=environment, cwd=tmp_path, stdout=log_file, stderr=subprocess.STDOUT
            )
        daemon = Daemon(process, port, log_path, data)
        started.append(daemon)
        if wait:
            try:
                wait_for_port(port, timeout=30)
            except TimeoutError:
                raise AssertionError(f"the daemon did not start:\n{daemon.log()}") from None
        return daemon

    yield start
    for daemon in started:
        daemon.http.close()
        if daemon.process.poll() is None:
            daemon.process.kill()
            daemon.process.wait()
