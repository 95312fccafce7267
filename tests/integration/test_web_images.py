"""Image routes: cache, validators, placeholders, posters, ids, and Stash failures."""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image

from stashplex.diskio import atomic_write, shard
from stashplex.posters.store import PosterStore
from stashplex.stash.client import StashImage
from stashplex.web.imagecache import ImageCache, version_tag
from stashplex.web.images import stash_image_path
from tests.plugins.webkit import Provider


def size_of(data: bytes) -> tuple[int, int]:
    return Image.open(io.BytesIO(data)).size


@pytest.fixture
def provider(synced_provider: Callable[..., Provider]) -> Provider:
    return synced_provider()


def get(provider: Provider, path: str, **headers: str):
    return provider.client.simulate_get(path, headers=headers or None)


def library(provider: Provider):
    return provider.mirrored.stash.library


def scene_with(provider: Provider, cover: bool) -> int:
    lib = library(provider)
    return next(i for i in range(31, 61) if lib.has_cover(i) == cover)


def test_screenshot_is_fetched_cached_and_revalidated(provider: Provider) -> None:
    scene_id = scene_with(provider, cover=True)
    first = get(provider, f"/stash/scene/{scene_id}/screenshot")
    assert first.status_code == 200
    assert first.headers["content-type"] == "image/jpeg"
    assert first.content[:3] == b"\xff\xd8\xff"
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    assert "max-age" in first.headers["cache-control"]
    # Cached: served with Stash down.
    provider.mirrored.stash.faults.down()
    again = get(provider, f"/stash/scene/{scene_id}/screenshot?v=123")
    assert again.status_code == 200 and again.content == first.content
    assert again.headers["etag"] == etag
    not_modified = get(provider, f"/stash/scene/{scene_id}/screenshot", **{"If-None-Match": etag})
    assert not_modified.status_code == 304 and not_modified.content == b""
    weak = get(provider, f"/stash/scene/{scene_id}/screenshot", **{"If-None-Match": f"W/{etag}"})
    assert weak.status_code == 304
    other = get(provider, f"/stash/scene/{scene_id}/screenshot", **{"If-None-Match": '"nope"'})
    assert other.status_code == 200
    since = get(provider, f"/stash/scene/{scene_id}/screenshot", **{"If-Modified-Since": modified})
    assert since.status_code == 304
    bad_date = get(provider, f"/stash/scene/{scene_id}/screenshot", **{"If-Modified-Since": "x"})
    assert bad_date.status_code == 200


def test_image_routes_answer_head_like_get(provider: Provider) -> None:
    scene_id = scene_with(provider, cover=True)
    for path in (f"/stash/scene/{scene_id}/screenshot", "/stash/performer/1/image"):
        head = provider.client.simulate_head(path)  # the first request: fetched from Stash
        got = get(provider, path)
        assert head.status_code == got.status_code == 200, path
        assert head.content == b"" and got.content
        for name in ("content-type", "etag", "cache-control"):
            assert head.headers[name] == got.headers[name]
        assert head.headers["content-length"] == str(len(got.content))


def test_cache_layout_uses_ids_and_versions(provider: Provider) -> None:
    scene_id = scene_with(provider, cover=True)
    assert get(provider, f"/stash/scene/{scene_id}/screenshot").status_code == 200
    _known, version = provider.app.context.lookups.image_version("scene", scene_id)
    root = provider.settings.mirror.database.parent / "images"
    expected = root / "scene" / shard(scene_id) / f"{scene_id}.{version_tag(version)}"
    assert expected.is_file()


