"""`stashplex doctor` against the sample Stash, a synced mirror, the served provider and the
fake PMS: every check passing, and each failure with the fix it names."""

from __future__ import annotations

import dataclasses
import io
import ipaddress
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from stashplex import cli, doctor, redaction
from stashplex.checklist import FAIL, OK, WARN, Check, Report, Section
from stashplex.doctor import Options, examine
from stashplex.mirror.db import Database
from stashplex.plex.identity import MOVIE_PROVIDER_ID, TV_PROVIDER_ID
from stashplex.samplestash import SampleStash
from stashplex.settings import Settings
from stashplex.web.app import create_app
from tests.plugins.fake_pms import TOKEN, FakePMS
from tests.plugins.mirror import Mirrored, make_settings
from tests.plugins.net import LOOPBACK, free_port
from tests.plugins.webkit import serving

STASH_ROOT = "/data/stash"


@pytest.fixture
def served(mirrored: Mirrored) -> Iterator[tuple[Mirrored, str]]:
    """The synced sample, and the provider app over it served on a loopback port."""
    app = create_app(mirrored.settings, db=mirrored.db)
    try:
        with serving(app, mirrored.settings) as url:
            yield mirrored, url
    finally:
        app.close()


def configured(
    m: Mirrored, url: str | None = None, fake: FakePMS | None = None, **plex: object
) -> Settings:
    """The mirror's settings with agent_base_url and (optionally) [plex] set."""
    settings = m.settings
    if url is not None:
        server = dataclasses.replace(settings.server, agent_base_url=url)
        settings = dataclasses.replace(settings, server=server)
    if fake is not None:
        section = dataclasses.replace(settings.plex, url=fake.url, token=TOKEN, **plex)
        settings = dataclasses.replace(settings, plex=section)
    return settings


def lines(report: Report | Section, state: str | None = None) -> list[Check]:
    checks = report.checks
    return [c for c in checks if state is None or c.state == state]


def one(report: Report | Section, state: str, text: str) -> Check:
    found = [c for c in lines(report, state) if text in c.text]
    assert len(found) == 1, [(c.state, c.text) for c in lines(report)]
    return found[0]


def stash_paths(m: Mirrored) -> dict[int, str]:
    """Primary file path of every mirrored scene that has a studio (a TV episode)."""
    return {
        scene_id: scene.files[0].path
        for scene_id, scene in m.scenes().items()
        if scene.files and scene.studio_id is not None
    }


# --- everything passing, and the dry run ----------------------------------------------------


def test_all_checks_pass_and_the_dry_run_counts_tiers(
    served: tuple[Mirrored, str], fake_pms: FakePMS
) -> None:
    m, url = served
    paths = stash_paths(m)
    movies, episodes = list(paths.values())[:6], list(paths.values())[6:9]
    for path in movies:
        fake_pms.add_file(path)  # Plex sees the files where Stash does
    for path in episodes:
        fake_pms.add_file(path, section="2")
    fake_pms.add_provider(MOVIE_PROVIDER_ID, url)
    fake_pms.add_provider(TV_PROVIDER_ID, url + "/tv/")
    report = examine(configured(m, url, fake_pms))
    assert report.passed, [(c.state, c.text, c.fix) for c in lines(report)]
    one(report, OK, "Stash answers at")
    one(report, OK, "Stash v0.30.1 is supported")
    one(report, OK, "Stash needs no API key")
    one(report, OK, "schema up to date")
    one(report, OK, "last sync: full")
    one(report, OK, "the mirror has all of Stash's 60 scenes")
    one(report, OK, "poster folder")
    one(report, OK, "answers as stashplex")
    one(report, OK, "Plex Media Server 1.43.1")
    one(report, OK, "Plex accepts the token")
    one(report, OK, f"stashplex's movie provider is added in Plex at {url}")
    one(report, OK, f"stashplex's TV provider is added in Plex at {url}/tv")
    agents = one(report, OK, "on stashplex's agent")
    assert "Scenes (movies" in agents.text and "Studios (TV" in agents.text
    one(report, WARN, "not on stashplex's agent: More")
    dry = one(report, OK, "files would match")
    assert dry.text.startswith("9 of 9 files would match (by path 6, TV file 3)"), dry.text
    assert not [c for c in lines(report) if "path ending" in c.text]


