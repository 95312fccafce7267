"""findScenes / find<Entities>: filtering, ordering and paging over the live library.

A scene filter is compiled into a predicate over :class:`SceneView` (lazy accessors, so a
filter on ``id`` never builds a path). Top-level ``id`` and ``updated_at`` criteria narrow
the candidate ids first: ids are dense and untouched scenes' ``updated_at`` grows with the
id, so both become id ranges (plus the few changed scenes). With ``sort: "id"`` rows are
produced lazily, so a keyset page over 500,000 scenes reads only the rows it returns.
"""

from __future__ import annotations

import heapq
import random
import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Iterator
from functools import partial
from typing import Any

from .filters import (
    FilterError,
    Pred,
    ascii_lower,
    combine,
    date_matcher,
    full_date,
    int_matcher,
    multi_matcher,
    path_matcher,
    search_words,
    string_matcher,
    timestamp_matcher,
)
from .generate import mix
from .library import Library, NotFound

SCENE_SORTS = frozenset({
    "bitrate", "created_at", "code", "date", "file_count", "filesize", "duration",
    "file_mod_time", "framerate", "group_scene_number", "id", "interactive",
    "interactive_speed", "last_o_at", "last_played_at", "movie_scene_number", "o_counter",
    "organized", "performer_count", "play_count", "play_duration", "resume_time", "path",
    "perceptual_similarity", "random", "rating", "resolution", "studio", "tag_count", "title",
    "updated_at", "performer_age",
})  # fmt: skip
ENTITY_SORTS = frozenset({"id", "name", "created_at", "updated_at", "random"})
IS_MISSING = frozenset({
    "title", "details", "url", "date", "galleries", "studio", "movie", "group", "performers",
    "tags", "stash_id", "cover", "phash", "duration",
})  # fmt: skip
_DIGITS = re.compile(r"(\d+)")
INF = 1 << 62


def natural(text: str) -> tuple[Any, ...]:
    """Case-insensitive natural order, standing in for Stash's NATURAL_CI collation."""
    parts = _DIGITS.split(text.casefold())
    return tuple(int(p) if i % 2 else p for i, p in enumerate(parts))


def validate_sort(sort: str | None, allowed: frozenset[str]) -> str | None:
    if not sort:
        return None
    if sort.startswith("random_"):
        seed = sort[len("random_") :]
        if not seed.isdigit():
            raise FilterError(f"invalid random seed: {seed}")
        return sort
    if sort not in allowed:
        raise FilterError(f"invalid sort: {sort}")
    return sort


def page_bounds(find_filter: dict[str, Any] | None) -> tuple[int, int | None]:
    """(offset, limit) with Stash's rules: per_page default 25, <0 all, 0 none; page 1-based."""
    ff = find_filter or {}
    per_page = ff.get("per_page")
    if per_page is not None and per_page < 0:
        return 0, None
    size = 25 if per_page is None else per_page
    page = ff.get("page")
    page = 1 if page is None or page < 1 else page
    return (page - 1) * size, size


def parse_ids(values: Iterable[Any]) -> list[int]:
    out = []
    for v in values:
        try:
            out.append(int(v))
        except (TypeError, ValueError) as err:
            raise FilterError(f'strconv.Atoi: parsing "{v}": invalid syntax') from err
    return out


class SceneView:
    """Lazy, cached access to one scene's filterable facts."""

    __slots__ = ("_files", "_raw", "id", "lib")

    def __init__(self, lib: Library, sid: int) -> None:
        self.lib = lib
        self.id = sid
        self._raw: dict[str, Any] | None = None
        self._files: list[tuple[int, str, str]] | None = None

    @property
    def raw(self) -> dict[str, Any]:
        if self._raw is None:
            self._raw = self.lib.raw_scene(self.id)
        return self._raw

    @property
    def files(self) -> list[tuple[int, str, str]]:
        """[(file id, folder, basename)], primary first."""
        if self._files is None:
            loc = self.lib.file_location
            self._files = [(fid, *loc(fid)) for fid in self.lib.file_ids(self.id)]
        return self._files

    @property
    def paths(self) -> list[str]:
        sep = self.lib.sep
        return [folder + sep + name for _, folder, name in self.files]

    @property
    def updated_at(self) -> str:
        return self.lib.stamp(self.lib.updated(self.id))

    @property
    def created_at(self) -> str:
        return self.lib.stamp(self.raw["created"])

    def detail(self, index: int = 0) -> dict[str, Any]:
        return self.lib.base.file_detail(self.files[index][0])


