"""The webhook (`POST /sync/events`) and the sync controls (`/status` buttons, `POST /api/sync`)
as routes: tokens, cross-site refusals, JSON errors. The syncs they start are in
test_sync_events.py and test_stash_plugin.py."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from falcon import testing

from stashplex.changes import Changes
from stashplex.mirror.db import Database
from stashplex.scheduler import SyncStatus
from stashplex.web.app import ProviderApp, create_app
from tests.plugins.webkit import hand_settings

TOKEN = "hook-token-5b1e0c2d9a"


@dataclass
class Wired:
    app: ProviderApp
    client: testing.TestClient
    queued: list[tuple[Changes, int]] = field(default_factory=list)
    started: list[str] = field(default_factory=list)


@pytest.fixture
def wired(tmp_path: Path) -> Iterator[callable]:
    made: list[tuple[Wired, Database]] = []

    def make(syncs: bool = True, status: SyncStatus | None = None, **env: str) -> Wired:
        settings = hand_settings(tmp_path / f"w{len(made)}", **env)
        db = Database.open(settings.mirror.database)
        queued: list = []
        started: list = []
        app = create_app(
            settings,
            db=db,
            queue_changes=(lambda c, n: queued.append((c, n))) if syncs else None,
            run_sync=started.append if syncs else None,
            sync_status=(lambda: status) if status is not None else None,
        )
        w = Wired(app, testing.TestClient(app), queued, started)
        made.append((w, db))
        return w

    yield make
    for w, db in made:
        w.app.close()
        db.close()


BODY = {"events": [{"type": "Scene.Update.Post", "id": 12}, {"type": "Tag.Update.Post", "id": 3}]}


def post_events(w: Wired, body: object = BODY, token: str | None = TOKEN, **kw):
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return w.client.simulate_post("/sync/events", json=body, headers=headers, **kw)


def test_webhook_queues_events_and_answers_202(wired) -> None:
    w = wired(STASHPLEX_SYNC_WEBHOOK_TOKEN=TOKEN)
    response = post_events(w)
    assert response.status_code == 202 and response.json == {"queued": 2}
    [(changes, count)] = w.queued
    assert count == 2 and changes.scenes == {12} and changes.entities == {"tag": {3}}


def test_an_empty_list_checks_the_token_and_queues_nothing(wired) -> None:
    w = wired(STASHPLEX_SYNC_WEBHOOK_TOKEN=TOKEN)
    response = post_events(w, {"events": []})
    assert response.status_code == 202 and response.json == {"queued": 0}
    assert not w.queued


def test_webhook_is_off_without_a_token(wired) -> None:
    w = wired()
    response = post_events(w)
    assert response.status_code == 403
    assert "webhook_token" in response.json["error"]["reason"]
    assert not w.queued


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}, {"Authorization": "Basic x"}],
)
def test_webhook_wants_the_bearer_token(wired, headers: dict) -> None:
    w = wired(STASHPLEX_SYNC_WEBHOOK_TOKEN=TOKEN)
    response = w.client.simulate_post("/sync/events", json=BODY, headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.json["error"]["reason"]
    assert TOKEN not in response.text
    assert not w.queued


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"events": "x"}, "'events' must be a list"),
        ({"events": [{"type": "Scene.Update.Post", "id": -1}]}, "positive integer"),
        ({"events": [{"type": "Gallery.Update.Post", "id": 1}]}, "does not follow Gallery"),
        ([1], "must be a JSON object"),
    ],
)
def test_webhook_refuses_bad_bodies_whole(wired, body: object, reason: str) -> None:
    w = wired(STASHPLEX_SYNC_WEBHOOK_TOKEN=TOKEN)
    response = post_events(w, body)
    assert response.status_code == 400 and reason in response.json["error"]["reason"]
    assert not w.queued


def test_webhook_obeys_allowed_networks(wired) -> None:
    w = wired(
        STASHPLEX_SYNC_WEBHOOK_TOKEN=TOKEN, STASHPLEX_PLEXAGENTSERVER_ALLOWED_NETWORKS="10.9.0.0/16"
    )
    assert post_events(w).status_code == 403
    assert post_events(w, remote_addr="10.9.1.2").status_code == 202


# --- sync controls -------------------------------------------------------------------------


def form_token(w: Wired) -> str:
    page = w.client.simulate_get("/status").text
    return re.search(r'name="token" value="([0-9a-f]+)"', page)[1]


def test_status_page_has_the_buttons_and_they_start_passes(wired) -> None:
    w = wired()
    page = w.client.simulate_get("/status").text
    for label in ("Sync now", "Full sync", "Sweep"):
        assert label in page
    response = w.client.simulate_post(
        "/status/sync",
        body=f"kind=full&token={form_token(w)}",
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Origin": "http://falconframework.org",
            "Sec-Fetch-Site": "same-origin",
        },
    )
    assert response.status_code == 303 and response.headers["Location"] == "/status"
    assert w.started == ["full"]


@pytest.mark.parametrize(
    ("headers", "token"),
    [
        ({"Origin": "http://evil.example"}, True),
        ({"Sec-Fetch-Site": "cross-site"}, True),
        ({"Sec-Fetch-Site": "same-site"}, True),
        ({"Origin": "null"}, True),
        ({}, False),  # no form token: a page that never saw ours
    ],
)
def test_status_buttons_refuse_other_sites(wired, headers: dict, token: bool) -> None:
    w = wired()
    value = form_token(w) if token else "0" * 64
    response = w.client.simulate_post(
        "/status/sync",
        body=f"kind=sweep&token={value}",
        headers={"Content-Type": "application/x-www-form-urlencoded", **headers},
    )
    assert response.status_code == 403 and response.json["error"]["reason"]
    assert not w.started


def test_api_sync_starts_a_pass(wired) -> None:
    w = wired()
    response = w.client.simulate_post("/api/sync", json={"kind": "sweep"})
    assert response.status_code == 202 and response.json["queued"] == "sweep"
    assert w.started == ["sweep"]


@pytest.mark.parametrize(
    ("kwargs", "status"),
    [
        ({"json": {"kind": "everything"}}, 400),
        ({"json": {}}, 400),
        ({"body": "kind=full", "headers": {"Content-Type": "text/plain"}}, 415),
        ({"json": {"kind": "full"}, "headers": {"Origin": "http://evil.example"}}, 403),
        ({"json": {"kind": "full"}, "headers": {"Sec-Fetch-Site": "cross-site"}}, 403),
    ],
)
def test_api_sync_refuses(wired, kwargs: dict, status: int) -> None:
    w = wired()
    response = w.client.simulate_post("/api/sync", **kwargs)
    assert response.status_code == status and response.json["error"]["reason"]
    assert not w.started


def test_without_a_scheduler_there_are_no_buttons_and_the_api_says_so(wired) -> None:
    w = wired(syncs=False)
    assert "Sync now" not in w.client.simulate_get("/status").text
    response = w.client.simulate_post("/api/sync", json={"kind": "full"})
    assert response.status_code == 503


def test_the_page_shows_a_running_pass_and_reloads_often_meanwhile(wired) -> None:
    idle = wired().client.simulate_get("/status").text
    assert 'content="30"' in idle
    busy = SyncStatus(
        running="full", progress=("scenes", 500, 2000), queued=["sweep"], events_received=1234
    )
    w = wired(status=busy, STASHPLEX_SYNC_WEBHOOK_TOKEN=TOKEN)
    page = w.client.simulate_get("/status").text
    assert "webhook: 1,234 events since stashplex started" in page
    assert "running now (full: scenes 500 of 2,000 (25%))" in page
    assert "Queued: sweep." in page
    assert 'content="3"' in page
