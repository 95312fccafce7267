"""The Stash plugin in stash-plugin/stashplex/, run as Stash runs it: a subprocess with Stash's
JSON on stdin, against a real `stashplex serve` and the sample Stash (which serves the plugin's
settings and, with the plugin installed, runs its hooks for edits made through its control
route). The last test goes all the way: edit in Stash -> hook -> webhook -> mirror -> Plex."""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import subprocess
import sys
import tarfile
import time
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from stashplex.samplestash import SampleStash
from stashplex.samplestash.plugin_hooks import Plugin, parse_log
from tests.plugins.daemon import Daemon, wait_until
from tests.plugins.fake_pms import TOKEN as PLEX_TOKEN
from tests.plugins.fake_pms import FakePMS

PLUGIN = Path(__file__).resolve().parents[2] / "stash-plugin" / "stashplex"
TOKEN = "plugin-webhook-token-7c41d9"
TRIGGERS = {
    f"{kind}.{action}.Post"
    for kind in ("Scene", "Performer", "Studio", "Tag", "Group", "Movie")
    for action in ("Create", "Update", "Destroy")
} | {"Tag.Merge.Post"}


def run_plugin(stash: SampleStash, args: dict[str, Any], stdin: str | None = None):
    """The script as Stash starts it; returns (exit status, stdout JSON, log lines, seconds)."""
    payload = (
        stdin
        if stdin is not None
        else json.dumps({"server_connection": stash.server_connection(), "args": args})
    )
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, str(PLUGIN / "stashplex.py")],
        input=payload,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=PLUGIN,
    )
    output = json.loads(done.stdout) if done.stdout.strip() else None
    return done.returncode, output, parse_log(done.stderr), time.monotonic() - started


def plex_key(daemon: Daemon, scene_id: int) -> str | None:
    with closing(sqlite3.connect(f"file:{daemon.database}?mode=ro", uri=True)) as db:
        row = db.execute(
            "SELECT plex_key FROM plex_items WHERE scene_id = ?", (scene_id,)
        ).fetchone()
    return row[0] if row else None


def hook(trigger: str, ident: int, **extra: Any) -> dict[str, Any]:
    return {"hookContext": {"id": ident, "type": trigger, "input": extra, "inputFields": []}}


@pytest.fixture
def served(sample_stash_factory, daemon_factory):
    """A sample Stash holding the plugin's settings and a stashplex with the webhook on."""

    def make(scenes: int = 40, **env: str) -> tuple[SampleStash, Daemon]:
        stash = sample_stash_factory(scenes=scenes)
        daemon = daemon_factory(stash.url, STASHPLEX_SYNC_WEBHOOK_TOKEN=TOKEN, **env)
        wait_until(lambda: daemon.health()["mirror"]["scenes"] == scenes, what="the first sync")
        stash.library.plugin_settings["stashplex"] = {
            "stashplexUrl": daemon.url,
            "webhookToken": TOKEN,
        }
        return stash, daemon

    return make


def test_the_yaml_is_what_stash_loads() -> None:
    text = (PLUGIN / "stashplex.yml").read_text(encoding="utf-8")
    plugin = Plugin.load(PLUGIN)
    assert plugin.ident == "stashplex"  # Stash names the plugin after the file
    assert plugin.exec == ["python", "{pluginDir}/stashplex.py"]
    assert plugin.triggers == TRIGGERS
    assert re.search(r"^interface: raw$", text, re.M)
    settings = re.findall(r"^  (\w+):\n(?:    .*\n)*?    type: (\w+)", text, re.M)
    assert dict(settings) == {"stashplexUrl": "STRING", "webhookToken": "STRING"}


def test_the_script_uses_only_the_standard_library() -> None:
    source = (PLUGIN / "stashplex.py").read_text(encoding="utf-8")
    modules = set(re.findall(r"^(?:from|import) ([\w.]+)", source, re.M))
    assert modules <= {"__future__", "json", "sys", "urllib.error", "urllib.request", "typing"}
    assert modules - {"__future__", "typing"} <= set(sys.stdlib_module_names) | {
        "urllib.error",
        "urllib.request",
    }


def test_a_hook_reaches_stashplex_and_the_mirror(served) -> None:
    stash, daemon = served()
    stash.library.edit_scene(7, title="Sent by the plugin")
    status, output, log, _ = run_plugin(stash, hook("Scene.Update.Post", 7, title="x"))
    assert (status, output) == (0, {"output": "sent"}), log
    assert ("d", "stashplex: told stashplex: Scene.Update.Post 7") in log
    # The scheduled incremental pass is 3 s away in this test daemon, and the plugin's event
    # arrives well before; either way the mirror follows.
    wait_until(lambda: daemon.title(7) == "Sent by the plugin", timeout=30)


