"""What a hostile client, a broken disk or a careless setting can no longer do (issue 13):
text that is not valid Unicode, secrets in URLs and in stored errors, failures the mirror
cannot record."""

from __future__ import annotations

import json
import logging
import time

import pytest

from stashplex import redaction
from stashplex.redaction import Redactor, encodable, hide_url_password
from stashplex.scheduler import SyncStatus
from stashplex.settings import describe
from stashplex.web.status_page import StatusView, SyncRun, Unmatched, render
from tests.plugins.webkit import Provider, hand_settings

SURROGATE_BODY = b'{"type": %d, "filename": "/a/\\ud800.mp4", "title": "x"}'


@pytest.fixture
def provider(hand_provider) -> Provider:
    return hand_provider()


# --- text at the door ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "kind"), [("/library/metadata/matches", 1), ("/tv/library/metadata/matches", 4)]
)
def test_a_lone_surrogate_in_a_match_body_is_a_400_with_a_reason(
    provider: Provider, path: str, kind: int
) -> None:
    response = provider.client.simulate_post(
        path, body=SURROGATE_BODY % kind, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400, response.text
    reason = response.json["error"]["reason"]
    assert "'filename'" in reason and "Unicode" in reason
    assert not provider.app.context.misses.recent()  # nothing was stored


@pytest.mark.parametrize(
    "body",
    [
        b'{"type": 1, "title": ["ok", "\\udfff"]}',  # inside a list
        b'{"type": 1, "extra": {"deep": "\\ud83d"}}',  # a field no handler reads
        b'{"type": 1, "\\ud800": "key"}',  # a key
    ],
)
def test_every_string_of_a_body_is_checked(provider: Provider, body: bytes) -> None:
    response = provider.client.simulate_post(
        "/library/metadata/matches", body=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400, response.text
    assert "Unicode" in response.json["error"]["reason"]


def test_a_valid_pair_and_invalid_bytes_in_paths_are_fine(provider: Provider) -> None:
    # A proper surrogate pair is an emoji: valid text, matched (or not) like any other.
    body = b'{"type": 1, "filename": "/x/\\ud83d\\ude00.mp4"}'
    response = provider.client.simulate_post(
        "/library/metadata/matches", body=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 200, response.text
    # UTF-8 that spells a surrogate in a path or query is decoded with replacement by Falcon.
    for path in ("/library/metadata/%ED%A0%80", "/tv/library/metadata/%ED%A0%80"):
        response = provider.client.simulate_get(path, query_string="includeFields=%ED%A0%80")
        assert response.status_code == 404, response.text
    page = provider.client.simulate_get("/status")
    assert page.status_code == 200


def test_the_status_page_renders_whatever_it_is_given() -> None:
    view = StatusView(
        version="1",
        register_url="http://h:7979",
        tv_register_url=None,
        stash_url="http://user:hunter2pass@stash:9999",
        stash_reachable=False,
        stash_version="\udcff",
        counts={"scenes\ud800": 1},
        posters={},
        poster_mode=False,
        sync_running=None,
        last_success=None,
        next_runs={},
        failing_since=time.time(),
        last_error="bad \ud800 <b>",
        runs=[SyncRun("full", time.time(), 1.0, False, 0, 0, 0, "oops \udfff")],
        unmatched=[Unmatched(time.time(), "/a/\ud800.mp4", "t\udc80")],
        problems=["sync failing: \ud800"],
    )
    page = render(view)
    page.encode("utf-8")  # strict: nothing unencodable left
    assert "hunter2pass" not in page and "user:***@stash" in page
    assert "&lt;b&gt;" in page and "Degraded" in page


# --- one redaction ------------------------------------------------------------------------------


def test_the_redactor_hides_secrets_parameters_and_url_passwords() -> None:
    redact = Redactor(["key-ABCDEFG", "abc"])  # too short to be a key: ignored
    text = (
        "GET http://admin:p@ss:w0rd@nas.lan:9999/graphql?apikey=zzz1234 failed with key-ABCDEFG;"
        " abc stays; https://plain.host/path and ftp://u@host keep their shape; \ud800"
    )
    clean = redact(text)
    assert "p@ss:w0rd" not in clean and "http://admin:***@nas.lan:9999/graphql" in clean
    assert "zzz1234" not in clean and "key-ABCDEFG" not in clean
    assert "abc stays" in clean and "https://plain.host/path" in clean and "ftp://u@host" in clean
    clean.encode("utf-8")
    assert hide_url_password("http://a:b@h") == "http://a:***@h"
    assert encodable("ok \ud800") == "ok \ufffd"


def test_settings_secrets_include_every_secret_key_and_url_passwords(tmp_path) -> None:
    settings = hand_settings(
        tmp_path,
        STASHPLEX_STASH_URL="http://me:StashPassw0rd@stash.lan:9999",
        STASHPLEX_STASH_API_KEY="api-key-123456",
        STASHPLEX_PLEX_URL="https://plex:PlexPassw0rd@pms.lan:32400",
        STASHPLEX_PLEX_TOKEN="token-987654",
    )
    assert set(settings.secrets) == {
        "StashPassw0rd",
        "api-key-123456",
        "PlexPassw0rd",
        "token-987654",
    }
    shown = describe(settings)
    for secret in settings.secrets:
        assert secret not in shown
    assert "url = http://me:***@stash.lan:9999" in shown


def test_a_bad_url_setting_does_not_show_its_password(tmp_path) -> None:
    from stashplex.settings import SettingsError

    with pytest.raises(SettingsError) as caught:
        hand_settings(tmp_path, STASHPLEX_STASH_URL="http://me:S3cretPass@stash.lan:99999")
    assert "S3cretPass" not in str(caught.value) and "me:***@" in str(caught.value)


def test_error_bodies_and_health_are_redacted(hand_provider) -> None:
    provider = hand_provider(STASHPLEX_STASH_API_KEY="api-key-Zq81xYw")
    status = SyncStatus(last_kind="full", last_ok=False, last_error="Stash said api-key-Zq81xYw")
    # The app registered the settings' secrets on creation.
    assert redaction.redact("api-key-Zq81xYw") == redaction.REDACTED
    from stashplex.web.health import HealthResource

    health = HealthResource(provider.app.connections, None, sync_status=lambda: status)
    body = health.problems(None, {"reachable": None})
    assert body == [f"full sync is failing: Stash said {redaction.REDACTED}"]


# --- failures the mirror cannot record ----------------------------------------------------------


def test_health_and_status_say_degraded_from_the_schedulers_memory(tmp_path) -> None:
    from falcon import testing

    from stashplex.mirror.db import Database
    from stashplex.web.app import create_app
    from tests.plugins.webkit import fill_hand_mirror

    settings = hand_settings(tmp_path)
    db = Database.open(settings.mirror.database)
    fill_hand_mirror(db, settings)
    # The mirror says the last sync succeeded; the scheduler knows the ones since failed
    # (they could not even be recorded: the mirror is read-only).
    with db.writer.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO sync_state (key, value) VALUES ('last_success', ?)", (str(time.time()),)
        )
    status = SyncStatus(
        last_kind="incremental",
        last_ok=False,
        last_error="internal error: OperationalError: attempt to write a readonly database",
        failing_since=time.time() - 60,
    )
    app = create_app(settings, db=db, sync_status=lambda: status)
    try:
        client = testing.TestClient(app)
        body = client.simulate_get("/health").json
        assert body["status"] == "degraded"
        assert any("readonly database" in reason for reason in body["reasons"])
        assert body["sync"]["failing_since"] is not None
        page = client.simulate_get("/status").text
        assert "Degraded" in page and "readonly database" in page
        status.last_ok, status.last_error, status.failing_since = True, None, None
        # Mirror facts are cached a moment; the scheduler's memory is read on every request.
        assert client.simulate_get("/health").json["status"] == "ok"
        assert "Healthy" in client.simulate_get("/status").text
    finally:
        app.close()
        db.close()


def test_health_answers_degraded_when_the_mirror_cannot_be_read(provider: Provider) -> None:
    with provider.db.writer.begin() as connection:
        connection.exec_driver_sql("DROP TABLE sync_runs")
    from stashplex.web.health import HealthResource  # a fresh one: no facts cached

    health = HealthResource(provider.app.connections, None)
    from falcon import testing

    class Resp:
        data = b""
        content_type = ""

    resp = Resp()
    health.on_get(testing.create_req(), resp)  # type: ignore[arg-type]
    body = json.loads(resp.data)
    assert body["status"] == "degraded"
    assert "the mirror cannot be read" in body["reasons"][0]


def test_logs_carry_url_passwords_hidden(caplog) -> None:
    from stashplex.logs import RedactingFilter

    record = logging.LogRecord(
        "x", logging.WARNING, __file__, 1, "connecting to %s", ("http://u:PwPwPw99@h/",), None
    )
    RedactingFilter().filter(record)
    assert record.getMessage() == "connecting to http://u:***@h/"


# --- HEAD ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/health",
        "/status",
        "/library/metadata/scene-1",
        "/library/metadata/scene-1/images",
        "/library/metadata/scene-99999",
        "/tv",
        "/stash/scene/1/screenshot",
        "/stash/performer/1/image",
    ],
)
def test_head_answers_like_get_without_a_body(provider: Provider, path: str) -> None:
    got = provider.client.simulate_get(path)
    head = provider.client.simulate_head(path)
    assert head.status_code == got.status_code != 405, path
    assert head.content == b""
    assert head.headers.get("content-type") == got.headers.get("content-type")
    if got.status_code == 200 and path not in ("/health", "/status"):  # those change by the second
        assert head.headers["content-length"] == str(len(got.content))


def test_status_and_health_render_bytes_that_are_not_utf8(provider: Provider) -> None:
    with provider.db.writer.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO sync_runs (kind, started_at, finished_at, ok, added, updated, unchanged,"
            " removed, error) VALUES (CAST(X'66756c6cff' AS TEXT), 1, 2, 0, 0, 0, 0, 0,"
            " CAST(X'6261642dfffe3c623e' AS TEXT))"
        )
    page = provider.client.simulate_get("/status")
    assert page.status_code == 200 and "bad-\ufffd\ufffd&lt;b&gt;" in page.text
    health = provider.client.simulate_get("/health")
    assert health.status_code == 200 and health.json["status"] == "degraded"
