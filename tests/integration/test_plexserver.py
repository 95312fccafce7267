"""The Plex side against a fake PMS on 127.0.0.1: finding items, uploads, refreshes, the token."""

from __future__ import annotations

import hashlib
import itertools
import logging
import threading
from collections.abc import Callable, Iterator

import pytest

from stashplex.artwork import Artwork
from stashplex.mirror.plex_links import PlexLinks
from stashplex.mirror.plex_uploads import PlexUploads
from stashplex.mirror.sync import Syncer, SyncReport
from stashplex.mirror.tv_lookups import TvLookups
from stashplex.plex.identity import scene_guid, tv_guid
from stashplex.pms.api import (
    EPISODE,
    SEASON,
    SHOW,
    PlexAuthError,
    PlexUnreachable,
    PmsClient,
    legacy_scene_guid,
)
from stashplex.pms.refresher import PlexRefresher
from tests.plugins.fake_pms import TOKEN, FakePMS
from tests.plugins.mirror import Mirrored
from tests.plugins.net import free_port
from tests.plugins.plexkit import QUICK, covered, stash_image


@pytest.fixture
def pms(fake_pms: FakePMS) -> Iterator[PmsClient]:
    server = PmsClient(fake_pms.url, TOKEN, timeout=2)
    yield server
    server.close()


def returns_while_pms_hangs(fake_pms: FakePMS, calls: Callable[[], None]) -> None:
    """`calls` returns while PMS answers nothing at all (its lock held): no wall-clock bound,
    so no load can fail it; a caller that waited for PMS would still be waiting."""
    done = threading.Thread(target=calls, daemon=True)
    with fake_pms.lock:
        done.start()
        done.join(30)
        assert not done.is_alive(), "the caller waited for PMS"


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- the client --------------------------------------------------------------------------------


def test_finds_items_by_guid_in_movie_sections_only(fake_pms: FakePMS, pms: PmsClient) -> None:
    key = fake_pms.add_scene(5, section="3")
    fake_pms.add_scene(6, section="2")  # a TV section: never searched
    legacy = fake_pms.add_scene(7, guid=legacy_scene_guid(7))
    assert [s.key for s in pms.sections()] == ["1", "3"]
    item = pms.find_scene(5)
    assert item is not None and (item.key, item.section) == (key, "3")
    assert pms.find_scene(6) is None
    assert pms.find_scene(7).key == legacy
    assert pms.find_scene(8) is None
    searches = fake_pms.requests("GET", "/all")
    assert searches and all(s.path.split("/")[3] in ("1", "3") for s in searches)
    assert all(s.query["type"] == ["1"] for s in searches)
    # Sections are cached; every request carried the token in its header, never in the URL.
    assert len(fake_pms.requests("GET", "/library/sections")) - len(searches) == 1
    assert all(s.token == TOKEN for s in fake_pms.seen)
    assert all(TOKEN not in str(s.query) for s in fake_pms.seen)


def test_title_fallback_when_the_guid_filter_is_ignored(fake_pms: FakePMS, pms: PmsClient) -> None:
    fake_pms.ignore_guid_filter = True
    for n in range(60):  # more than one search page of other items
        fake_pms.add_scene(100 + n, title=f"Other {n}")
    key = fake_pms.add_scene(5, title="Sunset at the Pier")
    assert pms.find_scene(5) is None  # beyond the first page, and no title to narrow it down
    item = pms.find_scene(5, title="sunset at the")
    assert item is not None and item.key == key


def test_upload_and_refresh_requests(fake_pms: FakePMS, pms: PmsClient) -> None:
    key = fake_pms.add_scene(5)
    pms.upload_poster(key, b"\xff\xd8\xffposter")
    pms.upload(key, "art", b"\xff\xd8\xffbackground")
    pms.refresh(key)
    upload, art = fake_pms.requests("POST")
    assert upload.path == f"/library/metadata/{key}/posters" and upload.body_size == 9
    assert art.path == f"/library/metadata/{key}/arts"
    assert fake_pms.uploads_to(key) == [b"\xff\xd8\xffposter"]
    assert fake_pms.uploads_to(key, "art") == [b"\xff\xd8\xffbackground"]
    assert [s.path for s in fake_pms.requests("PUT")] == [f"/library/metadata/{key}/refresh"]
    with pytest.raises(ValueError):
        pms.refresh("../../library")
    with pytest.raises(ValueError):
        pms.upload(key, "banner", b"x")


