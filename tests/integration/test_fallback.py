"""Live Stash lookups on mirror misses: found and kept, remembered absent, shared, bounded."""

from __future__ import annotations

import re
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest

from stashplex.flight import Busy, ExpiringSet, SingleFlight
from stashplex.mirror.writer import MirrorWriter
from stashplex.samplestash.names import TRAP_BY_ID
from stashplex.web.fallback import Fallback, basename_pattern, regex_literal
from tests.plugins.webkit import Provider

ROUTE = "/library/metadata/matches"


class Calls:
    """Counts the operations a client runs (and how many run at once)."""

    def __init__(self, provider: Provider, monkeypatch: pytest.MonkeyPatch) -> None:
        self.ops: Counter[str] = Counter()
        self.running = 0
        self.peak = 0
        self._lock = threading.Lock()
        original = provider.stash.execute

        def execute(operation, variables=None, **kwargs):
            with self._lock:
                self.ops[operation] += 1
                self.running += 1
                self.peak = max(self.peak, self.running)
            try:
                return original(operation, variables, **kwargs)
            finally:
                with self._lock:
                    self.running -= 1

        monkeypatch.setattr(provider.stash, "execute", execute)

    def lookups(self) -> int:
        return self.ops["FindScenesByPath"] + self.ops["FindScene"]


@pytest.fixture
def provider(synced_provider: Callable[..., Provider]) -> Provider:
    return synced_provider()


def new_scene(provider: Provider) -> tuple[int, str]:
    """A scene added to Stash after the sync: the mirror does not know it."""
    library = provider.mirrored.stash.library
    (scene_id,) = library.add_scenes(1, title="Brand New Arrival")
    return scene_id, library.scene_paths(scene_id)[0]


def plex_path(stash_path: str) -> str:
    return "/mnt/plex/" + "/".join(stash_path.split("/")[-3:])


def test_miss_found_live_then_served_from_the_mirror(provider: Provider, monkeypatch) -> None:
    scene_id, path = new_scene(provider)
    assert provider.app.context.lookups.scene(scene_id) is None
    calls = Calls(provider, monkeypatch)
    items = provider.match(filename=plex_path(path))
    assert [(i["ratingKey"], i["score"]) for i in items] == [(f"scene-{scene_id}", 100)]
    assert calls.ops["FindScenesByPath"] == 1
    assert provider.app.context.lookups.scene(scene_id) is not None  # upserted
    # From now on the mirror answers, even with Stash gone.
    provider.mirrored.stash.faults.down()
    assert provider.match(filename=plex_path(path))[0]["ratingKey"] == f"scene-{scene_id}"
    metadata = provider.client.simulate_get(f"/library/metadata/scene-{scene_id}")
    assert metadata.status_code == 200
    assert metadata.json["MediaContainer"]["Metadata"][0]["title"] == "Brand New Arrival"
    assert calls.lookups() == 1


def test_metadata_for_an_unmirrored_scene_is_fetched(provider: Provider, monkeypatch) -> None:
    scene_id, _path = new_scene(provider)
    calls = Calls(provider, monkeypatch)
    response = provider.client.simulate_get(f"/library/metadata/scene-{scene_id}/images")
    assert response.status_code == 200
    response = provider.client.simulate_get(f"/library/metadata/scene-{scene_id}")
    assert response.status_code == 200
    assert calls.ops["FindScene"] == 1


def test_id_in_the_file_name_is_fetched(provider: Provider) -> None:
    MirrorWriter(provider.db, provider.app.context.fallback.options).delete_scenes([20])
    items = provider.match(filename="/new/renamed by hand {stash-20}.mp4")
    assert [(i["ratingKey"], i["score"]) for i in items] == [("scene-20", 100)]


def test_live_results_are_rechecked_exactly(provider: Provider) -> None:
    """Scene 9's name matches scene 8's as a LIKE pattern: only scene 8 may come back."""
    lookups = provider.app.context.lookups
    MirrorWriter(provider.db, provider.app.context.fallback.options).delete_scenes([8, 9])
    items = provider.match(filename="/elsewhere/100% Real_Deal.mp4", manual=1)
    assert [i["ratingKey"] for i in items] == ["scene-8"]
    assert lookups.scene(8) is not None and lookups.scene(9) is None


def test_absence_is_remembered(provider: Provider, monkeypatch) -> None:
    calls = Calls(provider, monkeypatch)
    for _ in range(3):
        assert provider.match(filename="/m/never existed.mp4") == []
        response = provider.client.simulate_get("/library/metadata/scene-99999")
        assert response.status_code == 404
    assert calls.ops["FindScenesByPath"] == 1 and calls.ops["FindScene"] == 1


def test_cache_ttl_zero_asks_every_time(
    synced_provider: Callable[..., Provider],
    monkeypatch,
) -> None:
    provider = synced_provider(env={"CACHE_TTL": "0"})
    calls = Calls(provider, monkeypatch)
    for _ in range(3):
        assert provider.match(filename="/m/never existed.mp4") == []
    assert calls.ops["FindScenesByPath"] == 3


