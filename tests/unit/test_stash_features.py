"""The client speaks each Stash version's own API: the feature table, the documents it allows,
and how the version probe treats development builds and a Stash that is not ready."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest
from graphql import graphql_sync, parse, validate

from stashplex.samplestash import SampleStash
from stashplex.samplestash.schema import build_schema
from stashplex.samplestash.versions import StashVersion
from stashplex.stash import features, operations
from stashplex.stash.client import StashClient
from stashplex.stash.errors import StashDataError, StashNotReady
from stashplex.stash.version import parse_version, probe
from tests.integration.test_samplestash_versions import VERSIONS


def client_for(stash: SampleStash) -> StashClient:
    return StashClient(stash.url, timeout=5, backoff=0.01)


@pytest.mark.parametrize("version", VERSIONS)
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


@pytest.mark.parametrize("version", VERSIONS)
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


@pytest.mark.parametrize("version", ["v0.24.0", "v0.25.0"])
def test_scenes_by_id_on_either_side_of_v025(
    sample_stash_factory: Callable[..., SampleStash], version: str
) -> None:
    stash = sample_stash_factory(stash_version=version, scenes=12)
    with client_for(stash) as client:
        probe(client)
        assert client.features.id_lists is (version != "v0.24.0")
        assert [s["id"] for s in client.find_scenes_by_ids([4, 2])] == ["4", "2"]
        assert client.find_scenes_by_ids([]) == []  # never "no id filter", which is everything
        with pytest.raises(StashDataError, match="99"):
            client.find_scenes_by_ids([1, 99])


def test_a_development_build_without_a_version_is_asked_its_schema_and_told_once(
    sample_stash_factory: Callable[..., SampleStash], caplog: pytest.LogCaptureFixture
) -> None:
    stash = sample_stash_factory(stash_version="v0.24.0", scenes=4)
    stash.control("report_version", {"text": None})
    caplog.set_level(logging.INFO, logger="stashplex.stash.version")
    with client_for(stash) as first, client_for(stash) as second:
        info = probe(first)
        probe(first)
        probe(second)  # the responder's client probes too: still one line
    assert info.version == "unknown" and info.numbers is None
    assert info.features == features.for_version((0, 24, 0))
    assert not second.features.groups and not second.features.id_lists
    told = [r for r in caplog.records if "reports no version" in r.getMessage()]
    assert len(told) == 1 and told[0].levelno == logging.WARNING
    assert "development build" in told[0].getMessage()


def test_a_build_between_releases_is_asked_its_schema(
    sample_stash_factory: Callable[..., SampleStash], caplog: pytest.LogCaptureFixture
) -> None:
    # Groups landed on the way to v0.27.0: a v0.26.2-40-g… build may already have them.
    stash = sample_stash_factory(stash_version="v0.27.0", scenes=4)
    stash.control("report_version", {"text": "v0.26.2-40-g0123abc"})
    caplog.set_level(logging.INFO, logger="stashplex.stash.version")
    with client_for(stash) as client:
        info = probe(client)
    assert info.numbers == (0, 26, 2) and info.has_groups
    assert any("v0.26.2-40-g0123abc" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(
    ("status", "words"),
    [
        ("SETUP", "is not set up yet (status SETUP): finish its setup"),
        ("NEEDS_MIGRATION", "needs a database migration (status NEEDS_MIGRATION)"),
    ],
)
def test_a_stash_that_is_not_ready_says_what_to_do(
    sample_stash_factory: Callable[..., SampleStash], status: str, words: str
) -> None:
    stash = sample_stash_factory(scenes=4)
    stash.control("set_status", {"status": status})
    with client_for(stash) as client, pytest.raises(StashNotReady) as raised:
        probe(client)
    message = str(raised.value)
    assert words in message and stash.url in message and "\n" not in message
