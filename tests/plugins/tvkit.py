"""Helpers for the TV tests: a hand-built mirror laid out as a TV library, and apps over it."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from falcon import testing

from stashplex.mirror import documents
from stashplex.mirror.db import Database
from stashplex.mirror.kinds import GROUPS, PERFORMERS, STUDIOS, TAGS
from stashplex.mirror.writer import MirrorWriter
from stashplex.plex.identity import TV_PROVIDER_ID
from stashplex.records import Group, Performer, Scene, SceneGroup, Studio, Tag, VideoFile
from stashplex.settings import Settings
from stashplex.web.app import ProviderApp, create_app
from tests.plugins.webkit import hand_settings

TV = "/tv/library/metadata"
SHOW_GUID = TV_PROVIDER_ID + "://show/"
SEASON_GUID = TV_PROVIDER_ID + "://season/"
EPISODE_GUID = TV_PROVIDER_ID + "://episode/"

HAND_STUDIOS = (
    Studio(1, "Network", image_version="3", details="The network."),
    Studio(2, "Site A", parent_id=1),
    Studio(3, "Sub A", parent_id=2),
    Studio(4, "Other Site", details="Other details", image_version="9"),
)
HAND_GROUPS = (
    Group(1, "Series One", date="2019-05-01", synopsis="A series.", front_image_version="7"),
    Group(2, "Series Two"),
)
HAND_TAGS = (Tag(1, "Outdoor"), Tag(2, "Indoor"), Tag(3, "Boring"))
HAND_PERFORMERS = (Performer(1, "Jane", image_version="11"), Performer(2, "John"))


def tv_scene(scene_id: int, date: str | None, studio_id: int | None = 2, **changes: Any) -> Scene:
    folder = f"S{studio_id or 0}"
    path = f"/data/stash/{folder}/{scene_id:04d} {date or 'undated'}.mp4"
    fields: dict[str, Any] = {
        "id": scene_id,
        "updated_at": "2024-08-01T00:00:00+02:00",
        "created_at": "2024-07-15T10:00:00+02:00",
        "title": f"Scene {scene_id}",
        "date": date,
        "screenshot_version": "170000",
        "files": (VideoFile(scene_id * 10, path, path.rsplit("/", 1)[-1], duration=90.0),),
        "studio_id": studio_id,
        "performer_ids": (1, 2),
        "tag_ids": (1,),
        "details": f"About scene {scene_id}.",
    }
    fields.update(changes)
    return Scene(**fields)


HAND_SCENES = (
    tv_scene(1, "2024-05-01", title="Bravo", tag_ids=(1, 2)),
    tv_scene(2, "2024-05-01", title="Alpha", tag_ids=(2,)),
    tv_scene(3, "2024-06-10", studio_id=3, tag_ids=(2, 3), groups=(SceneGroup(1, 1),)),
    tv_scene(4, None),
    tv_scene(5, "2019"),
    tv_scene(6, "2023-12-31", studio_id=4, groups=(SceneGroup(2), SceneGroup(1, 2))),
    tv_scene(7, "2024-05-01", studio_id=None, groups=(SceneGroup(1, 3),)),
    tv_scene(8, "2024-02-02", studio_id=1, groups=(SceneGroup(99), SceneGroup(2))),
)


@dataclass
class TvMirror:
    settings: Settings
    db: Database
    writer: MirrorWriter
    app: ProviderApp
    client: testing.TestClient

    def placements(self) -> dict[int, tuple[str, int, int]]:
        """scene id -> (show, season, index)."""
        with self.db.reader.connect() as connection:
            rows = connection.exec_driver_sql(
                "SELECT scene_id, show, season, idx FROM tv_episodes"
            ).all()
        return {scene_id: (show, season, idx) for scene_id, show, season, idx in rows}

    def get(self, path: str, **kwargs: Any):
        return self.client.simulate_get(TV + path, **kwargs)

    def match(self, **body: Any) -> list[dict[str, Any]]:
        response = self.client.simulate_post(TV + "/matches", json=body)
        assert response.status_code == 200, response.text
        return response.json["MediaContainer"]["Metadata"]


def fill(writer: MirrorWriter, scenes: Sequence[Scene]) -> None:
    writer.apply_entities(STUDIOS, list(HAND_STUDIOS))
    writer.apply_entities(PERFORMERS, list(HAND_PERFORMERS))
    writer.apply_entities(TAGS, list(HAND_TAGS))
    writer.apply_entities(GROUPS, list(HAND_GROUPS))
    writer.apply_scenes(list(scenes))


@pytest.fixture
def tv_mirror(tmp_path: Path) -> Iterator[Callable[..., TvMirror]]:
    """`make(show_by="studio", scenes=HAND_SCENES, **env)`: a hand-built mirror laid out for
    TV (the writer stays live for incremental changes) and an app over it, no Stash."""
    made: list[TvMirror] = []

    def make(
        show_by: str = "studio", scenes: Sequence[Scene] = HAND_SCENES, **env: str
    ) -> TvMirror:
        settings = hand_settings(tmp_path / f"tv{len(made)}", STASHPLEX_TV_SHOW_BY=show_by, **env)
        db = Database.open(settings.mirror.database)
        writer = MirrorWriter(db, documents.mapping_options(settings))
        fill(writer, scenes)
        writer.rebuild_tv(show_by)
        app = create_app(settings, db=db)
        mirror = TvMirror(settings, db, writer, app, testing.TestClient(app))
        made.append(mirror)
        return mirror

    yield make
    for mirror in made:
        mirror.app.close()
        mirror.db.close()
