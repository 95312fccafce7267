"""Fixtures for a mirror synced from a sample Stash, and a check that the two agree."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from stashplex import settings as settings_module
from stashplex.mirror.db import Database
from stashplex.mirror.scene_reader import EntityCache, load_scenes
from stashplex.mirror.sync import Syncer
from stashplex.samplestash import SampleStash
from stashplex.settings import Settings
from stashplex.stash import parse
from stashplex.stash.client import StashClient


def make_settings(tmp_path: Path, stash_url: str, **env: str) -> Settings:
    environ = {
        "STASH_HOST": stash_url,
        "STASHPLEX_MIRROR_DATABASE": str(tmp_path / "mirror.db"),
        "STASHPLEX_MIRROR_POSTER_DIR": str(tmp_path / "posters"),
        "STASHPLEX_STASH_TIMEOUT": "5",
        **env,
    }
    return settings_module.load(None, environ, search=False)


@dataclass
class Mirrored:
    stash: SampleStash
    settings: Settings
    db: Database
    client: StashClient
    syncer: Syncer

    def scenes(self, ids: list[int] | None = None) -> dict[int, object]:
        with self.db.reader.connect() as connection:
            if ids is None:
                ids = list(
                    connection.exec_driver_sql("SELECT id FROM scenes ORDER BY id").scalars()
                )
            return {scene.id: scene for scene in load_scenes(connection, ids)}

    def entities(self) -> EntityCache:
        with self.db.reader.connect() as connection:
            return EntityCache.load(connection)

    def assert_matches_stash(self) -> None:
        """Every scene and entity in the mirror equals what Stash answers now."""
        truth = {}
        after = 0
        while True:
            data = self.client.execute(
                "FindScenesPage",
                {
                    "filter": {"per_page": 1000, "sort": "id", "direction": "ASC"},
                    "scene_filter": {"id": {"value": after, "modifier": "GREATER_THAN"}},
                },
            )
            page = [parse.scene(s) for s in parse.listing(data, "findScenes", "scenes")]
            truth.update((s.id, s) for s in page)
            if len(page) < 1000:
                break
            after = page[-1].id
        mirrored = self.scenes()
        assert sorted(mirrored) == sorted(truth)
        for scene_id, scene in truth.items():
            assert mirrored[scene_id] == scene, f"scene {scene_id} differs"
        cache = self.entities()
        lib = self.stash.library
        assert {p.id: p.name for p in cache.performers.values()} == {
            i: p["name"] for i, p in lib.performers.items()
        }
        assert {t.id: t.name for t in cache.tags.values()} == {
            i: t["name"] for i, t in lib.tags.items()
        }


@pytest.fixture
def mirrored_factory(
    tmp_path: Path, sample_stash_factory: Callable[..., SampleStash]
) -> Iterator[Callable[..., Mirrored]]:
    made: list[Mirrored] = []

    def make(sync: bool = True, env: dict[str, str] | None = None, **stash_args) -> Mirrored:
        stash = sample_stash_factory(**stash_args)
        folder = tmp_path / f"m{len(made)}"
        folder.mkdir()
        settings = make_settings(folder, stash.url, **(env or {}))
        db = Database.open(settings.mirror.database)
        client = StashClient(
            settings.stash.url,
            settings.stash.api_key,
            timeout=settings.stash.timeout,
            backoff=0.01,
        )
        mirrored = Mirrored(stash, settings, db, client, Syncer(client, db, settings))
        made.append(mirrored)
        if sync:
            mirrored.syncer.run("full")
        return mirrored

    yield make
    for m in made:
        m.client.close()
        m.db.close()


@pytest.fixture
def mirrored(mirrored_factory: Callable[..., Mirrored]) -> Mirrored:
    return mirrored_factory()