def test_dry_run_pages_through_plex_and_reports_unmatched_with_a_path_map_line(
    served: tuple[Mirrored, str], fake_pms: FakePMS, monkeypatch: pytest.MonkeyPatch
) -> None:
    m, url = served
    monkeypatch.setattr(doctor, "PAGE", 4)  # several pages from 15 items
    plex_root = "/mnt/plex media"
    known = [p for p in stash_paths(m).values() if p.count("/") >= 5][:3]  # /data/stash/S/Y/f
    for path in known:  # found by their path ending: a path_map line makes them exact
        fake_pms.add_file(plex_root + path.removeprefix(STASH_ROOT))
    folder = str(Path(known[0]).parent).removeprefix(STASH_ROOT)
    assert folder.count("/") >= 2  # e.g. /Site/2021: two folders agree, not a year alone
    new = [f"{plex_root}{folder}/new scene {n}.mp4" for n in range(12)]
    for path in new:  # in a folder Stash has, but new to it
        fake_pms.add_file(path)
    report = examine(configured(m, url, fake_pms), Options(library="Scenes"))
    assert not report.passed
    one(report, OK, "library Scenes (movies")
    one(report, OK, "3 of 15 files would match (by suffix 3)")
    inexact = one(report, WARN, "3 of them only by their path ending")
    assert f"path_map = {plex_root} = {STASH_ROOT}" in inexact.fix
    unmatched = one(report, FAIL, "12 files would not match (the first 10 below)")
    assert unmatched.details[:10] == tuple(new[:10])
    assert unmatched.details[10] == "… and 2 more"
    assert unmatched.details[11] == f"path_map = {plex_root} = {STASH_ROOT}"
    assert "stashplex-sync" in unmatched.fix
    pages = fake_pms.requests("GET", "/library/sections/1/all")
    assert [r.query["X-Plex-Container-Start"][0] for r in pages] == ["0", "4", "8", "12"]
    assert all(r.query["includeGuids"] == ["1"] for r in pages)


def test_tv_files_of_scenes_without_a_show(served: tuple[Mirrored, str], fake_pms: FakePMS) -> None:
    m, url = served
    studio_less = [s.files[0].path for s in m.scenes().values() if s.studio_id is None]
    assert studio_less
    fake_pms.add_file(studio_less[0], section="2")
    report = examine(configured(m, url, fake_pms), Options(library="Studios"))
    one(report, FAIL, "0 of 1 file would match")
    no_show = one(report, WARN, "which stay unmatched in a TV library: 1 file")
    assert no_show.details == (studio_less[0],)
    assert "[tv] show_by = studio" in no_show.text
    assert not [c for c in lines(report, FAIL) if "would not match" in c.text]


def test_dry_run_without_plex_reads_a_list_or_walks_a_folder(
    served: tuple[Mirrored, str], tmp_path: Path
) -> None:
    m, url = served
    known = list(stash_paths(m).values())[:2]
    listed = tmp_path / "paths.txt"
    listed.write_text("# Plex's paths\n" + "\n".join([*known, "/elsewhere/unknown.mp4"]) + "\n")
    report = examine(configured(m, url), Options(paths=listed))
    one(report, WARN, "[plex] url and token are not set")
    one(report, OK, "2 of 3 files would match (by path 2)")
    unmatched = one(report, FAIL, "1 file would not match")
    assert unmatched.details == ("/elsewhere/unknown.mp4",)
    assert "Stash has no file by these names" in unmatched.fix

    folder = tmp_path / "library"
    (folder / "Sample Traps").mkdir(parents=True)
    (folder / "Sample Traps" / "LOUD NAME.MP4").write_bytes(b"")
    (folder / "Sample Traps" / "cover.jpg").write_bytes(b"")
    (folder / "Sample Traps" / ".hidden.mp4").write_bytes(b"")
    report = examine(configured(m, url), Options(paths=folder))
    one(report, OK, "1 of 1 file would match (by suffix 1)")


def test_no_dry_run_source_is_a_warning(served: tuple[Mirrored, str]) -> None:
    m, url = served
    report = examine(configured(m, url))
    assert report.passed
    one(report, WARN, "no dry run: nothing to read")


# --- Stash ---------------------------------------------------------------------------------


