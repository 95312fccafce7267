"""Keeping the mirror equal to Stash: full sync, incremental sync, sweep, and single scenes.

Stash leaves few traces of change (see stash-api.md): scene `updated_at` is local time compared
as a raw string, deletions leave nothing behind, and renaming a file, a folder or a related
entity does not touch the scene. So:
- the incremental pass asks for scenes and entities updated since a cursor in Stash's own
  format (minus a safety margin), taken *before* the pass, so nothing changed during a pass is
  lost; the cursor only moves when the pass has finished;
- the sweep walks every scene id with its `updated_at` and file paths and every entity id,
  deletes what Stash no longer has and fetches again whatever differs; it also catches whatever
  the cursor missed (clock changes, DST);
- entity changes re-render the stored documents of the scenes that show them.
Every page is its own transaction and every write is an idempotent upsert, so a pass killed at
any point leaves a consistent mirror and the next pass completes it (a full pass resumes).
Scene pages are fetched one ahead by a thread (`prefetched`), so Stash answers the next page
while the mirror writes the last one.
"""

from __future__ import annotations

import contextlib
import json
import logging
import queue
import threading
import time
from array import array
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal, TypeVar, get_args

import filelock

from stashplex.changes import Changes
from stashplex.mirror import documents
from stashplex.mirror.db import Database
from stashplex.mirror.importer import import_scenes
from stashplex.mirror.kinds import EntityKind, entity_kinds
from stashplex.mirror.writer import MirrorWriter, PageResult, count_scenes, get_state, set_state
from stashplex.records import Scene
from stashplex.redaction import redact_optional, register
from stashplex.settings import Settings
from stashplex.stash import parse
from stashplex.stash.client import StashClient
from stashplex.stash.errors import StashDataError, StashError
from stashplex.stash.version import StashInfo, probe

log = logging.getLogger(__name__)

CURSOR_MARGIN_SECONDS = 120
SWEEP_PAGE = 5000  # id-only pages can be large (stash-api.md)
ENTITY_PAGE = 1000
RENDER_PAGE = 2000  # scene ids per page when the document settings change: bounded memory
RENDER_STATE = "render_fingerprint"
PENDING = "pending_changes"  # sync_state key: Stash's events a targeted pass has yet to apply

Progress = Callable[[str, int, int | None], None]  # phase, done, total
T = TypeVar("T")
# The passes `Syncer.run` makes: everything, what changed since the cursor, every id (to find
# deletions), the scenes asked for, the events Stash's plugin sent.
SyncKind = Literal["full", "incremental", "sweep", "scenes", "changes"]
SYNC_KINDS: tuple[SyncKind, ...] = get_args(SyncKind)


class SyncCancelled(Exception):
    """The pass stopped between two pages because the service is shutting down."""


class SyncBusy(Exception):
    """Another sync of the same mirror is running (in this process or another)."""


@dataclass
class SyncReport:
    kind: SyncKind
    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    seconds: float = 0.0
    # Scene ids as packed 64-bit ints: a first sync of a million scenes changes them all, and
    # a list of Python ints would hold 36 bytes for each instead of 8.
    changed_docs: array[int] = field(default_factory=lambda: array("q"))
    removed_ids: array[int] = field(default_factory=lambda: array("q"))
    stash_version: str | None = None

    def add(self, page: PageResult) -> None:
        self.added += page.added
        self.updated += page.updated
        self.removed += page.removed
        self.unchanged += page.unchanged
        self.changed_docs.extend(page.changed_docs)
        self.removed_ids.extend(page.removed_ids)

    def summary(self) -> str:
        return (
            f"{self.kind} sync: {self.added} added, {self.updated} updated, "
            f"{self.removed} removed, {self.unchanged} unchanged in {self.seconds:.1f}s"
        )


def since(cursor: str, margin_seconds: int = CURSOR_MARGIN_SECONDS) -> str:
    """Stash's own timestamp string moved back by the margin, in Stash's own layout.

    Only the first 19 characters are sent: stored strings that share them and go on with an
    offset still compare greater, and no time zone conversion can creep in.
    """
    head = cursor[:19]
    try:
        moment = datetime.fromisoformat(head)
    except ValueError:
        return cursor[:10]  # the date alone: a day too many beats a change missed
    separator = head[10] if len(head) > 10 else "T"
    return (moment - timedelta(seconds=margin_seconds)).strftime(f"%Y-%m-%d{separator}%H:%M:%S")