def test_tv_items_are_found_and_paged(fake_pms: FakePMS, pms: PmsClient) -> None:
    show = fake_pms.add_item(tv_guid("show", "studio-3"), type=2, section="2")
    season = fake_pms.add_item(tv_guid("season", "studio-3-2024"), type=3, section="2")
    for n in range(7):
        fake_pms.add_item(tv_guid("episode", f"scene-{n + 1}"), type=4, section="2")
    libraries = [(s.key, s.type) for s in pms.libraries()]
    assert libraries == [("1", "movie"), ("2", "show"), ("3", "movie")]
    assert pms.find(tv_guid("show", "studio-3"), SHOW).key == show
    assert pms.find(tv_guid("season", "studio-3-2024"), SEASON).key == season
    assert pms.find(tv_guid("season", "studio-3-2024"), SHOW) is None  # the type is part of it
    tv = pms.libraries()[1]
    page, more = pms.items(tv, EPISODE, 0, 5), pms.items(tv, EPISODE, 5, 5)
    first, rest = page.items, more.items
    assert (page.total, more.total, len(first), len(rest)) == (7, 7, 5, 2)
    assert not page.last(0, 5) and more.last(5, 5)
    expected = {tv_guid("episode", f"scene-{n + 1}") for n in range(7)}
    assert {i.guid for i in first + rest} == expected


def test_errors_are_typed_and_never_show_the_token(fake_pms: FakePMS) -> None:
    wrong = PmsClient(fake_pms.url, "not-the-token-123", timeout=2)
    with pytest.raises(PlexAuthError) as auth:
        wrong.sections()
    assert "not-the-token" not in str(auth.value) and "not-the-token" not in repr(wrong)
    wrong.close()
    gone = PmsClient(f"http://127.0.0.1:{free_port()}", TOKEN, timeout=1)
    with pytest.raises(PlexUnreachable) as down:
        gone.sections()
    assert TOKEN not in str(down.value) and TOKEN not in repr(gone)
    gone.close()


# --- uploads -----------------------------------------------------------------------------------


def test_poster_and_background_uploaded_once_and_again_when_they_change(
    mirrored_factory, fake_pms: FakePMS, plex_side
) -> None:
    mirrored = mirrored_factory(env={"POSTER_MODE": "true"})
    a, b = covered(mirrored, 2)
    key_a, key_b = fake_pms.add_scene(a), fake_pms.add_scene(b)
    artwork = plex_side(mirrored)
    uploader = artwork.uploader
    for _ in range(3):  # PMS asks for metadata (and more) several times per item
        uploader.on_metadata(a)
        uploader.on_metadata(b)
    assert uploader.drain(10)
    cover_a = stash_image(mirrored, f"/scene/{a}/screenshot")
    assert fake_pms.uploads_to(key_a) == [artwork.service.store.read(a)]  # the 2:3 poster
    assert fake_pms.uploads_to(key_a, "art") == [cover_a]  # the cover as the background
    assert len(fake_pms.uploads_to(key_b)) == len(fake_pms.uploads_to(key_b, "art")) == 1
    searches = len(fake_pms.requests("GET", "/all"))
    uploader.on_metadata(a)
    assert uploader.drain(10)
    assert len(fake_pms.uploads) == 4 and len(fake_pms.requests("GET", "/all")) == searches
    assert PlexUploads(mirrored.db).count() == 4

    # A restart: a new artwork side over the same mirror uploads nothing.
    artwork.close()
    again = plex_side(mirrored)
    again.uploader.on_metadata(a)
    again.uploader.on_metadata(b)
    assert again.uploader.drain(10)
    assert len(fake_pms.uploads) == 4
    assert len(fake_pms.requests("GET", "/all")) == searches  # the keys were remembered

    # An edit that changes no image: the sync hands the scene over, its image URLs carry a
    # new version, the bytes are read and compared, and nothing goes up.
    lib = mirrored.stash.library
    lib.advance(60)
    lib.edit_scene(b, title="a new title")
    report = Syncer(mirrored.client, mirrored.db, mirrored.settings).run("incremental")
    again.after_pass(report)
    assert again.uploader.drain(10)
    assert len(fake_pms.uploads) == 4

    # A new cover in Stash: the next sync hands it over, both images go up again.
    lib.advance(60)
    lib.set_cover(a)
    report = Syncer(mirrored.client, mirrored.db, mirrored.settings).run("incremental")
    again.after_pass(report)
    assert again.uploader.drain(10)
    posters, arts = fake_pms.uploads_to(key_a), fake_pms.uploads_to(key_a, "art")
    assert len(posters) == len(arts) == 2 and posters[1] != posters[0] and arts[1] != arts[0]
    assert posters[1] == again.service.store.read(a)
    assert arts[1] == stash_image(mirrored, f"/scene/{a}/screenshot") != cover_a
    assert PlexLinks(mirrored.db).get(a).plex_key == key_a