def test_concurrent_identical_misses_share_one_call(
    synced_provider: Callable[..., Provider],
    monkeypatch,
) -> None:
    # 32 request threads: 8 may wait on Stash at once, so all eight requests do.
    provider = synced_provider(env={"STASHPLEX_PLEXAGENTSERVER_NUM_WORKERS": "32"})
    scene_id, path = new_scene(provider)
    calls = Calls(provider, monkeypatch)
    provider.app.context.fallback._probed = True  # count only the lookups themselves
    provider.mirrored.stash.faults.latency(0.3)
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: provider.match(filename=plex_path(path)), range(8)))
    assert all(r and r[0]["ratingKey"] == f"scene-{scene_id}" for r in results)
    assert calls.ops["FindScenesByPath"] == 1


def test_distinct_misses_keep_few_calls_in_flight(provider: Provider, monkeypatch) -> None:
    calls = Calls(provider, monkeypatch)
    provider.app.context.fallback._probed = True
    provider.mirrored.stash.faults.latency(0.05)
    route = "/library/metadata/matches"
    with ThreadPoolExecutor(16) as pool:
        answers = list(
            pool.map(
                lambda i: provider.client.simulate_post(
                    route, json={"type": 1, "filename": f"/m/unknown {i}.mp4"}
                ),
                range(40),
            )
        )
    assert calls.peak <= 3
    # At most a quarter of the 16 request threads wait on Stash; the others are told to come
    # back (an empty answer would be kept by PMS as "unmatched").
    found = [a for a in answers if a.status_code == 200]
    busy = [a for a in answers if a.status_code == 503]
    assert len(found) + len(busy) == 40 and found and busy
    assert all(a.json["MediaContainer"]["size"] == 0 for a in found)
    assert all(a.headers["Retry-After"] == "5" and "error" in a.json for a in busy)


def test_stash_down_answers_from_the_mirror_fast(provider: Provider, monkeypatch) -> None:
    provider.mirrored.stash.faults.down()
    calls = Calls(provider, monkeypatch)
    started = time.monotonic()
    for i in range(20):
        assert provider.match(filename=f"/m/unknown {i}.mp4") == []
        assert (
            provider.client.simulate_get(f"/library/metadata/scene-{9000 + i}").status_code == 404
        )
    # Milliseconds each; the bound only catches waiting (the calls count below is the check).
    assert time.monotonic() - started < 20
    # After the first failure the fallback stops asking for a while.
    assert sum(calls.ops.values()) <= 2
    # Mirrored scenes are unaffected.
    assert provider.match(filename=plex_path(TRAP_BY_ID[14].files[0].basename))
    assert provider.client.simulate_get("/library/metadata/scene-14").status_code == 200


def test_slow_stash_is_bounded_by_the_timeout(
    synced_provider: Callable[..., Provider],
) -> None:
    provider = synced_provider(env={"STASHPLEX_STASH_TIMEOUT": "0.5"})
    provider.app.context.fallback._probed = True
    provider.mirrored.stash.faults.latency(30)  # a hung Stash
    started = time.monotonic()
    response = provider.client.simulate_post(
        ROUTE, json={"type": 1, "filename": "/m/slow unknown.mp4"}
    )
    elapsed = time.monotonic() - started
    assert response.status_code == 200 and response.json["MediaContainer"]["size"] == 0
    assert elapsed < 15  # the 0.5 s timeout, not the hang, decides
    provider.mirrored.stash.faults.latency(0)


def test_stash_errors_are_never_5xx(provider: Provider) -> None:
    faults = provider.mirrored.stash.faults
    for arm in (
        lambda: faults.status(500),
        lambda: faults.invalid_json(),
        lambda: faults.graphql_errors(),
        lambda: faults.unauthorized(),
        lambda: faults.drop(),
    ):
        faults.clear()
        provider.app.context.fallback._down_until = 0.0
        provider.app.context.fallback.absent.clear()
        arm()
        response = provider.client.simulate_post(
            ROUTE, json={"type": 1, "filename": "/m/unknown x.mp4"}
        )
        assert response.status_code == 200 and response.json["MediaContainer"]["size"] == 0
        response = provider.client.simulate_get("/library/metadata/scene-77777")
        assert response.status_code == 404
    faults.clear()


# --- units -------------------------------------------------------------------------------------


@pytest.mark.parametrize("scene_id", sorted(TRAP_BY_ID))
def test_basename_pattern_matches_exactly_its_own_name(scene_id: int) -> None:
    names = [f.basename for trap in TRAP_BY_ID.values() for f in trap.files]
    own = TRAP_BY_ID[scene_id].files[0].basename
    pattern = re.compile(basename_pattern(own))
    for name in names:
        found = pattern.search("/data/stash/Sample Traps/" + name) is not None
        assert found == (name.casefold() == own.casefold()), (own, name)
    assert pattern.search("C:\\Stash\\" + own)
    assert pattern.search(own)
    assert not pattern.search("/x/prefix" + own)