def stash_section(settings: Settings) -> Section:
    out = Section("Stash")
    doctor.check_stash(settings, out)
    return out


def test_stash_down(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, f"http://{LOOPBACK}:{free_port()}")
    out = stash_section(settings)
    failed = one(out, FAIL, "cannot reach Stash")
    assert "[stash] url" in failed.fix


def test_stash_wrong_or_missing_key(
    tmp_path: Path, sample_stash_factory: Callable[..., SampleStash]
) -> None:
    stash = sample_stash_factory(api_key="the-right-key")
    wrong = make_settings(tmp_path, stash.url, STASH_API_KEY="a-wrong-key")
    out = stash_section(wrong)
    one(out, OK, "Stash answers at")
    failed = one(out, FAIL, "rejected the API key")
    assert "Settings › Security › API Key" in failed.fix
    missing = make_settings(tmp_path, stash.url)
    failed = one(stash_section(missing), FAIL, "requires an API key")
    assert "[stash] api_key" in failed.fix
    right = make_settings(tmp_path, stash.url, STASH_API_KEY="the-right-key")
    one(stash_section(right), OK, "Stash accepts the API key")


def test_stash_too_old_and_not_set_up(
    tmp_path: Path, sample_stash_factory: Callable[..., SampleStash]
) -> None:
    stash = sample_stash_factory()
    settings = make_settings(tmp_path, stash.url)
    stash.library.report_version("v0.23.1")
    failed = one(stash_section(settings), FAIL, "too old")
    assert "v0.24.0" in failed.fix
    stash.library.report_version("v0.30.1")
    stash.library.set_status("SETUP")
    out = stash_section(settings)
    failed = one(out, FAIL, "not set up yet (status SETUP)")
    assert "Stash's web interface" in failed.fix


# --- mirror, posters, provider -------------------------------------------------------------


def test_mirror_missing_unmigrated_and_never_synced(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, f"http://{LOOPBACK}:{free_port()}")
    out = Section("Mirror")
    assert doctor.check_mirror(settings, out) is False
    assert "stashplex-sync" in one(out, FAIL, "no mirror at").fix
    assert not settings.mirror.database.exists()  # the doctor creates nothing

    Database.open(settings.mirror.database).close()
    out = Section("Mirror")
    assert doctor.check_mirror(settings, out) is True
    one(out, OK, "schema up to date; 0 scenes")
    assert "stashplex-sync" in one(out, FAIL, "no sync has succeeded yet").fix

    with sqlite3.connect(settings.mirror.database) as connection:
        connection.execute("UPDATE alembic_version SET version_num = 'abc123'")
    out = Section("Mirror")
    assert doctor.check_mirror(settings, out) is False
    assert "stashplex db upgrade" in one(out, FAIL, "schema at abc123").fix

    settings.mirror.database.write_bytes(b"not a database, just bytes" * 100)
    out = Section("Mirror")
    assert doctor.check_mirror(settings, out) is False
    assert "rebuild" in one(out, FAIL, "cannot be read as a mirror").fix


def test_a_mirror_behind_stash(mirrored: Mirrored) -> None:
    mirrored.stash.library.add_scenes(3)
    stash = Section("Stash")
    count = doctor.check_stash(mirrored.settings, stash)
    assert count == 63
    out = Section("Mirror")
    doctor.check_mirror(mirrored.settings, out, count)
    assert "stashplex-sync" in one(out, WARN, "the mirror has 60 of Stash's 63 scenes").fix
    mirrored.syncer.run("full")
    for scene_id in (1, 2, 3, 4):
        mirrored.stash.library.delete_scene(scene_id)
    count = doctor.check_stash(mirrored.settings, Section("Stash"))
    assert count == 59
    out = Section("Mirror")
    doctor.check_mirror(mirrored.settings, out, count)
    assert "--sweep" in one(out, WARN, "the mirror has 4 scenes more than Stash's 59").fix


