"""Stash's filter semantics, compiled from GraphQL input dicts into Python predicates.

Mirrors ``pkg/sqlite`` of Stash:
- ``EQUALS``/``NOT_EQUALS`` on strings are SQL ``LIKE``: ``%`` and ``_`` are wildcards and
  only ASCII letters fold case (SQLite's built-in LIKE);
- ``INCLUDES``/``EXCLUDES`` split the value on whitespace into words (OR-ed / AND-ed
  ``%word%`` LIKEs) unless the value starts or ends with a double quote (one phrase);
- ``MATCHES_REGEX`` is an unanchored search, case-sensitive unless ``(?i)`` (Python ``re``
  stands in for Go's RE2);
- criteria over joined rows (files, urls) hold when *any* row satisfies them, which makes
  negative modifiers true for a scene as soon as one of its files does not match;
- timestamps compare as raw strings against the stored local-time text;
- ``AND``/``OR``/``NOT`` combine with this level's criteria as ``(these) op (sub)``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import Any

Pred = Callable[[Any], bool]
Match = Callable[[Any], bool]

_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_GO_SPACE = re.compile(r"[\t\n\f\r ]+")  # Go's \s is ASCII-only


class FilterError(ValueError):
    """An invalid filter; reported as a GraphQL resolver error like Stash's."""


def ascii_lower(text: str) -> str:
    return text.translate(_ASCII_LOWER)


@lru_cache(maxsize=1024)
def like_regex(pattern: str) -> re.Pattern[str]:
    """SQL LIKE pattern (no escape character) as a full-match regex on ascii_lower text."""
    parts = []
    for ch in ascii_lower(pattern):
        if ch == "%":
            parts.append(".*")
        elif ch == "_":
            parts.append(".")
        else:
            parts.append(re.escape(ch))
    return re.compile("".join(parts), re.DOTALL)