def test_without_poster_mode_the_cover_is_the_poster(
    mirrored: Mirrored, fake_pms: FakePMS, plex_side
) -> None:
    (a,) = covered(mirrored, 1)
    key = fake_pms.add_scene(a)
    artwork = plex_side(mirrored)
    artwork.uploader.on_metadata(a)
    assert artwork.uploader.drain(10)
    cover = stash_image(mirrored, f"/scene/{a}/screenshot")
    assert fake_pms.uploads_to(key) == [cover] and fake_pms.uploads_to(key, "art") == [cover]
    assert {s.content_type for s in fake_pms.requests("POST")} == {"image/jpeg"}


def test_tv_artwork_is_uploaded(mirrored: Mirrored, fake_pms: FakePMS, plex_side) -> None:
    lib = mirrored.stash.library
    episode = next(
        i
        for i in sorted(mirrored.scenes())
        if lib.has_cover(i) and lib.raw_scene(i)["studio_id"] is not None
    )
    studio = lib.raw_scene(episode)["studio_id"]
    show_key = f"studio-{studio}"
    artwork = plex_side(mirrored)
    tv = TvLookups(artwork.connections)
    row = tv.episode(episode)
    assert row is not None and row.show == show_key
    season_key = f"{show_key}-{row.season}"
    guids = {
        "show": tv_guid("show", show_key),
        "season": tv_guid("season", season_key),
        "episode": tv_guid("episode", f"scene-{episode}"),
    }
    types = {"show": SHOW, "season": SEASON, "episode": EPISODE}
    keys = {k: fake_pms.add_item(g, type=types[k], section="2") for k, g in guids.items()}
    for guid in guids.values():
        artwork.uploader.on_item(guid)
    artwork.uploader.on_item("plex://movie/5d776b59ad5437001f79c6f8")  # not ours: ignored
    assert artwork.uploader.drain(10)

    def cover(scene_id: int) -> bytes:
        return stash_image(mirrored, f"/scene/{scene_id}/screenshot")

    own = lib.table("studio")[studio]["image"]
    studio_image = stash_image(mirrored, f"/studio/{studio}/image") if own else None
    latest = tv.latest(show_key).scene_id
    first = tv.first_of_season(show_key, row.season).scene_id
    assert fake_pms.uploads_to(keys["show"]) == [studio_image or cover(latest)]
    assert fake_pms.uploads_to(keys["show"], "art") == [cover(latest)]
    assert fake_pms.uploads_to(keys["season"]) == [studio_image or cover(first)]
    assert fake_pms.uploads_to(keys["season"], "art") == []  # seasons: a poster only
    assert fake_pms.uploads_to(keys["episode"]) == [cover(episode)]
    assert fake_pms.uploads_to(keys["episode"], "art") == []
    # Known now: asking again costs no search and uploads nothing.
    searches = len(fake_pms.requests("GET", "/all"))
    artwork.uploader.on_item(guids["show"])
    assert artwork.uploader.drain(10)
    assert len(fake_pms.requests("GET", "/all")) == searches
    assert len(fake_pms.uploads) == 4

    # The episode's cover changes in Stash: the sync that sees it sends the new thumbnail.
    lib.advance(60)
    lib.set_cover(episode)
    report = Syncer(mirrored.client, mirrored.db, mirrored.settings).run("incremental")
    artwork.after_pass(report)
    assert artwork.uploader.drain(10)
    thumbs = fake_pms.uploads_to(keys["episode"])
    assert len(thumbs) == 2 and thumbs[1] == cover(episode) != thumbs[0]


def test_waits_for_pms_to_ingest_a_new_item(
    mirrored: Mirrored, fake_pms: FakePMS, plex_side
) -> None:
    scene_id, never = covered(mirrored, 2)
    key = fake_pms.add_scene(scene_id, after=0.2)  # PMS asks for metadata before it lists it
    uploader = plex_side(mirrored, retry_delays=(0.05, 0.1, 0.1, 0.1, 0.1)).uploader

    def calls() -> None:
        uploader.on_metadata(scene_id)
        uploader.on_metadata(never)  # not in PMS at all: retried a bounded number of times

    returns_while_pms_hangs(fake_pms, calls)  # the caller never waits
    assert uploader.drain(10)
    assert len(fake_pms.uploads_to(key)) == 1
    assert uploader.gave_up == 1
    guid_searches = [s for s in fake_pms.requests("GET", "/all") if "guid" in s.query]
    # The first try and five retries, each searching both movie sections for the guid.
    guid = f"tv.plex.agents.custom.stashplex://movie/scene-{never}"
    assert sum(s.query["guid"][0] == guid for s in guid_searches) == 6 * 2


