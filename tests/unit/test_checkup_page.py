"""The checkup on `/status`: run on demand in the background (never per page load), refused
like the sync buttons when another site sends the form, and its report shown on the page."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from falcon import testing

from stashplex.checklist import FAIL, OK, WARN, Report
from stashplex.mirror.db import Database
from stashplex.web.app import ProviderApp, create_app
from tests.plugins.webkit import hand_settings

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@dataclass
class Doctor:
    """A stand-in for `doctor.examine`: counts its runs, can be held, can break."""

    runs: int = 0
    release: threading.Event = field(default_factory=threading.Event)
    broken: bool = False

    def __call__(self) -> Report:
        self.runs += 1
        self.release.wait(10)
        if self.broken:
            raise RuntimeError("the doctor tripped")
        report = Report()
        stash = report.section("Stash")
        stash.add(OK, "Stash answers at http://stash:9999")
        dry = report.section("Dry run")
        dry.add(
            WARN, "3 of them only by their path ending", "add path_map", ("path_map = /a = /b",)
        )
        dry.add(FAIL, "1 files would not match", "scan them in Stash", ("/mnt/<b>new</b>.mp4",))
        return report


@dataclass
class Page:
    app: ProviderApp
    client: testing.TestClient
    doctor: Doctor

    def html(self) -> str:
        return self.client.simulate_get("/status").text

    def token(self) -> str:
        return re.search(r'action="/status/checkup"><input type="hidden" name="token" '
                         r'value="([0-9a-f]+)"', self.html())[1]  # fmt: skip

    def post(self, token: str | None = None, **headers: str):
        return self.client.simulate_post(
            "/status/checkup",
            body=f"token={token if token is not None else self.token()}",
            headers={**FORM, **headers},
        )

    def wait_idle(self) -> str:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            html = self.html()
            if "running</span> since" not in html:
                return html
            time.sleep(0.02)
        raise AssertionError("the checkup never finished")


@pytest.fixture
def page(tmp_path: Path) -> Iterator[Callable[..., Page]]:
    made: list[tuple[Page, Database]] = []

    def make(with_checkup: bool = True) -> Page:
        settings = hand_settings(tmp_path / f"p{len(made)}")
        db = Database.open(settings.mirror.database)
        doctor = Doctor()
        app = create_app(settings, db=db, run_checkup=doctor if with_checkup else None)
        made.append((Page(app, testing.TestClient(app), doctor), db))
        return made[-1][0]

    yield make
    for p, db in made:
        p.doctor.release.set()
        p.app.close()
        db.close()


def test_the_button_runs_the_checkup_in_the_background_and_the_page_shows_it(page) -> None:
    p = page()
    html = p.html()
    assert "Run the checkup</button>" in html
    assert p.doctor.runs == 0  # loading the page runs nothing
    token = p.token()
    response = p.post(token, **{"Sec-Fetch-Site": "same-origin"})
    assert response.status_code == 303 and response.headers["Location"] == "/status#checkup"
    html = p.html()
    assert "running</span> since" in html and "Run the checkup" not in html
    assert 'content="3"' in html  # refreshes quickly while it runs
    assert p.post(token).status_code == 303  # pressed again while it runs
    p.doctor.release.set()
    html = p.wait_idle()
    assert p.doctor.runs == 1  # a second press during the run started nothing
    assert '<span class="sym ok">✓</span>Stash answers at http://stash:9999' in html
    assert '<span class="sym warn">!</span>3 of them only by their path ending' in html
    assert '<span class="sym bad">✗</span>1 files would not match' in html
    assert '<div class="more path">/mnt/&lt;b&gt;new&lt;/b&gt;.mp4</div>' in html  # escaped
    assert "→ scan them in Stash" in html
    assert "1 passed, 1 warnings, 1 failed" in html
    assert "Run the checkup again</button>" in html
    for _ in range(3):
        p.html()
    assert p.doctor.runs == 1


@pytest.mark.parametrize(
    ("headers", "token"),
    [
        ({"Origin": "http://evil.example"}, True),
        ({"Sec-Fetch-Site": "cross-site"}, True),
        ({"Origin": "null"}, True),
        ({}, False),
    ],
)
def test_the_button_refuses_other_sites(page, headers: dict, token: bool) -> None:
    p = page()
    response = p.post(token=p.token() if token else "0" * 64, **headers)
    assert response.status_code == 403 and response.json["error"]["reason"]
    p.doctor.release.set()
    time.sleep(0.05)
    assert p.doctor.runs == 0


def test_a_broken_run_is_said_and_without_a_checkup_there_is_no_button(page) -> None:
    p = page()
    p.doctor.broken = True
    p.doctor.release.set()
    assert p.post().status_code == 303
    html = p.wait_idle()
    assert "The last run failed: RuntimeError: the doctor tripped" in html
    bare = page(with_checkup=False)
    assert "/status/checkup" not in bare.html()
    response = bare.post(token="0" * 64)
    assert response.status_code == 403  # no token to match: refused before anything else
