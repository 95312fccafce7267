"""Encoded answers kept for repeated requests, and the mirror generation that retires them."""

from __future__ import annotations

import dataclasses

import pytest
from falcon import testing

from stashplex.mirror import documents
from stashplex.mirror.kinds import STUDIOS
from stashplex.mirror.writer import MirrorWriter
from stashplex.records import Studio
from stashplex.web.answers import ENTRY_OVERHEAD, AnswerCache
from stashplex.web.app import create_app
from tests.plugins.tvkit import SHOW_GUID, TV
from tests.plugins.webkit import HAND_SCENES, Provider


def test_an_answer_is_kept_for_its_generation_only() -> None:
    cache: AnswerCache[None] = AnswerCache()
    assert cache.get("a", 1) is None
    cache.put("a", 1, b"one", None)
    assert cache.get("a", 1) == (b"one", None)
    assert cache.get("a", 2) is None  # a write since: gone
    assert len(cache) == 0
    cache.put("a", 1, b"late", None)  # read before the write, stored after it
    assert cache.get("a", 2) is None
    # A generation that goes back (a mirror replaced) empties the cache too.
    cache.put("b", 2, b"two", None)
    assert cache.get("b", 1) is None and cache.get("b", 2) is None


def test_the_cache_is_bounded_in_bytes_least_recently_used_first_out() -> None:
    cache: AnswerCache[int] = AnswerCache(max_bytes=10 * (100 + ENTRY_OVERHEAD))
    for i in range(10):
        cache.put(i, 1, bytes(100), i)
    assert cache.get(0, 1) == (bytes(100), 0)  # now the most recently used
    cache.put(10, 1, bytes(100), 10)
    assert cache.get(1, 1) is None  # the least recently used went
    assert cache.get(0, 1) is not None and cache.get(10, 1) is not None
    cache.put("huge", 1, bytes(cache.max_bytes), -1)  # never empties the cache for one answer
    assert cache.get("huge", 1) is None and len(cache) == 10


def test_request_text_in_keys_counts_toward_the_bound() -> None:
    cache: AnswerCache[None] = AnswerCache(max_bytes=100_000)
    for i in range(100):  # small answers to long requests: the keys are what takes room
        cache.put(("x" * 4000, i), 1, b"{}", None, key_bytes=4000)
    assert 0 < len(cache) <= 100_000 // 4000


@pytest.fixture
def provider(hand_provider) -> Provider:
    return hand_provider()


def writer_for(provider: Provider) -> MirrorWriter:
    return MirrorWriter(provider.db, documents.mapping_options(provider.settings))


def title_of(provider: Provider, scene_id: int) -> str:
    response = provider.client.simulate_get(f"/library/metadata/scene-{scene_id}")
    assert response.status_code == 200, response.text
    return response.json["MediaContainer"]["Metadata"][0]["title"]


def generation(provider: Provider) -> int:
    return provider.app.context.lookups.generation()


def test_a_repeated_metadata_request_is_answered_from_the_cache(provider: Provider) -> None:
    answers = provider.app.context.answers
    first = provider.client.simulate_get("/library/metadata/scene-1")
    hits = answers.hits
    again = provider.client.simulate_get("/library/metadata/scene-1")
    assert answers.hits == hits + 1
    assert again.content == first.content
    # The base URL is part of the question: another Host gets its own image URLs.
    other = provider.client.simulate_get(
        "/library/metadata/scene-1", headers={"Host": "elsewhere.lan:7979"}
    )
    assert b"elsewhere.lan" in other.content and b"elsewhere.lan" not in first.content
    # So are PMS's trimming parameters.
    trimmed = provider.client.simulate_get(
        "/library/metadata/scene-1", params={"excludeElements": "Role"}
    )
    assert b'"Role"' in first.content and b'"Role"' not in trimmed.content


def test_a_change_in_the_mirror_retires_the_kept_answer(provider: Provider) -> None:
    assert title_of(provider, 1) == "Scene 1"
    assert title_of(provider, 1) == "Scene 1"  # kept
    before = generation(provider)
    writer = writer_for(provider)
    writer.apply_scenes([dataclasses.replace(HAND_SCENES[0], title="Renamed")])
    assert generation(provider) > before
    assert title_of(provider, 1) == "Renamed"
    writer.delete_scenes([1])
    assert provider.client.simulate_get("/library/metadata/scene-1").status_code == 404


