"""The walk over PMS's libraries and PMS as users run it (HTTPS, tokens that expire, slowness),
against the fake PMS over real HTTP."""

from __future__ import annotations

import logging
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from stashplex.artwork import Artwork
from stashplex.mirror.plex_links import PlexLinks
from stashplex.mirror.plex_uploads import PlexUploads
from stashplex.mirror.tv_lookups import TvLookups
from stashplex.plex.identity import scene_guid, tv_guid
from stashplex.pms.api import PlexTlsError, PmsClient
from stashplex.pms.reconciler import STATE_KEY, Reconciler
from stashplex.web.status_page import PlexArtwork, StatusView, render
from tests.plugins.daemon import wait_until
from tests.plugins.fake_pms import TOKEN, FakePMS
from tests.plugins.mirror import Mirrored
from tests.plugins.plexkit import covered


def library(m: Mirrored, fake: FakePMS, artwork: Artwork, movies: int = 5) -> dict[str, str]:
    """PMS items for some covered scenes, one TV show with a season and an episode, and an
    item of another agent; returns our guid -> Plex key."""
    keys = {scene_guid(i): fake.add_scene(i) for i in covered(m, movies)}
    fake.add_item("plex://movie/5d776b59ad5437001f79c6f8", title="Not ours")
    tv = TvLookups(artwork.connections)
    episode = tv.episode(covered(m, 1)[0])
    assert episode is not None
    for kind, rating_key, plex_type in (
        ("show", episode.show, 2),
        ("season", f"{episode.show}-{episode.season}", 3),
        ("episode", f"scene-{episode.scene_id}", 4),
    ):
        guid = tv_guid(kind, rating_key)  # type: ignore[arg-type]
        keys[guid] = fake.add_item(guid, type=plex_type, section="2")
    return keys


def walker(artwork: Artwork, **options: object) -> Reconciler:
    assert artwork.sender is not None
    options.setdefault("page_pause", 0)
    options.setdefault("start_delay", 0)
    return Reconciler(artwork.sender, PlexLinks(artwork.sender.uploads.db), **options)


def test_the_walk_uploads_the_whole_library_once_and_learns_keys(
    mirrored: Mirrored, fake_pms: FakePMS, plex_side
) -> None:
    artwork = plex_side(mirrored)
    keys = library(mirrored, fake_pms, artwork)
    walk = walker(artwork, page_size=2)
    walk.walk()
    movies = [g for g in keys if g.startswith("tv.plex.agents.custom.stashplex://")]
    for guid in movies:
        assert len(fake_pms.uploads_to(keys[guid])) == 1
        assert len(fake_pms.uploads_to(keys[guid], "art")) == 1
    # Show: poster and background; season: poster; episode: thumbnail.
    assert len(fake_pms.uploads) == 2 * len(movies) + 2 + 1 + 1
    assert not any(k not in keys.values() for k, _kind, _data in fake_pms.uploads)
    links = PlexLinks(mirrored.db)
    assert all(links.get(int(g.rsplit("-", 1)[1])).plex_key == keys[g] for g in movies)
    status = walk.status()
    assert status.state == "idle" and status.last_finished is not None
    assert (status.ours, status.uploaded) == (len(keys), len(fake_pms.uploads))
    pages = [s for s in fake_pms.requests("GET", "/all") if "guid" not in s.query]
    assert {s.query["X-Plex-Container-Size"][0] for s in pages} == {"2"}

    # Again: nothing goes up, and no image is read (every source is as recorded).
    reads: list[str] = []
    original = artwork.sender.fetch
    artwork.sender.fetch = lambda path: reads.append(path) or original(path)
    walk.walk()
    assert len(fake_pms.uploads) == 2 * len(movies) + 4 and reads == []
    view = artwork.plex_status()
    assert view is not None and view.uploaded == len(fake_pms.uploads)


