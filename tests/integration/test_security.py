"""What a hostile request can make stashplex do: no request to anything but Stash's own image
routes for numeric ids (no SSRF, no open proxy), no file named after request text (no
traversal), and nothing at all for a client outside `allowed_networks`.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from falcon import testing
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stashplex import settings as settings_module
from stashplex.daemon import responder_client
from stashplex.mirror.db import Database
from stashplex.mirror.sync import Syncer
from stashplex.plex.identity import MAX_ID
from stashplex.samplestash import SampleStash
from stashplex.stash.client import StashClient
from stashplex.web.access import AllowedNetworks
from stashplex.web.app import create_app
from tests.integration.test_fuzz_routes import TRICKY_SEGMENTS, exchange, request
from tests.plugins.daemon import wait_until
from tests.plugins.mirror import make_settings
from tests.plugins.net import LOOPBACK
from tests.plugins.webkit import Provider, serving

IMAGE_ROUTES = (
    "/stash/scene/{}/screenshot",
    "/stash/scene/{}/poster",
    "/stash/performer/{}/image",
    "/stash/studio/{}/image",
    "/stash/group/{}/front",
)
# Everything stashplex may ask Stash for: GraphQL (sync, live lookups), liveness, and the
# image routes of numeric ids.
STASH_PATHS = re.compile(
    r"^(/graphql|/healthz|/(scene)/[1-9][0-9]*/screenshot|/(performer|studio)/[1-9][0-9]*/image"
    r"|/(group|movie)/[1-9][0-9]*/frontimage)$"
)
# Every file stashplex may create next to its mirror, by name.
DATA_FILES = re.compile(
    r"^(mirror\.db(-wal|-shm|\.sync-lock)?"
    r"|images/(scene|performer|studio|group|card|cardposter)/[0-9a-f]{2}/[0-9]+"
    r"\.(h[0-9a-f]{16}|[0-9A-Za-z]{1,40})"
    r"|posters/[0-9a-f]{2}/[0-9]+\.jpg)$"
)


@pytest.fixture(scope="module")
def watched(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Provider, list, Path]]:
    """A provider over a synced mirror whose sample Stash records every request it gets."""
    folder = tmp_path_factory.mktemp("ssrf")
    sample = SampleStash(scenes=60, host=LOOPBACK).start()
    settings = make_settings(folder, sample.url, STASHPLEX_STASH_TIMEOUT="2")
    db = Database.open(settings.mirror.database)
    stash = responder_client(settings)
    app = None
    try:
        with StashClient(settings.stash.url, None, timeout=5) as client:
            Syncer(client, db, settings).run("full")
        seen: list[tuple[str, str, str, str]] = []
        handle = sample.app.handle

        def recording(req: Any) -> Any:
            seen.append((req.method, req.path, req.query, req.headers.get("host", "")))
            return handle(req)

        sample.app.handle = recording
        app = create_app(settings, db=db, stash=stash)
        yield Provider(settings, db, app, testing.TestClient(app), stash), seen, folder
    finally:
        if app is not None:
            app.close()
        stash.close()
        db.close()
        sample.stop()


def assert_only_stash_image_paths(seen: list[tuple[str, str, str, str]], stash_url: str) -> None:
    host = stash_url.split("://", 1)[1]
    for method, path, query, where in seen:
        assert where == host, (method, path, where)
        assert STASH_PATHS.fullmatch(path), (method, path)
        assert query == "" or path == "/graphql", (method, path, query)
        number = re.search(r"/([0-9]+)/", path)
        if number:
            assert 0 < int(number[1]) <= MAX_ID


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    segment=st.sampled_from(TRICKY_SEGMENTS)
    | st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=60)
    | st.integers(min_value=-(2**70), max_value=2**70).map(str),
    route=st.sampled_from(IMAGE_ROUTES),
)
def test_image_routes_reach_only_stash_image_paths(watched, segment: str, route: str) -> None:
    provider, seen, _folder = watched
    response = provider.client.simulate_get(route.format(segment))
    assert response.status_code in (200, 304, 404, 503), response.text
    assert_only_stash_image_paths(seen, provider.settings.stash.url)


def test_image_routes_on_the_wire_never_proxy(watched) -> None:
    provider, seen, _folder = watched
    targets = [
        b"/stash/scene/1/screenshot?url=http://evil.example/",
        b"/stash/scene/1%2F..%2F..%2Fgraphql/screenshot",
        b"/stash/scene/..%2f..%2fhealthz/screenshot",
        b"http://evil.example/stash/scene/1/screenshot",
        b"//evil.example/stash/scene/1/screenshot",
        b"/stash/performer/1@evil.example/image",
        b"/stash/studio/%31/image",  # an encoded digit is still the number 1: fine
        b"/stash/group/1;evil/front",
        b"/stash/scene/1%00/poster",
    ]
    with serving(provider.app, provider.settings) as url:
        port = int(url.rsplit(":", 1)[1])
        for target in targets:
            status, headers, _body = exchange(port, request(b"GET", target))
            assert status in (200, 304, 404, 503), target
            assert headers["content-type"].startswith(("image/", "application/json"))
    assert_only_stash_image_paths(seen, provider.settings.stash.url)
    assert any(path == "/scene/1/screenshot" for _m, path, _q, _h in seen)


def test_no_request_text_reaches_a_file_path(watched) -> None:
    provider, _seen, folder = watched
    escape = "escaped-by-traversal"
    nasty = [f"../../{escape}", f"..%2f..%2f{escape}", f"/{escape}", f"1/../../{escape}"]
    for value in nasty:
        for route in IMAGE_ROUTES:
            provider.client.simulate_get(route.format(value))
        provider.client.simulate_get(f"/library/metadata/{value}")
        provider.client.simulate_get(f"/tv/library/metadata/{value}/children")
        provider.client.simulate_post(
            "/library/metadata/matches",
            json={"type": 1, "filename": value + ".mp4", "title": value, "guid": value},
        )
    for scene_id in (1, 2, 3):  # real work too: images and posters written to disk
        provider.client.simulate_get(f"/stash/scene/{scene_id}/poster")
        provider.client.simulate_get(f"/stash/scene/{scene_id}/screenshot")
        provider.client.simulate_get(f"/stash/performer/{scene_id}/image")
    data = provider.settings.mirror.database.parent
    created = [
        str(path.relative_to(data))
        for path in data.rglob("*")
        if path.is_file() and provider.settings.mirror.poster_dir not in path.parents
    ] + [
        "posters/" + str(path.relative_to(provider.settings.mirror.poster_dir))
        for path in provider.settings.mirror.poster_dir.rglob("*")
        if path.is_file()
    ]
    assert any(name.startswith("posters/") for name in created)
    assert any(name.startswith("images/") for name in created)
    for name in created:
        assert DATA_FILES.fullmatch(name), name
    everywhere = [p.name for p in folder.parent.rglob("*")]
    assert not any(escape in name for name in everywhere)


# --- allowed_networks ------------------------------------------------------------------------


def default_networks() -> AllowedNetworks:
    loaded = settings_module.load(None, {}, search=False)
    return AllowedNetworks(loaded.server.allowed_networks)


@pytest.mark.parametrize(
    ("address", "allowed"),
    [
        ("127.0.0.1", True),
        ("127.255.255.254", True),
        ("::1", True),
        ("10.0.0.1", True),
        ("10.255.255.255", True),
        ("172.16.0.1", True),
        ("172.31.255.254", True),
        ("192.168.1.81", True),
        ("fd12:3456::1", True),  # unique local
        ("fe80::1%eth0", True),  # link-local with a zone
        ("::ffff:192.168.1.5", True),  # an IPv4 peer on a dual-stack socket
        ("8.8.8.8", False),
        ("172.15.255.255", False),
        ("172.32.0.1", False),
        ("192.169.0.1", False),
        ("11.0.0.1", False),
        ("100.64.0.1", False),  # carrier-grade NAT is not private: add it if you need it
        ("2001:db8::1", False),
        ("::ffff:8.8.8.8", False),
        ("", False),
        ("not an address", False),
        ("127.0.0.1, 8.8.8.8", False),
    ],
)
def test_default_allowed_networks_are_loopback_and_private(address: str, allowed: bool) -> None:
    assert default_networks().allows(address) is allowed
    if allowed and address and "%" not in address:
        ip = ipaddress.ip_address(address)
        assert (getattr(ip, "ipv4_mapped", None) or ip).is_private


@pytest.fixture
def refused(sample_stash_factory, daemon_factory) -> Callable[..., Any]:
    def start(networks: str | None) -> tuple[Any, Any]:
        stash = sample_stash_factory()
        env = {} if networks is None else {"STASHPLEX_PLEXAGENTSERVER_ALLOWED_NETWORKS": networks}
        return stash, daemon_factory(stash.url, **env)

    return start


def test_refused_clients_get_403_json_over_http(refused) -> None:
    _stash, daemon = refused("10.0.0.0/8, 192.168.0.0/16")
    # The daemon still syncs (that is not a client); it only refuses to answer us.
    wait_until(lambda: "full sync" in daemon.log(), what="the first sync")
    spoofed = {
        "X-Forwarded-For": "10.1.2.3",
        "Forwarded": "for=10.1.2.3",
        "X-Real-IP": "10.1.2.3",
        "Client-IP": "10.1.2.3",
    }
    paths = [
        ("GET", "/"),
        ("GET", "/health"),
        ("GET", "/status"),
        ("GET", "/library/metadata/scene-1"),
        ("GET", "/stash/scene/1/screenshot"),
        ("GET", "/stash/scene/1/poster"),
        ("GET", "/tv"),
        ("POST", "/library/metadata/matches"),
        ("POST", "/tv/library/metadata/matches"),
    ]
    for method, path in paths:
        for headers in ({}, spoofed):
            response = daemon.http.request(method, path, headers=headers, json={"type": 1})
            assert response.status_code == 403, (method, path)
            assert response.json()["error"]["status"] == 403
    # Refused before anything else: a huge body is not even looked at.
    big = daemon.http.post("/library/metadata/matches", content=b"{" * (2 * 1024 * 1024))
    assert big.status_code == 403
    assert daemon.terminate() == 0


def test_the_default_lets_loopback_in(refused) -> None:
    stash, daemon = refused(None)  # the default setting
    wait_until(lambda: daemon.scenes() == stash.library.live_count(), what="the first sync")
    assert daemon.http.get("/").status_code == 200
    assert daemon.terminate() == 0


def test_empty_means_the_default_and_any_turns_the_check_off(tmp_path: Path) -> None:
    loaded = settings_module.load(
        None,
        {"STASHPLEX_PLEXAGENTSERVER_ALLOWED_NETWORKS": " "},
        search=False,
    )
    # An empty environment variable counts as unset: the default applies.
    assert loaded.server.allowed_networks == default_networks().networks
    ini = tmp_path / "open.ini"
    ini.write_text("[plexagentserver]\nallowed_networks =\n")
    blank = settings_module.load(ini, {}, search=False)
    assert blank.server.allowed_networks == default_networks().networks  # never open by mistake
    ini.write_text("[plexagentserver]\nallowed_networks = ANY\n")
    opened = settings_module.load(ini, {}, search=False)
    assert opened.server.allowed_networks == ()  # said explicitly: no address check at all
    assert "allowed_networks = any" in settings_module.describe(opened)
    ini.write_text("[plexagentserver]\nallowed_networks = any, 10.0.0.0/8\n")
    with pytest.raises(settings_module.SettingsError, match="write it alone"):
        settings_module.load(ini, {}, search=False)


def test_ipv4_mapped_entries_and_peers_match_ipv4() -> None:
    loaded = settings_module.load(
        None,
        {"STASHPLEX_PLEXAGENTSERVER_ALLOWED_NETWORKS": "::ffff:192.168.1.0/120, 10.0.0.0/8"},
        search=False,
    )
    check = AllowedNetworks(loaded.server.allowed_networks)
    for peer in ("192.168.1.5", "::ffff:192.168.1.5", "10.2.3.4", "::ffff:10.2.3.4"):
        assert check.allows(peer), peer
    for peer in ("192.168.2.5", "::ffff:192.168.2.5", "::1", "8.8.8.8"):
        assert not check.allows(peer), peer
