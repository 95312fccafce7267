"""Every supported Stash release line, end to end: the sample Stash pretends to be each one (its
schema per version is checked in test_samplestash_versions) and stashplex must sync, sweep,
re-read single scenes, find unknown files live and fetch images from it, over real HTTP.

Then a Stash on Windows (`C:\\Media\\…`) serving a Plex on Linux that mounts the same files under
/mnt/media: matched by full path through `path_map`, by suffix without it, and live.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from falcon import testing

from stashplex import cli
from stashplex.daemon import responder_client
from stashplex.mirror.db import Database
from stashplex.mirror.sync import Syncer
from stashplex.plex.matching import MatchRequest, exact_tiers
from stashplex.samplestash import SampleStash
from stashplex.samplestash.versions import RELEASE_LINES
from stashplex.settings import Settings
from stashplex.stash import features
from stashplex.stash.client import StashClient
from stashplex.stash.version import parse_version
from stashplex.web.app import ProviderApp, create_app
from tests.plugins.mirror import Mirrored, make_settings
from tests.plugins.net import LOOPBACK

SCENES = 20  # traps 1-20: quotes, accents, CJK, brackets, `%` and `_`, two files, ...
PLEX_ROOT = "/mnt/media"


@dataclass
class World:
    stash: SampleStash
    settings: Settings
    db: Database
    client: StashClient
    syncer: Syncer
    folder: Path

    @property
    def lib(self) -> Any:
        return self.stash.library

    def mirrored(self) -> Mirrored:
        return Mirrored(self.stash, self.settings, self.db, self.client, self.syncer)

    @contextmanager
    def provider(self, **env: str) -> Iterator[tuple[ProviderApp, testing.TestClient]]:
        """The app over this mirror, with its own responder client (nothing probed yet)."""
        settings = self.settings if not env else self._settings(**env)
        stash = responder_client(settings)
        app = create_app(settings, db=self.db, stash=stash)
        try:
            yield app, testing.TestClient(app)
        finally:
            app.close()
            stash.close()

    def _settings(self, **env: str) -> Settings:
        return make_settings(self.folder, self.stash.url, STASHPLEX_STASH_TIMEOUT="5", **env)


@contextmanager
def world(tmp_path: Path, **stash_args: Any) -> Iterator[World]:
    env = stash_args.pop("env", {})
    stash = SampleStash(scenes=SCENES, host=LOOPBACK, **stash_args).start()
    settings = make_settings(tmp_path, stash.url, STASHPLEX_STASH_TIMEOUT="5", **env)
    db = Database.open(settings.mirror.database)
    client = StashClient(settings.stash.url, timeout=5, backoff=0.01)
    try:
        yield World(stash, settings, db, client, Syncer(client, db, settings), tmp_path)
    finally:
        client.close()
        db.close()
        stash.stop()


def match(client: testing.TestClient, filename: str) -> list[dict[str, Any]]:
    response = client.simulate_post(
        "/library/metadata/matches", json={"type": 1, "filename": filename}
    )
    assert response.status_code == 200, response.text
    return response.json["MediaContainer"]["Metadata"]


@contextmanager
def kept_logging() -> Iterator[None]:
    """The CLI sets up the root logger for its process; put it back for the next test."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


def stashplex_sync(w: World, *args: str) -> int:
    ini = w.folder / "settings.ini"
    ini.write_text(
        f"[stash]\nurl = {w.stash.url}\ntimeout = 5\n"
        f"[mirror]\ndatabase = {w.settings.mirror.database}\n"
        f"poster_dir = {w.settings.mirror.poster_dir}\n",
        encoding="utf-8",
    )
    with kept_logging():
        return cli.sync_main(["--settings", str(ini), "--no-progress", *args])


def plex_path(w: World, scene_id: int) -> str:
    """Where a Plex on Linux sees a scene's primary file: under /mnt/media, same folders."""
    stash_path = w.lib.file_path(w.lib.file_ids(scene_id)[0])
    below_root = stash_path[len(w.lib.base.root) :].replace("\\", "/")
    return PLEX_ROOT + below_root


@pytest.fixture(autouse=True)
def _settings_from_the_file_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """`stashplex_sync` runs the CLI in this process: the environment must not override it."""
    for name in list(os.environ):
        if name.startswith("STASHPLEX_") or name.startswith("STASH_"):
            monkeypatch.delenv(name)