@lru_cache(maxsize=256)
def compile_regex(pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error as err:
        raise FilterError(f"error parsing regexp: {err}: `{pattern}`") from err


def search_words(value: str) -> tuple[list[str], bool]:
    """Stash's INCLUDES splitting: (words, is_phrase)."""
    q = value.strip()
    trimmed = q.strip('"')
    if trimmed != q:
        return [trimmed], True
    return _GO_SPACE.sub(" ", q).split(" "), False


def string_matcher(crit: dict[str, Any]) -> Match:
    """Matcher for one (nullable) string value, from a ``StringCriterionInput``."""
    value: str = crit["value"]
    mod = crit["modifier"]
    if mod in ("INCLUDES", "EXCLUDES"):
        words, _ = search_words(value)
        rxs = [like_regex(f"%{w}%") for w in words]
        if mod == "INCLUDES":
            return lambda v: v is not None and any(r.fullmatch(ascii_lower(v)) for r in rxs)
        return lambda v: v is not None and not any(r.fullmatch(ascii_lower(v)) for r in rxs)
    if mod == "EQUALS":
        rx = like_regex(value)
        return lambda v: v is not None and rx.fullmatch(ascii_lower(v)) is not None
    if mod == "NOT_EQUALS":
        rx = like_regex(value)
        return lambda v: v is not None and rx.fullmatch(ascii_lower(v)) is None
    if mod == "MATCHES_REGEX":
        rx = compile_regex(value)
        return lambda v: v is not None and rx.search(v) is not None
    if mod == "NOT_MATCHES_REGEX":
        rx = compile_regex(value)
        return lambda v: v is None or rx.search(v) is None
    if mod == "IS_NULL":
        return lambda v: v is None or v.strip() == ""
    if mod == "NOT_NULL":
        return lambda v: v is not None and v.strip() != ""
    raise FilterError("unsupported string filter modifier")


def path_matcher(crit: dict[str, Any]) -> Match:
    """Matcher for one full path (``folder + sep + basename``); Stash's pathCriterionHandler.

    Unlike plain strings, unquoted EXCLUDES words are AND-ed ``NOT LIKE``s and the null
    checks look at folder and basename, which are never empty here.
    """
    mod = crit["modifier"]
    if mod == "IS_NULL":
        return lambda v: False
    if mod == "NOT_NULL":
        return lambda v: True
    return string_matcher(crit)


def _int_test(crit: dict[str, Any], kind: str = "int") -> Match:
    """Numeric criterion on a nullable number (``None`` behaves like SQL NULL)."""
    mod = crit["modifier"]
    value = crit["value"]
    upper = crit.get("value2")
    if upper is None:
        upper = 0  # Stash's default upper bound for BETWEEN
    tests: dict[str, Match] = {
        "EQUALS": lambda v: v is not None and v == value,
        "NOT_EQUALS": lambda v: v is not None and v != value,
        "GREATER_THAN": lambda v: v is not None and v > value,
        "LESS_THAN": lambda v: v is not None and v < value,
        "BETWEEN": lambda v: v is not None and value <= v <= upper,
        "NOT_BETWEEN": lambda v: v is not None and (v < value or v > upper),
        "IS_NULL": lambda v: v is None,
        "NOT_NULL": lambda v: v is not None,
    }
    if mod not in tests:
        raise FilterError(f"unsupported {kind} modifier type {mod}")
    return tests[mod]


def int_matcher(crit: dict[str, Any]) -> Match:
    return _int_test(crit)


def timestamp_matcher(crit: dict[str, Any], default_upper: str) -> Match:
    """Raw string comparison, exactly like Stash's SQL on the stored RFC3339 text."""
    value = crit["value"]
    upper = crit.get("value2")
    return _int_test({**crit, "value": value, "value2": upper or default_upper}, "timestamp")


def parse_date(text: str) -> str:
    """Stash's ParseDate: YYYY, YYYY-MM or YYYY-MM-DD; errors become the zero date."""
    m = re.fullmatch(r"(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?", text.strip())
    if not m:
        return "0001-01-01"
    return f"{m[1]}-{int(m[2] or 1):02d}-{int(m[3] or 1):02d}"


def full_date(date: str | None) -> str | None:
    """A stored (possibly partial) date as the full date Stash compares with."""
    return None if date is None else parse_date(date)


def date_matcher(crit: dict[str, Any]) -> Match:
    value = parse_date(crit["value"])
    upper = crit.get("value2")
    if crit["modifier"] in ("IS_NULL", "NOT_NULL"):
        return _int_test({**crit, "value": value})
    return _int_test({**crit, "value": value, "value2": parse_date(upper) if upper else value})


def multi_matcher(
    crit: dict[str, Any], expand: Callable[[int], Iterable[int]] | None = None
) -> Match:
    """Multi/Hierarchical criterion over a collection of linked ids."""
    mod = crit["modifier"]
    depth = crit.get("depth") or 0

    def ids(values: Iterable[Any] | None) -> set[int]:
        out: set[int] = set()
        for v in values or []:
            try:
                i = int(v)
            except (TypeError, ValueError) as err:
                raise FilterError(f'strconv.Atoi: parsing "{v}": invalid syntax') from err
            out.add(i)
            if expand is not None and depth != 0:
                out.update(expand(i))
        return out

    values, excludes = ids(crit.get("value")), ids(crit.get("excludes"))
    if mod == "IS_NULL":
        return lambda linked: not linked
    if mod == "NOT_NULL":
        return lambda linked: bool(linked)
    if mod == "NOT_EQUALS":
        raise FilterError("not equals modifier is not supported for multi criterion input")
    if mod == "EXCLUDES":
        excludes |= values
        values = set()
    if not values and not excludes:
        return lambda linked: True
    if mod in ("INCLUDES", "EXCLUDES"):
        positive: Match = lambda linked: not values or bool(values.intersection(linked))  # noqa: E731
    elif mod == "INCLUDES_ALL":
        positive = lambda linked: values.issubset(linked)  # noqa: E731
    elif mod == "EQUALS":
        positive = lambda linked: set(linked) == values  # noqa: E731
    else:
        raise FilterError(f"unsupported multi criterion modifier {mod}")
    if not excludes:
        return positive
    return lambda linked: positive(linked) and not excludes.intersection(linked)


def combine(
    node: dict[str, Any] | None,
    compile_level: Callable[[dict[str, Any]], list[Pred]],
) -> Pred | None:
    """Compile a filter with AND/OR/NOT sub-filters; ``None`` means "no filter"."""
    if not node:
        return None
    subs = [k for k in ("AND", "OR", "NOT") if node.get(k) is not None]
    if len(subs) > 1:
        raise FilterError(f"cannot have {subs[0]} and {subs[1]} in the same filter")
    preds = compile_level(node)
    here: Pred | None = None
    if len(preds) == 1:
        here = preds[0]
    elif preds:
        here = lambda view: all(p(view) for p in preds)  # noqa: E731
    if not subs:
        return here
    op = subs[0]
    sub = combine(node[op], compile_level)
    if sub is None:
        return here
    if op == "NOT":
        if here is None:
            return lambda view: not sub(view)
        return lambda view: here(view) and not sub(view)
    if here is None:
        return sub
    if op == "AND":
        return lambda view: here(view) and sub(view)
    return lambda view: here(view) or sub(view)
