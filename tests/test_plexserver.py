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
from stashplex.mirror.sync import Syncer, SyncReport
from stashplex.pms.client import (
    PlexAuthError,
    PlexUnreachable,
    PmsClient,
    legacy_scene_guid,
)
from stashplex.pms.refresher import PlexRefresher
from stashplex.pms.uploader import PosterUploader
from stashplex.posters.service import PosterService
from stashplex.stash.client import StashClient
from tests.plugins.fake_pms import TOKEN, FakePMS
from tests.plugins.mirror import Mirrored
from tests.plugins.net import free_port

QUICK = (0.05, 0.1, 0.1, 0.1)  # retry delays short enough for tests


@pytest.fixture
def pms(fake_pms: FakePMS) -> Iterator[PmsClient]:
    server = PmsClient(fake_pms.url, TOKEN, timeout=2)
    yield server
    server.close()


@pytest.fixture
def side(mirrored: Mirrored, pms: PmsClient) -> Iterator[Callable[..., PosterUploader]]:
    """`make(**kwargs)`: an uploader over the mirror with its own poster service."""
    made: list[tuple[PosterUploader, StashClient]] = []

    def make(**kwargs) -> PosterUploader:
        client = StashClient(mirrored.settings.stash.url, timeout=5, backoff=0.01)
        service = PosterService.from_settings(mirrored.settings, mirrored.db, client)
        kwargs.setdefault("retry_delays", QUICK)
        uploader = PosterUploader(pms, PlexLinks(mirrored.db), service, **kwargs).start()
        service.on_rendered.append(uploader.poster_changed)
        made.append((uploader, client))
        return uploader

    yield make
    for uploader, client in made:
        uploader.close()
        client.close()


def returns_while_pms_hangs(fake_pms: FakePMS, calls: Callable[[], None]) -> None:
    """`calls` returns while PMS answers nothing at all (its lock held): no wall-clock bound,
    so no load can fail it; a caller that waited for PMS would still be waiting."""
    done = threading.Thread(target=calls, daemon=True)
    with fake_pms.lock:
        done.start()
        done.join(30)
        assert not done.is_alive(), "the caller waited for PMS"


def covered(m: Mirrored, n: int = 3) -> list[int]:
    lib = m.stash.library
    return [i for i in sorted(m.scenes()) if lib.has_cover(i)][:n]


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
    pms.refresh(key)
    (upload,) = fake_pms.requests("POST")
    assert upload.path == f"/library/metadata/{key}/posters" and upload.body_size == 9
    assert fake_pms.uploads == [(key, b"\xff\xd8\xffposter")]
    assert [s.path for s in fake_pms.requests("PUT")] == [f"/library/metadata/{key}/refresh"]
    with pytest.raises(ValueError):
        pms.refresh("../../library")


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


def test_poster_uploaded_once_per_version_and_again_when_it_changes(
    mirrored: Mirrored, fake_pms: FakePMS, side
) -> None:
    a, b = covered(mirrored, 2)
    key_a, key_b = fake_pms.add_scene(a), fake_pms.add_scene(b)
    uploader = side()
    for _ in range(3):  # PMS asks for metadata (and more) several times per item
        uploader.on_metadata(a)
        uploader.on_metadata(b)
    assert uploader.drain(10)
    poster_a = uploader.posters.store.read(a)
    assert fake_pms.uploads_to(key_a) == [poster_a]
    assert len(fake_pms.uploads_to(key_b)) == 1
    searches = len(fake_pms.requests("GET", "/all"))
    uploader.on_metadata(a)
    assert uploader.drain(10)
    assert len(fake_pms.uploads) == 2 and len(fake_pms.requests("GET", "/all")) == searches

    # A restart: a new uploader (and poster service) over the same mirror uploads nothing.
    uploader.close()
    again = side()
    again.on_metadata(a)
    again.on_metadata(b)
    assert again.drain(10)
    assert len(fake_pms.uploads) == 2
    assert len(fake_pms.requests("GET", "/all")) == searches  # the keys were remembered

    # A new cover in Stash: the next sync re-renders it and the new poster goes up.
    lib = mirrored.stash.library
    lib.advance(60)
    lib.set_cover(a)
    Syncer(mirrored.client, mirrored.db, mirrored.settings).run("incremental")
    again.on_metadata(a)
    assert again.drain(10)
    uploads_a = fake_pms.uploads_to(key_a)
    assert len(uploads_a) == 2 and uploads_a[1] != uploads_a[0]
    assert uploads_a[1] == again.posters.store.read(a)
    link = PlexLinks(mirrored.db).get(a)
    assert link.plex_key == key_a
    assert link.uploaded_version == again.posters.poster_version(a)


def test_waits_for_pms_to_ingest_a_new_item(mirrored: Mirrored, fake_pms: FakePMS, side) -> None:
    scene_id, never = covered(mirrored, 2)
    key = fake_pms.add_scene(scene_id, after=0.2)  # PMS asks for metadata before it lists it
    uploader = side(retry_delays=(0.05, 0.1, 0.1, 0.1, 0.1))

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
    mirrored: Mirrored, fake_pms: FakePMS, side
) -> None:
    fake_pms.delay = 0.1
    ids = covered(mirrored, 3)
    for scene_id in ids:
        fake_pms.add_scene(scene_id)
    uploader = side()

    def calls() -> None:
        for _ in range(50):
            for scene_id in ids:
                uploader.on_metadata(scene_id)

    returns_while_pms_hangs(fake_pms, calls)
    assert uploader.drain(20)
    assert len(fake_pms.uploads) == 3


def test_a_stale_plex_key_is_searched_again(mirrored: Mirrored, fake_pms: FakePMS, side) -> None:
    scene_id = covered(mirrored, 1)[0]
    PlexLinks(mirrored.db).found(scene_id, "99999")  # an item PMS has since deleted
    key = fake_pms.add_scene(scene_id)
    uploader = side()
    uploader.on_metadata(scene_id)
    assert uploader.drain(10)
    assert len(fake_pms.uploads_to(key)) == 1
    assert PlexLinks(mirrored.db).get(scene_id).plex_key == key


def test_scenes_without_a_poster_are_looked_up_only_for_refreshes(
    mirrored: Mirrored, fake_pms: FakePMS, side
) -> None:
    lib = mirrored.stash.library
    bare = next(i for i in sorted(mirrored.scenes()) if not lib.has_cover(i))
    key = fake_pms.add_scene(bare)
    uploader = side()
    uploader.on_metadata(bare)
    assert uploader.drain(10)
    assert fake_pms.requests("GET", "/all") == [] and PlexLinks(mirrored.db).get(bare) is None
    learner = side(learn_keys=True)
    learner.on_metadata(bare)
    assert learner.drain(10)
    assert PlexLinks(mirrored.db).get(bare).plex_key == key and fake_pms.uploads == []


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
    assert report.changed_docs == [] and fake_pms.requests("PUT") == []


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
    assert full.pipeline and full.uploader and full.uploader.upload and full.refresher
    keys_only = build(STASHPLEX_PLEX_REFRESH_ON_CHANGE="true", **plex)
    assert keys_only.pipeline is None and keys_only.refresher is not None
    assert keys_only.uploader is not None and not keys_only.uploader.upload
    assert build(**plex).uploader is None  # neither posters nor refreshes: PMS is left alone
    for artwork in (plain, posters, full, keys_only):
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