# -- scene filter ---------------------------------------------------------------------------


def _any(match: Callable[[Any], bool], values: Callable[[SceneView], list[Any]]) -> Pred:
    """Joined rows: true when any row matches (a scene without rows has one NULL row)."""

    def pred(view: SceneView) -> bool:
        rows = values(view)
        return any(match(v) for v in rows) if rows else match(None)

    return pred


def _scalar(match: Callable[[Any], bool], get: Callable[[Any], Any]) -> Pred:
    return lambda item: match(get(item))


def _get_or_none(key: str) -> Callable[[dict[str, Any]], Any]:
    return lambda item: item.get(key)


def _stamp_of(lib: Library, key: str, item: dict[str, Any]) -> Any:
    return lib.stamp(item[key])


def _raw_get(key: str) -> Callable[[SceneView], Any]:
    return lambda view: view.raw[key]


class SceneFilterCompiler:
    def __init__(self, lib: Library) -> None:
        self.lib = lib
        self.default_upper = lib.stamp(lib.clock.now() + 86400)

    def compile(self, scene_filter: dict[str, Any] | None) -> Pred | None:
        return combine(scene_filter, self.level)

    def level(self, f: dict[str, Any]) -> list[Pred]:
        lib = self.lib
        preds: list[Pred] = []
        add = preds.append
        if f.get("id") is not None:
            add(_scalar(int_matcher(f["id"]), lambda v: v.id))
        for key in ("title", "code", "details", "director"):
            if f.get(key) is not None:
                add(_scalar(string_matcher(f[key]), _raw_get(key)))
        if f.get("path") is not None:
            add(_any(path_matcher(f["path"]), lambda v: v.paths))
        if f.get("organized") is not None:
            want = bool(f["organized"])
            add(lambda v: bool(v.raw["organized"]) == want)
        for key, raw_key in (("rating100", "rating100"), ("o_counter", "o_counter")):
            if f.get(key) is not None:
                add(_scalar(int_matcher(f[key]), _raw_get(raw_key)))
        if f.get("file_count") is not None:
            add(_scalar(int_matcher(f["file_count"]), lambda v: len(v.files)))
        if f.get("duration") is not None:
            m = int_matcher(f["duration"])
            add(_any(m, lambda v: [int(v.detail(i)["duration"]) for i in range(len(v.files))]))
        if f.get("date") is not None:
            add(_scalar(date_matcher(f["date"]), lambda v: full_date(v.raw["date"])))
        if f.get("updated_at") is not None:
            add(
                _scalar(
                    timestamp_matcher(f["updated_at"], self.default_upper), lambda v: v.updated_at
                )
            )
        if f.get("created_at") is not None:
            add(
                _scalar(
                    timestamp_matcher(f["created_at"], self.default_upper), lambda v: v.created_at
                )
            )
        if f.get("studios") is not None:
            add(self._studios(f["studios"]))
        if f.get("performers") is not None:
            m = multi_matcher(f["performers"])
            add(lambda v: m(lib.performer_ids(v.raw)))
        if f.get("tags") is not None:
            m = multi_matcher(f["tags"])
            add(lambda v: m(lib.tag_ids(v.raw["tag_ids"])))
        for key in ("groups", "movies"):
            if f.get(key) is not None:
                add(
                    _scalar(multi_matcher(f[key]), lambda v: [g for g, _ in lib.group_links(v.raw)])
                )
        if f.get("performer_count") is not None:
            m = int_matcher(f["performer_count"])
            add(lambda v: m(len(lib.performer_ids(v.raw))))
        if f.get("tag_count") is not None:
            m = int_matcher(f["tag_count"])
            add(lambda v: m(len(lib.tag_ids(v.raw["tag_ids"]))))
        if f.get("url") is not None:
            add(_any(string_matcher(f["url"]), lambda v: v.raw["urls"]))
        if f.get("has_markers") in ("true", "false"):
            want = f["has_markers"] == "true"
            add(lambda v: bool(lib.markers(v.id)) == want)
        if f.get("is_missing") is not None:
            add(self._is_missing(f["is_missing"]))
        if f.get("stash_id_endpoint") is not None:
            add(self._stash_id(f["stash_id_endpoint"]))
        if f.get("files_filter") is not None:
            file_pred = combine(f["files_filter"], self._file_level)
            if file_pred is not None:
                add(lambda v: any(file_pred((v, i)) for i in range(len(v.files))))
        return preds

    def _file_level(self, f: dict[str, Any]) -> list[Pred]:
        """FileFilterType; a predicate here receives (scene view, file index)."""
        preds: list[Pred] = []
        sep = self.lib.sep
        if f.get("path") is not None:
            m = path_matcher(f["path"])
            preds.append(lambda vi: m(vi[0].files[vi[1]][1] + sep + vi[0].files[vi[1]][2]))
        if f.get("basename") is not None:
            m2 = string_matcher(f["basename"])
            preds.append(lambda vi: m2(vi[0].files[vi[1]][2]))
        if f.get("dir") is not None:
            m3 = string_matcher(f["dir"])
            preds.append(lambda vi: m3(vi[0].files[vi[1]][1]))
        return preds

    def _studios(self, crit: dict[str, Any]) -> Pred:
        lib = self.lib

        def descendants(sid: int) -> list[int]:
            out, frontier = [], [sid]
            while frontier:
                kids = [s["id"] for s in lib.studios.values() if s["parent_id"] in frontier]
                out.extend(kids)
                frontier = kids
            return out

        m = multi_matcher(crit, descendants)
        return lambda v: m([v.raw["studio_id"]] if v.raw["studio_id"] in lib.studios else [])

    def _is_missing(self, what: str) -> Pred:
        lib = self.lib
        if what not in IS_MISSING:
            raise FilterError(f"invalid is_missing field: {what}")
        tests: dict[str, Pred] = {
            "title": lambda v: not (v.raw["title"] or "").strip(),
            "details": lambda v: not (v.raw["details"] or "").strip(),
            "url": lambda v: not v.raw["urls"],
            "date": lambda v: v.raw["date"] is None,
            "galleries": lambda v: True,
            "studio": lambda v: v.raw["studio_id"] not in lib.studios,
            "movie": lambda v: not lib.group_links(v.raw),
            "group": lambda v: not lib.group_links(v.raw),
            "performers": lambda v: not lib.performer_ids(v.raw),
            "tags": lambda v: not lib.tag_ids(v.raw["tag_ids"]),
            "stash_id": lambda v: not v.raw["stash_ids"],
            "cover": lambda v: not v.raw["cover"],
            "phash": lambda v: not any(t == "phash" for t, _ in v.detail()["fingerprints"]),
            "duration": lambda v: False,
        }
        return tests[what]

    @staticmethod
    def _stash_id(crit: dict[str, Any]) -> Pred:
        endpoint, value, mod = crit.get("endpoint"), crit.get("stash_id"), crit["modifier"]

        def ids(v: SceneView) -> list[str]:
            return [s for e, s in v.raw["stash_ids"] if endpoint is None or e == endpoint]

        if mod == "IS_NULL":
            return lambda v: not ids(v)
        if mod == "NOT_NULL":
            return lambda v: bool(ids(v))
        if mod == "EQUALS":
            return lambda v: value in ids(v)
        if mod == "NOT_EQUALS":
            return lambda v: value not in ids(v)
        raise FilterError(f"unsupported stash_id modifier {mod}")