def test_regex_literal_escapes_only_ascii_punctuation() -> None:
    assert regex_literal("a.b (c)_é") == "a\\.b\\ \\(c\\)_é"


def test_expiring_set() -> None:
    now = [0.0]
    remembered = ExpiringSet(10, max_size=2, clock=lambda: now[0])
    remembered.add("a")
    assert "a" in remembered
    now[0] = 10.5
    assert "a" not in remembered
    for key in "bcd":
        remembered.add(key)
    assert "b" not in remembered and "d" in remembered  # bounded: the oldest went first
    disabled = ExpiringSet(0)
    disabled.add("a")
    assert "a" not in disabled


def test_single_flight_shares_and_bounds() -> None:
    flights: SingleFlight[int] = SingleFlight(workers=2, max_pending=2)
    gate = threading.Event()
    runs = Counter()

    def work(key: str) -> int:
        runs[key] += 1
        gate.wait(5)
        return 7

    first = flights.submit("a", lambda: work("a"))
    again = flights.submit("a", lambda: work("a"))
    assert first is again
    flights.submit("b", lambda: work("b"))
    with pytest.raises(Busy):
        flights.submit("c", lambda: work("c"))
    gate.set()
    assert first.result(5) == 7
    assert runs == {"a": 1, "b": 1}
    flights.close()


def test_fallback_negative_cache_expires(provider: Provider) -> None:
    now = [100.0]
    fallback = Fallback(provider.stash, provider.db, provider.settings, clock=lambda: now[0])
    try:
        assert fallback.scene(99_999) is False
        calls = fallback.flights.calls
        assert fallback.scene(99_999) is False
        assert fallback.flights.calls == calls  # remembered
        now[0] += provider.settings.stash.cache_ttl + 1
        assert fallback.scene(99_999) is False
        assert fallback.flights.calls == calls + 1
    finally:
        fallback.close()


def test_stash_is_asked_before_settling_for_a_title(provider: Provider) -> None:
    """A new file whose scene shares its title with a mirrored one is the new scene, not a
    title match on the old one."""
    library = provider.mirrored.stash.library
    (scene_id,) = library.add_scenes(1, title="CamelCase Regex Target")
    path = library.scene_paths(scene_id)[0]
    items = provider.match(filename=plex_path(path), title="CamelCase Regex Target")
    assert [(i["ratingKey"], i["score"]) for i in items] == [(f"scene-{scene_id}", 100)]
    # Stash down and a file nobody knows: the title tier still answers from the mirror.
    provider.mirrored.stash.faults.down()
    items = provider.match(filename="/m/gone.mp4", title="CamelCase Regex Target", manual=1)
    assert {i["ratingKey"] for i in items} == {"scene-14", f"scene-{scene_id}"}


STASH_DELAY = 10.0  # seconds the sample Stash takes for every call during the flood
MIRROR_BOUND = STASH_DELAY / 2  # a mirrored answer must come far sooner: no load eats this


def test_a_flood_of_unknown_names_cannot_delay_mirrored_answers(
    synced_provider: Callable[..., Provider],
) -> None:
    """32 clients send file names nobody knows to a real server (16 request threads) while
    Stash takes 10 s per call: a mirrored scene's metadata still answers at once."""
    import httpx

    from tests.plugins.webkit import serving

    provider = synced_provider(env={"STASHPLEX_STASH_TIMEOUT": "30"})
    provider.app.context.fallback._probed = True
    faults = provider.mirrored.stash.faults
    stop = threading.Event()
    statuses: Counter[int] = Counter()
    lock = threading.Lock()

    def flood(url: str, n: int) -> None:
        with httpx.Client(base_url=url, timeout=60) as client:
            i = 0
            while not stop.is_set():
                i += 1
                answer = client.post(
                    ROUTE, json={"type": 1, "filename": f"/flood/{n}/unknown {i}.mp4"}
                )
                with lock:
                    statuses[answer.status_code] += 1
                if answer.status_code == 503:
                    assert answer.headers["Retry-After"]
                    stop.wait(0.1)

    with serving(provider.app, provider.settings) as url:
        faults.latency(STASH_DELAY)
        threads = [threading.Thread(target=flood, args=(url, n), daemon=True) for n in range(32)]
        for thread in threads:
            thread.start()
        try:
            time.sleep(1.5)  # every thread allowed to wait on Stash is waiting now
            started = time.monotonic()
            answer = httpx.get(f"{url}/library/metadata/scene-14", timeout=60)
            elapsed = time.monotonic() - started
        finally:
            stop.set()
            faults.latency(0)
            for thread in threads:
                thread.join(STASH_DELAY * 3)
    assert answer.status_code == 200
    assert elapsed < MIRROR_BOUND, f"a mirrored answer took {elapsed:.1f}s"
    assert statuses[503] > 0 and set(statuses) <= {200, 503}
