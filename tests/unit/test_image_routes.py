"""The image routes' HTTP side, over a cached image: ids checked by the route, conditional GET,
files streamed from disk."""

from __future__ import annotations

import io
from datetime import timedelta
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

import pytest

from stashplex.plex.identity import MAX_ID
from tests.plugins.webkit import Provider

JPEG = b"\xff\xd8\xff\xe0" + bytes(4000)
PATH = "/stash/scene/1/screenshot"


@pytest.fixture
def provider(hand_provider) -> Provider:
    provider = hand_provider()
    # Scene 1's screenshot version in the hand-built mirror: served from the cache, no Stash.
    provider.app.images.cache.put("scene", 1, "1700000000", JPEG)
    return provider


@pytest.mark.parametrize(
    "entity_id", ["abc", "0", "-1", "+1", "1_0", "١", " 1", "1.0", str(MAX_ID + 1), "9" * 40]
)
def test_an_id_that_is_not_a_stash_id_is_a_json_404_with_the_reason(
    provider: Provider, entity_id: str
) -> None:
    response = provider.client.simulate_get(f"/stash/scene/{entity_id}/screenshot")
    assert response.status_code == 404
    error = response.json["error"]
    assert error["status"] == 404 and "whole numbers" in error["reason"]


def test_other_unknown_paths_stay_plain_404s(provider: Provider) -> None:
    response = provider.client.simulate_get("/stash/scene/1/elsewhere")
    assert response.status_code == 404 and "reason" not in response.json["error"]


def test_the_file_is_streamed_from_disk(provider: Provider) -> None:
    wrapped: list[Any] = []

    def file_wrapper(stream: Any, block_size: int = 8192) -> Any:
        wrapped.append(stream)
        return iter(lambda: stream.read(block_size), b"")

    response = provider.client.simulate_get(PATH, file_wrapper=file_wrapper)
    assert response.status_code == 200 and response.content == JPEG
    assert response.headers["content-type"] == "image/jpeg"
    assert response.headers["content-length"] == str(len(JPEG))
    (stream,) = wrapped
    assert isinstance(stream, io.BufferedReader)  # the cached file itself, never read whole
    head = provider.client.simulate_head(PATH)
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == str(len(JPEG))


def test_conditional_get(provider: Provider) -> None:
    client = provider.client
    first = client.simulate_get(PATH)
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    assert etag.startswith('"')
    for if_none_match in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        response = client.simulate_get(PATH, headers={"If-None-Match": if_none_match})
        assert response.status_code == 304 and response.content == b"", if_none_match
        assert response.headers["etag"] == etag
    assert client.simulate_get(PATH, headers={"If-None-Match": '"other"'}).status_code == 200
    assert client.simulate_get(PATH, headers={"If-Modified-Since": modified}).status_code == 304
    past = format_datetime(parsedate_to_datetime(modified) - timedelta(days=1), usegmt=True)
    assert client.simulate_get(PATH, headers={"If-Modified-Since": past}).status_code == 200
    # A malformed date is no validator (RFC 9110), not a 400.
    assert client.simulate_get(PATH, headers={"If-Modified-Since": "soon"}).status_code == 200
    # If-None-Match decides when both are sent.
    both = {"If-None-Match": '"other"', "If-Modified-Since": modified}
    assert client.simulate_get(PATH, headers=both).status_code == 200
