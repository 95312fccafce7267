"""Helpers for the provider's tests: apps over hand-built or synced mirrors, waitress in a thread.

Fixtures defined here are imported by the `test_web_*` modules that use them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from falcon import testing

from stashplex import settings as settings_module
from stashplex.daemon import responder_client
from stashplex.mirror import documents
from stashplex.mirror.db import Database
from stashplex.mirror.kinds import GROUPS, PERFORMERS, STUDIOS, TAGS
from stashplex.mirror.writer import MirrorWriter
from stashplex.records import Group, Performer, Scene, SceneGroup, Studio, Tag, VideoFile
from stashplex.settings import Settings
from stashplex.stash.client import StashClient
from stashplex.web.app import ProviderApp, create_app
from stashplex.web.server import close_server, create_server, stop_server
from tests.plugins.mirror import Mirrored, make_settings
from tests.plugins.net import LOOPBACK

IDENTIFIER = "tv.plex.agents.custom.stashplex"
GUID_PREFIX = IDENTIFIER + "://movie/"


def hand_settings(tmp_path: Path, **env: str) -> Settings:
    environ = {
        "STASHPLEX_MIRROR_DATABASE": str(tmp_path / "mirror.db"),
        "STASHPLEX_MIRROR_POSTER_DIR": str(tmp_path / "posters"),
        "STASHPLEX_STASH_TIMEOUT": "2",
        **env,
    }
    return settings_module.load(None, environ, search=False)


def hand_scene(scene_id: int, path: str, **changes: Any) -> Scene:
    fields: dict[str, Any] = {
        "id": scene_id,
        "updated_at": "2024-01-01T00:00:00+02:00",
        "title": f"Scene {scene_id}",
        "date": "2024-01-02",
        "screenshot_version": "1700000000",
        "files": (VideoFile(scene_id * 10, path, path.rsplit("/", 1)[-1], duration=61.5),),
        "studio_id": 1,
        "performer_ids": (1, 2),
        "tag_ids": (1,),
        "groups": (SceneGroup(1, 2),),
    }
    fields.update(changes)
    return Scene(**fields)


HAND_SCENES = (
    hand_scene(1, "/data/stash/Site/2020/First.mp4", organized=True),
    hand_scene(2, "/data/stash/Site/2021/Second.mp4", title=None, code="ABC-2"),
    hand_scene(3, "/data/stash/A/same.mp4", organized=False, date="2019"),
    hand_scene(4, "/data/stash/B/same.mp4", organized=True, date="2018-05"),
    hand_scene(5, "/data/stash/C/same.mp4", organized=False, date="2023-01-01"),
)


def fill_hand_mirror(db: Database, settings: Settings) -> None:
    writer = MirrorWriter(db, documents.mapping_options(settings))
    writer.apply_entities(STUDIOS, [Studio(1, "Site", parent_id=2), Studio(2, "Network")])
    writer.apply_entities(
        PERFORMERS, [Performer(1, "Jane", image_version="11"), Performer(2, "John")]
    )
    writer.apply_entities(TAGS, [Tag(1, "Outdoor")])
    writer.apply_entities(GROUPS, [Group(1, "Series", front_image_version="7")])
    writer.apply_scenes(HAND_SCENES)


@dataclass
class Provider:
    settings: Settings
    db: Database
    app: ProviderApp
    client: testing.TestClient
    stash: StashClient | None = None
    mirrored: Mirrored | None = None

    def match(self, **body: Any) -> list[dict[str, Any]]:
        body.setdefault("type", 1)
        response = self.client.simulate_post("/library/metadata/matches", json=body)
        assert response.status_code == 200, response.text
        return response.json["MediaContainer"]["Metadata"]


@pytest.fixture
def hand_provider(tmp_path: Path) -> Iterator[Callable[..., Provider]]:
    """`make(**env)`: an app over the hand-built mirror, no Stash."""
    made: list[Provider] = []

    def make(**env: str) -> Provider:
        folder = tmp_path / f"p{len(made)}"
        settings = hand_settings(folder, **env)
        db = Database.open(settings.mirror.database)
        fill_hand_mirror(db, settings)
        app = create_app(settings, db=db)
        provider = Provider(settings, db, app, testing.TestClient(app))
        made.append(provider)
        return provider

    yield make
    for provider in made:
        provider.app.close()
        provider.db.close()


@pytest.fixture
def synced_provider(
    mirrored_factory: Callable[..., Mirrored],
) -> Iterator[Callable[..., Provider]]:
    """`make(env=..., sync=True, **stash_args)`: a sample Stash, a mirror synced from it, and an
    app over both with a responder client (no retries)."""
    made: list[Provider] = []

    def make(**kwargs: Any) -> Provider:
        env = {"STASHPLEX_STASH_TIMEOUT": "2", **kwargs.pop("env", {})}
        mirrored = mirrored_factory(env=env, **kwargs)
        stash = responder_client(mirrored.settings)
        app = create_app(mirrored.settings, db=mirrored.db, stash=stash)
        provider = Provider(
            mirrored.settings, mirrored.db, app, testing.TestClient(app), stash, mirrored
        )
        made.append(provider)
        return provider

    yield make
    for provider in made:
        provider.app.close()
        if provider.stash is not None:
            provider.stash.close()


@contextmanager
def synced_sample(folder: Path, **stash_args: Any) -> Iterator[Provider]:
    """Like `synced_provider` for a whole module: a sample Stash, a synced mirror, an app."""
    from stashplex.mirror.sync import Syncer
    from stashplex.samplestash import SampleStash

    stash_args.setdefault("scenes", 60)
    sample = SampleStash(host=LOOPBACK, **stash_args).start()
    settings = make_settings(folder, sample.url, STASHPLEX_STASH_TIMEOUT="2")
    db = Database.open(settings.mirror.database)
    sync_client = StashClient(settings.stash.url, None, timeout=5, backoff=0.01)
    stash = responder_client(settings)
    app = None
    try:
        Syncer(sync_client, db, settings).run("full")
        app = create_app(settings, db=db, stash=stash)
        yield Provider(settings, db, app, testing.TestClient(app), stash)
    finally:
        if app is not None:
            app.close()
        stash.close()
        sync_client.close()
        db.close()
        sample.stop()


@contextmanager
def serving(app: Any, settings: Settings) -> Iterator[str]:
    """The app under waitress on 127.0.0.1 (a free port) in a thread; yields its base URL."""
    server = create_server(app, settings, host=LOOPBACK, port=0)
    thread = threading.Thread(target=server.run, name="waitress-test", daemon=True)
    thread.start()
    try:
        yield f"http://{LOOPBACK}:{server.effective_port}"
    finally:
        stop_server(server)
        thread.join(10)
        close_server(server)


__all__ = [
    "GUID_PREFIX",
    "HAND_SCENES",
    "IDENTIFIER",
    "Provider",
    "hand_provider",
    "hand_settings",
    "make_settings",
    "serving",
    "synced_provider",
    "synced_sample",
]