def parse_search(q: str) -> tuple[list[str], list[str], list[list[str]]]:
    """Stash's ParseSearchString: (must have, must not, any-of sets).

    Words AND together; ``"quoted phrases"`` stay whole; ``-word`` excludes; ``a or b``
    makes a set of which one must match.
    """
    tokens = [t[0] or t[1] for t in re.findall(r'"([^"]*)"|(\S+)', q) if t[0] or t[1]]
    must: list[str] = []
    must_not: list[str] = []
    any_sets: list[list[str]] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token.startswith("-") and len(token) > 1:
            must_not.append(token[1:])
            i += 1
            continue
        group = [token]
        while i + 2 < len(tokens) and tokens[i + 1].lower() == "or":
            group.append(tokens[i + 2])
            i += 2
        if len(group) > 1:
            any_sets.append(group)
        else:
            must.append(token)
        i += 1
    return must, must_not, any_sets


def search_predicate(q: str | None, texts: Callable[[Any], list[str]]) -> Pred | None:
    """``FindFilterType.q``: every term must LIKE-match one of ``texts(item)``."""
    if not q:
        return None
    must, must_not, any_sets = parse_search(q)
    like_any = [re.compile(".*" + re.escape(ascii_lower(t)) + ".*", re.S) for t in must]
    exclude = [re.compile(".*" + re.escape(ascii_lower(t)) + ".*", re.S) for t in must_not]
    sets = [
        [re.compile(".*" + re.escape(ascii_lower(t)) + ".*", re.S) for t in group]
        for group in any_sets
    ]

    def pred(item: Any) -> bool:
        values = [ascii_lower(v) for v in texts(item) if v]
        hit = lambda rx: any(rx.fullmatch(v) for v in values)  # noqa: E731
        return (
            all(hit(rx) for rx in like_any)
            and not any(hit(rx) for rx in exclude)
            and all(any(hit(rx) for rx in group) for group in sets)
        )

    return pred