class Syncer:
    def __init__(
        self,
        client: StashClient,
        db: Database,
        settings: Settings,
        *,
        progress: Progress | None = None,
        after_page: Sequence[Callable[[PageResult], None]] = (),
        stop: threading.Event | None = None,
    ) -> None:
        self.client = client
        self.db = db
        self.settings = settings
        register(settings.secrets)  # the run errors stored in the mirror are redacted
        self.page_size = settings.sync.page_size
        self.progress = progress or (lambda phase, done, total: None)
        self.after_page = list(after_page)
        self.stop = stop or threading.Event()
        self.options = documents.mapping_options(settings)
        self.info: StashInfo | None = None
        self._lock = threading.Lock()
        # Another process syncing the same mirror (a second daemon, `stashplex-sync`): the
        # kernel drops the lock if that process dies.
        self._file_lock = filelock.FileLock(f"{db.path}.sync-lock", timeout=0, thread_local=False)
        self._writer: MirrorWriter | None = None
        # Documents a failed pass changed (a settings re-render before Stash was found down):
        # nobody was told, so the next pass reports them with its own.
        self._unreported: array[int] = array("q")

    # --- entry points ------------------------------------------------------------------------

    def run(
        self,
        kind: SyncKind = "incremental",
        scene_ids: Sequence[int] | None = None,
        changes: Changes | None = None,
    ) -> SyncReport:
        """Run one pass: "full", "incremental", "sweep", "scenes" (with scene_ids) or
        "changes" (with the events Stash's plugin sent)."""
        passes: dict[SyncKind, Callable[[SyncReport], None]] = {
            "full": self._full,
            "incremental": self._incremental,
            "sweep": self._sweep,
            "scenes": lambda report: self._scenes(report, scene_ids or ()),
            "changes": self._apply_pending,
        }
        if kind not in passes:
            raise ValueError(f"unknown sync kind {kind!r}")
        with self._exclusive():
            self.db.check_not_moved()  # never write a pass into a deleted or replaced file
            kind = self.effective_kind(kind)
            writer = self._writer = MirrorWriter(self.db, self.options)
            report = SyncReport(kind)
            report.changed_docs.extend(self._unreported)
            self._unreported = array("q")
            run_id = writer.start_run(kind)
            if changes:
                self.hold(changes)  # kept until applied, whatever happens to this pass
            started = time.monotonic()
            error: str | None = None
            try:
                if not writer.get_state("full_resume"):
                    self._build_indexes()  # a first fill killed after its last page
                self._lay_out_tv(at_start=True)
                # From the mirror's own rows: done even while Stash cannot be reached.
                self._render_if_needed(report)
                self.info = probe(self.client)
                report.stash_version = self.info.version
                passes[kind](report)
                self._build_indexes()
                if kind != "changes":
                    self._apply_pending(report)  # events a failed targeted pass left
                self._lay_out_tv(at_start=False)
            except (StashError, SyncCancelled) as exc:
                error = str(exc) or type(exc).__name__
                if isinstance(exc, StashError):  # not on shutdown: the next start builds them
                    self._build_indexes()
                raise
            except Exception as exc:
                error = f"internal error: {type(exc).__name__}: {exc}"
                raise
            finally:
                report.seconds = time.monotonic() - started
                writer.finish_run(run_id, _as_page(report), redact_optional(error))
                if error is None:
                    writer.set_state({"last_success": str(time.time()), "last_kind": kind})
                else:
                    self._unreported = array("q", dict.fromkeys(report.changed_docs))
            return report

    def effective_kind(self, kind: SyncKind) -> SyncKind:
        """The pass `run(kind)` makes: an incremental pass of a mirror that was never synced
        through is a full one (nothing to be incremental from yet), and is called so in the log,
        the sync history, /status and /health."""
        if kind != "incremental":
            return kind
        with self.db.reader.connect() as connection:
            return "full" if get_state(connection, "cursor:scene") is None else kind

    @contextlib.contextmanager
    def _exclusive(self) -> Iterator[None]:
        if not self._lock.acquire(blocking=False):
            raise SyncBusy("a sync of this mirror is already running in this process")
        try:
            try:
                self._file_lock.acquire()
            except filelock.Timeout:
                raise SyncBusy(f"another process is syncing {self.db.path}") from None
            try:
                yield
            finally:
                self._file_lock.release()
        finally:
            self._lock.release()

    @property
    def writer(self) -> MirrorWriter:
        assert self._writer is not None
        return self._writer

    def _check_stop(self) -> None:
        if self.stop.is_set():
            raise SyncCancelled("sync stopped for shutdown")

    # --- passes ------------------------------------------------------------------------------

    def _full(self, report: SyncReport) -> None:
        resume = self._load_resume()
        marks = resume["marks"] if resume else self._marks()
        after = resume["after"] if resume else 0
        if resume:
            log.info("resuming an interrupted full sync after scene %d", after)
        elif self.writer.scene_count() == 0:
            self.writer.defer_indexes()  # a first fill: built once at its end
        self._sync_entities(report, changed_since=None)
        total = self._count_scenes()
        done = 0
        last = after
        for page, low, high in prefetched(self._scene_pages("FindScenesPage", after, None)):
            # The resume point is written with the page: a kill never skips nor repeats one.
            resume_at: dict[str, str | None] = {
                "full_resume": json.dumps({"after": high, "marks": marks})
            }
            self._apply_page(report, page, prune=(low, high), state=resume_at)
            done += len(page)
            last = high
            self.progress("scenes", done, total)
        report.add(self.writer.delete_scenes_above(last))
        now = str(time.time())
        # A full pass sees every deletion and rename too: it counts as a sweep.
        self._finish_cursors(marks, {"full_resume": None, "last_full": now, "last_sweep": now})

    def _incremental(self, report: SyncReport) -> None:
        marks = self._marks()
        cursors = {k: self.writer.get_state(f"cursor:{k}") for k in marks}
        self._sync_entities(report, changed_since=cursors)
        scene_cursor = cursors.get("scene")
        scene_filter = (
            {"updated_at": {"value": since(scene_cursor), "modifier": "GREATER_THAN"}}
            if scene_cursor
            else None
        )
        done = 0
        for page, _low, _high in prefetched(self._scene_pages("FindScenesPage", 0, scene_filter)):
            self._apply_page(report, page, prune=None)
            done += len(page)
            self.progress("changed scenes", done, None)
        self._finish_cursors(marks, {})

    def _sweep(self, report: SyncReport) -> None:
        stale: list[int] = []
        done = 0
        total = self._count_scenes()
        last = 0
        for page, low, high in prefetched(self._sweep_pages(0)):
            stale.extend(self._compare_sweep_page(page, low, high, report))
            done += len(page)
            last = high
            self.progress("sweep", done, total)
        report.add(self.writer.delete_scenes_above(last))
        # Entities deleted or merged away in Stash leave their scenes untouched there: those
        # scenes' links changed without a trace, so fetch them again.
        for kind in entity_kinds(self.client.legacy):
            seen = self._all_entity_ids(kind)
            gone = self.writer.delete_entities_except(kind, seen)
            if gone:
                log.info("%d %ss were deleted in Stash", len(gone), kind.name)
                stale.extend(self.writer.scenes_showing(kind.name, gone))
        if stale:
            self._refetch(report, sorted(set(stale)))
        self.writer.set_state({"last_sweep": str(time.time())})

    def _scenes(self, report: SyncReport, ids: Sequence[int]) -> None:
        self._refetch(report, list(dict.fromkeys(ids)))

    def hold(self, changes: Changes) -> None:
        """Keep Stash's events in the mirror until a pass applies them: one that fails (or a
        crash) leaves them to the next pass of any kind."""
        with self.db.writer.begin() as connection:
            held = Changes.from_json(get_state(connection, PENDING))
            held.merge(changes)
            set_state(connection, {PENDING: held.to_json()})

    def has_pending(self) -> bool:
        with self.db.reader.connect() as connection:
            return bool(get_state(connection, PENDING))

    def _apply_pending(self, report: SyncReport) -> None:
        """Apply the events held in the mirror (see `hold`), then forget them."""
        raw = self.writer.get_state(PENDING)
        held = Changes.from_json(raw)
        if not held:
            return
        if held.scenes_gone:  # destroyed in Stash: no need to ask it
            report.add(self.writer.delete_scenes(sorted(held.scenes_gone)))
        stale = set(held.scenes)
        rerender: set[int] = set()
        for kind in entity_kinds(self.client.legacy):
            ids = held.entities.get(kind.name)
            if not ids:
                continue
            found = []
            for entity_id in sorted(ids):
                self._check_stop()
                data = self.client.execute(kind.find_one, {"id": str(entity_id)})
                if data.get(kind.one_root) is not None:
                    found.append(kind.parse(data[kind.one_root]))
            changed = self.writer.apply_entities(kind, found)
            gone = self.writer.delete_entities(kind, ids - {r.id for r in found})
            rerender |= self.writer.scenes_showing(kind.name, changed)
            # Destroyed or merged away: their scenes' links changed in Stash.
            stale |= self.writer.scenes_showing(kind.name, gone)
        stale -= held.scenes_gone
        if rerender - stale:
            report.changed_docs.extend(self.writer.rerender(rerender - stale))
        if stale:
            self._refetch(report, sorted(stale))
        with self.db.writer.begin() as connection:  # unless more were held meanwhile
            if get_state(connection, PENDING) == raw:
                set_state(connection, {PENDING: None})

    # --- scenes ------------------------------------------------------------------------------

    def _scene_pages(
        self, operation: str, after: int, scene_filter: dict[str, Any] | None
    ) -> Iterator[tuple[list[Scene], int, int]]:
        """Keyset pages sorted by id: (scenes, low, high) where the page covers low < id <= high."""
        last = after
        while True:
            self._check_stop()
            criteria = {"id": {"value": last, "modifier": "GREATER_THAN"}}
            if scene_filter:
                criteria.update(scene_filter)
            data = self.client.execute_typed(
                operation,
                {
                    "filter": {"per_page": self.page_size, "sort": "id", "direction": "ASC"},
                    "scene_filter": criteria,
                },
                parse.ScenesData,
            )
            scenes = [parse.scene_from(item) for item in data.findScenes.scenes]
            if not scenes:
                return
            high = max(scene.id for scene in scenes)
            if high <= last:
                raise StashDataError("Stash returned scenes out of id order; paging stopped")
            yield scenes, last, high
            last = high
            if len(scenes) < self.page_size:
                return

    def _sweep_pages(self, after: int) -> Iterator[tuple[list[SweepItem], int, int]]:
        last = after
        size = max(self.page_size, SWEEP_PAGE)
        while True:
            self._check_stop()
            data = self.client.execute_typed(
                "SweepScenes",
                {
                    "filter": {"per_page": size, "sort": "id", "direction": "ASC"},
                    "scene_filter": {"id": {"value": last, "modifier": "GREATER_THAN"}},
                },
                parse.SweepData,
            )
            items = data.findScenes.scenes
            if not items:
                return
            page = [parse.sweep_item(item) for item in items]
            high = max(item[0] for item in page)
            if high <= last:
                raise StashDataError("Stash returned scenes out of id order; paging stopped")
            yield page, last, high
            last = high
            if len(items) < size:
                return

    def _compare_sweep_page(
        self, page: list[SweepItem], low: int, high: int, report: SyncReport
    ) -> list[int]:
        from sqlalchemy import select

        from stashplex.mirror import models

        mirrored: dict[int, tuple[str, list[tuple[int, str]]]] = {}
        with self.db.reader.connect() as connection:
            for scene_id, updated_at in connection.execute(
                select(models.scenes.c.id, models.scenes.c.updated_at).where(
                    models.scenes.c.id > low, models.scenes.c.id <= high
                )
            ):
                mirrored[scene_id] = (updated_at, [])
            for scene_id, file_id, path in connection.execute(
                select(models.files.c.scene_id, models.files.c.file_id, models.files.c.path)
                .where(models.files.c.scene_id > low, models.files.c.scene_id <= high)
                .order_by(models.files.c.scene_id, models.files.c.position)
            ):
                if scene_id in mirrored:
                    mirrored[scene_id][1].append((file_id, path))
        stale = []
        seen = set()
        for scene_id, updated_at, files in page:
            seen.add(scene_id)
            known = mirrored.get(scene_id)
            if known is None or known[0] != updated_at or known[1] != files:
                stale.append(scene_id)
            else:
                report.unchanged += 1
        gone = [scene_id for scene_id in mirrored if scene_id not in seen]
        if gone:
            report.add(self.writer.delete_scenes(gone))
        return stale

    def _refetch(self, report: SyncReport, ids: list[int]) -> None:
        """Fetch these scenes again by id; those Stash no longer has are deleted."""
        done = 0
        for start in range(0, len(ids), self.page_size):
            self._check_stop()
            chunk = ids[start : start + self.page_size]
            try:
                scenes = [parse.scene(s) for s in self.client.find_scenes_by_ids(chunk)]
            except StashDataError:
                # One id deleted since we looked fails the whole query: ask one by one.
                scenes = []
                for scene_id in chunk:
                    found = self.client.execute("FindScene", {"id": str(scene_id)}).get("findScene")
                    if found is not None:
                        scenes.append(parse.scene(found))
            present = {s.id for s in scenes}
            self._apply_page(report, scenes, prune=None)
            gone = [i for i in chunk if i not in present]
            if gone:
                report.add(self.writer.delete_scenes(gone))
            done += len(chunk)
            self.progress("scenes", done, len(ids))

    def _apply_page(
        self,
        report: SyncReport,
        scenes: list[Scene],
        prune: tuple[int, int] | None,
        state: dict[str, str | None] | None = None,
    ) -> None:
        result = import_scenes(self.client, self.writer, scenes, prune=prune, state=state)
        report.add(result)
        for hook in self.after_page:
            hook(result)

    def _count_scenes(self) -> int | None:
        try:
            count = self.client.execute("CountScenes", {}).get("findScenes", {}).get("count")
        except AttributeError:
            return None
        return count if isinstance(count, int) else None

    # --- entities ----------------------------------------------------------------------------

    def _sync_entities(
        self, report: SyncReport, changed_since: dict[str, str | None] | None
    ) -> None:
        """All entities (full) or those changed since their cursor; re-render what shows them."""
        rerender: set[int] = set()
        for kind in entity_kinds(self.client.legacy):
            cursor = changed_since.get(kind.name) if changed_since is not None else None
            entity_filter = (
                {"updated_at": {"value": since(cursor), "modifier": "GREATER_THAN"}}
                if cursor
                else None
            )
            records = list(self._entity_pages(kind, entity_filter))
            changed = self.writer.apply_entities(kind, records)
            if changed_since is None:  # a full pass also sees what is gone
                gone = self.writer.delete_entities_except(kind, {r.id for r in records})
                changed |= gone
            if changed:
                rerender |= self.writer.scenes_showing(kind.name, changed)
            self.progress(f"{kind.name}s", len(records), len(records))
        if rerender:
            changed_docs = self.writer.rerender(rerender)
            report.changed_docs.extend(changed_docs)
            log.info("re-rendered %d scenes after entity changes", len(rerender))

    def _entity_pages(
        self, kind: EntityKind, entity_filter: dict[str, Any] | None
    ) -> Iterator[Any]:
        page = 1
        while True:
            self._check_stop()
            variables: dict[str, Any] = {
                "filter": {"per_page": ENTITY_PAGE, "page": page, "sort": "id", "direction": "ASC"}
            }
            if entity_filter:
                variables[kind.filter_var] = entity_filter
            items = parse.listing(
                self.client.execute(kind.find_many, variables), kind.root, kind.items
            )
            for item in items:
                yield kind.parse(item)
            if len(items) < ENTITY_PAGE:
                return
            page += 1

    def _all_entity_ids(self, kind: EntityKind) -> set[int]:
        ids: set[int] = set()
        page = 1
        while True:
            self._check_stop()
            data = self.client.execute(
                kind.sweep,
                {
                    "filter": {
                        "per_page": SWEEP_PAGE,
                        "page": page,
                        "sort": "id",
                        "direction": "ASC",
                    }
                },
            )
            items = parse.listing(data, kind.root, kind.items)
            ids.update(
                parse.ident(item.get("id") if isinstance(item, dict) else None) for item in items
            )
            if len(items) < SWEEP_PAGE:
                return ids
            page += 1

    # --- cursors -----------------------------------------------------------------------------

    def _marks(self) -> dict[str, str | None]:
        """The newest updated_at of scenes and of each entity kind, before the pass starts."""
        marks: dict[str, str | None] = {}
        data = self.client.execute("LatestSceneUpdate")
        latest = parse.listing(data, "findScenes", "scenes")
        marks["scene"] = parse.text(latest[0].get("updated_at")) if latest else None
        for kind in entity_kinds(self.client.legacy):
            data = self.client.execute(
                kind.find_many,
                {"filter": {"per_page": 1, "sort": "updated_at", "direction": "DESC"}},
            )
            items = parse.listing(data, kind.root, kind.items)
            marks[kind.name] = parse.text(items[0].get("updated_at")) if items else None
        return marks

    def _finish_cursors(self, marks: dict[str, str | None], extra: dict[str, str | None]) -> None:
        values = {f"cursor:{k}": v for k, v in marks.items() if v is not None}
        # A kind with nothing in Stash keeps an empty cursor, so it stays "take everything".
        self.writer.set_state({**values, **extra})

    def _load_resume(self) -> dict[str, Any] | None:
        raw = self.writer.get_state("full_resume")
        if not raw:
            return None
        try:
            resume = json.loads(raw)
            if isinstance(resume.get("after"), int) and isinstance(resume.get("marks"), dict):
                return resume
        except (ValueError, AttributeError):
            pass
        return None

    # --- documents ---------------------------------------------------------------------------

    def _render_if_needed(self, report: SyncReport) -> None:
        """Settings that shape documents changed since they were stored (the fingerprint in
        the mirror differs): render every stored scene again from the mirror's rows, a page of
        ids at a time. The fingerprint moves only once all are done, so an interrupted render
        starts over (unchanged documents cost no write)."""
        wanted = documents.fingerprint(self.options)
        if self.writer.get_state(RENDER_STATE) == wanted:
            return
        with self.db.reader.connect() as connection:
            total = count_scenes(connection)
        if total:
            log.info("document settings changed: rendering %d stored scenes again", total)
        done, after, changed = 0, 0, 0
        while ids := self.writer.scene_ids_after(after, RENDER_PAGE):
            self._check_stop()
            page = self.writer.rerender(ids)
            report.changed_docs.extend(page)
            changed += len(page)
            done, after = done + len(ids), ids[-1]
            self.progress("render", done, total)
        if total:
            log.info("rendered %d scenes again: %d documents changed", done, changed)
        self.writer.set_state({RENDER_STATE: wanted})

    def _build_indexes(self) -> None:
        started = time.monotonic()
        if self.writer.build_indexes():
            seconds = time.monotonic() - started
            log.info("built the mirror's lookup indexes after the first fill in %.1fs", seconds)

    def _lay_out_tv(self, *, at_start: bool) -> None:
        """Build the TV layout when none is live for `[tv] show_by`: at the start when the
        mirror already holds scenes (an upgrade, a changed setting), else once the pass has
        filled the mirror, so a first sync numbers each day's episodes in title order."""
        show_by = self.settings.tv.show_by
        if self.writer.tv.is_layout(show_by):
            return
        if at_start:
            with self.db.reader.connect() as connection:
                filled = count_scenes(connection) > 0
            if not filled or self.writer.get_state("full_resume"):
                return
        episodes = self.writer.rebuild_tv(show_by)
        log.info("TV library laid out by %s: %d episodes", show_by, episodes)


