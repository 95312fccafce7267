"""GraphQL request handling: parse/validate (cached), execute fast, answer like gqlgen.

Execution uses graphql-core with one shortcut: when a resolver returns rows (see rows.py),
the selection set is compiled once per request into a small Python function that copies
the selected keys, instead of resolving every field of every row through the executor.
That keeps a 500-scene page with all fields at a few tens of milliseconds. Anything the
projector does not understand (arguments, abstract types, ``@defer``) falls back to the
normal executor.
"""

from __future__ import annotations

import json
import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from graphql import (
    DocumentNode,
    GraphQLError,
    GraphQLObjectType,
    GraphQLResolveInfo,
    GraphQLSchema,
    GraphQLSyntaxError,
    execute,
    get_named_type,
    is_leaf_type,
    is_list_type,
    is_non_null_type,
    is_object_type,
    parse,
    validate,
)
from graphql.execution import Executor

from .gql_rows import ROW_TYPES, RowBuilder
from .library import Library
from .resolvers import ERRORS, Context, attach
from .schema import build_schema

_QUOTED_NAME = re.compile(r"'([$_A-Za-z][_0-9A-Za-z.]*)'")
_CACHE_SIZE = 256


def row_resolver(source: Any, info: GraphQLResolveInfo, **args: Any) -> Any:
    """Default resolver: ``source[field]`` (so lazy rows fill in), thunks are called."""
    try:
        value = source[info.field_name]
    except (KeyError, TypeError):
        value = getattr(source, info.field_name, None)
    if callable(value):
        return value(info, **args)
    return value


class ProjectingExecutor(Executor):
    """graphql-core's executor, copying row values straight into the response."""

    def complete_object_value(self, return_type, field_details_list, info, path, result, pc):  # type: ignore[no-untyped-def]
        if type(result) in ROW_TYPES:
            project = self._projector(return_type, field_details_list)
            if project is not None:
                return project(result)
        return super().complete_object_value(
            return_type, field_details_list, info, path, result, pc
        )

    def complete_list_value(self, return_type, field_details_list, info, path, result, pc):  # type: ignore[no-untyped-def]
        item_type = return_type.of_type
        inner = item_type.of_type if is_non_null_type(item_type) else item_type
        if (
            type(result) is list
            and is_object_type(inner)
            and all(type(x) in ROW_TYPES for x in result)
        ):
            project = self._projector(inner, field_details_list)
            if project is not None:
                return [project(x) for x in result]
        return super().complete_list_value(return_type, field_details_list, info, path, result, pc)

    def _projector(
        self, object_type: GraphQLObjectType, field_details_list: Any
    ) -> Callable[[Any], dict[str, Any]] | None:
        cache: dict[Any, Any] = self.__dict__.setdefault("_projectors", {})
        key = (object_type.name, id(field_details_list))
        if key in cache:
            return cache[key][1]
        project = self._compile(object_type, field_details_list)
        cache[key] = (field_details_list, project)  # keep the list alive: its id is the key
        return project

    def _compile(
        self, object_type: GraphQLObjectType, field_details_list: Any
    ) -> Callable[[Any], dict[str, Any]] | None:
        if object_type.is_type_of is not None:
            return None
        collected = self.collect_subfields(object_type, field_details_list)
        if collected.new_defer_usages:
            return None
        parts: list[str] = []
        namespace: dict[str, Any] = {}
        for i, (response_key, details) in enumerate(collected.grouped_field_set.items()):
            node = details[0].node
            name = node.name.value
            if name == "__typename":
                parts.append(f"{response_key!r}: {object_type.name!r}")
                continue
            field = object_type.fields.get(name)
            if field is None:
                continue
            if field.args or node.arguments or field.resolve is not None:
                return None
            field_type = field.type
            if is_non_null_type(field_type):
                field_type = field_type.of_type
            named = get_named_type(field_type)
            if is_leaf_type(named):
                parts.append(f"{response_key!r}: d[{name!r}]")
                continue
            if not is_object_type(named):
                return None
            sub = self._projector(named, details)
            if sub is None:
                return None
            helper = f"_p{i}"
            namespace[helper] = sub
            if is_list_type(field_type):
                parts.append(
                    f"{response_key!r}: None if (v := d[{name!r}]) is None"
                    f" else [{helper}(x) for x in v]"
                )
            else:
                parts.append(
                    f"{response_key!r}: None if (v := d[{name!r}]) is None else {helper}(v)"
                )
        # Names are GraphQL names (validated) and emitted through repr(): safe to compile.
        source = "def project(d):\n    return {" + ", ".join(parts) + "}\n"
        exec(compile(source, f"<projector {object_type.name}>", "exec"), namespace)
        return namespace["project"]