def test_metadata_requests_never_wait_for_a_slow_pms(
    mirrored: Mirrored, fake_pms: FakePMS, plex_side
) -> None:
    fake_pms.delay = 0.1
    ids = covered(mirrored, 3)
    for scene_id in ids:
        fake_pms.add_scene(scene_id)
    uploader = plex_side(mirrored).uploader

    def calls() -> None:
        for _ in range(50):
            for scene_id in ids:
                uploader.on_metadata(scene_id)

    returns_while_pms_hangs(fake_pms, calls)
    assert uploader.drain(20)
    assert len(fake_pms.uploads) == 6


def test_a_stale_plex_key_is_searched_again(
    mirrored: Mirrored, fake_pms: FakePMS, plex_side
) -> None:
    scene_id = covered(mirrored, 1)[0]
    PlexLinks(mirrored.db).found(scene_id, "99999")  # an item PMS has since deleted
    key = fake_pms.add_scene(scene_id)
    uploader = plex_side(mirrored).uploader
    uploader.on_metadata(scene_id)
    assert uploader.drain(10)
    assert len(fake_pms.uploads_to(key)) == 1
    assert PlexLinks(mirrored.db).get(scene_id).plex_key == key


# --- refresh on change -------------------------------------------------------------------------


def test_refresh_only_changed_matched_scenes_rate_limited(
    mirrored: Mirrored, fake_pms: FakePMS, pms: PmsClient
) -> None:
    links = PlexLinks(mirrored.db)
    ids = sorted(mirrored.scenes())
    matched = ids[:8]
    keys = {}
    for scene_id in matched:
        keys[scene_id] = fake_pms.add_scene(scene_id)
        links.found(scene_id, keys[scene_id])
    refresher = PlexRefresher(pms, links, per_second=20, settle=0.05).start()
    try:
        lib = mirrored.stash.library
        lib.advance(60)
        changed = [*matched[:6], ids[-1]]  # the last one is not in Plex
        for scene_id in changed:
            lib.edit_scene(scene_id, title=f"new title {scene_id}")
        lib.set_o_counter(matched[7], 9)  # not shown to Plex: no document change
        report = Syncer(mirrored.client, mirrored.db, mirrored.settings).run("incremental")
        assert sorted(report.changed_docs) == sorted(changed)
        refresher.after_pass(report)
        refresher.after_pass(report)  # coalesced with the first
        assert refresher.drain(10)
    finally:
        refresher.close()
    puts = fake_pms.requests("PUT")
    assert sorted(s.path for s in puts) == sorted(
        f"/library/metadata/{keys[i]}/refresh" for i in matched[:6]
    )
    gaps = [b.at - a.at for a, b in itertools.pairwise(puts)]
    assert min(gaps) >= 0.04  # 20 per second, with scheduling slack
    assert all(links.get(i).refreshed_at for i in matched[:6])
    assert links.get(matched[6]).refreshed_at is None


def test_nothing_refreshed_for_an_unchanged_pass(
    mirrored: Mirrored, fake_pms: FakePMS, pms: PmsClient
) -> None:
    links = PlexLinks(mirrored.db)
    for scene_id in sorted(mirrored.scenes())[:5]:
        links.found(scene_id, fake_pms.add_scene(scene_id))
    refresher = PlexRefresher(pms, links, settle=0.01).start()
    report = Syncer(mirrored.client, mirrored.db, mirrored.settings).run("full")
    refresher.after_pass(report)
    assert refresher.drain(5)
    refresher.close()
    assert not report.changed_docs and fake_pms.requests("PUT") == []


# --- wiring and secrets --------------------------------------------------------------------


def test_artwork_wiring_follows_the_settings(mirrored_factory, fake_pms: FakePMS, tmp_path) -> None:
    def build(**env: str) -> Artwork:
        m = mirrored_factory(sync=False, env=env)
        return Artwork.build(m.settings, m.db, m.client)

    plain = build()
    assert plain.pipeline is None and plain.uploader is None and plain.refresher is None
    posters = build(POSTER_MODE="true")
    assert posters.pipeline is not None and posters.uploader is None
    plex = {"PLEX_URL": fake_pms.url, "PLEX_TOKEN": TOKEN}
    full = build(POSTER_MODE="true", STASHPLEX_PLEX_REFRESH_ON_CHANGE="true", **plex)
    assert full.pipeline and full.uploader and full.refresher
    assert full.service.on_rendered == [full.uploader.poster_changed]
    uploads = build(**plex)  # uploads whenever Plex is set, whatever poster_mode says
    assert uploads.pipeline is None and uploads.refresher is None
    assert uploads.uploader is not None and uploads.pms.verify_tls
    insecure = build(STASHPLEX_PLEX_VERIFY_TLS="false", **plex)
    assert not insecure.pms.verify_tls
    for artwork in (plain, posters, full, uploads, insecure):
        artwork.close()