def test_check_connection_task(served) -> None:
    stash, daemon = served()
    status, output, log, _ = run_plugin(stash, {"mode": "check"})
    assert (status, output) == (0, {"output": "stashplex accepts this plugin"})
    assert log[-1][0] == "i" and daemon.url in log[-1][1]
    stash.library.plugin_settings["stashplex"]["webhookToken"] = "wrong"
    status, output, log, _ = run_plugin(stash, {"mode": "check"})
    assert status == 0 and output == {"output": "refused (401)"}
    assert log[-1][0] == "w" and "401" in log[-1][1] and "wrong" not in log[-1][1]


def test_the_plugin_never_fails_or_blocks_stash(sample_stash_factory, tmp_path: Path) -> None:
    stash = sample_stash_factory(scenes=5)
    event = hook("Scene.Update.Post", 1)
    # Not configured yet.
    status, output, log, _ = run_plugin(stash, event)
    assert (status, output["output"]) == (0, "not configured")
    assert log[0][0] == "w" and "Settings > Plugins" in log[0][1]
    # stashplex down: no retries, no long wait.
    stash.library.plugin_settings["stashplex"] = {
        "stashplexUrl": "http://127.0.0.1:9",
        "webhookToken": TOKEN,
    }
    status, output, log, seconds = run_plugin(stash, event)
    assert (status, output["output"]) == (0, "stashplex unreachable")
    assert seconds < 30  # a refused connection; the timeout itself is 3 s per request
    # Stash unreachable for the settings query (a wrong server_connection).
    broken = json.dumps({"server_connection": {"Host": "127.0.0.1", "Port": 9}, "args": event})
    status, output, log, _ = run_plugin(stash, event, stdin=broken)
    assert (status, output["output"]) == (0, "settings unreadable")
    # Not even JSON.
    status, output, log, _ = run_plugin(stash, event, stdin="{garbage")
    assert (status, output["output"]) == (0, "failed")
    assert log[0][0] == "e"
    # Run by hand, no hook and no task.
    status, output, _, _ = run_plugin(stash, {})
    assert status == 0 and "nothing to do" in output["output"]


def test_edit_in_stash_reaches_plex(served, fake_pms: FakePMS) -> None:
    """Edit through the sample Stash's control route -> its hook runs the plugin -> webhook ->
    targeted sync -> metadata answer -> refresh request at the (fake) PMS."""
    stash, daemon = served(
        PLEX_URL=fake_pms.url,
        PLEX_TOKEN=PLEX_TOKEN,
        STASHPLEX_PLEX_REFRESH_ON_CHANGE="true",
        STASHPLEX_SYNC_INTERVAL_MINUTES="60",  # only the plugin can bring the edit in time
    )
    scene = 9
    key = fake_pms.add_scene(scene)
    daemon.metadata(scene)  # PMS asks for the scene: stashplex learns its Plex key
    wait_until(lambda: plex_key(daemon, scene) == key, what="the Plex key")
    hooks = stash.install_plugin(PLUGIN, stash.library.plugin_settings["stashplex"])
    stash.control("edit_scene", {"id": scene, "title": "Edited in Stash"})
    stash.control("delete_scene", {"id": 11})
    assert hooks.drain(60)
    assert [(r.trigger, r.returncode, r.output) for r in hooks.runs] == [
        ("Scene.Update.Post", 0, {"output": "sent"}),
        ("Scene.Destroy.Post", 0, {"output": "sent"}),
    ]
    wait_until(lambda: daemon.title(scene) == "Edited in Stash", timeout=30)
    wait_until(lambda: fake_pms.requests("PUT", f"/library/metadata/{key}/refresh"), timeout=30)
    wait_until(lambda: daemon.http.get("/library/metadata/scene-11").status_code == 404)
    assert "changes sync" in daemon.log()


