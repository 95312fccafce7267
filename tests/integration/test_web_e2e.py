"""End to end over HTTP: the app under waitress on 127.0.0.1, a mirror synced from the sample
Stash, and `stashplex serve` as a real process stopped with SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from stashplex.samplestash import SampleStash
from stashplex.samplestash.names import TRAP_BY_ID
from stashplex.web.app import create_app
from tests.plugins.net import LOOPBACK, free_port, wait_for_port
from tests.plugins.webkit import GUID_PREFIX, Provider, serving, synced_sample

PLEX_ROOT = "/volume1/Porn"


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Provider]:
    with synced_sample(tmp_path_factory.mktemp("e2e")) as provider:
        yield provider


@pytest.fixture(scope="module")
def http(sample: Provider) -> Iterator[httpx.Client]:
    with (
        serving(sample.app, sample.settings) as url,
        httpx.Client(base_url=url, timeout=10) as client,
    ):
        yield client


def plex_path(scene_id: int) -> str:
    file = TRAP_BY_ID[scene_id].files[0]
    return "/".join([PLEX_ROOT, *file.folder, file.basename])


def test_provider_description(http: httpx.Client) -> None:
    response = http.get("/?includePreferences=1")
    assert response.status_code == 200
    assert response.json()["MediaProvider"]["identifier"] == "tv.plex.agents.custom.stashplex"
    assert response.headers["server"] == "stashplex"


def test_scan_flow_for_every_hard_name(http: httpx.Client) -> None:
    """What PMS does per file: match, then metadata by the guid's last segment, images, extras."""
    for scene_id in sorted(TRAP_BY_ID):
        match = http.post(
            "/library/metadata/matches", json={"type": 1, "filename": plex_path(scene_id)}
        )
        assert match.status_code == 200
        (candidate,) = match.json()["MediaContainer"]["Metadata"]
        assert candidate["guid"] == f"{GUID_PREFIX}scene-{scene_id}"
        assert candidate["score"] == 100
        rating_key = candidate["guid"].rsplit("/", 1)[-1]
        metadata = http.get(f"/library/metadata/{rating_key}")
        assert metadata.status_code == 200
        (item,) = metadata.json()["MediaContainer"]["Metadata"]
        assert item["ratingKey"] == rating_key and item["title"]
        assert item["thumb"].startswith(f"http://{LOOPBACK}:")
        assert http.get(f"/library/metadata/{rating_key}/images").status_code == 200
        assert http.get(f"/library/metadata/{rating_key}/extras").status_code == 200


def test_images_over_http(http: httpx.Client, sample: Provider) -> None:
    metadata = http.get("/library/metadata/scene-1").json()["MediaContainer"]["Metadata"][0]
    thumb = httpx.URL(metadata["thumb"])
    first = http.get(thumb.raw_path.decode())
    assert first.status_code == 200 and first.headers["content-type"] == "image/jpeg"
    second = http.get(thumb.raw_path.decode(), headers={"If-None-Match": first.headers["etag"]})
    assert second.status_code == 304
    card = http.get("/stash/scene/2/screenshot")  # the trap without a cover: its title card
    assert card.status_code == 200 and card.headers["content-type"] == "image/jpeg"
    missing = http.get("/stash/scene/999999/screenshot")  # no such scene
    assert missing.status_code == 404 and missing.json()["error"]["status"] == 404
    assert http.get("/stash/scene/..%2F1/screenshot").status_code == 404


def test_errors_over_http_are_json(http: httpx.Client) -> None:
    for response, status in (
        (http.get("/no/such/route"), 404),
        (http.get("/library/metadata/scene-424242"), 404),
        (http.get("/library/metadata/plex%3A%2F%2Fmovie"), 404),
        (http.delete("/library/metadata/scene-1"), 405),
        (http.post("/library/metadata/matches", content=b"{nope"), 400),
        (http.post("/library/metadata/matches", json={"type": 2}), 400),
        (http.post("/library/metadata/matches", content=b"[" * 200_000), 400),
        (http.post("/library/metadata/matches", content=b" " * (1024 * 1024 + 10)), 413),
    ):
        assert response.status_code == status, response.text
        assert response.headers["content-type"].startswith("application/json")
        assert response.json()["error"]["status"] == status


def test_chunked_body_over_the_limit_is_413(http: httpx.Client) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"type": 1, "title": "'
        for _ in range(20):
            yield b"x" * 65536
        yield b'"}'

    response = http.post("/library/metadata/matches", content=chunks())
    assert response.status_code == 413


def test_malformed_host_never_reaches_urls(http: httpx.Client) -> None:
    response = http.get("/library/metadata/scene-1", headers={"Host": "evil.example/x?"})
    thumb = response.json()["MediaContainer"]["Metadata"][0]["thumb"]
    assert "evil" not in response.text
    assert thumb.startswith("http://127.0.0.1:7979/")