def test_a_scene_without_a_cover_gets_title_cards_remembered(provider: Provider) -> None:
    scene_id = scene_with(provider, cover=False)
    response = get(provider, f"/stash/scene/{scene_id}/screenshot")
    assert response.status_code == 200 and response.headers["content-type"] == "image/jpeg"
    assert b"<svg" not in response.content
    assert size_of(response.content) == (1280, 720)
    poster = get(provider, f"/stash/scene/{scene_id}/poster")
    assert poster.status_code == 200 and size_of(poster.content) == (600, 900)
    requests = provider.mirrored.stash.faults.requests
    again = get(provider, f"/stash/scene/{scene_id}/screenshot")
    assert again.content == response.content
    assert get(provider, f"/stash/scene/{scene_id}/poster").content == poster.content
    assert provider.mirrored.stash.faults.requests == requests  # no Stash request, no render
    root = provider.settings.mirror.database.parent / "images"
    assert len(list((root / "card").rglob(f"{scene_id}.*"))) == 1
    assert len(list((root / "cardposter").rglob(f"{scene_id}.*"))) == 1
    # The URLs the metadata names carry the version: a renamed scene's card gets a new URL.
    doc = provider.app.context.lookups.doc(scene_id)
    assert doc is not None and f"/stash/scene/{scene_id}/screenshot?v=" in doc


def test_a_known_coverless_scene_gets_its_card_while_stash_is_down(provider: Provider) -> None:
    scene_id = scene_with(provider, cover=False)
    provider.app.images.posters.refresh(scene_id)  # the poster work found no cover
    provider.mirrored.stash.faults.down()
    response = get(provider, f"/stash/scene/{scene_id}/screenshot")
    assert response.status_code == 200 and size_of(response.content) == (1280, 720)
    covered = scene_with(provider, cover=True)  # a cover not cached yet: "not now", not a card
    assert get(provider, f"/stash/scene/{covered}/screenshot").status_code == 503


def test_entities_without_an_image_are_404_without_asking_stash(provider: Provider) -> None:
    cache = provider.app.images.cache
    lookups = provider.app.context.lookups
    entities = provider.mirrored.entities()
    requests = provider.mirrored.stash.faults.requests
    for kind, table in (("performer", entities.performers), ("studio", entities.studios)):
        bare = next(e for e in table.values() if e.image_version is None)
        assert lookups.image_version(kind, bare.id) == (True, None)
        assert get(provider, f"/stash/{kind}/{bare.id}/image").status_code == 404
    assert provider.mirrored.stash.faults.requests == requests
    for kind, table, suffix in (
        ("performer", entities.performers, "image"),
        ("studio", entities.studios, "image"),
        ("group", entities.groups, "front"),
    ):
        entity = next(
            e
            for e in table.values()
            if (getattr(e, "image_version", None) or getattr(e, "front_image_version", None))
        )
        response = get(provider, f"/stash/{kind}/{entity.id}/{suffix}")
        assert response.status_code == 200, (kind, response.text)
        assert response.headers["content-type"] == "image/jpeg"
        assert cache.root.joinpath(kind).is_dir()


@pytest.mark.parametrize(
    "path",
    [
        "/stash/scene/abc/screenshot",
        "/stash/scene/-1/screenshot",
        "/stash/scene/0/screenshot",
        "/stash/scene/1.0/screenshot",
        "/stash/scene/%201/screenshot",
        "/stash/scene/١/screenshot",
        "/stash/scene/99999999999999999999/screenshot",
        "/stash/scene/..%2F..%2Fetc%2Fpasswd/screenshot",
        "/stash/scene/../../etc/passwd/screenshot",
        "/stash/scene/1/../../../etc/passwd",
        "/stash/performer/1%2F..%2F2/image",
        "/stash/tag/1/image",
        "/stash/scene/1/cover",
        "/stash/group/1/back",
    ],
)
def test_ids_are_digits_only(hand_provider, path: str) -> None:
    provider = hand_provider()
    fake = FakeStash(StashImage("ok", b"\xff\xd8\xff", "image/jpeg"))
    provider.app.images.client = fake
    response = get(provider, path)
    assert response.status_code == 404, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert fake.paths == []  # Stash never asked


def test_unknown_entity_is_404(provider: Provider) -> None:
    assert get(provider, "/stash/scene/123456/screenshot").status_code == 404
    assert get(provider, "/stash/performer/123456/image").status_code == 404


