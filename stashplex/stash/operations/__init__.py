"""GraphQL operations sent to Stash, one `.graphql` file each, read once at import.

Operations spell out fragment spreads (`...SceneFields`); `document()` appends the fragment
definitions they need. Stash before v0.27 has movies where later versions have groups: those
fragments have a second version under `fragments/before_v027/`, used on a Stash without the
`groups` feature. Operations that exist only on some versions say so in `NEEDS`, and
`document()` refuses to build them for a Stash without what they name, so nothing invalid on
the running version can go out. Nothing here ever formats values into a query: every value
travels as a GraphQL variable.
"""

from __future__ import annotations

import re
from importlib import resources

from stashplex.stash.features import NEWEST, Features

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
# On a Stash without the feature, these fragments replace those of the same name.
FRAGMENTS_WITHOUT: dict[str, dict[str, str]] = {"groups": _read_dir("fragments", "before_v027")}

# Operations sent only to a Stash with (True) or without (False) a feature. Every other
# operation is valid on every supported version (v0.24.0 and newer).
NEEDS: dict[str, tuple[str, bool]] = {
    "FindScenesByIds": ("id_lists", True),
    "FindScenesBySceneIds": ("id_lists", False),
    "FindGroup": ("groups", True),
    "FindGroups": ("groups", True),
    "SweepGroups": ("groups", True),
    "FindMovie": ("groups", False),
    "FindMovies": ("groups", False),
    "SweepMovies": ("groups", False),
}


class Unsupported(ValueError):
    """An operation asked of a Stash version it is not valid on (a bug in the caller)."""


def sendable(name: str, features: Features) -> bool:
    need = NEEDS.get(name)
    return need is None or getattr(features, need[0]) is need[1]


def document(name: str, features: Features = NEWEST) -> str:
    """The full GraphQL document for operation `name` on a Stash with `features`."""
    try:
        text = OPERATIONS[name]
    except KeyError:
        raise KeyError(f"no GraphQL operation named {name!r}") from None
    if not sendable(name, features):
        feature, wanted = NEEDS[name]
        state = "without" if wanted else "with"
        raise Unsupported(f"operation {name} is not valid on a Stash {state} {feature}")
    fragments = dict(FRAGMENTS)
    for feature, replacements in FRAGMENTS_WITHOUT.items():
        if not getattr(features, feature):
            fragments.update(replacements)
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