def test_token_never_reaches_the_logs(
    mirrored_factory, fake_pms: FakePMS, caplog: pytest.LogCaptureFixture
) -> None:
    m = mirrored_factory(
        env={
            "POSTER_MODE": "true",
            "PLEX_URL": fake_pms.url,
            "PLEX_TOKEN": TOKEN,
            "STASHPLEX_PLEX_REFRESH_ON_CHANGE": "true",
        }
    )
    caplog.set_level(logging.DEBUG)  # everything, httpx and httpcore included
    a, b = covered(m, 2)
    key = fake_pms.add_scene(a)
    artwork = Artwork.build(m.settings, m.db, m.client)
    artwork.uploader.retry_delays = QUICK
    artwork.refresher.settle = 0.01
    artwork.start()
    try:
        artwork.on_metadata(a)
        artwork.on_metadata(b)  # never found: retries and gives up
        assert artwork.uploader.drain(10)
        m.stash.library.advance(60)
        m.stash.library.edit_scene(a, title="renamed")
        report = Syncer(m.client, m.db, m.settings, after_page=artwork.after_page).run()
        artwork.after_pass(report)
        assert artwork.refresher.drain(10) and artwork.pipeline.drain(10)
        fake_pms.failures.extend([500, 500, 401])
        artwork.refresher.request([a])
        artwork.refresher.failure_pause = 0.01
        assert artwork.refresher.drain(10)
        fake_pms.token = "rotated"  # PMS no longer accepts ours
        artwork.on_metadata(b)
        artwork.uploader.drain(5)
    finally:
        artwork.close()
    assert fake_pms.uploads_to(key) and fake_pms.requests("PUT")
    assert any(r.name.startswith("httpx") for r in caplog.records)  # requests were logged
    text = caplog.text + "".join(r.getMessage() for r in caplog.records)
    assert TOKEN not in text
    assert any("refused the token" in r.getMessage() for r in caplog.records)


def test_report_hook_shapes(mirrored: Mirrored) -> None:
    """The hooks take what the syncer and scheduler give them."""
    artwork = Artwork.build(mirrored.settings, mirrored.db, mirrored.client)
    artwork.after_pass(SyncReport("incremental"))
    artwork.on_metadata(1)
    artwork.close()


def test_a_scene_without_a_cover_gets_its_title_card_uploaded(
    mirrored: Mirrored, fake_pms: FakePMS, plex_side
) -> None:
    lib = mirrored.stash.library
    bare = next(i for i in sorted(mirrored.scenes()) if not lib.has_cover(i))
    key = fake_pms.add_scene(bare)
    artwork = plex_side(mirrored)
    artwork.uploader.on_metadata(bare)
    assert artwork.uploader.drain(10)
    card = artwork.images.card(bare, poster=False)
    assert card is not None
    assert fake_pms.uploads_to(key) == fake_pms.uploads_to(key, "art") == [card.read()]


def test_uploads_name_their_image_type(mirrored: Mirrored, fake_pms: FakePMS, plex_side) -> None:
    (a,) = covered(mirrored, 1)
    key = fake_pms.add_scene(a)
    artwork = plex_side(mirrored)
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32  # e.g. a studio's PNG logo as a show poster
    artwork.sender.fetch = lambda path: png
    artwork.uploader.on_metadata(a)
    assert artwork.uploader.drain(10)
    assert fake_pms.uploads_to(key) == [png]
    assert {s.content_type for s in fake_pms.requests("POST")} == {"image/png"}


def test_the_walk_and_the_uploader_never_send_one_item_twice(
    mirrored: Mirrored, fake_pms: FakePMS, plex_side
) -> None:
    (a,) = covered(mirrored, 1)
    key = fake_pms.add_scene(a)
    artwork = plex_side(mirrored)
    fake_pms.delay = 0.2  # both callers are inside the item's upload at once
    callers = [
        threading.Thread(target=artwork.sender.send, args=(key, scene_guid(a))) for _ in range(2)
    ]
    for caller in callers:
        caller.start()
    for caller in callers:
        caller.join(30)
    assert len(fake_pms.uploads_to(key)) == len(fake_pms.uploads_to(key, "art")) == 1
