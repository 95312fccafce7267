"""The sample Stash's schema per pretend-version, checked against a table of the facts.

The facts were read from each release's graphql/schema in stashapp/stash (see stash-api.md):
a field or argument is served from the first release that has it to the last one, with the
release's own type, so a document valid on the sample is valid on that release and one the
release refuses is refused by the sample.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from graphql import GraphQLField, GraphQLInputField, GraphQLSchema

from stashplex.samplestash import SampleStash
from stashplex.samplestash.schema import build_schema
from stashplex.samplestash.versions import RELEASE_LINES, StashVersion

VERSIONS = RELEASE_LINES
V025, V026, V027, V028, V030 = (0, 25, 0), (0, 26, 0), (0, 27, 0), (0, 28, 0), (0, 30, 0)
ALWAYS = None

# (type, field, argument or None, type as the release declares it, since, until)
FACTS: tuple[tuple[str, str, str | None, str, tuple | None, tuple | None], ...] = (
    ("Query", "findScenes", "ids", "[ID!]", V025, None),
    ("Query", "findScenes", "scene_ids", "[Int!]", ALWAYS, None),
    ("Query", "findPerformers", "ids", "[ID!]", V025, None),
    ("Query", "findPerformers", "performer_ids", "[Int!]", ALWAYS, None),
    ("Query", "findStudios", "ids", "[ID!]", V025, None),
    ("Query", "findTags", "ids", "[ID!]", V025, None),
    ("Query", "findMovies", "ids", "[ID!]", V025, None),
    ("Query", "findGroups", "ids", "[ID!]", V027, None),
    ("Query", "findScene", "id", "ID", ALWAYS, None),
    ("Query", "findStudio", "id", "ID!", ALWAYS, None),
    ("Query", "findMovie", None, "Movie", ALWAYS, None),
    ("Query", "findGroup", None, "Group", V027, None),
    ("Query", "findGroups", None, "FindGroupsResultType!", V027, None),
    ("SystemStatus", "ffmpegPath", None, "String", V026, None),
    ("SystemStatus", "ffprobePath", None, "String", V026, None),
    ("SystemStatus", "status", None, "SystemStatusEnum!", ALWAYS, None),
    ("SystemStatus", "os", None, "String!", ALWAYS, None),
    ("Version", "version", None, "String", ALWAYS, None),
    ("Scene", "groups", None, "[SceneGroup!]!", V027, None),
    ("Scene", "movies", None, "[SceneMovie!]!", ALWAYS, None),
    ("Scene", "urls", None, "[String!]!", ALWAYS, None),
    ("SceneFilterType", "groups", None, "HierarchicalMultiCriterionInput", V027, None),
    ("SceneFilterType", "movies", None, "MultiCriterionInput", ALWAYS, None),
    ("SceneFilterType", "files_filter", None, "FileFilterType", V030, None),
    ("MovieFilterType", "AND", None, "MovieFilterType", V027, None),
    ("MovieFilterType", "OR", None, "MovieFilterType", V027, None),
    ("MovieFilterType", "NOT", None, "MovieFilterType", V027, None),
    ("MovieFilterType", "updated_at", None, "TimestampCriterionInput", ALWAYS, None),
    ("SceneMarker", "end_seconds", None, "Float", V028, None),
    ("Studio", "urls", None, "[String!]!", V030, None),
    ("Studio", "url", None, "String", ALWAYS, None),
    ("Movie", "urls", None, "[String!]!", V027, None),
    ("SceneUpdateInput", "groups", None, "[SceneGroupInput!]", V027, None),
    # What Stash's plugins read of the configuration (their settings).
    ("ConfigResult", "plugins", None, "Map!", ALWAYS, V025),
    ("ConfigResult", "plugins", "include", "[String!]", ALWAYS, V025),
    ("ConfigResult", "plugins", None, "PluginConfigMap!", V025, None),
    ("ConfigResult", "plugins", "include", "[ID!]", V025, None),
)


def _lookup(schema: GraphQLSchema, type_name: str, field: str, arg: str | None) -> str | None:
    owner = schema.type_map.get(type_name)
    found: GraphQLField | GraphQLInputField | None = (
        getattr(owner, "fields", {}).get(field) if owner else None
    )
    if found is None:
        return None
    if arg is None:
        return str(found.type)
    argument = getattr(found, "args", {}).get(arg)
    return None if argument is None else str(argument.type)


@pytest.mark.parametrize("version", VERSIONS)
def test_schema_has_exactly_the_facts_of_its_version(version: str) -> None:
    served = StashVersion.parse(version)
    schema = build_schema(served)
    # What this version declares: a type per (type, field, argument), or nothing at all.
    expected: dict[tuple[str, str, str | None], str | None] = {}
    for type_name, field, arg, declared, since, until in FACTS:
        expected.setdefault((type_name, field, arg), None)
        if (since is None or served.number >= since) and (until is None or served.number < until):
            expected[type_name, field, arg] = declared
    wrong = []
    for (type_name, field, arg), declared in expected.items():
        actual = _lookup(schema, type_name, field, arg)
        if actual != declared:
            where = f"{type_name}.{field}" + (f"({arg})" if arg else "")
            wrong.append(f"{where}: {version} declares {declared}, the sample serves {actual}")
    assert not wrong, "\n".join(wrong)


def test_the_marks_are_gone_from_the_served_schema() -> None:
    for version in VERSIONS:
        schema = build_schema(StashVersion.parse(version))
        assert {d.name for d in schema.directives}.isdisjoint({"since", "until"})


def post(stash: SampleStash, query: str) -> httpx.Response:
    return httpx.post(
        stash.url + "/graphql",
        json={"query": query},
        headers={"Accept": "application/json"},
        timeout=10,
    )


def test_v024_refuses_ids_and_takes_scene_ids_over_http(
    sample_stash_factory: Callable[..., SampleStash],
) -> None:
    stash = sample_stash_factory(stash_version="v0.24.0", scenes=12)
    refused = post(stash, '{ findScenes(ids: ["1"]) { count } }')
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert post(stash, "{ systemStatus { ffmpegPath } }").status_code == 422
    scenes = post(stash, "{ findScenes(scene_ids: [3, 1]) { scenes { id } } }").json()["data"]
    assert [s["id"] for s in scenes["findScenes"]["scenes"]] == ["3", "1"]
    missing = post(stash, "{ findScenes(scene_ids: [1, 999]) { scenes { id } } }").json()
    assert missing["data"] is None and "999" in missing["errors"][0]["message"]
    performers = post(stash, "{ findPerformers(performer_ids: [2]) { performers { id } } }")
    assert performers.json()["data"]["findPerformers"]["performers"] == [{"id": "2"}]


def test_end_seconds_and_group_filter_types_over_http(
    sample_stash_factory: Callable[..., SampleStash],
) -> None:
    marker = "{ findScenes(filter: {per_page: 1}) { scenes { scene_markers { end_seconds } } } }"
    by_group = """{ findScenes(scene_filter: {groups: {value: ["1"], modifier: INCLUDES,
        depth: 0}}) { count } }"""
    v027 = sample_stash_factory(stash_version="v0.27.0", scenes=12)
    assert post(v027, marker).status_code == 422
    assert post(v027, by_group).status_code == 200  # depth: a hierarchical criterion
    v028 = sample_stash_factory(stash_version="v0.28.0", scenes=12)
    assert post(v028, marker).status_code == 200


def test_status_and_version_can_be_set(sample_stash_factory: Callable[..., SampleStash]) -> None:
    stash = sample_stash_factory(scenes=4)
    stash.control("set_status", {"status": "NEEDS_MIGRATION"})
    stash.control("report_version", {"text": None})
    data = post(stash, "{ version { version } systemStatus { status } }").json()["data"]
    assert data == {"version": {"version": None}, "systemStatus": {"status": "NEEDS_MIGRATION"}}
    with pytest.raises(ValueError, match="status must be"):
        stash.control("set_status", {"status": "BROKEN"})


def test_windows_root_can_be_chosen(sample_stash_factory: Callable[..., SampleStash]) -> None:
    stash = sample_stash_factory(scenes=4, os_name="windows", root="C:\\Media")
    data = post(stash, "{ findScenes(scene_ids: [1]) { scenes { files { path } } } }").json()
    path = data["data"]["findScenes"]["scenes"][0]["files"][0]["path"]
    assert path.startswith("C:\\Media\\Sample Traps\\")
