"""Load ``schema.graphql`` for one Stash version.

The SDL marks version-dependent definitions with ``@since``/``@until``; here the ones
outside the served version are dropped and the two directives removed, so validation and
introspection look exactly like that version's schema.
"""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache
from importlib.resources import files
from typing import Any, TypeVar

from graphql import GraphQLSchema, build_ast_schema, parse
from graphql.language import DirectiveDefinitionNode, DocumentNode, Node, StringValueNode

from .versions import StashVersion, parse_version

N = TypeVar("N", bound=Node)

_OURS = ("since", "until")


def _present(node: Any, version: tuple[int, int, int]) -> bool:
    for directive in getattr(node, "directives", None) or ():
        if directive.name.value not in _OURS:
            continue
        arg = directive.arguments[0].value
        assert isinstance(arg, StringValueNode)
        bound = parse_version(arg.value)
        if directive.name.value == "since" and version < bound:
            return False
        if directive.name.value == "until" and version >= bound:
            return False
    return True


def _prune(node: N, version: tuple[int, int, int]) -> N:
    changes: dict[str, Any] = {}
    for key in ("fields", "arguments", "values"):
        children = getattr(node, key, None)
        if children:
            changes[key] = tuple(_prune(c, version) for c in children if _present(c, version))
    directives = getattr(node, "directives", None)
    if directives:
        changes["directives"] = tuple(d for d in directives if d.name.value not in _OURS)
    return replace(node, **changes) if changes else node


def sdl_for(version: StashVersion) -> DocumentNode:
    source = files(__package__).joinpath("schema.graphql").read_text(encoding="utf-8")
    document = parse(source)
    definitions = tuple(
        _prune(d, version.number)
        for d in document.definitions
        if _present(d, version.number)
        and not (isinstance(d, DirectiveDefinitionNode) and d.name.value in _OURS)
    )
    return replace(document, definitions=definitions)


@lru_cache(maxsize=16)
def build_schema(version: StashVersion) -> GraphQLSchema:
    """The executable schema (without resolvers) for ``version``; cached per version."""
    return build_ast_schema(sdl_for(version))