@pytest.mark.parametrize("version", RELEASE_LINES)
def test_every_path_on(version: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with world(tmp_path, stash_version=version) as w:
        lib = w.lib
        expected = features.for_version(parse_version(version) or (0, 0, 0))

        # Full sync: every scene and entity as Stash has them.
        report = w.syncer.run("full")
        assert w.syncer.info is not None and w.syncer.info.features == expected
        assert report.added == SCENES
        w.mirrored().assert_matches_stash()

        # An edit, then an incremental pass.
        lib.advance(600)
        lib.edit_scene(3, title="Edited on " + version)
        report = w.syncer.run("incremental")
        assert (report.added, report.updated, report.removed) == (0, 1, 0)
        assert w.mirrored().scenes([3])[3].title == "Edited on " + version

        # The sweep finds a deleted scene, a renamed file and a deleted performer (whose
        # scenes are fetched again by id: `ids` from v0.25, `scene_ids` before).
        lib.delete_scene(5)
        renamed = lib.file_ids(7)[0]
        lib.move_file(renamed, basename="renamed on " + version + ".mp4")
        cast = {s: lib.performer_ids(lib.raw_scene(s)) for s in lib.scene_ids()}
        performer = next(p for s in sorted(cast) if s not in (5, 7) for p in cast[s])
        showing = [s for s, ids in cast.items() if performer in ids and s != 5]
        lib.delete_performer(performer)
        report = w.syncer.run("sweep")
        assert report.removed == 1
        mirror = w.mirrored().scenes()
        assert 5 not in mirror
        assert mirror[7].files[0].basename == "renamed on " + version + ".mp4"
        assert all(performer not in mirror[s].performer_ids for s in showing)
        w.mirrored().assert_matches_stash()

        # `stashplex-sync --scene ID`: one changed scene, one unchanged, one deleted.
        lib.edit_scene(11, title="Changed for --scene")
        assert stashplex_sync(w, "--scene", "11", "12", "5") == 0
        out = capsys.readouterr().out
        assert out.startswith("scenes sync: 0 added, 1 updated, 0 removed, 1 unchanged"), out
        assert w.mirrored().scenes([11])[11].title == "Changed for --scene"

        with w.provider() as (_app, client):
            # Image routes, before anything made this client probe Stash: a group's front
            # image lives under /movie/ before v0.27 and /group/ after (the sample, like
            # Stash, has only one of the two).
            group = next(g for g, row in lib.groups.items() if row["front"])
            response = client.simulate_get(f"/stash/group/{group}/front")
            assert response.status_code == 200, response.text
            assert response.headers["content-type"] == "image/jpeg"
            assert client.simulate_get("/stash/scene/1/screenshot").status_code == 200
            # No cover in Stash: the title card, never a broken image.
            card = client.simulate_get("/stash/scene/2/screenshot")
            assert card.status_code == 200 and card.headers["content-type"] == "image/jpeg"
            pictured = next(p for p, row in lib.performers.items() if row["image"])
            assert client.simulate_get(f"/stash/performer/{pictured}/image").status_code == 200

            # A file Plex has that the mirror does not know yet: found in Stash live.
            (new,) = lib.add_scenes(1)
            (candidate,) = match(client, plex_path(w, new))
            assert candidate["ratingKey"] == f"scene-{new}" and candidate["score"] == 100
            assert new in w.mirrored().scenes([new])


@pytest.mark.parametrize("version", ["v0.24.0", "v0.30.1"])
def test_windows_stash_for_a_plex_on_linux(version: str, tmp_path: Path) -> None:
    path_map = {"STASHPLEX_MATCH_PATH_MAP": f"{PLEX_ROOT} = C:\\Media"}
    with world(
        tmp_path, stash_version=version, os_name="windows", root="C:\\Media", env=path_map
    ) as w:
        w.syncer.run("full")
        assert w.syncer.info is not None and w.syncer.info.separator == "\\"
        two_files = 13  # a second file under Extras\
        stash_path = w.mirrored().scenes([two_files])[two_files].files[0].path
        assert stash_path.startswith("C:\\Media\\Sample Traps\\")
        wanted = {"quotes": 1, "cjk": 3, "like": 8, "two files": two_files, "deep": 29 % SCENES}

        # Full path through path_map: /mnt/media/... is C:\Media\...
        with w.provider() as (app, client):
            for scene_id in wanted.values():
                filename = plex_path(w, scene_id)
                tiers = exact_tiers(
                    MatchRequest(filename=filename), app.context.lookups, w.settings.match.path_map
                )
                assert tiers is not None and tiers.tier == "path", filename
                (candidate,) = match(client, filename)
                assert candidate["ratingKey"] == f"scene-{scene_id}", filename

            # Live: a file Stash scanned after the last sync.
            (new,) = w.lib.add_scenes(1)
            (candidate,) = match(client, plex_path(w, new))
            assert candidate["ratingKey"] == f"scene-{new}"
            tiers = exact_tiers(
                MatchRequest(filename=plex_path(w, new)),
                app.context.lookups,
                w.settings.match.path_map,
            )
            assert tiers is not None and tiers.tier == "path"

        # Without path_map: the common suffix (folders below the mount point and the name).
        with w.provider(STASHPLEX_MATCH_PATH_MAP="") as (app, client):
            for scene_id in wanted.values():
                filename = plex_path(w, scene_id)
                tiers = exact_tiers(MatchRequest(filename=filename), app.context.lookups, ())
                assert tiers is not None and tiers.tier == "suffix", filename
                (candidate,) = match(client, filename)
                assert candidate["ratingKey"] == f"scene-{scene_id}", filename


@pytest.mark.parametrize(
    ("status", "words"),
    [("SETUP", "is not set up yet"), ("NEEDS_MIGRATION", "needs a database migration")],
)
def test_stashplex_sync_says_stash_is_not_ready(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], status: str, words: str
) -> None:
    with world(tmp_path) as w:
        w.lib.set_status(status)
        assert stashplex_sync(w) == 1
        err = capsys.readouterr().err.strip()
        assert err.startswith("stashplex-sync: Stash v0.30.1 at ") and words in err
        assert len(err.splitlines()) == 1
        w.lib.set_status("OK")
        assert stashplex_sync(w) == 0
        assert capsys.readouterr().out.startswith(f"full sync: {SCENES} added")