def _scene_texts(lib: Library) -> Callable[[SceneView], list[str]]:
    def texts(v: SceneView) -> list[str]:
        out = [v.raw["title"], v.raw["details"], *v.paths]
        for fid, _, _ in v.files:
            out.extend(value for _, value in lib.base.file_detail(fid)["fingerprints"])
        out.extend(m["title"] for m in lib.markers(v.id))
        return out

    return texts


# -- candidate planning ---------------------------------------------------------------------


class Plan:
    """Candidate ids: live ids in [lo, hi] plus ``extras``, or only ``ids`` when a path
    criterion pins them down; ``exact`` if nothing else filters."""

    def __init__(
        self,
        lo: int = 1,
        hi: int = INF,
        extras: Iterable[int] = (),
        exact: bool = False,
        ids: set[int] | None = None,
    ) -> None:
        self.lo, self.hi, self.extras, self.exact = lo, hi, sorted(set(extras)), exact
        self.ids = None if ids is None else sorted(ids)


def plan_scenes(lib: Library, scene_filter: dict[str, Any] | None) -> Plan:
    lo, hi, extras = 1, INF, set()
    pinned: set[int] | None = None
    only_ids = True
    node = scene_filter
    while node:
        if node.get("OR") is not None:
            only_ids = False  # this level's criteria are not required; outer ones still are
            break
        other = set(k for k, v in node.items() if v is not None) - {"id", "updated_at", "AND"}
        only_ids = only_ids and not other and node.get("updated_at") is None
        if node.get("id") is not None:
            r = _id_range(node["id"])
            if r is None:
                only_ids = False
            else:
                lo, hi = max(lo, r[0]), min(hi, r[1])
        if node.get("updated_at") is not None:
            r = _updated_range(lib, node["updated_at"])
            if r is not None:
                lo, hi = max(lo, r[0]), min(hi, r[1])
                extras |= lib.touched
        files = node.get("files_filter") or {}
        no_or = files.get("OR") is None
        for crit in (
            node.get("path"),
            no_or and files.get("path"),
            no_or and files.get("basename"),
        ):
            hint = _path_hint(lib, crit) if crit else None
            if hint is not None:
                pinned = hint if pinned is None else pinned & hint
        node = node.get("AND")
    return Plan(lo, hi, extras, exact=only_ids, ids=pinned)


# A generated file name carries its scene's code ("SP-000123") followed by "]", "." or " ".
_CODE = re.compile(r"sp-(\d{6,})(?=[^\d%_])", re.IGNORECASE)