def test_poster_is_rendered_from_the_cover_once(provider: Provider) -> None:
    scene_id = scene_with(provider, cover=True)
    response = get(provider, f"/stash/scene/{scene_id}/poster")
    assert response.status_code == 200 and response.headers["content-type"] == "image/jpeg"
    assert Image.open(io.BytesIO(response.content)).size == (600, 900)
    poster = Path(provider.settings.mirror.poster_dir) / shard(scene_id) / f"{scene_id}.jpg"
    assert poster.is_file()
    mtime = poster.stat().st_mtime_ns
    again = get(provider, f"/stash/scene/{scene_id}/poster")
    assert again.content == response.content and poster.stat().st_mtime_ns == mtime
    assert (
        get(
            provider, f"/stash/scene/{scene_id}/poster", **{"If-None-Match": again.headers["etag"]}
        ).status_code
        == 304
    )
    # A new cover in Stash, once synced, makes the poster stale: it is rendered again.
    library(provider).advance(600)
    library(provider).set_cover(scene_id)
    provider.mirrored.syncer.run("incremental")
    third = get(provider, f"/stash/scene/{scene_id}/poster")
    assert third.status_code == 200 and poster.stat().st_mtime_ns != mtime
    assert third.content != response.content


def test_stash_down_and_nothing_cached_is_503_json(provider: Provider) -> None:
    provider.mirrored.stash.faults.down()
    scene_id = scene_with(provider, cover=True)
    response = get(provider, f"/stash/scene/{scene_id}/screenshot")
    assert response.status_code == 503
    assert response.headers["content-type"].startswith("application/json")


def test_an_older_version_is_served_while_stash_cannot_send_the_current_one(
    provider: Provider,
) -> None:
    scene_id = scene_with(provider, cover=True)
    screenshot, poster = f"/stash/scene/{scene_id}/screenshot", f"/stash/scene/{scene_id}/poster"
    first, first_poster = get(provider, screenshot), get(provider, poster)
    assert first.status_code == first_poster.status_code == 200
    library(provider).advance(600)
    library(provider).set_cover(scene_id)  # a new version, known to the mirror after a sync
    provider.mirrored.syncer.run("incremental")
    images = provider.app.images
    images.down_for = 0
    # Stash too slow to send the new cover within the wait: the older files, asked again soon.
    images.timeout = 0.2
    provider.mirrored.stash.faults.latency(1.5)
    for path, before in ((screenshot, first), (poster, first_poster)):
        stale = get(provider, path)
        assert stale.status_code == 200 and stale.content == before.content, path
        assert stale.headers["cache-control"] == "public, max-age=60", path
    # Stash down, same answer; no older version at all is still "not now".
    provider.mirrored.stash.faults.latency(0)
    provider.mirrored.stash.faults.down()
    for path, before in ((screenshot, first), (poster, first_poster)):
        stale = get(provider, path)
        assert stale.status_code == 200 and stale.content == before.content, path
        assert stale.headers["cache-control"] == "public, max-age=60", path
    other = next(i for i in range(1, 31) if library(provider).has_cover(i))
    assert get(provider, f"/stash/scene/{other}/screenshot").status_code == 503
    # Stash back: the current version replaces the older one, cached for long again.
    provider.mirrored.stash.faults.up()
    images.timeout = 10
    fresh = get(provider, screenshot)
    assert fresh.status_code == 200 and fresh.content != first.content
    assert fresh.headers["cache-control"] == "public, max-age=86400"


