"""GraphQL operations sent to Stash, one `.graphql` file each, read once at import.

Operations spell out fragment spreads (`...SceneFields`); `document()` appends the fragment
definitions they need. Stash before v0.27 has movies where later versions have groups: those
fragments have a second version under `fragments/before_v027/`, picked with `legacy=True`.
Nothing here ever formats values into a query: every value travels as a GraphQL variable.
"""

from __future__ import annotations

import re
from importlib import resources

_SPREAD = re.compile(r"\.\.\.\s*([_A-Za-z][_0-9A-Za-z]*)")


def _read_dir(*parts: str) -> dict[str, str]:
    folder = resources.files(__name__).joinpath(*parts)
    return {
        entry.name.removesuffix(".graphql"): entry.read_text(encoding="utf-8")
        for entry in folder.iterdir()
        if entry.name.endswith(".graphql")
    }


OPERATIONS: dict[str, str] = _read_dir()
FRAGMENTS: dict[str, str] = _read_dir("fragments")
LEGACY_FRAGMENTS: dict[str, str] = {**FRAGMENTS, **_read_dir("fragments", "before_v027")}


def document(name: str, *, legacy: bool = False) -> str:
    """The full GraphQL document for operation `name`, with the fragments it spreads."""
    try:
        text = OPERATIONS[name]
    except KeyError:
        raise KeyError(f"no GraphQL operation named {name!r}") from None
    fragments = LEGACY_FRAGMENTS if legacy else FRAGMENTS
    needed: list[str] = []
    pending = _SPREAD.findall(text)
    while pending:
        fragment = pending.pop()
        if fragment in needed:
            continue
        if fragment not in fragments:
            raise KeyError(f"operation {name!r} spreads unknown fragment {fragment!r}")
        needed.append(fragment)
        pending.extend(_SPREAD.findall(fragments[fragment]))
    return "\n".join([text, *(fragments[f] for f in sorted(needed))])
