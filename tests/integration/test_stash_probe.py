"""The version probe against a sample Stash: features by version, development builds (told
once), a Stash that is not ready, and scenes by id on either side of v0.25."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest

from stashplex.samplestash import SampleStash
from stashplex.stash import features
from stashplex.stash.client import StashClient
from stashplex.stash.errors import StashDataError, StashNotReady
from stashplex.stash.version import probe


def client_for(stash: SampleStash) -> StashClient:
    return StashClient(stash.url, timeout=5, backoff=0.01)


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
    assert info.version == "development build" and info.numbers is None
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
