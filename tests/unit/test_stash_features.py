"""The client speaks each Stash version's own API: the feature table and the documents it allows
(the version probe against a running sample Stash: integration/test_stash_probe.py)."""

from __future__ import annotations

import pytest
from graphql import graphql_sync, parse, validate

from stashplex.samplestash.schema import build_schema
from stashplex.samplestash.versions import RELEASE_LINES, StashVersion
from stashplex.stash import features, operations
from stashplex.stash.version import parse_version


@pytest.mark.parametrize("version", RELEASE_LINES)
def test_every_document_the_client_may_send_is_valid_on_that_version(version: str) -> None:
    """The sample's schema is checked against the release facts (test_samplestash_versions);
    every operation the feature table allows must pass its validation, and none is left out."""
    schema = build_schema(StashVersion.parse(version))
    found = features.for_version(parse_version(version) or (0, 0, 0))
    sent = [name for name in operations.OPERATIONS if operations.sendable(name, found)]
    for name in sent:
        errors = validate(schema, parse(operations.document(name, found)))
        assert not errors, f"{name} on {version}: {errors[0].message}"
    # Each feature-bound operation has a counterpart for the other side of its feature.
    kinds = {operations.NEEDS[name] for name in sent if name in operations.NEEDS}
    assert {feature for feature, _ in kinds} == {"id_lists", "groups"}


@pytest.mark.parametrize("version", RELEASE_LINES)
def test_introspection_finds_what_the_table_says(version: str) -> None:
    schema = build_schema(StashVersion.parse(version))
    answer = graphql_sync(schema, operations.document("Features"))
    assert answer.errors is None
    expected = features.for_version(parse_version(version) or (0, 0, 0))
    assert features.from_schema(answer.data) == expected


def test_feature_table_by_version() -> None:
    assert features.for_version((0, 24, 3)) == features.Features(
        id_lists=False, ffmpeg_path=False, groups=False, marker_end=False, studio_urls=False
    )
    assert features.for_version((0, 26, 0)).names() == ["id_lists", "ffmpeg_path"]
    assert (
        features.for_version((0, 27, 2)).groups and not features.for_version((0, 27, 2)).marker_end
    )
    assert features.for_version((0, 30, 1)) == features.NEWEST
    assert features.from_schema({"query": None}) is None  # introspection off


def test_a_document_for_the_other_generation_is_refused_before_it_goes_out() -> None:
    old = features.for_version((0, 24, 0))
    with pytest.raises(operations.Unsupported, match="FindScenesByIds"):
        operations.document("FindScenesByIds", old)
    with pytest.raises(operations.Unsupported, match="FindMovies"):
        operations.document("FindMovies", features.NEWEST)