def test_login_page_and_wrong_key_are_never_passed_on(
    synced_provider: Callable[..., Provider],
) -> None:
    provider = synced_provider(api_key="the-right-key", env={"STASH_API_KEY": "the-right-key"})
    provider.stash._http.headers.pop("ApiKey")  # as if the key were wrong or missing
    scene_id = scene_with(provider, cover=True)
    response = get(provider, f"/stash/scene/{scene_id}/screenshot")
    # "Not now" (503), not "no image": a key fixed later must not leave remembered 404s.
    assert response.status_code == 503
    assert b"<html" not in response.content.lower() and b"login" not in response.content.lower()
    remembered = provider.app.images.absent.remembered()
    assert not any(key[:2] == ("scene", scene_id) for key in remembered)


class FakeStash:
    """A client whose image route answers whatever a test wants."""

    legacy = False
    probed = True

    def __init__(self, answer: StashImage) -> None:
        self.answer = answer
        self.paths: list[str] = []

    def image(self, path: str, **kwargs) -> StashImage:
        self.paths.append(path)
        return self.answer


@pytest.mark.parametrize(
    "answer",
    [
        StashImage("ok", b"<!DOCTYPE html><html>login</html>", "image/jpeg"),
        StashImage("ok", b"<svg xmlns='http://www.w3.org/2000/svg'/>", "image/png"),
        StashImage("ok", b"", "image/jpeg"),
        StashImage("placeholder"),
        StashImage("missing"),
    ],
)
def test_only_real_images_are_served_else_the_title_card(hand_provider, answer: StashImage) -> None:
    provider = hand_provider()
    fake = FakeStash(answer)
    provider.app.images.client = fake
    response = get(provider, "/stash/scene/1/screenshot")
    assert response.status_code == 200 and response.headers["content-type"] == "image/jpeg"
    assert response.content != answer.data and size_of(response.content) == (1280, 720)
    assert fake.paths == ["/scene/1/screenshot"]
    assert not list((provider.settings.mirror.database.parent / "images/scene").rglob("1.*"))


def test_stash_image_paths_come_from_numbers_only() -> None:
    assert stash_image_path("scene", 5) == "/scene/5/screenshot"
    assert stash_image_path("performer", 5) == "/performer/5/image"
    assert stash_image_path("studio", 5) == "/studio/5/image"
    assert stash_image_path("group", 5) == "/group/5/frontimage"
    assert stash_image_path("group", 5, legacy=True) == "/movie/5/frontimage"
    with pytest.raises(ValueError):
        stash_image_path("scene", "5/../x")  # type: ignore[arg-type]


# --- the disk cache -----------------------------------------------------------------------------


def test_new_version_replaces_the_old_one(tmp_path: Path) -> None:
    cache = ImageCache(tmp_path)
    old = cache.put("scene", 300, "1", b"\xff\xd8\xffold")
    cache.put("scene", 3000, "1", b"\xff\xd8\xffother id")  # same bucket? different id prefix
    new = cache.put("scene", 300, "2", b"\xff\xd8\xffnew")
    assert not old.path.exists() and new.path.read_bytes().endswith(b"new")
    assert cache.get("scene", 300, "1") is None
    assert cache.get("scene", 3000, "1") is not None
    assert cache.path("scene", 300, "../../x").name.startswith("300.h")  # hashed, not a path


def test_cache_stays_under_its_bound(tmp_path: Path) -> None:
    cache = ImageCache(tmp_path, max_bytes=10_000)
    for i in range(1, 30):
        cache.put("performer", i, "1", bytes(1000))
        os.utime(cache.path("performer", i, "1"), ns=(i * 10**9, i * 10**9))
    total = sum(p.stat().st_size for p in tmp_path.rglob("*") if p.is_file())
    assert total <= 10_000
    assert cache.get("performer", 29, "1") is not None  # the newest stay
    assert cache.get("performer", 1, "1") is None


def test_atomic_write_leaves_no_temporary_files(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b.jpg"
    atomic_write(target, b"one")
    atomic_write(target, b"two")
    assert target.read_bytes() == b"two"
    assert [p.name for p in target.parent.iterdir()] == ["b.jpg"]
    posters = PosterStore(tmp_path / "posters")
    assert posters.path(513) == tmp_path / "posters" / "01" / "513.jpg"
