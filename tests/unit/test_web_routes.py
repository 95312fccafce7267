"""Routes through falcon.testing over a hand-built mirror: identity, JSON errors, base URLs."""

from __future__ import annotations

import json
import re

import falcon
import pytest

from stashplex.plex.identity import parse_scene_guid
from tests.plugins.webkit import GUID_PREFIX, IDENTIFIER, Provider

RATING_KEY = re.compile(r"[A-Za-z0-9_-]+")


@pytest.fixture
def provider(hand_provider) -> Provider:
    return hand_provider()


def assert_json_error(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json
    assert body["error"]["status"] == status
    assert "Traceback" not in response.text and "<html" not in response.text.lower()
    return body


def test_provider_description(provider: Provider) -> None:
    response = provider.client.simulate_get("/", params={"includePreferences": "1", "x": "y"})
    assert response.status_code == 200
    media = response.json["MediaProvider"]
    assert media["identifier"] == IDENTIFIER
    assert re.fullmatch(r"tv\.plex\.agents\.custom\.[A-Za-z0-9.]+", media["identifier"])
    assert media["title"] == "Stash (stashplex)"
    assert media["Types"] == [{"type": 1, "Scheme": [{"scheme": IDENTIFIER}]}]
    features = {f["type"]: f["key"] for f in media["Feature"]}
    assert features == {"metadata": "/library/metadata", "match": "/library/metadata/matches"}


BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.mark.parametrize("path", ["/", "/tv"])
def test_a_browser_opening_the_provider_address_is_sent_to_the_status_page(
    provider: Provider, path: str
) -> None:
    response = provider.client.simulate_get(path, headers={"Accept": BROWSER})
    assert response.status_code == 302
    assert response.headers["location"] == "/status"
    assert "Accept" in response.headers["vary"]


@pytest.mark.parametrize(
    ("headers", "query"),
    [
        ({}, None),  # no Accept at all
        ({"Accept": "*/*"}, None),  # curl, httpx
        ({"Accept": "application/json"}, None),
        ({"Accept": "application/json, text/html"}, None),  # JSON first
        ({"Accept": "application/vnd.plex+json,text/html"}, None),
        ({"Accept": "text/html;q=0, application/json"}, None),  # HTML refused
        ({"Accept": BROWSER, "User-Agent": "PlexMediaServer/1.43.0.10162"}, None),
        ({"Accept": BROWSER}, {"includePreferences": "1"}),  # PMS adds a query string
    ],
)
def test_pms_and_everything_but_a_browser_get_the_description(
    provider: Provider, headers: dict[str, str], query: dict[str, str] | None
) -> None:
    for path in ("/", "/tv"):
        response = provider.client.simulate_get(path, headers=headers, params=query)
        assert response.status_code == 200, (path, headers)
        assert "MediaProvider" in response.json


def test_metadata_identity_rules(provider: Provider) -> None:
    response = provider.client.simulate_get("/library/metadata/scene-1")
    assert response.status_code == 200
    container = response.json["MediaContainer"]
    assert (container["size"], container["totalSize"], container["identifier"]) == (
        1,
        1,
        IDENTIFIER,
    )
    (item,) = container["Metadata"]
    assert item["guid"] == GUID_PREFIX + "scene-1"
    assert item["ratingKey"] == item["guid"].rsplit("/", 1)[-1]
    assert RATING_KEY.fullmatch(item["ratingKey"])
    assert item["key"] == "/library/metadata/scene-1"
    assert item["type"] == "movie"
    assert item["originallyAvailableAt"] == "2024-01-02"
    assert item["duration"] == 61500
    assert parse_scene_guid(item["guid"]) == 1


def test_seed_keys_still_refresh(provider: Provider) -> None:
    legacy = provider.client.simulate_get("/library/metadata/stash-video-2")
    assert legacy.status_code == 200
    (item,) = legacy.json["MediaContainer"]["Metadata"]
    # Answered with the canonical identity, so PMS stores a guid in our scheme from now on.
    assert item["ratingKey"] == "scene-2" and item["guid"] == GUID_PREFIX + "scene-2"
    assert item["title"] == "ABC-2"


@pytest.mark.parametrize(
    "key",
    [
        "scene-999",
        "scene-0",
        "scene-01",
        "scene-",
        "scene-abc",
        "movie-1",
        "scene-1x",
        "scene-99999999999999999999999",
        "stash-video-",
        "%00",
        "scene-1%0A",
        "..",
        "scene-١",  # an Arabic-Indic digit
    ],
)
def test_unknown_or_malformed_keys_are_json_404(provider: Provider, key: str) -> None:
    for suffix in ("", "/images", "/extras"):
        response = provider.client.simulate_get(f"/library/metadata/{key}{suffix}")
        assert_json_error(response, 404)


def test_image_urls_follow_the_request_host(provider: Provider) -> None:
    response = provider.client.simulate_get(
        "/library/metadata/scene-1", headers={"Host": "192.168.1.81:7979"}
    )
    item = response.json["MediaContainer"]["Metadata"][0]
    assert item["thumb"] == "http://192.168.1.81:7979/stash/scene/1/screenshot?v=1700000000"
    assert item["art"] == item["thumb"]
    roles = {role["tag"]: role for role in item["Role"]}
    assert roles["Jane"]["thumb"] == "http://192.168.1.81:7979/stash/performer/1/image?v=11"
    assert "thumb" not in roles["John"]  # no real image: no URL
    assert "\\u0000" not in response.text and "\x00" not in response.text


@pytest.mark.parametrize(
    "host",
    [
        "evil.example/path?x=",
        "a b",
        'x"y',
        "host:99999",
        "[not-ipv6]",
        "host:80:80",
        "a" * 300,
        "",
        "-bad-.example",
    ],
)
def test_malformed_host_falls_back_to_the_listening_address(provider: Provider, host: str) -> None:
    response = provider.client.simulate_get("/library/metadata/scene-1", headers={"Host": host})
    assert response.status_code == 200
    thumb = response.json["MediaContainer"]["Metadata"][0]["thumb"]
    assert thumb.startswith("http://127.0.0.1:7979/stash/scene/1/")


@pytest.mark.parametrize("host", ["nas.local:7979", "[fe80::1]:7979", "10.0.0.2", "Plex-Box"])
def test_wellformed_hosts_are_used(provider: Provider, host: str) -> None:
    response = provider.client.simulate_get("/library/metadata/scene-1", headers={"Host": host})
    thumb = response.json["MediaContainer"]["Metadata"][0]["thumb"]
    assert thumb.startswith(f"http://{host.lower()}/stash/scene/1/")


def test_agent_base_url_wins_over_host(hand_provider) -> None:
    provider = hand_provider(AGENT_BASE_URL="https://plex-agent.lan:8443/")
    response = provider.client.simulate_get(
        "/library/metadata/scene-1", headers={"Host": "other:1"}
    )
    thumb = response.json["MediaContainer"]["Metadata"][0]["thumb"]
    assert thumb == "https://plex-agent.lan:8443/stash/scene/1/screenshot?v=1700000000"


def test_poster_mode_points_thumb_at_the_poster(hand_provider) -> None:
    provider = hand_provider(POSTER_MODE="true")
    item = provider.client.simulate_get("/library/metadata/scene-1").json["MediaContainer"][
        "Metadata"
    ][0]
    assert item["thumb"].endswith("/stash/scene/1/poster?v=1700000000")
    assert item["art"].endswith("/stash/scene/1/screenshot?v=1700000000")


def test_trimming_hints(provider: Provider) -> None:
    response = provider.client.simulate_get(
        "/library/metadata/scene-1",
        params={"excludeElements": "Role,Genre", "excludeFields": "summary,year"},
    )
    item = response.json["MediaContainer"]["Metadata"][0]
    assert "Role" not in item and "Genre" not in item and "year" not in item
    assert "Studio" in item and item["ratingKey"] == "scene-1"
    response = provider.client.simulate_get(
        "/library/metadata/scene-1", params={"includeElements": "Role", "includeFields": "title"}
    )
    item = response.json["MediaContainer"]["Metadata"][0]
    assert set(item) == {"ratingKey", "key", "guid", "type", "title", "Role"}


def test_images_and_extras(provider: Provider) -> None:
    response = provider.client.simulate_get(
        "/library/metadata/scene-1/images", headers={"Host": "h:1"}
    )
    container = response.json["MediaContainer"]
    kinds = [(image["type"], image["url"]) for image in container["Image"]]
    assert container["size"] == len(kinds)
    assert kinds[0] == ("coverPoster", "http://h:1/stash/scene/1/screenshot?v=1700000000")
    assert ("coverPoster", "http://h:1/stash/scene/1/poster?v=1700000000") in kinds
    assert ("background", "http://h:1/stash/scene/1/screenshot?v=1700000000") in kinds
    assert ("coverPoster", "http://h:1/stash/group/1/front?v=7") in kinds
    extras = provider.client.simulate_get("/library/metadata/scene-1/extras")
    assert extras.json == {
        "MediaContainer": {
            "offset": 0,
            "totalSize": 0,
            "identifier": IDENTIFIER,
            "size": 0,
            "Metadata": [],
        }
    }


def test_unknown_routes_and_methods_are_json(provider: Provider) -> None:
    assert_json_error(provider.client.simulate_get("/nothing/here"), 404)
    assert_json_error(provider.client.simulate_get("/library/metadata"), 404)
    assert_json_error(provider.client.simulate_delete("/library/metadata/scene-1"), 405)
    assert_json_error(provider.client.simulate_get("/library/metadata/matches"), 405)
    response = provider.client.simulate_put("/", headers={"Accept": "application/xml"})
    assert_json_error(response, 405)


def test_an_unexpected_error_is_a_bare_json_500(provider: Provider, monkeypatch, caplog) -> None:
    def broken(scene_id: int) -> str:
        raise RuntimeError("secret detail from deep inside")

    monkeypatch.setattr(provider.app.context.lookups, "doc", broken)
    response = provider.client.simulate_get("/library/metadata/scene-1")
    body = assert_json_error(response, 500)
    assert "secret detail" not in response.text and "RuntimeError" not in response.text
    assert body["error"]["title"] == "Internal Server Error"
    assert "secret detail" in caplog.text  # the log has it


def test_allowed_networks_use_the_peer_address(hand_provider) -> None:
    provider = hand_provider(STASHPLEX_PLEXAGENTSERVER_ALLOWED_NETWORKS="192.168.0.0/16")
    client = provider.client
    assert_json_error(client.simulate_get("/", remote_addr="127.0.0.1"), 403)
    forwarded = {"X-Forwarded-For": "192.168.1.5", "Forwarded": "for=192.168.1.5"}
    assert_json_error(client.simulate_get("/", remote_addr="10.1.1.1", headers=forwarded), 403)
    assert client.simulate_get("/", remote_addr="192.168.1.5").status_code == 200
    assert client.simulate_get("/", remote_addr="::ffff:192.168.1.5").status_code == 200
    assert_json_error(client.simulate_get("/health", remote_addr="garbage"), 403)
    assert_json_error(client.simulate_post("/library/metadata/matches", remote_addr="8.8.8.8"), 403)


def test_default_networks_allow_lan_and_loopback_only(provider: Provider) -> None:
    assert provider.client.simulate_get("/", remote_addr="192.168.1.5").status_code == 200
    assert provider.client.simulate_get("/", remote_addr="::1").status_code == 200
    assert_json_error(provider.client.simulate_get("/", remote_addr="8.8.8.8"), 403)


def test_health_without_stash(provider: Provider) -> None:
    body = provider.client.simulate_get("/health").json
    assert body["mirror"]["scenes"] == 5 and body["mirror"]["performers"] == 2
    assert body["stash"] == {"configured": False, "reachable": None}
    assert body["sync"]["last_success"] is None
    assert body["status"] == "degraded"  # never synced


def test_metadata_answer_is_the_stored_document(provider: Provider) -> None:
    """No JSON round trip on the hot path: the body embeds the stored text as is."""
    stored = provider.app.context.lookups.doc(1)
    response = provider.client.simulate_get("/library/metadata/scene-1", headers={"Host": "h:1"})
    expected = stored.replace('"\\u0000', '"http://h:1')
    assert expected in response.text
    assert json.loads(response.text)["MediaContainer"]["Metadata"][0] == json.loads(expected)
    assert response.headers["content-type"] == falcon.MEDIA_JSON


@pytest.mark.parametrize(
    "base",
    ["http://h:1", "http://h:1/", "https://nas.local", "http://[fe80::1]:7979", "http://ü.lan"],
)
def test_cached_absolute_equals_the_documents_rule(provider: Provider, base: str) -> None:
    from falcon import testing

    from stashplex.mirror import documents

    stored = provider.app.context.lookups.doc(1)
    request = testing.create_req()
    provider.app.context.base_url.configured = base.rstrip("/")
    try:
        assert provider.app.context.absolute(stored, request) == documents.absolute(stored, base)
    finally:
        provider.app.context.base_url.configured = None
