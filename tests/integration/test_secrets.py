"""The Stash API key, the Plex token, the webhook token and URL passwords never leave the
requests they authenticate.

Every code path runs with a known key and token (and a wrong key, itself a secret): syncs of
every kind, serving, live lookups, images, posters, uploads and refreshes to a fake PMS, Stash
and Plex refusing them, error answers, the status page and its checkup, /health, and the
command line (the doctor included). Then neither value may appear in any log line, any answer
(body or header), any command output, or any stored file: the mirror (and its WAL), the image
cache, the posters.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import httpx

from stashplex.samplestash import SampleStash
from tests.plugins.daemon import Daemon, wait_until
from tests.plugins.fake_pms import FakePMS

API_KEY = "stash-key-7Q2f9ZxKw4"
WRONG_KEY = "wrong-key-Hh4kP0s9Lm"
TOKEN = "plex-token-V3r8mN1wQe"
HOOK_TOKEN = "hook-token-Tq5LxW2c8R"
WRONG_HOOK_TOKEN = "hook-wrong-Zp3Vn6Bd1K"
# Credentials in the configured URLs (`http://user:password@host`) are secrets too.
STASH_URL_PASSWORD = "stash-pass-Rk2mW8yQ4v"
PLEX_URL_PASSWORD = "plex-pass-Ju7cX3nF9s"
SECRETS = (
    API_KEY,
    WRONG_KEY,
    TOKEN,
    HOOK_TOKEN,
    WRONG_HOOK_TOKEN,
    STASH_URL_PASSWORD,
    PLEX_URL_PASSWORD,
)


def with_password(url: str, password: str) -> str:
    scheme, rest = url.split("://", 1)
    return f"{scheme}://someone:{password}@{rest}"


class Transcript:
    """Everything a client or a user could read, kept to be searched at the end."""

    def __init__(self) -> None:
        self.texts: list[tuple[str, bytes]] = []

    def add(self, where: str, data: bytes | str) -> None:
        self.texts.append((where, data.encode() if isinstance(data, str) else data))

    def answer(self, response: httpx.Response) -> httpx.Response:
        head = "\n".join(f"{k}: {v}" for k, v in response.headers.items())
        self.add(
            f"{response.request.method} {response.request.url}", head.encode() + response.content
        )
        return response

    def run(self, *args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
        done = subprocess.run(
            [sys.executable, "-m", "stashplex", *args],
            env={"PATH": os.environ.get("PATH", ""), **env},
            cwd=cwd,
            capture_output=True,
            timeout=120,
        )
        self.add(f"stashplex {' '.join(args)}", done.stdout + done.stderr)
        return done


def every_file(folder: Path) -> list[Path]:
    return [path for path in folder.rglob("*") if path.is_file()]


def assert_nowhere(transcript: Transcript, files: list[Path]) -> None:
    for secret in SECRETS:
        needle = secret.encode()
        for where, data in transcript.texts:
            assert needle not in data, f"{secret!r} in {where}"
        for path in files:
            assert needle not in path.read_bytes(), f"{secret!r} in {path}"
            assert secret not in str(path)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def exercise(daemon: Daemon, stash: SampleStash, pms: FakePMS, seen: Transcript) -> None:
    http = daemon.http
    lib = stash.library
    get = lambda path, **kw: seen.answer(http.get(path, **kw))  # noqa: E731
    post = lambda path, **kw: seen.answer(http.post(path, **kw))  # noqa: E731
    wait_until(lambda: daemon.scenes() == lib.live_count(), what="the first sync")

    # Answers from the mirror, then live lookups of a scene the mirror does not have yet.
    for scene_id in (1, 2, 3, 4, 5):
        post(
            "/library/metadata/matches", json={"type": 1, "filename": lib.scene_paths(scene_id)[0]}
        )
        get(f"/library/metadata/scene-{scene_id}")
        get(f"/library/metadata/scene-{scene_id}/images")
        get(f"/tv/library/metadata/scene-{scene_id}")
    (new,) = lib.add_scenes(1, title="Added after the sync")
    found = post("/library/metadata/matches", json={"type": 1, "filename": lib.scene_paths(new)[0]})
    assert found.json()["MediaContainer"]["size"] == 1  # fetched live
    get(f"/library/metadata/scene-{new + 100}")  # asked live, absent
    post("/library/metadata/matches", json={"type": 1, "filename": "/x/never heard of.mp4"})

    # Images and posters, fetched with the key and stored.
    for scene_id in range(1, 12):
        for path in (
            f"/stash/scene/{scene_id}/screenshot",
            f"/stash/scene/{scene_id}/poster",
            f"/stash/performer/{scene_id}/image",
            f"/stash/studio/{scene_id}/image",
            f"/stash/group/{scene_id}/front",
        ):
            get(path)

    # Uploads to Plex (metadata requests feed the uploader), and refreshes after a change.
    wait_until(lambda: pms.uploads, what="a poster upload to Plex", timeout=30)
    lib.advance(600)
    lib.edit_scene(2, title="Changed for a refresh")
    wait_until(lambda: pms.requests("PUT", "/refresh"), what="a refresh in Plex", timeout=30)

    # The Stash plugin's webhook: accepted, refused, and a body it cannot use.
    event = {"events": [{"type": "Scene.Update.Post", "id": 3}]}
    assert post("/sync/events", json=event, headers=bearer(HOOK_TOKEN)).status_code == 202
    assert post("/sync/events", json=event, headers=bearer(WRONG_HOOK_TOKEN)).status_code == 401
    bad = {"events": [{"type": HOOK_TOKEN, "id": 1}]}  # echoed in the reason, redacted
    assert post("/sync/events", json=bad, headers=bearer(HOOK_TOKEN)).status_code == 400

    # Errors of every kind, the status page and health.
    get("/library/metadata/not-a-key")
    get("/stash/scene/abc/screenshot")
    post("/library/metadata/matches", content=b"{not json")
    post("/library/metadata/matches", content=b" " * (1024 * 1024 + 1))
    seen.answer(http.delete("/"))
    assert "://someone:***@127.0.0.1" in get("/status").text  # the Stash URL, password hidden
    get("/health")
    get("/")
    get("/tv")

    # The checkup (stashplex doctor's checks) run from the status page, its report shown there.
    token = re.search(
        r'action="/status/checkup"><input type="hidden" name="token" value="([0-9a-f]+)"',
        get("/status").text,
    )[1]
    form = {"Content-Type": "application/x-www-form-urlencoded", "Sec-Fetch-Site": "same-origin"}
    assert post("/status/checkup", content=f"token={token}", headers=form).status_code == 303
    wait_until(lambda: "Last run finished" in get("/status").text, what="the checkup")

    # Stash refusing the key, then gone; Plex refusing the token.
    stash.faults.unauthorized()
    wait_until(lambda: "rejected the API key" in daemon.log(), what="the refused key")
    get("/stash/scene/30/screenshot")
    post("/library/metadata/matches", json={"type": 1, "filename": "/y/unknown again.mp4"})
    get("/status")
    get("/health")
    stash.faults.clear()
    stash.faults.down()
    wait_until(lambda: "cannot reach Stash" in daemon.log(), what="Stash down")
    get("/stash/scene/31/screenshot")
    stash.faults.up()
    pms.token = "a-token-plex-no-longer-accepts"
    for scene_id in range(6, 12):
        pms.add_scene(scene_id)
        get(f"/library/metadata/scene-{scene_id}")
    wait_until(lambda: "Plex" in daemon.log() and "token" in daemon.log(), what="token refused")
    get("/status")


def test_no_secret_in_any_log_answer_output_or_file(
    sample_stash_factory, daemon_factory, tmp_path: Path
) -> None:
    stash = sample_stash_factory(api_key=API_KEY, scenes=40)
    pms = FakePMS(token=TOKEN).start()
    seen = Transcript()
    try:
        for scene_id in range(1, 6):
            pms.add_scene(scene_id)
        env = {
            "STASH_API_KEY": API_KEY,
            "PLEX_URL": with_password(pms.url, PLEX_URL_PASSWORD),
            "PLEX_TOKEN": TOKEN,
            "POSTER_MODE": "true",
            "STASHPLEX_PLEX_REFRESH_ON_CHANGE": "true",
            "STASHPLEX_SYNC_WEBHOOK_TOKEN": HOOK_TOKEN,
            "DEBUG": "true",  # every Stash call logged with its variables
        }
        daemon = daemon_factory(with_password(stash.url, STASH_URL_PASSWORD), **env)
        exercise(daemon, stash, pms, seen)
        assert daemon.terminate() == 0
        seen.add("serve log", daemon.log())
        assert "rejected the API key" in daemon.log()

        # The command line: syncs of every kind, settings, upgrades, and its errors.
        cli_env = {
            "STASH_HOST": with_password(stash.url, STASH_URL_PASSWORD),
            "STASHPLEX_MIRROR_DATABASE": str(daemon.database),
            "STASHPLEX_MIRROR_POSTER_DIR": str(daemon.posters),
            "STASHPLEX_STASH_TIMEOUT": "3",
            **{k: v for k, v in env.items() if k != "DEBUG"},
        }
        for args in (("sync", "--full"), ("sync", "--sweep"), ("sync",), ("sync", "--scene", "3")):
            assert (
                seen.run(
                    *args, "--no-progress", env={**cli_env, "DEBUG": "true"}, cwd=tmp_path
                ).returncode
                == 0
            )
        shown = seen.run("settings", env=cli_env, cwd=tmp_path)
        assert shown.returncode == 0 and b"://someone:***@127.0.0.1" in shown.stdout
        assert seen.run("db", "upgrade", env=cli_env, cwd=tmp_path).returncode == 0
        # The doctor with Plex refusing the token, then with a wrong Stash key.
        doctor_env = {**cli_env, "AGENT_BASE_URL": daemon.url}  # stopped: a failed line
        checked = seen.run("doctor", env=doctor_env, cwd=tmp_path)
        assert checked.returncode == 1 and b"refused the token" in checked.stdout
        checked = seen.run("doctor", env={**doctor_env, "STASH_API_KEY": WRONG_KEY}, cwd=tmp_path)
        assert checked.returncode == 1 and b"rejected the API key" in checked.stdout
        wrong = {**cli_env, "STASH_API_KEY": WRONG_KEY}
        refused = seen.run("sync", "--no-progress", env=wrong, cwd=tmp_path)
        assert refused.returncode == 1 and b"rejected the API key" in refused.stderr
        stash.faults.down()
        down = seen.run("sync", "--no-progress", env=cli_env, cwd=tmp_path)
        assert down.returncode == 1
        stash.faults.up()
        typo = tmp_path / "typo.ini"
        typo.write_text(f"[stash]\napi_kee = {API_KEY}\n[plex]\ntokn = {TOKEN}\n")
        bad = seen.run("serve", "--settings", str(typo), env={"PATH": ""}, cwd=tmp_path)
        assert bad.returncode == 2 and b"<hidden>" in bad.stderr
        typo.unlink()  # the user's own settings file holds the key, by design
    finally:
        pms.stop()

    files = every_file(daemon.data) + [p for p in every_file(tmp_path) if p.suffix == ".log"]
    assert any(p.name == "mirror.db" for p in files)
    assert any("images" in p.parts for p in files) and any(p.suffix == ".jpg" for p in files)
    assert_nowhere(seen, files)