def test_the_source_archive_holds_the_plugin(tmp_path: Path) -> None:
    root = PLUGIN.parents[1]
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "setup.py", "README.md", "LICENSE", "MANIFEST.in"):
        shutil.copy2(root / name, source / name)
    for name in ("stashplex", "migrations", "stash-plugin"):
        shutil.copytree(root / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
    done = subprocess.run(
        [sys.executable, "setup.py", "-q", "sdist", "--dist-dir", str(tmp_path / "dist")],
        cwd=source,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    (archive,) = (tmp_path / "dist").glob("stashplex-*.tar.gz")
    with tarfile.open(archive) as tar:
        names = {name.split("/", 1)[1] for name in tar.getnames() if "/" in name}
    assert {"stash-plugin/stashplex/stashplex.yml", "stash-plugin/stashplex/stashplex.py"} <= names


def test_sync_controls_on_a_running_service(served) -> None:
    stash, daemon = served(STASHPLEX_SYNC_INTERVAL_MINUTES="60")
    stash.library.delete_scene(5)  # only a sweep (or a full pass) notices
    response = daemon.http.post("/api/sync", json={"kind": "sweep"})
    assert response.status_code == 202 and response.json()["queued"] == "sweep"
    wait_until(lambda: daemon.scenes() == 39, timeout=30, what="the sweep")
    page = daemon.http.get("/status").text
    token = re.search(r'name="token" value="([0-9a-f]+)"', page)[1]
    host = daemon.url.split("//", 1)[1]
    refused = daemon.http.post(
        "/status/sync", data={"kind": "full", "token": token}, headers={"Origin": "http://evil"}
    )
    assert refused.status_code == 403
    stash.library.edit_scene(6, title="Only a full pass brings this in")
    accepted = daemon.http.post(
        "/status/sync",
        data={"kind": "full", "token": token},
        headers={"Origin": f"http://{host}", "Sec-Fetch-Site": "same-origin"},
    )
    assert accepted.status_code == 303 and accepted.headers["Location"] == "/status"
    wait_until(lambda: daemon.title(6) == "Only a full pass brings this in", timeout=30)


RECORDER = """
import json, sys
payload = json.load(sys.stdin)
with open({log!r}, "a") as fh:
    fh.write(json.dumps(payload) + "\\n")
sys.stderr.write("\\x01i\\x02recorded\\n")
print(json.dumps({{"output": "ok"}}))
"""


@pytest.mark.parametrize("version", ["v0.30.1", "v0.26.0"])
def test_the_sample_stash_runs_hooks_as_stash_does(
    sample_stash_factory, tmp_path: Path, version: str
) -> None:
    folder = tmp_path / "recorder"
    folder.mkdir()
    log = tmp_path / "hooks.jsonl"
    (folder / "recorder.py").write_text(RECORDER.format(log=str(log)))
    triggers = ["Scene.Update.Post", "Group.Update.Post", "Movie.Update.Post", "Tag.Merge.Post"]
    (folder / "recorder.yml").write_text(
        "name: recorder\nexec:\n  - python\n  - '{pluginDir}/recorder.py'\ninterface: raw\n"
        "hooks:\n  - name: all\n    triggeredBy:\n" + "".join(f"      - {t}\n" for t in triggers)
    )
    stash = sample_stash_factory(scenes=10, stash_version=version)
    hooks = stash.install_plugin(folder, {"anything": "x"})
    stash.control("edit_scenes", {"ids": [3, 1, 2], "title": "bulk"})
    stash.control("rename_group", {"id": 1, "name": "Renamed"})
    stash.control("rename_performer", {"id": 1, "name": "Not hooked"})  # not in triggeredBy
    stash.control("merge_tags", {"sources": [2, 3], "destination": 1})
    assert hooks.drain(60)
    seen = [json.loads(line) for line in log.read_text().splitlines()]
    contexts = [(p["args"]["hookContext"]["type"], p["args"]["hookContext"]["id"]) for p in seen]
    groups = [("Group.Update.Post", 1), ("Movie.Update.Post", 1)] if version >= "v0.27" else []
    assert contexts == [
        ("Scene.Update.Post", 3),
        ("Scene.Update.Post", 1),
        ("Scene.Update.Post", 2),
        *(groups or [("Movie.Update.Post", 1)]),
        ("Tag.Merge.Post", 1),
    ]
    assert seen[0]["args"]["hookContext"]["input"] == {"ids": ["3", "1", "2"], "title": "bulk"}
    assert seen[-1]["args"]["hookContext"]["input"] == {"source": ["2", "3"], "destination": "1"}
    connection = seen[0]["server_connection"]
    assert (connection["Host"], connection["Port"]) == (stash.host, stash.port)
    assert all(run.returncode == 0 and run.log == [("i", "recorded")] for run in hooks.runs)


def test_a_new_cover_in_stash_is_uploaded_to_plex(served, fake_pms: FakePMS) -> None:
    stash, daemon = served(
        PLEX_URL=fake_pms.url,
        PLEX_TOKEN=PLEX_TOKEN,
        POSTER_MODE="true",
        STASHPLEX_SYNC_INTERVAL_MINUTES="60",  # only the plugin can bring the edit in time
    )
    scene = next(s for s in stash.library.scene_ids() if stash.library.has_cover(s))
    key = fake_pms.add_scene(scene)
    daemon.metadata(scene)  # PMS asks: the poster goes up
    first = wait_until(lambda: fake_pms.uploads_to(key), timeout=30, what="the first upload")
    hooks = stash.install_plugin(PLUGIN, stash.library.plugin_settings["stashplex"])
    stash.control("set_cover", {"id": scene})
    assert hooks.drain(60) and hooks.runs[0].output == {"output": "sent"}
    uploads = wait_until(
        lambda: (u := fake_pms.uploads_to(key)) and len(u) > len(first) and u,
        timeout=30,
        what="the new cover's upload",
    )
    assert uploads[-1] != first[0]
