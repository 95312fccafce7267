"""The TV layout through real syncs of the sample Stash: built, kept stable, rebuilt for a new
`show_by`; the live fallback; and the TV provider end to end over waitress on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from falcon import testing

from stashplex.daemon import responder_client
from stashplex.mirror.db import Database
from stashplex.mirror.sync import Syncer
from stashplex.samplestash import SampleStash
from stashplex.stash.client import StashClient
from stashplex.web.app import create_app
from tests.plugins.mirror import Mirrored, make_settings
from tests.plugins.tvkit import EPISODE_GUID, TV
from tests.plugins.webkit import serving


def placements(db: Database) -> dict[int, tuple[str, int, int]]:
    with db.reader.connect() as connection:
        rows = connection.exec_driver_sql("SELECT scene_id, show, season, idx FROM tv_episodes")
        return {scene_id: (show, season, idx) for scene_id, show, season, idx in rows}


def studio_scenes(db: Database) -> set[int]:
    with db.reader.connect() as connection:
        rows = connection.exec_driver_sql("SELECT id FROM scenes WHERE studio_id IS NOT NULL")
        return set(rows.scalars())


def test_a_first_sync_lays_the_library_out(mirrored: Mirrored) -> None:
    placed = placements(mirrored.db)
    assert set(placed) == studio_scenes(mirrored.db)
    assert mirrored.syncer.writer.get_state("tv_layout") == "1:studio"
    # Unique (show, season, index), and indexes follow the release day.
    assert len(set(placed.values())) == len(placed)


def test_indexes_survive_syncs_that_add_and_delete_scenes(mirrored: Mirrored) -> None:
    lib = mirrored.stash.library
    before = placements(mirrored.db)
    show, season, index = before[min(before)]
    studio = int(show.removeprefix("studio-"))
    with mirrored.db.reader.connect() as connection:
        day = connection.exec_driver_sql(
            "SELECT aired FROM tv_episodes WHERE scene_id = ?", (min(before),)
        ).scalar()
    # New scenes on the same day in the same show (and elsewhere), with titles sorting first.
    added = lib.add_scenes(3, studio_id=studio, date=day, title="AAA first")
    added += lib.add_scenes(2, studio_id=studio, date=None, title="AAA undated")
    added += lib.add_scenes(2, date="2001-01-01")
    # Deletions in the same show, and an unrelated edit.
    same_show = sorted(k for k, v in before.items() if v[0] == show and k != min(before))
    deleted = [*same_show[:3], max(before)]
    for scene_id in deleted:
        lib.delete_scene(scene_id)
    untouched = sorted(set(before) - set(deleted) - {min(before)})
    lib.edit_scene(untouched[0], title="Renamed", details="changed")
    lib.advance(60)
    mirrored.syncer.run("incremental")
    mirrored.syncer.run("sweep")  # deletions leave no trace but in a sweep
    after = placements(mirrored.db)
    for scene_id in deleted:
        assert scene_id not in after
    kept = set(before) - set(deleted)
    assert {k: after[k] for k in kept} == {k: before[k] for k in kept}
    assert after[min(before)] == (show, season, index)
    same_day = [after[i] for i in added[:3]]
    assert all(s[:2] == (show, season) and index < s[2] < index + 100 for s in same_day)
    assert len(set(after.values())) == len(after)
    assert {after[i][1] for i in added[3:5]} == {0}
    # Round two: the first episodes of that day go; the rest of the day stays put.
    lib.delete_scene(min(before))
    lib.delete_scene(added[0])
    (late,) = lib.add_scenes(1, studio_id=studio, date=day, title="AAA late")
    lib.advance(60)
    mirrored.syncer.run("incremental")
    mirrored.syncer.run("sweep")
    final = placements(mirrored.db)
    assert min(before) not in final and added[0] not in final
    assert {k: final[k] for k in final if k != late} == {k: after[k] for k in final if k != late}
    assert final[late][:2] == (show, season) and len(set(final.values())) == len(final)


def test_a_new_show_by_lays_the_library_out_again(mirrored: Mirrored) -> None:
    folder = Path(mirrored.settings.mirror.database).parent
    settings = make_settings(folder, mirrored.stash.url, STASHPLEX_TV_SHOW_BY="parent_studio")
    syncer = Syncer(mirrored.client, mirrored.db, settings)
    syncer.run("incremental")
    placed = placements(mirrored.db)
    assert syncer.writer.get_state("tv_layout") == "1:parent_studio"
    studios = mirrored.entities().studios
    for scene_id, (show, _season, _index) in placed.items():
        top = int(show.removeprefix("studio-"))
        assert studios[top].parent_id is None, scene_id
    group = make_settings(folder, mirrored.stash.url, STASHPLEX_TV_SHOW_BY="group")
    Syncer(mirrored.client, mirrored.db, group).run("incremental")
    assert {show.split("-")[0] for show, _s, _i in placements(mirrored.db).values()} == {"group"}


def test_an_upgraded_mirror_is_laid_out_at_the_next_sync(mirrored: Mirrored) -> None:
    expected = placements(mirrored.db)
    with mirrored.db.writer.begin() as connection:  # a mirror from before revision 0003
        connection.exec_driver_sql("DELETE FROM tv_episodes")
        connection.exec_driver_sql("DELETE FROM sync_state WHERE key = 'tv_layout'")
    mirrored.syncer.run("incremental")
    assert placements(mirrored.db) == expected


def test_scenes_new_in_stash_are_found_live(mirrored_factory) -> None:
    mirrored = mirrored_factory(env={"STASHPLEX_STASH_TIMEOUT": "2"})
    lib = mirrored.stash.library
    (new,) = lib.add_scenes(1, studio_id=3, date="2024-03-03", title="Brand New")
    stash = responder_client(mirrored.settings)
    app = create_app(mirrored.settings, db=mirrored.db, stash=stash)
    try:
        client = testing.TestClient(app)
        path = lib.scene_paths(new)[0]
        response = client.simulate_post(f"{TV}/matches", json={"type": 4, "filename": path})
        (episode,) = response.json["MediaContainer"]["Metadata"]
        assert (episode["ratingKey"], episode["score"]) == (f"scene-{new}", 100)
        assert episode["grandparentRatingKey"] == "studio-3"
        (another,) = lib.add_scenes(1, studio_id=3, date="2024-03-03")
        metadata = client.simulate_get(f"{TV}/scene-{another}")
        assert metadata.status_code == 200
        assert metadata.json["MediaContainer"]["Metadata"][0]["index"] == 30302
    finally:
        app.close()
        stash.close()


# --- end to end -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def http(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[httpx.Client, SampleStash]]:
    sample = SampleStash(host="127.0.0.1", scenes=60).start()
    settings = make_settings(tmp_path_factory.mktemp("tv-e2e"), sample.url)
    db = Database.open(settings.mirror.database)
    sync_client = StashClient(settings.stash.url, None, timeout=5, backoff=0.01)
    Syncer(sync_client, db, settings).run("full")
    app = create_app(settings, db=db, live_fallback=False)
    try:
        with (
            serving(app, settings) as url,
            httpx.Client(base_url=url + "/tv", timeout=10) as client,
        ):
            yield client, sample
    finally:
        app.close()
        sync_client.close()
        db.close()
        sample.stop()


def test_a_scan_over_http(http: tuple[httpx.Client, SampleStash]) -> None:
    """What PMS does: read the provider, match a show by its first file, walk its seasons and
    episodes page by page, then read an episode by the guid's last segment."""
    client, sample = http
    provider = client.get("", params={"includePreferences": "1"}).json()["MediaProvider"]
    assert provider["identifier"] == "tv.plex.agents.custom.stashplex.tv"
    features = {f["type"]: f["key"] for f in provider["Feature"]}
    lib = sample.library
    scene_id = next(i for i in lib.scene_ids() if lib.raw_scene(i).get("studio_id"))
    path = lib.scene_paths(scene_id)[0]
    match = client.post(features["match"], json={"type": 2, "filename": path})
    (show,) = match.json()["MediaContainer"]["Metadata"]
    assert show["score"] == 100
    seasons = client.get(f"{features['metadata']}/{show['ratingKey']}/children")
    assert seasons.headers["X-Plex-Container-Total-Size"] == str(
        seasons.json()["MediaContainer"]["totalSize"]
    )
    total = int(
        client.get(
            f"{features['metadata']}/{show['ratingKey']}/grandchildren",
            headers={"X-Plex-Container-Size": "0"},
        ).headers["X-Plex-Container-Total-Size"]
    )
    seen: list[str] = []
    for start in range(0, total, 2):
        page = client.get(
            f"{features['metadata']}/{show['ratingKey']}/grandchildren",
            headers={"X-Plex-Container-Start": str(start), "X-Plex-Container-Size": "2"},
        ).json()["MediaContainer"]
        seen += [e["ratingKey"] for e in page["Metadata"]]
    assert len(seen) == len(set(seen)) == total
    assert f"scene-{scene_id}" in seen
    episode = client.post(features["match"], json={"type": 4, "filename": path}).json()
    (candidate,) = episode["MediaContainer"]["Metadata"]
    assert candidate["guid"] == EPISODE_GUID + f"scene-{scene_id}"
    rating_key = candidate["guid"].rsplit("/", 1)[1]
    for suffix in ("", "/images", "/extras"):
        assert client.get(f"{features['metadata']}/{rating_key}{suffix}").status_code == 200
    missing = client.get(f"{features['metadata']}/studio-999999")
    assert missing.status_code == 404 and missing.json()["error"]["status"] == 404