def _path_hint(lib: Library, crit: dict[str, Any]) -> set[int] | None:
    """Scenes that can match a positive path/basename criterion naming a scene code.

    Not an index Stash has (it scans): it keeps exact-path lookups fast on huge sample
    libraries. A superset is enough, the full predicate still decides: the coded scenes,
    plus every file whose name was changed, as long as no folder name carries a code.
    """
    mod, value = crit["modifier"], crit["value"]
    if mod == "EQUALS":
        parts = [value]
    elif mod == "INCLUDES":
        parts = search_words(value)[0]
    else:
        return None
    ids: set[int] = set()
    for part in parts:
        codes = _CODE.findall(part)
        if not codes:
            return None  # one uncoded word can match anything
        ids.update(int(c) for c in codes)
    if any("sp-" in folder.lower() for folder in lib.folders):
        return None
    ids.update((fid + 1) // 2 for fid in lib.file_over)
    return ids


def _id_range(crit: dict[str, Any]) -> tuple[int, int] | None:
    v, v2, mod = crit["value"], crit.get("value2") or 0, crit["modifier"]
    ranges = {
        "EQUALS": (v, v),
        "GREATER_THAN": (v + 1, INF),
        "LESS_THAN": (1, v - 1),
        "BETWEEN": (v, v2),
        "IS_NULL": (1, 0),
        "NOT_NULL": (1, INF),
    }
    return ranges.get(mod)


def _updated_range(lib: Library, crit: dict[str, Any]) -> tuple[int, int] | None:
    """Untouched scenes whose updated_at satisfies crit form an id range (base order)."""
    base_ids = range(1, lib.n_base + 1)
    key: Callable[[int], str] = lambda sid: lib.stamp(lib.base.scene_updated(sid))  # noqa: E731
    v, mod = crit["value"], crit["modifier"]
    if mod == "GREATER_THAN":
        return bisect_right(base_ids, v, key=key) + 1, lib.n_base
    if mod == "LESS_THAN":
        return 1, bisect_left(base_ids, v, key=key)
    if mod == "EQUALS":
        return bisect_left(base_ids, v, key=key) + 1, bisect_right(base_ids, v, key=key)
    if mod == "BETWEEN" and crit.get("value2"):
        return bisect_left(base_ids, v, key=key) + 1, bisect_right(
            base_ids, crit["value2"], key=key
        )
    return None


def iter_candidates(lib: Library, plan: Plan, desc: bool) -> Iterator[int]:
    if plan.ids is not None:
        ids = [i for i in plan.ids if lib.exists(i)]
        return iter(ids[::-1] if desc else ids)
    ranged = lib.iter_ids(plan.lo, min(plan.hi, lib.next_id), desc)
    extra = [e for e in plan.extras if not plan.lo <= e <= plan.hi and lib.exists(e)]
    if not extra:
        return ranged
    extra.sort(reverse=desc)
    return heapq.merge(ranged, extra, reverse=desc)


# -- scenes ---------------------------------------------------------------------------------


class SceneQuery:
    """One findScenes call; every part is computed on first use."""

    def __init__(
        self,
        lib: Library,
        scene_filter: dict[str, Any] | None,
        find_filter: dict[str, Any] | None,
        ids: list[Any] | None = None,
    ) -> None:
        self.lib = lib
        self.find_filter = find_filter or {}
        self._all: list[int] | None = None
        if ids:
            wanted = parse_ids(ids)
            for sid in wanted:
                if not lib.exists(sid):
                    raise NotFound(f"scene with id {sid} not found")
            self._fixed: list[int] | None = wanted
            return
        self._fixed = None
        self.sort = validate_sort(self.find_filter.get("sort"), SCENE_SORTS)
        self.desc = self.find_filter.get("direction") == "DESC"
        self.pred = SceneFilterCompiler(lib).compile(scene_filter)
        self.plan = plan_scenes(lib, scene_filter)
        search = search_predicate(self.find_filter.get("q"), _scene_texts(lib))
        if search is not None:
            base_pred = self.pred
            self.pred = search if base_pred is None else lambda v: base_pred(v) and search(v)
            self.plan.exact = False

    def _matches(self, desc: bool = False) -> Iterator[int]:
        candidates = iter_candidates(self.lib, self.plan, desc)
        pred = self.pred
        if pred is None or self.plan.exact:
            return candidates
        lib = self.lib
        return (sid for sid in candidates if pred(SceneView(lib, sid)))

    def all_ids(self) -> list[int]:
        if self._fixed is not None:
            return self._fixed
        if self._all is None:
            self._all = list(self._matches())
        return self._all

    def count(self) -> int:
        if self._fixed is not None:
            return len(self._fixed)
        if self._all is None and self.plan.exact:
            return self.lib.count_ids(self.plan.lo, min(self.plan.hi, self.lib.next_id))
        return len(self.all_ids())

    def totals(self) -> tuple[float, float]:
        """(duration seconds, size bytes) summed over every file of every matching scene."""
        duration = size = 0.0
        lib = self.lib
        for sid in self.all_ids():
            for fid in lib.file_ids(sid):
                detail = lib.base.file_detail(fid)
                duration += detail["duration"]
                size += detail["size"]
        return duration, size

    def page(self) -> list[int]:
        if self._fixed is not None:
            return self._fixed
        offset, limit = page_bounds(self.find_filter)
        if limit == 0:
            return []
        if self.sort == "id" and self._all is None:
            it = self._matches(self.desc)
            stop = None if limit is None else offset + limit
            return list(_islice(it, offset, stop))
        ids = self.all_ids()
        if self.sort == "updated_at" and limit is not None and offset + limit <= 1000:
            ids = self._top_by_updated(ids, offset + limit)
        ordered = self._ordered(ids)
        return ordered[offset:] if limit is None else ordered[offset : offset + limit]

    def _top_by_updated(self, ids: list[int], wanted: int) -> list[int]:
        """The few scenes a small updated_at page can show (ties at the edge included), so
        "newest scene first" does not sort the whole library (Stash answers it from SQL)."""
        if len(ids) <= wanted:
            return ids
        stamp = self.lib.updated
        pick = heapq.nlargest if self.desc else heapq.nsmallest
        edge = stamp(pick(wanted, ids, key=stamp)[-1])
        if self.desc:
            return [sid for sid in ids if stamp(sid) >= edge]
        return [sid for sid in ids if stamp(sid) <= edge]

    def _ordered(self, ids: list[int]) -> list[int]:
        if self.sort is None:
            # Stash gives no order without a sort; ours is stable but deliberately not by id.
            return sorted(ids, key=lambda s: mix(s * 0x2545F491 + 17))
        if self.sort == "id":
            return sorted(ids, reverse=self.desc)
        if self.sort.startswith("random"):
            seed = int(self.sort[7:]) if self.sort.startswith("random_") else random.getrandbits(32)
            return sorted(ids, key=lambda s: mix(s ^ (seed * 0x9E3779B97F4A7C15)))
        views = {sid: SceneView(self.lib, sid) for sid in ids}
        key = _scene_sort_key(self.lib, self.sort)
        # Stash appends "COALESCE(title, id) COLLATE NATURAL_CI ASC" to every sort.
        out = sorted(ids, key=lambda s: natural(views[s].raw["title"] or str(s)))
        out.sort(key=lambda s: _nulls_first(key(views[s])), reverse=self.desc)
        return out


def _islice(it: Iterator[int], start: int, stop: int | None) -> Iterator[int]:
    for i, value in enumerate(it):
        if stop is not None and i >= stop:
            return
        if i >= start:
            yield value


def _nulls_first(value: Any) -> tuple[int, Any]:
    return (0, 0) if value is None else (1, value)


def _scene_sort_key(lib: Library, sort: str) -> Callable[[SceneView], Any]:
    def primary(v: SceneView, field: str) -> Any:
        return v.detail()[field]

    def group_index(v: SceneView) -> Any:
        links = lib.group_links(v.raw)
        return links[0][1] if links else None

    def studio(v: SceneView) -> Any:
        s = lib.studios.get(v.raw["studio_id"])
        return natural(s["name"]) if s else None

    def phash(v: SceneView) -> Any:
        return next((x for t, x in v.detail()["fingerprints"] if t == "phash"), None)

    keys: dict[str, Callable[[SceneView], Any]] = {
        "title": lambda v: natural(v.raw["title"] if v.raw["title"] is not None else v.files[0][2]),
        "path": lambda v: natural(v.files[0][1] + v.files[0][2]),
        "date": lambda v: full_date(v.raw["date"]),
        "created_at": lambda v: v.created_at,
        "updated_at": lambda v: v.updated_at,
        "rating": lambda v: v.raw["rating100"],
        "o_counter": lambda v: v.raw["o_counter"],
        "organized": lambda v: int(bool(v.raw["organized"])),
        "code": lambda v: v.raw["code"],
        "file_count": lambda v: len(v.files),
        "performer_count": lambda v: len(lib.performer_ids(v.raw)),
        "tag_count": lambda v: len(lib.tag_ids(v.raw["tag_ids"])),
        "filesize": lambda v: primary(v, "size"),
        "duration": lambda v: primary(v, "duration"),
        "bitrate": lambda v: primary(v, "bit_rate"),
        "framerate": lambda v: primary(v, "frame_rate"),
        "resolution": lambda v: min(primary(v, "width"), primary(v, "height")),
        "file_mod_time": lambda v: lib.file_times(v.files[0][0])[0],
        "studio": studio,
        "movie_scene_number": group_index,
        "group_scene_number": group_index,
        "perceptual_similarity": phash,
        "interactive": lambda v: 0,
        "play_count": lambda v: 0,
    }
    return keys.get(sort, lambda v: None)


# -- performers, studios, tags, groups ------------------------------------------------------


def _entity_level(
    lib: Library, kind: str, default_upper: str
) -> Callable[[dict[str, Any]], list[Pred]]:
    def level(f: dict[str, Any]) -> list[Pred]:
        preds: list[Pred] = []
        for key in ("name", "disambiguation", "details", "synopsis", "director", "description"):
            if f.get(key) is not None:
                preds.append(_scalar(string_matcher(f[key]), _get_or_none(key)))
        for key, raw in (("updated_at", "updated"), ("created_at", "created")):
            if f.get(key) is not None:
                stamp = partial(_stamp_of, lib, raw)
                preds.append(_scalar(timestamp_matcher(f[key], default_upper), stamp))
        if f.get("parents") is not None:
            mm = multi_matcher(f["parents"])
            preds.append(lambda e: mm([e["parent_id"]] if e.get("parent_id") else []))
        if f.get("is_missing") is not None:
            field = {"image": "image", "front_image": "front", "back_image": "back"}.get(
                f["is_missing"]
            )
            if field is None:
                raise FilterError(f"invalid is_missing field: {f['is_missing']}")
            preds.append(lambda e: not e.get(field))
        return preds

    return level


def find_entities(
    lib: Library,
    kind: str,
    entity_filter: dict[str, Any] | None,
    find_filter: dict[str, Any] | None,
    ids: list[Any] | None,
) -> tuple[list[dict[str, Any]], Callable[[], int]]:
    """(page of raw entities, count thunk) for performers/studios/tags/groups."""
    table = lib.table(kind)
    if ids:
        wanted = parse_ids(ids)
        missing = [i for i in wanted if i not in table]
        if missing:
            raise NotFound(f"{kind} with id {missing[0]} not found")
        rows = [table[i] for i in wanted]
        return rows, lambda: len(rows)
    ff = find_filter or {}
    sort = validate_sort(ff.get("sort"), ENTITY_SORTS) or "name"
    pred = combine(entity_filter, _entity_level(lib, kind, lib.stamp(lib.clock.now() + 86400)))
    search = search_predicate(ff.get("q"), lambda e: [e["name"], e.get("disambiguation")])
    matched = [
        e for e in table.values() if (pred is None or pred(e)) and (search is None or search(e))
    ]
    desc = ff.get("direction") == "DESC"
    if sort.startswith("random"):
        seed = int(sort[7:]) if sort.startswith("random_") else random.getrandbits(32)
        matched.sort(key=lambda e: mix(e["id"] ^ (seed * 0x9E3779B97F4A7C15)))
    else:
        keys: dict[str, Callable[[dict[str, Any]], Any]] = {
            "id": lambda e: e["id"],
            "name": lambda e: natural(e["name"]),
            "created_at": lambda e: e["created"],
            "updated_at": lambda e: e["updated"],
        }
        matched.sort(key=lambda e: e["id"])
        matched.sort(key=keys[sort], reverse=desc)
    offset, limit = page_bounds(ff)
    page = matched[offset:] if limit is None else matched[offset : offset + limit]
    return page, lambda: len(matched)