def test_last_sync_failed_or_running(mirrored: Mirrored) -> None:
    settings = mirrored.settings
    with sqlite3.connect(settings.mirror.database) as connection:
        connection.execute(
            "INSERT INTO sync_runs (kind, started_at, finished_at, ok, added, updated, removed,"
            " unchanged, error) VALUES ('incremental', ?, ?, 0, 0, 0, 0, 0, 'Stash went away')",
            (time.time() - 600, time.time() - 590),
        )
    out = Section("Mirror")
    doctor.check_mirror(settings, out)
    failed = one(out, WARN, "the last sync (incremental, 10 min ago) failed: Stash went away")
    assert "the last good one was" in failed.text and "stashplex-sync" in failed.fix
    with sqlite3.connect(settings.mirror.database) as connection:
        connection.execute(
            "INSERT INTO sync_runs (kind, started_at, added, updated, removed, unchanged)"
            " VALUES ('sweep', ?, 0, 0, 0, 0)",
            (time.time() - 5,),
        )
    out = Section("Mirror")
    doctor.check_mirror(settings, out)
    one(out, OK, "a sweep sync is running")


def test_low_disk_space(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = make_settings(tmp_path, f"http://{LOOPBACK}:{free_port()}")
    usage = shutil.disk_usage(tmp_path)
    for free, state in ((50 * 1024 * 1024, FAIL), (1024**3, WARN)):
        monkeypatch.setattr(
            doctor.shutil, "disk_usage", lambda path, free=free: usage._replace(free=free)
        )
        out = Section("Posters")
        doctor.check_posters(settings, out)
        low = one(out, state, "free at")
        assert low.fix


def test_poster_folder_not_writable(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    settings = make_settings(
        tmp_path,
        f"http://{LOOPBACK}:{free_port()}",
        STASHPLEX_MIRROR_POSTER_DIR=str(blocker / "posters"),
        POSTER_MODE="true",
    )
    out = Section("Posters")
    doctor.check_posters(settings, out)
    failed = one(out, FAIL, "is not writable")
    assert "[mirror] poster_dir" in failed.fix
    one(out, OK, "free at")  # the disk itself is fine
    off = dataclasses.replace(
        settings, server=dataclasses.replace(settings.server, poster_mode=False)
    )
    out = Section("Posters")
    doctor.check_posters(off, out)
    one(out, WARN, "only used with poster_mode = true")
    fresh = make_settings(
        tmp_path / "fresh", "http://unused", STASHPLEX_MIRROR_POSTER_DIR=str(tmp_path / "new")
    )
    out = Section("Posters")
    doctor.check_posters(fresh, out)
    one(out, OK, "can be created (it does not exist yet)")
    assert not (tmp_path / "new").exists()


def test_provider_not_running_or_not_stashplex(tmp_path: Path, fake_pms: FakePMS) -> None:
    base = make_settings(tmp_path, f"http://{LOOPBACK}:{free_port()}")
    for url, text, fix in (
        (f"http://{LOOPBACK}:{free_port()}", "nothing answers at", "start stashplex serve"),
        (fake_pms.url, "answers, but not as stashplex", "stashplex's own address"),
    ):
        server = dataclasses.replace(base.server, agent_base_url=url)
        out = Section("Provider")
        doctor.check_provider(dataclasses.replace(base, server=server), out)
        assert fix in one(out, FAIL, text).fix


# --- Plex ----------------------------------------------------------------------------------


def plex_section(settings: Settings, options: Options | None = None) -> Section:
    out = Section("Plex")
    doctor.check_plex(settings, options or Options(), out)
    return out


def test_plex_refuses_the_token(mirrored: Mirrored, fake_pms: FakePMS) -> None:
    fake_pms.token = "another-token"
    out = plex_section(configured(mirrored, fake=fake_pms))
    one(out, OK, "Plex Media Server 1.43.1")
    assert "[plex] token" in one(out, FAIL, "refused the token").fix


def test_plex_unreachable_or_too_old(mirrored: Mirrored, fake_pms: FakePMS) -> None:
    fake_pms.version = "1.42.2.10156-f737b826c"
    out = plex_section(configured(mirrored, fake=fake_pms))
    assert "update Plex Media Server" in one(out, FAIL, "1.42.2.10156-f737b826c is too old").fix
    settings = configured(mirrored, fake=fake_pms)
    gone = dataclasses.replace(
        settings, plex=dataclasses.replace(settings.plex, url=f"http://{LOOPBACK}:{free_port()}")
    )
    assert "[plex] url" in one(plex_section(gone), FAIL, "cannot reach Plex").fix


def test_plex_over_https_needs_verify_tls_for_a_self_signed_certificate(
    mirrored: Mirrored, tmp_path: Path
) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    https = FakePMS(tls=(str(cert), str(key))).start()
    try:
        assert https.url.startswith("https://")
        refused = one(plex_section(configured(mirrored, fake=https)), FAIL, "certificate")
        assert "[plex] verify_tls = false" in refused.fix
        https.add_provider(MOVIE_PROVIDER_ID, "http://127.0.0.1:7979")
        trusting = plex_section(configured(mirrored, fake=https, verify_tls=False))
        one(trusting, OK, "Plex accepts the token")
        assert not lines(trusting, FAIL)
    finally:
        https.stop()


def test_plex_outside_allowed_networks(mirrored: Mirrored, fake_pms: FakePMS) -> None:
    settings = configured(mirrored, fake=fake_pms)
    one(plex_section(settings), OK, "Plex's address 127.0.0.1 may use the provider")
    lan_only = dataclasses.replace(
        settings,
        server=dataclasses.replace(
            settings.server, allowed_networks=(ipaddress.ip_network("10.0.0.0/8"),)
        ),
    )
    refused = one(plex_section(lan_only), WARN, "127.0.0.1 is not in [plexagentserver]")
    assert "allowed_networks" in refused.fix


def test_loopback_agent_base_url_with_plex_elsewhere(served: tuple[Mirrored, str]) -> None:
    m, url = served
    settings = configured(m, url)
    elsewhere = dataclasses.replace(
        settings, plex=dataclasses.replace(settings.plex, url="http://192.0.2.10:32400")
    )
    out = Section("Provider")
    doctor.check_provider(elsewhere, out)
    one(out, OK, "answers as stashplex")
    assert "agent_base_url" in one(out, WARN, "only a Plex on this same machine").fix
    out = Section("Provider")
    doctor.check_provider(settings, out)  # no [plex] url: Plex may be anywhere
    one(out, WARN, "only a Plex on this same machine")
    out = Section("Provider")
    here = dataclasses.replace(
        settings, plex=dataclasses.replace(settings.plex, url=f"http://{LOOPBACK}:32400")
    )
    doctor.check_provider(here, out)
    assert not lines(out, WARN)  # Plex on this machine too: loopback is right


def test_providers_not_added_or_at_another_address(mirrored: Mirrored, fake_pms: FakePMS) -> None:
    settings = configured(mirrored, "http://192.0.2.7:7979", fake_pms)
    out = plex_section(settings)
    missing = one(out, FAIL, "stashplex's movie provider is not added in Plex")
    assert "Add Provider: http://192.0.2.7:7979 " in missing.fix
    tv = one(out, WARN, "stashplex's TV provider is not added in Plex")
    assert "http://192.0.2.7:7979/tv" in tv.fix
    fake_pms.add_provider(MOVIE_PROVIDER_ID, "http://192.0.2.8:7979")
    out = plex_section(settings)
    one(out, OK, "movie provider is added in Plex at http://192.0.2.8:7979")
    assert "agent_base_url" in one(out, WARN, "reaches the movie provider at").text
    fake_pms.providers = None  # a PMS without the route
    one(plex_section(settings), WARN, "Plex did not list its metadata providers")


def test_libraries_on_another_agent(mirrored: Mirrored, fake_pms: FakePMS) -> None:
    fake_pms.agents.update({"1": "tv.plex.agents.movie", "2": "tv.plex.agents.series"})
    settings = configured(mirrored, fake=fake_pms)
    failed = one(plex_section(settings), FAIL, "no Plex library uses stashplex's agent")
    assert "Scenes (movies, agent tv.plex.agents.movie)" in failed.text
    assert "Advanced" in failed.fix
    chosen = plex_section(settings, Options(library="2"))
    assert "Agent" in one(chosen, FAIL, "library Studios (TV").fix
    missing = plex_section(settings, Options(library="Nope"))
    one(missing, FAIL, "Plex has no movie or TV library 'Nope'")


# --- the command ---------------------------------------------------------------------------


def write_ini(m: Mirrored, url: str, folder: Path) -> Path:
    ini = folder / "settings.ini"
    ini.write_text(
        f"[stash]\nurl = {m.settings.stash.url}\n"
        f"[plexagentserver]\nagent_base_url = {url}\n"
        f"[mirror]\ndatabase = {m.settings.mirror.database}\n"
        f"poster_dir = {m.settings.mirror.poster_dir}\n"
    )
    return ini


def test_command_prints_the_checklist_and_exits_by_the_result(
    served: tuple[Mirrored, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    m, url = served
    ini = write_ini(m, url, tmp_path)
    listed = tmp_path / "paths.txt"
    listed.write_text(next(iter(stash_paths(m).values())) + "\n")
    assert cli.main(["doctor", "--settings", str(ini), "--paths", str(listed)]) == 0
    out = capsys.readouterr().out
    assert "  ✓ Stash answers at" in out
    assert "  ! [plex] url and token are not set" in out
    assert "    → set [plex] url and token" in out
    assert out.rstrip().endswith("failed: ready to scan")

    listed.write_text("/nowhere/x.mp4\n")
    assert cli.main(["doctor", "--settings", str(ini), "--paths", str(listed)]) == 1
    out = capsys.readouterr().out
    assert "  ✗ 1 file would not match" in out
    assert "fix the lines marked ✗" in out
    assert cli.main(["doctor", "--settings", str(ini), "--paths", str(tmp_path / "no")]) == 2


def test_command_falls_back_to_ascii(served: tuple[Mirrored, str], tmp_path: Path) -> None:
    m, url = served
    ini = write_ini(m, url, tmp_path)
    env = {**os.environ, "PYTHONIOENCODING": "ascii"}
    env.pop("STASHPLEX_SETTINGS", None)
    done = subprocess.run(
        [sys.executable, "-m", "stashplex", "doctor", "--settings", str(ini)],
        capture_output=True,
        env=env,
        timeout=60,
    )
    text = done.stdout.decode("ascii")
    assert done.returncode == 0, text + done.stderr.decode()
    assert "  + Stash answers at" in text
    assert "  ! no dry run" in text
    assert "    -> set [plex] token" in text


def test_report_via_stream_is_redacted(served: tuple[Mirrored, str], fake_pms: FakePMS) -> None:
    m, url = served
    fake_pms.token = "another-token"
    stream = io.StringIO()
    settings = configured(m, url, fake_pms)
    redaction.register(settings.secrets)
    args = cli.build_parser().parse_args(["doctor"])
    assert doctor.run(args, settings, stream=stream) == 1
    assert TOKEN not in stream.getvalue()
    assert "refused the token" in stream.getvalue()


# --- the checkup on a running service's status page ------------------------------------------


def test_status_page_runs_the_checkup_of_the_running_service(
    sample_stash: SampleStash, fake_pms: FakePMS, daemon_factory: Callable[..., object]
) -> None:
    paths = [f["path"] for i in (31, 32, 33) for f in sample_stash.library.scene(i)["files"]]
    for path in paths:
        fake_pms.add_file(path)
    service = daemon_factory(
        sample_stash.url,
        PLEX_URL=fake_pms.url,
        PLEX_TOKEN=TOKEN,
        STASHPLEX_PLEX_RECONCILE_HOURS="0",
    )
    deadline = time.monotonic() + 60
    while service.scenes() == 0:  # the first sync
        assert time.monotonic() < deadline, service.log()
        time.sleep(0.1)
    page = service.http.get("/status").text
    assert "Run the checkup</button>" in page and "Last run finished" not in page
    token = re.search(
        r'action="/status/checkup"><input type="hidden" name="token" value="([0-9a-f]+)"', page
    )[1]
    response = service.http.post(
        "/status/checkup",
        content=f"token={token}",
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Sec-Fetch-Site": "same-origin",
        },
    )
    assert response.status_code == 303
    while "Last run finished" not in (page := service.http.get("/status").text):
        assert time.monotonic() < deadline, page
        time.sleep(0.1)
    assert f"{service.url} answers as stashplex" in page
    assert "Plex accepts the token" in page
    assert "3 of 3 files would match (by path 3)" in page
    assert TOKEN not in page
    cross = service.http.post(
        "/status/checkup",
        content=f"token={token}",
        headers={"Content-Type": "application/x-www-form-urlencoded", "Origin": "http://evil"},
    )
    assert cross.status_code == 403
