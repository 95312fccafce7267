"""Pre-rendered posters from the sample Stash's real covers: geometry, change detection, skips,
deletions, backfill, the sync hook and on-demand rendering."""

from __future__ import annotations

import io
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageStat

from stashplex.mirror.poster_states import CORRUPT, NO_COVER, OK
from stashplex.mirror.sync import Syncer
from stashplex.mirror.writer import PageResult
from stashplex.posters.pipeline import PosterPipeline
from stashplex.posters.render import fit_box
from stashplex.posters.service import (
    FRESH,
    RENDERED,
    UNCHANGED,
    PosterService,
    PosterUnavailable,
)
from stashplex.stash.client import StashClient, StashImage
from tests.plugins.mirror import Mirrored

BLACK_TOL = 8


class CountingClient(StashClient):
    """Records every cover request (path, ETag sent, answer) and can serve garbage for ids."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.calls: list[tuple[str, str | None, str]] = []
        self.garbage: dict[str, bytes] = {}
        self.lock = threading.Lock()

    def image(self, path: str, *, etag: str | None = None, retries: int | None = None):
        if path in self.garbage:
            data = self.garbage[path]
            tag = '"garbage-' + str(len(data)) + '"'
            answer = (
                StashImage("ok", None, None, etag)
                if etag == tag
                else StashImage("ok", data, "image/jpeg", tag)
            )
        else:
            answer = super().image(path, etag=etag, retries=retries)
        state = "304" if answer.state == "ok" and answer.data is None else answer.state
        with self.lock:
            self.calls.append((path, etag, state))
        return answer

    def take(self) -> list[tuple[str, str | None, str]]:
        with self.lock:
            calls, self.calls = self.calls, []
        return calls


Setup = tuple[Mirrored, PosterService, PosterPipeline, CountingClient]


@pytest.fixture
def posters(mirrored_factory) -> Callable[..., Setup]:
    made: list[tuple[PosterPipeline, CountingClient]] = []

    def make(m: Mirrored | None = None, style: str | None = None, **pipeline_args) -> Setup:
        if m is None:
            env = {"STASHPLEX_MIRROR_POSTER_STYLE": style} if style else None
            m = mirrored_factory(env=env)
        client = CountingClient(m.settings.stash.url, backoff=0.01, timeout=5)
        service = PosterService.from_settings(m.settings, m.db, client)
        if style:
            service.style = style
        pipeline_args.setdefault("pause_seconds", 0)
        pipeline = PosterPipeline(service, **pipeline_args).start()
        made.append((pipeline, client))
        return m, service, pipeline, client

    yield make
    for pipeline, client in made:
        pipeline.close()
        client.close()


def cover_ids(m: Mirrored) -> tuple[list[int], list[int]]:
    lib = m.stash.library
    ids = sorted(m.scenes())
    return [i for i in ids if lib.has_cover(i)], [i for i in ids if not lib.has_cover(i)]


def decode(path: Path) -> Image.Image:
    im = Image.open(path)
    im.load()
    return im


def cover_image(m: Mirrored, scene_id: int) -> Image.Image:
    data = m.client.image(f"/scene/{scene_id}/screenshot").data
    assert data is not None
    return Image.open(io.BytesIO(data)).convert("RGB")


def sync_with(m: Mirrored, pipeline: PosterPipeline, kind: str = "incremental") -> None:
    report = Syncer(m.client, m.db, m.settings, after_page=[pipeline.on_page]).run(kind)
    pipeline.after_pass(report)
    assert pipeline.drain(20)


# --- geometry on real output -----------------------------------------------------------------


@pytest.mark.parametrize("style", ["letterbox", "blur"])
def test_prerendered_posters_are_2_3_with_the_cover_centred(posters, style: str) -> None:
    m, service, pipeline, _ = posters(style=style)
    with_cover, _ = cover_ids(m)
    pipeline.submit(sorted(m.scenes()))
    assert pipeline.drain(20)
    box = fit_box(1280, 720, 600, 900)
    assert (box.x, box.y, box.width, box.height) == (0, 281, 600, 338)
    for scene_id in with_cover[:4]:
        poster = decode(service.path(scene_id))
        assert poster.format == "JPEG" and poster.size == (600, 900) and poster.mode == "RGB"
        # The cover, scaled to the poster width, sits in the middle band.
        band = poster.crop((0, box.y + 2, 600, box.y + box.height - 2))
        expected = cover_image(m, scene_id).resize((600, 338), Image.Resampling.BICUBIC)
        expected = expected.crop((0, 2, 600, 336))
        diff = ImageStat.Stat(ImageChops.difference(band, expected)).mean
        assert max(diff) < 6, (scene_id, diff)
        # Away from the band's edges by a JPEG block, where ringing is expected.
        top = poster.crop((0, 0, 600, box.y - 8))
        bottom = poster.crop((0, box.y + box.height + 8, 600, 900))
        if style == "letterbox":
            for bar in (top, bottom):
                assert max(hi for _lo, hi in bar.getextrema()) <= BLACK_TOL
        else:
            cover_mean = sum(ImageStat.Stat(band).mean) / 3
            for bar in (top, bottom):
                mean = sum(ImageStat.Stat(bar).mean) / 3
                # Darkened (x0.45), blurred content of the cover: neither black nor as bright.
                assert BLACK_TOL < mean < cover_mean * 0.75, (scene_id, mean, cover_mean)
                assert max(ImageStat.Stat(bar).stddev) > 1.0  # not a flat fill


# --- skips ---------------------------------------------------------------------------------


def test_placeholder_and_corrupt_covers_are_skipped_once(posters, caplog) -> None:
    m, service, pipeline, client = posters()
    with_cover, without = cover_ids(m)
    assert {2, 6, 19} <= set(without)  # trap scenes documented as having no cover
    bad = with_cover[0]
    garbage = b"\xff\xd8\xff\xe0 truncated JPEG"
    client.garbage[f"/scene/{bad}/screenshot"] = garbage
    caplog.set_level(logging.WARNING, logger="stashplex")
    pipeline.submit(sorted(m.scenes()))
    assert pipeline.drain(20)
    for scene_id in without:
        assert not service.path(scene_id).exists()
        assert service.states.get(scene_id).state == NO_COVER
    assert not service.path(bad).exists()
    record = service.states.get(bad)
    assert record.state == CORRUPT and "JPEG" in record.reason
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and f"scene {bad}:" in warnings[0].getMessage()
    assert pipeline.counts["corrupt"] == 1 and pipeline.counts["no_cover"] == len(without)
    # The scene is edited in Stash (new `t`) but its cover stays the same garbage: asked again
    # with the ETag, no second warning.
    m.stash.library.advance(60)
    m.stash.library.edit_scene(bad, title="edited")
    client.take()
    sync_with(m, pipeline)
    assert [c for c in client.take() if c[0] == f"/scene/{bad}/screenshot"] == [
        (f"/scene/{bad}/screenshot", f'"garbage-{len(garbage)}"', "304")
    ]
    assert len([r for r in caplog.records if r.levelno == logging.WARNING]) == 1
    assert service.ensure(bad) is None and service.ensure(without[0]) is None


# --- change detection ------------------------------------------------------------------------


def test_rerendered_only_when_the_cover_really_changed(posters) -> None:
    m, service, pipeline, client = posters()
    with_cover, _ = cover_ids(m)
    scene_id = with_cover[3]
    pipeline.submit(sorted(m.scenes()))
    assert pipeline.drain(20)
    first = service.states.get(scene_id)
    first_bytes = service.path(scene_id).read_bytes()
    first_mtime = service.path(scene_id).stat().st_mtime_ns
    client.take()

    # A title edit moves the screenshot's `t`: Stash is asked with the ETag and answers 304.
    lib = m.stash.library
    lib.advance(60)
    lib.edit_scene(scene_id, title="A new title")
    sync_with(m, pipeline)
    calls = client.take()
    assert calls == [(f"/scene/{scene_id}/screenshot", first.cover_etag, "304")]
    after_edit = service.states.get(scene_id)
    assert after_edit.scene_version != first.scene_version
    assert after_edit.poster_version == first.poster_version
    assert service.path(scene_id).stat().st_mtime_ns == first_mtime

    # Nothing changed: no request at all.
    sync_with(m, pipeline)
    assert client.take() == []

    # A new cover: new bytes, new poster, new version.
    lib.advance(60)
    lib.set_cover(scene_id)
    sync_with(m, pipeline)
    assert [c[2] for c in client.take()] == ["ok"]
    changed = service.states.get(scene_id)
    assert changed.state == OK and changed.poster_version != first.poster_version
    assert changed.cover_hash != first.cover_hash
    assert service.path(scene_id).read_bytes() != first_bytes


def test_same_bytes_under_a_new_etag_are_not_rendered_again(posters) -> None:
    m, service, _pipeline, _client = posters()
    scene_id = cover_ids(m)[0][0]
    assert service.refresh(scene_id) == RENDERED
    record = service.states.get(scene_id)
    service.states.save(record.__class__(**{**_fields(record), "cover_etag": '"stale"'}))
    m.stash.library.advance(60)
    m.stash.library.edit_scene(scene_id, title="x")
    Syncer(m.client, m.db, m.settings).run("incremental")
    assert service.refresh(scene_id) == UNCHANGED  # 200 with the same bytes: hash decides
    assert service.states.get(scene_id).poster_version == record.poster_version
    assert service.refresh(scene_id) == FRESH


def _fields(record) -> dict:
    return {name: getattr(record, name) for name in record.__slots__}


def test_style_change_rerenders_everything_through_the_backfill(posters) -> None:
    m, service, pipeline, _client = posters()
    with_cover, _without = cover_ids(m)
    pipeline.submit(sorted(m.scenes()))
    assert pipeline.drain(20)
    versions = {i: service.states.get(i).poster_version for i in with_cover}
    pipeline.close()

    _, blur, blur_pipeline, blur_client = posters(m, style="blur")
    blur_pipeline.request_backfill()
    assert blur_pipeline.drain(20)
    assert blur_pipeline.counts["rendered"] == len(with_cover)
    for scene_id in with_cover:
        record = blur.states.get(scene_id)
        assert record.style == "blur" and record.poster_version != versions[scene_id]
    # Scenes without a cover were not asked about again: their `t` did not move.
    asked = {int(path.split("/")[2]) for path, _etag, _state in blur_client.take()}
    assert asked == set(with_cover)


# --- deletions, backfill, the hook --------------------------------------------------------------


def test_deleted_scenes_lose_their_posters(posters) -> None:
    m, service, pipeline, _ = posters()
    with_cover, _ = cover_ids(m)
    pipeline.submit(sorted(m.scenes()))
    assert pipeline.drain(20)
    by_page, by_sweep = with_cover[1], with_cover[-1]
    lib = m.stash.library
    # A full pass proves deletions page by page: the after_page hook hears of them.
    lib.delete_scene(by_page)
    assert service.path(by_page).exists()
    sync_with(m, pipeline, "full")
    assert not service.path(by_page).exists() and service.states.get(by_page) is None
    # A sweep reports them in its pass report only.
    lib.delete_scene(by_sweep)
    sync_with(m, pipeline, "sweep")
    assert not service.path(by_sweep).exists() and service.states.get(by_sweep) is None
    assert pipeline.counts["removed"] == 2


def test_backfill_finds_missing_posters_and_orphans_and_resumes(posters) -> None:
    m, service, pipeline, client = posters(workers=1)
    with_cover, _without = cover_ids(m)
    # A row and a file for a scene the mirror no longer has: removed at the end of the walk.
    service.store.write(999_999, b"orphan")
    service.states.save(_ok_row(999_999))
    # Interrupt a first backfill part way through: 0.1 s a cover, so the covers left after the
    # tenth take seconds, and the close lands part way however late this thread gets to it ...
    m.stash.faults.latency(0.1)
    pipeline.request_backfill()
    deadline = time.monotonic() + 30
    while pipeline.counts["rendered"] < 10 and time.monotonic() < deadline:
        time.sleep(0.005)
    pipeline.close()
    m.stash.faults.latency(0)
    done_first = sum(service.store.exists(i) for i in with_cover)
    assert 10 <= done_first < len(with_cover)
    client.take()
    # ... a new one (a restart) only does what is left.
    _, service2, pipeline2, client2 = posters(m)
    pipeline2.request_backfill()
    assert pipeline2.drain(20)
    assert pipeline2.counts["rendered"] + done_first == len(with_cover)
    assert all(service2.store.exists(i) for i in with_cover)
    assert not service2.store.exists(999_999) and service2.states.get(999_999) is None
    # And once everything is done, a backfill asks Stash nothing.
    client2.take()
    pipeline2.request_backfill()
    assert pipeline2.drain(20)
    assert client2.take() == []
    # A poster file deleted behind our back is noticed by the next backfill.
    service2.store.remove(with_cover[0])
    pipeline2.request_backfill()
    assert pipeline2.drain(20)
    assert service2.store.exists(with_cover[0])


def _ok_row(scene_id: int):
    from stashplex.mirror.poster_states import PosterRecord

    return PosterRecord(scene_id, OK, style="letterbox", poster_version="x", checked_at=1.0)


def test_sync_hook_only_queues_and_overflow_falls_back_to_the_backfill(posters) -> None:
    m, service, pipeline, _client = posters(queue_limit=5)
    idle = PosterPipeline(service, queue_limit=5)  # not started: nothing takes from the queue
    started = time.perf_counter()
    idle.on_page(PageResult(changed_docs=list(range(1, 20_001)), removed_ids=[]))
    # Returns at once: blocking on the full queue would never return, rendering 20,000
    # posters would take minutes.
    assert time.perf_counter() - started < 10
    assert idle.pending() == 5  # bounded; the rest is left to the backfill
    idle.close()

    # With workers, a sync with the hook renders every poster (via queue and backfill).
    report = Syncer(m.client, m.db, m.settings, after_page=[pipeline.on_page]).run("full")
    pipeline.after_pass(report)
    assert pipeline.drain(20)
    with_cover, _ = cover_ids(m)
    assert all(service.store.exists(i) for i in with_cover)


def test_sync_and_posters_together_from_an_empty_mirror(mirrored_factory, posters) -> None:
    m = mirrored_factory(sync=False)
    _, service, pipeline, _ = posters(m)
    sync_with(m, pipeline, "full")
    with_cover, without = cover_ids(m)
    assert service.states.counts() == {OK: len(with_cover), NO_COVER: len(without)}
    assert pipeline.counts["rendered"] == len(with_cover)


def test_workers_pause_while_stash_is_down_and_carry_on(posters, caplog) -> None:
    m, service, pipeline, _ = posters(pause_seconds=0.2)
    with_cover, _ = cover_ids(m)
    caplog.set_level(logging.INFO, logger="stashplex")
    m.stash.faults.down(0.5)
    pipeline.submit(with_cover[:6])
    assert pipeline.drain(20)
    assert all(service.store.exists(i) for i in with_cover[:6])
    assert pipeline.counts["rendered"] == 6 and pipeline.counts["failed"] >= 1
    # While down, each of the 3 workers tries once per pause (0.5 s down, 0.2 s pauses).
    assert pipeline.counts["failed"] <= 3 * 4
    messages = [r.getMessage() for r in caplog.records]
    assert sum("posters wait" in text for text in messages) == 1
    assert any("rendered again" in text for text in messages)


def test_an_unwritable_poster_folder_is_reported_once(posters, caplog, tmp_path) -> None:
    m, service, pipeline, _ = posters()
    pipeline.close()
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the poster folder should be")
    service.store.root = blocked
    one_shot = PosterPipeline(service, pause_seconds=0).start()
    caplog.set_level(logging.WARNING, logger="stashplex")
    one_shot.submit(cover_ids(m)[0][:5])
    assert one_shot.drain(20)
    one_shot.close()
    assert one_shot.counts["failed"] == 5
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and "cannot write posters to" in warnings[0]


def test_a_mirror_refusing_writes_is_reported_once_and_pauses(posters, caplog, monkeypatch) -> None:
    """A read-only mirror fails every scene's state write: one warning (with its traceback),
    not one per scene, and the workers pause instead of spinning through the queue."""
    import sqlite3

    m, service, pipeline, _ = posters()
    pipeline.close()

    def refuse(scene_id: int) -> str:
        raise sqlite3.OperationalError("attempt to write a readonly database")

    monkeypatch.setattr(service, "refresh", refuse)
    paused = PosterPipeline(service, pause_seconds=0.2).start()
    caplog.set_level(logging.DEBUG, logger="stashplex")
    paused.submit(cover_ids(m)[0][:12])
    time.sleep(1.0)
    paused.close()
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and "readonly database" in warnings[0].getMessage()
    assert warnings[0].exc_info is not None
    # Paused after each failure: a few tries a second, not the whole queue at once.
    assert 1 <= paused.counts["failed"] <= 3 * 6


# --- on demand -------------------------------------------------------------------------------


def test_ensure_renders_on_demand_and_survives_stash_going_away(posters) -> None:
    m, service, pipeline, client = posters()
    pipeline.close()
    assert not m.settings.server.poster_mode  # on demand works without poster mode
    with_cover, without = cover_ids(m)
    scene_id = with_cover[0]
    assert service.cached(scene_id) == (False, None)
    path = service.ensure(scene_id)
    assert path == service.path(scene_id) and decode(path).size == (600, 900)
    assert service.cached(scene_id) == (True, path)
    assert service.ensure(without[0]) is None
    assert service.cached(without[0]) == (True, None)
    client.take()
    assert service.ensure(scene_id) == path
    assert client.take() == []  # fresh: one mirror read and one stat
    # Concurrent requests for one scene render it once.
    other = with_cover[1]
    results: list[Path | None] = []
    threads = [
        threading.Thread(target=lambda: results.append(service.ensure(other))) for _ in range(6)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [service.path(other)] * 6
    assert len(client.take()) == 1

    m.stash.library.advance(60)
    m.stash.library.edit_scene(scene_id, title="changed")
    m.stash.library.edit_scene(with_cover[2], title="changed too")
    Syncer(m.client, m.db, m.settings).run("incremental")
    m.stash.stop()
    # An existing poster is still served; a missing one cannot be made.
    assert service.ensure(scene_id) == path
    with pytest.raises(PosterUnavailable):
        service.ensure(with_cover[2])


# --- stashplex-sync --------------------------------------------------------------------------


def test_sync_command_renders_posters_unless_told_not_to(tmp_path: Path, sample_stash) -> None:
    from tests.integration.test_sync_command import run_sync, sync_env

    lib = sample_stash.library
    covers = sum(lib.has_cover(i) for i in lib.scene_ids())
    plain = run_sync(
        tmp_path, sync_env(tmp_path, sample_stash.url, POSTER_MODE="true"), "--no-posters"
    )
    assert plain.returncode == 0, plain.stderr
    assert not any(line.startswith("posters:") for line in plain.stdout.splitlines())
    assert not (tmp_path / "posters").exists()

    result = run_sync(tmp_path, sync_env(tmp_path, sample_stash.url, POSTER_MODE="true"), "--full")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    # Nothing changed in Stash, but the full pass's backfill renders what was never rendered.
    assert lines[1].startswith(f"posters: {covers} rendered"), lines
    assert len(list((tmp_path / "posters").glob("*/*.jpg"))) == covers

    lib.advance(60)
    lib.set_cover(3)
    again = run_sync(tmp_path, sync_env(tmp_path, sample_stash.url, POSTER_MODE="true"))
    assert again.stdout.strip().splitlines()[1].startswith("posters: 1 rendered"), again.stdout
