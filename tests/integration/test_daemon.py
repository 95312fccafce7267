"""`stashplex serve` and `stashplex demo` as real processes against a sample Stash."""

from __future__ import annotations

import html
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.plugins.daemon import wait_until
from tests.plugins.net import LOOPBACK, free_port, wait_for_port

API_KEY = "daemon-test-key-4242"


class Served:
    def __init__(self, process: subprocess.Popen, port: int, log_path: Path) -> None:
        self.process = process
        self.url = f"http://{LOOPBACK}:{port}"
        self.http = httpx.Client(base_url=self.url, timeout=10)
        self.log_path = log_path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def health(self) -> dict:
        return self.http.get("/health").json()

    def match(self, filename: str) -> list[dict]:
        response = self.http.post(
            "/library/metadata/matches", json={"type": 1, "filename": filename}
        )
        assert response.status_code == 200, response.text
        return response.json()["MediaContainer"].get("Metadata", [])

    def terminate(self, timeout: float = 15) -> tuple[int, float]:
        started = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=timeout)
        return code, time.monotonic() - started


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., Served]]:
    started: list[Served] = []

    def start(stash_url: str, *args: str, port: int | None = None, **env: str) -> Served:
        port = port or free_port()
        log_path = tmp_path / f"serve-{port}.log"
        environment = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "STASH_HOST": stash_url,
            "STASHPLEX_PLEXAGENTSERVER_HOST": LOOPBACK,
            "STASHPLEX_PLEXAGENTSERVER_PORT": str(port),
            "STASHPLEX_MIRROR_DATABASE": str(tmp_path / "data" / "mirror.db"),
            "STASHPLEX_MIRROR_POSTER_DIR": str(tmp_path / "data" / "posters"),
            "STASHPLEX_SYNC_INTERVAL_MINUTES": "0.05",  # 3 s
            "STASHPLEX_STASH_TIMEOUT": "3",
            **env,
        }
        with log_path.open("wb") as log_file:
            process = subprocess.Popen(
                [sys.executable, "-m", "stashplex", *(args or ("serve",))],
                env=environment,
                cwd=tmp_path,
                stdout=log_file,
                stderr=subprocess.STDOUT,
            )
        served = Served(process, port, log_path)
        started.append(served)
        wait_for_port(port, timeout=30)
        return served

    yield start
    for served in started:
        served.http.close()
        if served.process.poll() is None:
            served.process.kill()
            served.process.wait()


def test_serve_syncs_answers_follows_changes_survives_stash_down_and_stops(
    sample_stash_factory, serve
) -> None:
    stash = sample_stash_factory(api_key=API_KEY)
    lib = stash.library
    served = serve(stash.url, STASH_API_KEY=API_KEY)
    wait_until(lambda: served.health()["mirror"]["scenes"] == lib.live_count(), what="first sync")

    path = lib.scene_paths(3)[0]
    (hit,) = served.match(path)
    assert hit["ratingKey"] == "scene-3" and hit["score"] == 100
    assert served.http.get("/library/metadata/scene-3").status_code == 200

    # A change in Stash reaches the answers after the next scheduled run (every 3 s here).
    lib.advance(600)
    lib.edit_scene(3, title="Edited while the service runs")

    def title() -> str:
        body = served.http.get("/library/metadata/scene-3").json()
        return body["MediaContainer"]["Metadata"][0]["title"]

    wait_until(lambda: title() == "Edited while the service runs", what="the edit")

    # Stash goes away: answers keep coming from the mirror.
    stash.faults.down()
    assert served.match(path)[0]["ratingKey"] == "scene-3"
    assert title() == "Edited while the service runs"
    wait_until(lambda: served.health()["stash"]["reachable"] is False, what="stash unreachable")
    assert served.health()["status"] == "degraded"
    wait_until(lambda: "sync failed" in served.log(), what="the sync failure line")
    stash.faults.up()
    wait_until(lambda: "Stash answers again" in served.log(), what="recovery")

    # A file Plex asks about that nobody knows shows up on the status page.
    unknown = "/mnt/plex/Unknown <Site>/Nobody & Co.mp4"
    assert served.match(unknown) == []
    page = served.http.get("/status")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert html.escape(unknown) in page.text
    assert "<script" not in page.text.lower()

    code, seconds = served.terminate()
    assert code == 0
    assert seconds < 10
    log = served.log()
    assert "stopped" in log
    assert API_KEY not in log
    # One clear line per problem, not one per retry.
    assert log.count("sync failed") == 1