SweepItem = tuple[int, str, list[tuple[int, str]]]  # id, updated_at, [(file id, path)]


def prefetched(pages: Iterator[T]) -> Iterator[T]:
    """`pages`, produced one ahead by a thread: while the caller works on a page, the next one
    is being fetched and decoded. At most one finished page waits (constant memory); an error
    of the producer is raised to the caller in order, and a caller that stops early stops it."""
    slot: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=1)
    closed = threading.Event()

    def put(item: tuple[str, Any]) -> bool:
        while not closed.is_set():
            try:
                slot.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for page in pages:
                if not put(("page", page)):
                    return
            put(("end", None))
        except BaseException as exc:  # handed to the caller, who raises it
            put(("error", exc))
        finally:
            close = getattr(pages, "close", None)
            if close is not None:
                close()

    thread = threading.Thread(target=produce, name="sync-prefetch", daemon=True)
    thread.start()
    try:
        while True:
            kind, value = slot.get()
            if kind == "end":
                return
            if kind == "error":
                raise value
            yield value
    finally:
        closed.set()
        # A producer still inside a request finishes it on its own (the client's timeout
        # bounds it) and then sees `closed`; waiting for it here would delay a shutdown.
        thread.join(timeout=1.0)


def _as_page(report: SyncReport) -> PageResult:
    return PageResult(report.added, report.updated, report.unchanged, report.removed)