def test_concurrent_clients(http: httpx.Client) -> None:
    def one(i: int) -> int:
        scene_id = 1 + i % 30
        a = http.post(
            "/library/metadata/matches", json={"type": 1, "filename": plex_path(scene_id)}
        )
        b = http.get(f"/library/metadata/scene-{scene_id}")
        return a.status_code * 1000 + b.status_code

    with ThreadPoolExecutor(8) as pool:
        assert set(pool.map(one, range(200))) == {200200}


def test_peer_address_decides_not_forwarded_headers(sample: Provider) -> None:
    from dataclasses import replace

    from stashplex.settings import _networks

    settings = replace(
        sample.settings,
        server=replace(sample.settings.server, allowed_networks=_networks("10.0.0.0/8")),
    )
    app = create_app(settings, db=sample.db)
    try:
        with serving(app, settings) as url:
            response = httpx.get(url + "/", headers={"X-Forwarded-For": "10.0.0.1"})
            assert response.status_code == 403
            assert response.json()["error"]["status"] == 403
    finally:
        app.close()


def test_stashplex_serve_runs_until_sigterm(tmp_path: Path) -> None:
    port = free_port()
    with SampleStash(scenes=40, host=LOOPBACK, api_key="sample-secret-key") as stash:
        settings = tmp_path / "settings.ini"
        settings.write_text(
            "[plexagentserver]\n"
            f"host = {LOOPBACK}\nport = {port}\nnum_workers = 4\n"
            "[stash]\n"
            f"url = {stash.url}\napi_key = sample-secret-key\ntimeout = 2\n"
            "[mirror]\n"
            f"database = {tmp_path / 'data' / 'mirror.db'}\nposter_dir = {tmp_path / 'posters'}\n",
            encoding="utf-8",
        )
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        for name in list(env):
            if name.startswith("STASHPLEX_") or name in ("STASH_HOST", "STASH_API_KEY"):
                del env[name]
        process = subprocess.Popen(
            [sys.executable, "-m", "stashplex", "serve", "--settings", str(settings)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=tmp_path,
        )
        try:
            wait_for_port(port, timeout=20)
            base = f"http://{LOOPBACK}:{port}"
            health = httpx.get(base + "/health", timeout=10).json()
            assert health["mirror"]["scenes"] == 0  # a fresh mirror, no sync yet
            assert health["stash"]["reachable"] is True
            # A miss goes to Stash live (with the key), and lands in the mirror.
            match = httpx.post(
                base + "/library/metadata/matches",
                json={"type": 1, "filename": plex_path(14)},
                timeout=10,
            )
            assert match.json()["MediaContainer"]["Metadata"][0]["ratingKey"] == "scene-14"
            image = httpx.get(base + "/stash/scene/14/screenshot", timeout=10)
            assert image.status_code == 200
            process.send_signal(signal.SIGTERM)
            output, _ = process.communicate(timeout=15)
        finally:
            if process.poll() is None:
                process.kill()
                process.communicate()
    text = output.decode("utf-8", "replace")
    assert process.returncode == 0, text
    assert f"http://{LOOPBACK}:{port}" in text  # the URL to register in Plex
    assert "sample-secret-key" not in text
    assert "Traceback" not in text


def test_serve_reports_a_port_in_use(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket

    from stashplex import daemon
    from tests.plugins.webkit import hand_settings

    # serve() configures the root logger for a process; keep this test process's as it is.
    monkeypatch.setattr(daemon.logs, "setup", lambda *args, **kwargs: None)

    with socket.socket() as taken:
        taken.bind((LOOPBACK, 0))
        taken.listen()
        port = taken.getsockname()[1]
        settings = hand_settings(
            tmp_path,
            STASHPLEX_PLEXAGENTSERVER_HOST=LOOPBACK,
            STASHPLEX_PLEXAGENTSERVER_PORT=str(port),
            STASH_HOST="http://127.0.0.1:9",
        )
        assert daemon.serve(settings) == daemon.EXIT_FAILED
    assert f"cannot listen on {LOOPBACK}:{port}" in caplog.text


def test_stopping_a_server_whose_wake_up_pipe_is_gone(sample: Provider) -> None:
    """stop_server normally hands the closing to the loop's thread; with that pipe already
    closed it closes the sockets itself instead of raising."""
    from waitress import trigger

    from stashplex.web.server import _socket_map, create_server, stop_server

    server = create_server(sample.app, sample.settings, host=LOOPBACK, port=0)
    sockets = _socket_map(server)
    waker = next(item for item in sockets.values() if isinstance(item, trigger.trigger))
    os.close(waker.trigger)  # as if its descriptor had been lost
    stop_server(server)
    assert not sockets
    server.task_dispatcher.shutdown()