def test_a_walk_without_totals_pages_to_the_end(
    mirrored: Mirrored, fake_pms: FakePMS, plex_side
) -> None:
    artwork = plex_side(mirrored)
    keys = library(mirrored, fake_pms, artwork, movies=5)
    fake_pms.no_totals = True
    walker(artwork, page_size=2).walk()
    assert {k for k, _kind, _data in fake_pms.uploads} == set(keys.values())


def test_an_interrupted_walk_resumes_where_it_stopped(
    mirrored: Mirrored, fake_pms: FakePMS, plex_side
) -> None:
    artwork = plex_side(mirrored)
    keys = library(mirrored, fake_pms, artwork, movies=6)
    fake_pms.fail_from = 6  # sections, two pages of movies with their uploads, then PMS fails
    with pytest.raises(Exception, match="503"):
        walker(artwork, page_size=2).walk()
    saved = PlexUploads(mirrored.db).get_state(STATE_KEY)
    assert saved is not None and '"section": "1"' in saved
    sent_before = len(fake_pms.uploads)
    assert 0 < sent_before < len(keys)
    fake_pms.fail_from = None
    seen = len(fake_pms.seen)
    fresh = walker(artwork, page_size=2)  # a restart: a new walker over the same mirror
    fresh.walk()
    first_page = next(s for s in fake_pms.seen[seen:] if s.path.endswith("/all"))
    assert first_page.query["X-Plex-Container-Start"] != ["0"]  # from the saved position
    # Everything arrived, nothing twice.
    per_item = {(k, kind) for k, kind, _ in fake_pms.uploads}
    assert len(per_item) == len(fake_pms.uploads)
    assert {k for k, _ in per_item} == set(keys.values())
    assert '"finished_at"' in (PlexUploads(mirrored.db).get_state(STATE_KEY) or "")