class Engine:
    """Runs GraphQL requests against one library."""

    def __init__(self, lib: Library) -> None:
        self.lib = lib
        self.schema: GraphQLSchema = attach(build_schema(lib.version))
        # Stash serves group images under /group/ from v0.27 (when Group exists), /movie/ before.
        self.group_route = "group" if "Group" in self.schema.type_map else "movie"
        self._documents: OrderedDict[str, tuple[DocumentNode | None, list[dict[str, Any]], str]]
        self._documents = OrderedDict()
        self._documents_lock = threading.Lock()
        self._shared_key: tuple[int, str] | None = None
        self._shared: dict[tuple[str, int], Any] = {}

    def _shared_rows(self, base_url: str) -> dict[tuple[str, int], Any]:
        """Entity rows reused across requests until the library or the base URL changes."""
        key = (self.lib.generation, base_url)
        if key != self._shared_key:
            self._shared_key, self._shared = key, {}
        return self._shared

    def _prepare(self, query: str) -> tuple[DocumentNode | None, list[dict[str, Any]], str]:
        """(document, request errors, error code), cached by query text."""
        with self._documents_lock:
            hit = self._documents.get(query)
            if hit is not None:
                self._documents.move_to_end(query)
                return hit
        try:
            document: DocumentNode | None = parse(query)
        except GraphQLSyntaxError as err:
            result: tuple[DocumentNode | None, list[dict[str, Any]], str] = (
                None,
                [_format(err, "GRAPHQL_PARSE_FAILED")],
                "GRAPHQL_PARSE_FAILED",
            )
        else:
            assert document is not None
            errors = validate(self.schema, document)
            code = "GRAPHQL_VALIDATION_FAILED"
            result = (document, [_format(e, code) for e in errors], code)
        with self._documents_lock:
            self._documents[query] = result
            if len(self._documents) > _CACHE_SIZE:
                self._documents.popitem(last=False)
        return result

    def run(
        self, payload: Any, base_url: str, api_key: str | None, accept_json: bool
    ) -> tuple[int, dict[str, Any]]:
        """Execute a decoded request body; returns (HTTP status, response object)."""
        reject = 400 if self.lib.version.validation_400_unless_json and not accept_json else 422
        if not isinstance(payload, dict):
            return 400, _errors([{"message": "json request body could not be decoded"}])
        query = payload.get("query")
        if not isinstance(query, str) or not query.strip():
            error = {"message": "no operation provided"}
            error["extensions"] = {"code": "GRAPHQL_VALIDATION_FAILED"}  # type: ignore[assignment]
            return reject, _errors([error])
        document, errors, _code = self._prepare(query)
        if errors or document is None:
            return reject, _errors(errors)
        variables = payload.get("variables")
        if variables is not None and not isinstance(variables, dict):
            return 400, _errors([{"message": "variables must be an object"}])
        with self.lib.lock:
            rows = RowBuilder(
                self.lib, base_url, api_key, self._shared_rows(base_url), self.group_route
            )
            context = Context(self.lib, rows)
            result = execute(
                self.schema,
                document,
                context_value=context,
                variable_values=variables,
                operation_name=payload.get("operationName") or None,
                field_resolver=row_resolver,
                executor_class=ProjectingExecutor,
            )
        assert not hasattr(result, "__await__")
        if result.errors and result.data is None and all(e.path is None for e in result.errors):
            # Variable coercion or operation selection: a request error, like validation.
            return reject, _errors([_format(e, "GRAPHQL_VALIDATION_FAILED") for e in result.errors])
        body: dict[str, Any] = {}
        if result.errors:
            body["errors"] = [_resolver_error(e) for e in result.errors]
        body["data"] = result.data
        return 200, body


def _format(error: GraphQLError, code: str) -> dict[str, Any]:
    """gqlparser-style message (double quotes, no "Syntax Error:" prefix) plus code."""
    message = error.message
    if message.startswith("Syntax Error: "):
        message = message[len("Syntax Error: ") :]
    out: dict[str, Any] = {"message": _QUOTED_NAME.sub(r'"\1"', message)}
    if error.locations:
        out["locations"] = [{"line": loc.line, "column": loc.column} for loc in error.locations]
    out["extensions"] = {"code": code}
    return out


def _resolver_error(error: GraphQLError) -> dict[str, Any]:
    original = error.original_error
    message = str(original) if isinstance(original, ERRORS) else error.message
    out: dict[str, Any] = {"message": message}
    if error.path is not None:
        out["path"] = error.path
    if error.locations:
        out["locations"] = [{"line": loc.line, "column": loc.column} for loc in error.locations]
    return out


def _errors(errors: list[dict[str, Any]]) -> dict[str, Any]:
    return {"errors": errors, "data": None}


def dumps(body: dict[str, Any]) -> bytes:
    # ASCII escapes: same JSON, and the C encoder's fastest path.
    return json.dumps(body, separators=(",", ":")).encode("ascii")
