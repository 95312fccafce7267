"""`[metadata] title_format`: a small template language for the title Plex shows (pure).

    {studio} - {title|code|filename}
    [{date} ]{title}

- ``{a|b|c}``: the first of these fields that is not empty (a fallback chain).
- ``[ ... ]``: an optional part, left out when a field inside it is empty, so separators do not
  dangle (``[{studio} - ]{title}`` gives just the title for a scene without a studio).
- ``{{ }} [[ ]]``: literal braces and brackets. Anything else is literal text.

The template is compiled when the settings are loaded (a bad one stops start-up with a message
naming the key), and the mapping calls `TitleFormat.render` with the scene's field values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

FIELDS = ("title", "code", "studio", "parent_studio", "date", "year", "performers", "filename")
DEFAULT = "{title|code|filename}"


# A compiled template is a tuple of parts: literal text, a fallback chain or an optional group;
# frozen and hashable, so settings holding one stay comparable.
@dataclass(frozen=True)
class _Chain:
    names: tuple[str, ...]


@dataclass(frozen=True)
class _Optional:
    parts: tuple[_Chain | str, ...]


@dataclass(frozen=True)
class TitleFormat:
    """A compiled title template; `str()` gives the text it was written as."""

    source: str
    parts: tuple[_Chain | _Optional | str, ...]

    def __str__(self) -> str:
        return self.source

    @property
    def fields(self) -> frozenset[str]:
        """The fields the template names."""
        parts = [q for p in self.parts for q in (p.parts if isinstance(p, _Optional) else (p,))]
        return frozenset(name for p in parts if isinstance(p, _Chain) for name in p.names)

    def render(self, values: Mapping[str, str]) -> str:
        """The title for these field values (missing or blank = empty), spaces collapsed."""
        out: list[str] = []
        for part in self.parts:
            if isinstance(part, _Optional):
                pieces = [_value(p, values) for p in part.parts]
                if all(
                    p or isinstance(item, str) for p, item in zip(pieces, part.parts, strict=True)
                ):
                    out.extend(pieces)
            else:
                out.append(_value(part, values))
        return " ".join("".join(out).split())


def _value(part: _Chain | str, values: Mapping[str, str]) -> str:
    if isinstance(part, str):
        return part
    for name in part.names:
        value = (values.get(name) or "").strip()
        if value:
            return value
    return ""


def compile_format(text: str) -> TitleFormat:
    """Parse a template; raises ValueError with a reason a user can act on."""
    source = text.strip()
    if not source:
        raise ValueError("expected a template such as " + DEFAULT)
    top: list[_Chain | _Optional | str] = []
    group: list[_Chain | str] | None = None
    literal: list[str] = []
    fields_seen = 0

    def flush() -> None:
        if literal:
            (group if group is not None else top).append("".join(literal))
            literal.clear()

    i = 0
    while i < len(source):
        char = source[i]
        pair = source[i : i + 2]
        if pair in ("{{", "}}", "[[", "]]"):
            literal.append(char)
            i += 2
            continue
        if char == "{":
            end = source.find("}", i)
            if end < 0:
                raise ValueError(f"'{{' at position {i + 1} is never closed")
            flush()
            (group if group is not None else top).append(_chain(source[i + 1 : end]))
            fields_seen += 1
            i = end + 1
            continue
        if char == "}":
            raise ValueError(f"'}}' at position {i + 1} closes nothing (write '}}}}' for a brace)")
        if char == "[":
            if group is not None:
                raise ValueError(f"'[' at position {i + 1}: optional parts cannot nest")
            flush()
            group = []
            i += 1
            continue
        if char == "]":
            if group is None:
                raise ValueError(f"']' at position {i + 1} closes nothing (write ']]' for one)")
            flush()
            if not any(isinstance(p, _Chain) for p in group):
                raise ValueError("an optional part [...] must hold a {field}")
            top.append(_Optional(tuple(group)))
            group = None
            i += 1
            continue
        literal.append(char)
        i += 1
    if group is not None:
        raise ValueError("'[' is never closed")
    flush()
    if not fields_seen:
        raise ValueError("the template names no field; fields: " + ", ".join(FIELDS))
    return TitleFormat(source, tuple(top))


def _chain(inner: str) -> _Chain:
    names = tuple(name.strip().lower() for name in inner.split("|"))
    for name in names:
        if name not in FIELDS:
            shown = name or "(empty)"
            raise ValueError(f"unknown field {{{shown}}}; fields: " + ", ".join(FIELDS))
    return _Chain(names)


DEFAULT_FORMAT = compile_format(DEFAULT)
