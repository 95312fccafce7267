"""A studio with 3,000 scenes: paged through completely, and every read an index seek."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from falcon import testing

from stashplex.mirror.db import Database
from stashplex.mirror.sync import Syncer
from stashplex.mirror.tv_lookups import QUERIES
from stashplex.samplestash import SampleStash
from stashplex.stash.client import StashClient
from stashplex.web.answers import DEFAULT_MAX_BYTES
from stashplex.web.app import create_app
from tests.plugins.mirror import make_settings
from tests.plugins.tvkit import TV

SCENES, DAYS = 3000, 300
BIG = "studio-2"


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[testing.TestClient, Database]]:
    sample = SampleStash(host="127.0.0.1", scenes=60).start()
    for day in range(DAYS):  # ten a day over five years
        date = f"{2015 + day // 60}-{1 + day % 12:02d}-{1 + day % 28:02d}"
        sample.library.add_scenes(SCENES // DAYS, studio_id=2, date=date)
    settings = make_settings(tmp_path_factory.mktemp("big"), sample.url)
    db = Database.open(settings.mirror.database)
    client = StashClient(settings.stash.url, None, timeout=10, backoff=0.01)
    Syncer(client, db, settings).run("full")
    app = create_app(settings, db=db, live_fallback=False)
    try:
        yield testing.TestClient(app), db
    finally:
        app.close()
        client.close()
        db.close()
        sample.stop()


def page(client: testing.TestClient, path: str, start: int, size: int) -> dict:
    response = client.simulate_get(
        f"{TV}/{path}",
        headers={"X-Plex-Container-Start": str(start), "X-Plex-Container-Size": str(size)},
    )
    assert response.status_code == 200, response.text
    return response.json["MediaContainer"]


def test_paging_through_every_episode(big) -> None:
    client, _db = big
    total = page(client, f"{BIG}/grandchildren", 0, 0)["totalSize"]
    assert total >= SCENES
    seen: list[tuple[int, int]] = []
    keys: set[str] = set()
    for start in range(0, total, 250):
        container = page(client, f"{BIG}/grandchildren", start, 250)
        assert container["offset"] == start and container["totalSize"] == total
        for episode in container["Metadata"]:
            keys.add(episode["ratingKey"])
            seen.append((episode["parentIndex"], episode["index"]))
    assert len(keys) == len(seen) == total
    assert seen == sorted(seen)  # by season, then index
    seasons = page(client, f"{BIG}/children", 0, 100)["Metadata"]
    by_season = 0
    for season in seasons:
        key = season["ratingKey"]
        count = page(client, f"{key}/children", 0, 0)["totalSize"]
        listed = page(client, f"{key}/children", 0, 1000)["Metadata"]
        assert len(listed) == count
        assert all(e["parentRatingKey"] == key for e in listed)
        by_season += count
    assert by_season == total
    assert page(client, f"{BIG}/grandchildren", total, 20)["Metadata"] == []


def test_every_tv_read_is_an_index_seek(big) -> None:
    _client, db = big
    params = {
        "show_has_episodes": ("studio-2",),
        "season_has_episodes": ("studio-2", 2016),
        "studio": (2,),
        "group": (1,),
        "next_season": ("studio-2", 2015),
        "count_show": ("studio-2",),
        "count_season": ("studio-2", 2016),
        "season_page": ("studio-2", 2016, 20, 500),
        "show_page": ("studio-2", 20, 2500),
        "episode": (100,),
        "season_frames": ("studio-2", 2016),
        "first_of_season": ("studio-2", 2016),
        "first_dated": ("studio-2",),
        "first_any": ("studio-2",),
        "latest": ("studio-2",),
        "shows_by_title": ("x",),
        "by_aired": ("studio-2", "2016-01-01"),
        "by_index": ("studio-2", 2016, 10101),
        "genres": ("studio-2",),
    }
    assert set(params) == set(QUERIES)
    with db.reader.connect() as connection:
        for name, query in QUERIES.items():
            sql = query.sql
            plan = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, params[name]).all()
            steps = [row[-1] for row in plan]
            scans = [s for s in steps if s.startswith("SCAN") and "SUBQUERY" not in s]
            # SCAN of a LIMITed subquery's few rows (p) is fine; of a table or index, never.
            assert all(s.split()[1] == "p" for s in scans), (name, steps)
            assert any(s.startswith("SEARCH") for s in steps), (name, steps)
    expected = {
        "season_page": "COVERING INDEX ux_tv_episodes_show_season_idx (show=? AND season=?)",
        "show_page": "COVERING INDEX ux_tv_episodes_show_season_idx (show=?)",
        "count_season": "COVERING INDEX ux_tv_episodes_show_season_idx (show=? AND season=?)",
        "count_show": "COVERING INDEX ux_tv_episodes_show_season_idx (show=?)",
        "next_season": "COVERING INDEX ux_tv_episodes_show_season_idx (show=? AND season>?)",
        "by_aired": "INDEX ix_tv_episodes_show_aired (show=? AND aired=?)",
        "shows_by_title": "INDEX ix_tv_shows_title_key (title_key=?)",
    }
    with db.reader.connect() as connection:
        for name, index in expected.items():
            plan = connection.exec_driver_sql(
                "EXPLAIN QUERY PLAN " + QUERIES[name].sql, params[name]
            )
            assert index in str(plan.all()), name


def test_a_page_costs_the_same_at_the_start_and_the_end(big) -> None:
    client, _db = big
    total = page(client, f"{BIG}/grandchildren", 0, 0)["totalSize"]
    answers = client.app.context.answers  # shared by the TV routes
    answers.max_bytes = 0  # every sample reads the mirror: a kept answer would prove nothing
    answers.clear()

    def ms(start: int) -> float:
        began = time.perf_counter()
        page(client, f"{BIG}/grandchildren", start, 20)
        return (time.perf_counter() - began) * 1000

    # Interleaved, and the best of each: load slows both alike and spares some samples, so
    # only the cost of the query itself is compared (about 1 ms each here; an OFFSET walk over
    # 50,000 episodes to the last page costs many times that).
    samples = [(ms(0), ms(total - 20)) for _ in range(15)]
    first, last = min(f for f, _ in samples), min(lt for _, lt in samples)
    answers.max_bytes = DEFAULT_MAX_BYTES
    assert last < first * 5 + 5