def test_the_match_answer_follows_the_mirror(provider: Provider) -> None:
    path = "/data/stash/Site/2020/First.mp4"
    assert [m["ratingKey"] for m in provider.match(filename=path)] == ["scene-1"]
    assert [m["ratingKey"] for m in provider.match(filename=path)] == ["scene-1"]
    file = dataclasses.replace(
        HAND_SCENES[0].files[0], path="/data/stash/Elsewhere/x.mp4", basename="x.mp4"
    )
    moved = dataclasses.replace(HAND_SCENES[0], files=(file,))
    writer_for(provider).apply_scenes([moved])
    assert provider.match(filename=path) == []


def test_a_kept_miss_is_still_listed_as_the_newest_miss(provider: Provider) -> None:
    misses = provider.app.context.misses
    provider.match(filename="/nowhere/a.mp4")
    provider.match(filename="/nowhere/b.mp4")
    hits = provider.app.context.answers.hits
    provider.match(filename="/nowhere/a.mp4")  # kept (no Stash to ask), listed again
    assert provider.app.context.answers.hits == hits + 1
    assert [m.filename for m in misses.recent()] == ["/nowhere/a.mp4", "/nowhere/b.mp4"]


def test_only_writes_that_change_something_raise_the_generation(provider: Provider) -> None:
    writer = writer_for(provider)
    before = generation(provider)
    writer.apply_scenes(list(HAND_SCENES))  # the same scenes again
    writer.apply_entities(STUDIOS, [Studio(1, "Site", parent_id=2)])  # unchanged
    writer.delete_scenes([999])  # not mirrored
    writer.set_state({"some_cursor": "1"})
    assert generation(provider) == before
    writer.apply_entities(STUDIOS, [Studio(1, "Site renamed", parent_id=2)])
    assert generation(provider) == before + 1


def test_tv_answers_are_kept_and_follow_the_mirror(tv_mirror) -> None:
    m = tv_mirror()
    heard: list[str] = []
    app = create_app(m.settings, db=m.db, on_item=heard.append)
    client = testing.TestClient(app)
    try:
        answers = app.context.answers
        first = client.simulate_get(TV + "/studio-2")
        hits = answers.hits
        assert client.simulate_get(TV + "/studio-2").content == first.content
        assert answers.hits == hits + 1
        assert heard == [SHOW_GUID + "studio-2"] * 2  # the artwork hook hears of kept answers
        size = {"X-Plex-Container-Size": "2"}
        page = client.simulate_get(TV + "/studio-2/grandchildren", headers=size)
        again = client.simulate_get(TV + "/studio-2/grandchildren", headers=size)
        assert again.content == page.content
        total = "x-plex-container-total-size"
        assert again.headers[total] == page.headers[total] != "0"
        m.writer.apply_entities(STUDIOS, [Studio(2, "Site A renamed", parent_id=1)])
        renamed = client.simulate_get(TV + "/studio-2").json["MediaContainer"]["Metadata"][0]
        assert renamed["title"] == "Site A renamed"
    finally:
        app.close()


class AskedStash:
    """Stands in for the live fallback: counts the questions, never finds anything."""

    def __init__(self) -> None:
        self.asked = 0

    def match(self, request: object) -> bool:
        self.asked += 1
        return False


def test_a_match_for_which_stash_was_asked_is_not_kept(provider: Provider) -> None:
    stash = AskedStash()
    provider.app.context.fallback = stash  # type: ignore[assignment]
    for _ in range(2):
        assert provider.match(filename="/nowhere/new.mp4", title="Scene 3") != []  # by title
    assert stash.asked == 2  # each time: Stash's own memory decides when to ask again
    path = "/data/stash/Site/2020/First.mp4"  # the mirror knows it: Stash is not asked
    hits = provider.app.context.answers.hits
    provider.match(filename=path)
    provider.match(filename=path)
    assert stash.asked == 2 and provider.app.context.answers.hits == hits + 1