def test_serve_starts_with_stash_down_and_catches_up(sample_stash_factory, serve) -> None:
    stash = sample_stash_factory()
    stash.faults.down()
    served = serve(stash.url)
    assert served.http.get("/").status_code == 200  # answering before any sync
    assert served.health()["mirror"]["scenes"] == 0
    stash.faults.up()
    wait_until(lambda: served.health()["mirror"]["scenes"] == stash.library.live_count())
    assert served.terminate()[0] == 0


def test_bad_settings_exit_2(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "stashplex", "serve"],
        env={"PATH": os.environ.get("PATH", ""), "STASHPLEX_SYNC_INTERVAL_MINUTES": "soon"},
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
    )
    assert result.returncode == 2
    assert "STASHPLEX_SYNC_INTERVAL_MINUTES = 'soon'" in result.stderr


def test_demo_starts_and_answers(tmp_path: Path, serve) -> None:
    port = free_port()
    served = serve(
        "http://unused.invalid",  # the demo brings its own Stash and ignores this
        "demo",
        "--scenes",
        "150",
        "--port",
        str(port),
        "--host",
        LOOPBACK,
        "--data",
        str(tmp_path / "demo"),
        port=port,
    )
    wait_until(lambda: served.health()["mirror"]["scenes"] == 150, what="demo sync")
    provider = served.http.get("/").json()
    assert provider["MediaProvider"]["identifier"] == "tv.plex.agents.custom.stashplex"
    log = served.log()
    assert "curl" in log and f":{port}/library/metadata/matches" in log
    # The printed match example works as printed.
    example = next(line for line in log.splitlines() if "-d '" in line)
    body = json.loads(example.split("-d ", 1)[1].strip().strip("'"))
    assert served.match(body["filename"])[0]["score"] == 100
    assert served.http.get("/stash/scene/100/poster").status_code in (200, 404)
    # So do the TV examples: the show of the sample scene, and its episodes.
    tv_examples = [line for line in log.splitlines() if "curl" in line and "/tv/" in line]
    assert len(tv_examples) == 2
    for line in tv_examples:
        path = line.split(f":{port}", 1)[1].strip()
        answer = served.http.get(path)
        assert answer.status_code == 200, path
        assert answer.json()["MediaContainer"]["size"] >= 1, path
    code, _ = served.terminate()
    assert code == 0


def test_debug_logs_each_stash_call_without_the_key(sample_stash_factory, serve) -> None:
    stash = sample_stash_factory(api_key=API_KEY)
    served = serve(stash.url, STASH_API_KEY=API_KEY, DEBUG="true")
    wait_until(lambda: served.health()["mirror"]["scenes"] == stash.library.live_count())
    assert served.terminate()[0] == 0
    log = served.log()
    calls = [line for line in log.splitlines() if "stash FindScenesPage" in line]
    assert calls and calls[0].rstrip().endswith("ms")
    assert '"scene_filter"' in calls[0]  # the variables, as sent
    assert API_KEY not in log


def test_dev_mode_restarts_on_changes(tmp_path: Path, sample_stash, serve) -> None:
    settings = tmp_path / "dev.ini"
    settings.write_text("[stash]\ntimeout = 3\n")
    served = serve(sample_stash.url, "serve", "--settings", str(settings), DEV="true")
    wait_until(lambda: "restarting on code changes" in served.log(), what="the reloader")
    assert served.http.get("/").status_code == 200
    time.sleep(1.1)  # file times have a resolution; make the change visible
    settings.write_text("[stash]\ntimeout = 4\n")
    wait_until(lambda: "changed; reloading" in served.log(), what="a restart")
    wait_until(lambda: served.log().count("restarting on code changes") == 2, what="new child")
    wait_until(lambda: served.http.get("/").status_code == 200, what="answers again")
    code, seconds = served.terminate()
    assert code == 0 and seconds < 15