def test_pms_refusing_the_token_pauses_the_walk_with_one_line(
    mirrored: Mirrored, fake_pms: FakePMS, plex_side, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    artwork = plex_side(mirrored)
    library(mirrored, fake_pms, artwork, movies=2)
    fake_pms.token = "rotated"  # the token expired
    asked = len(fake_pms.requests("GET", "/library/sections"))  # by the set-up, before the walk
    walk = walker(artwork, retry_minutes=0.001, auth_retry_minutes=0.001).start()
    try:
        deadline = time.monotonic() + 10
        while len(fake_pms.requests("GET", "/library/sections")) < asked + 3:
            assert time.monotonic() < deadline, "the walk did not retry"
            time.sleep(0.02)
        while (status := walk.status()).state != "paused":  # not caught mid-try
            assert time.monotonic() < deadline, status
            time.sleep(0.01)
        assert "refused the token" in (status.last_error or "")
        warnings = [r for r in caplog.records if r.name.endswith("reconciler")]
        assert [r.levelno for r in warnings].count(logging.WARNING) == 1
        assert TOKEN not in caplog.text
        fake_pms.token = TOKEN  # a new token: the walk goes on by itself
        while walk.passes == 0:
            assert time.monotonic() < deadline + 10, "the walk did not resume"
            time.sleep(0.02)
    finally:
        walk.close()
    assert walk.status().last_error is None and len(fake_pms.uploads) == 2 * 2 + 4
    assert any("answers again" in r.getMessage() for r in caplog.records)


def test_a_slow_pms_pauses_the_walk(mirrored: Mirrored, fake_pms: FakePMS, plex_side) -> None:
    artwork = plex_side(mirrored)
    library(mirrored, fake_pms, artwork, movies=1)
    assert artwork.pms is not None
    slow = PmsClient(fake_pms.url, TOKEN, timeout=0.2)
    artwork.sender.pms = slow  # type: ignore[union-attr]
    fake_pms.delay = 0.5
    walk = walker(artwork, retry_minutes=10).start()
    try:
        deadline = time.monotonic() + 10
        while walk.status().state != "paused":
            assert time.monotonic() < deadline
            time.sleep(0.02)
        assert "did not answer in time" in (walk.status().last_error or "")
        time.sleep(1.0)  # the request PMS answers late lands; no other follows it
        assert len(fake_pms.seen) == 1  # paused: no loop of requests
    finally:
        walk.close()
        slow.close()


def test_the_status_page_shows_the_walk(mirrored: Mirrored, fake_pms: FakePMS, plex_side) -> None:
    artwork = plex_side(mirrored, reconcile_hours=24)
    library(mirrored, fake_pms, artwork, movies=1)
    assert artwork.reconciler is not None
    artwork.reconciler.walk()
    view = artwork.plex_status()
    assert view is not None and view.walk_state == "idle" and view.uploaded == 6
    page = _page(view)
    assert "Plex artwork" in page and "6 images uploaded" in page and fake_pms.url in page


def _page(plex: PlexArtwork) -> str:
    return render(
        StatusView(
            version="1",
            register_url="http://h:7979",
            tv_register_url=None,
            stash_url="http://stash:9999",
            stash_reachable=True,
            stash_version=None,
            counts={},
            posters={},
            poster_mode=False,
            sync_running=None,
            last_success=None,
            next_runs={},
            failing_since=None,
            last_error=None,
            plex=plex,
        )
    )


# --- HTTPS ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """A self-signed certificate for 127.0.0.1 made with the openssl command."""
    folder: Path = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return str(cert), str(key)


@pytest.fixture
def https_pms(certificate: tuple[str, str]) -> Iterator[FakePMS]:
    fake = FakePMS(tls=certificate).start()
    yield fake
    fake.stop()


def test_https_pms_with_a_self_signed_certificate(https_pms: FakePMS) -> None:
    assert https_pms.url.startswith("https://")
    key = https_pms.add_scene(5)
    checked = PmsClient(https_pms.url, TOKEN, timeout=5)
    with pytest.raises(PlexTlsError) as refused:
        checked.sections()
    assert "[plex] verify_tls" in str(refused.value) and TOKEN not in str(refused.value)
    checked.close()
    trusting = PmsClient(https_pms.url, TOKEN, timeout=5, verify_tls=False)
    assert [s.key for s in trusting.sections()] == ["1", "3"]
    trusting.upload(key, "art", b"\xff\xd8\xffart")
    trusting.close()
    assert https_pms.uploads_to(key, "art") == [b"\xff\xd8\xffart"]


# --- the service -------------------------------------------------------------------------------


def test_the_service_uploads_what_plex_asks_for_and_shows_it(
    sample_stash, fake_pms: FakePMS, daemon_factory
) -> None:
    """`stashplex serve` with [plex] set: a movie and a TV episode Plex asks for get their
    artwork, and /status says so."""
    lib = sample_stash.library
    with_studio = [i for i in lib.scene_ids() if lib.has_cover(i) and lib.raw_scene(i)["studio_id"]]
    movie, episode = with_studio[:2]
    movie_key = fake_pms.add_scene(movie)
    episode_key = fake_pms.add_item(tv_guid("episode", f"scene-{episode}"), type=4, section="2")
    daemon = daemon_factory(
        sample_stash.url,
        PLEX_URL=fake_pms.url,
        PLEX_TOKEN=TOKEN,
        STASHPLEX_PLEX_RECONCILE_HOURS="0",
    )
    wait_until(lambda: daemon.scenes() == lib.live_count(), what="the first sync")
    assert daemon.http.get(f"/library/metadata/scene-{movie}").status_code == 200
    assert daemon.http.get(f"/tv/library/metadata/scene-{episode}").status_code == 200
    wait_until(
        lambda: fake_pms.uploads_to(movie_key, "art") and fake_pms.uploads_to(episode_key),
        what="the uploads",
        timeout=30,
    )
    page = daemon.http.get("/status").text
    assert "Plex artwork" in page and fake_pms.url in page and "images uploaded" in page
    assert daemon.terminate() == 0
