"""The dry run over a hand-built mirror: tiers, gates, exact and inexact matches, the hints."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from stashplex.dry_run import DryRunner, read_paths
from stashplex.mirror.db import Database
from tests.plugins.webkit import fill_hand_mirror, hand_settings


@pytest.fixture
def runner(tmp_path: Path) -> Iterator[DryRunner]:
    settings = hand_settings(tmp_path, STASHPLEX_METADATA_REQUIRE_ORGANIZED="true")
    db = Database.open(settings.mirror.database)
    fill_hand_mirror(db, settings)
    dry = DryRunner(settings, db)
    yield dry
    dry.close()
    db.close()


def test_tiers_gates_and_hints(runner: DryRunner) -> None:
    result = runner.run(
        [
            "/data/stash/Site/2020/First.mp4",  # exact
            "/mnt/media/Site/2020/First.mp4",  # by its path ending
            "/mnt/media/B/same.mp4",  # by its path ending, among three of that name
            "/data/stash/Site/2021/Second.mp4",  # not organized: hidden by the gate
            "/mnt/media/Site/2020/New.mp4",  # Stash has the folder, not the file
            "/mnt/media/Site/2020/Newer.mp4",
            None,  # an item without a file
        ],
        tv=False,
    )
    assert result.total == 7 and result.no_file == 1 and result.hidden == 1
    assert dict(result.tiers) == {"path": 1, "suffix": 2}
    assert result.exact == 1
    assert result.inexact == [
        ("/mnt/media/Site/2020/First.mp4", "/data/stash/Site/2020/First.mp4"),
        ("/mnt/media/B/same.mp4", "/data/stash/B/same.mp4"),
    ]
    hint = result.exact_hint()
    assert hint is not None and hint.line == "path_map = /mnt/media = /data/stash"
    assert (hint.explained, hint.compared) == (2, 2)
    assert result.unmatched == ["/mnt/media/Site/2020/New.mp4", "/mnt/media/Site/2020/Newer.mp4"]
    folder = result.folder_hint(runner.folders())
    assert folder is not None and folder.line == "path_map = /mnt/media = /data/stash"


def test_path_map_makes_matches_exact(tmp_path: Path) -> None:
    settings = hand_settings(tmp_path, STASHPLEX_MATCH_PATH_MAP="/mnt/media = /data/stash")
    db = Database.open(settings.mirror.database)
    fill_hand_mirror(db, settings)
    dry = DryRunner(settings, db)
    try:
        result = dry.run(["/mnt/media/Site/2020/First.mp4"], tv=False)
    finally:
        dry.close()
        db.close()
    assert dict(result.tiers) == {"path": 1} and result.exact == 1 and not result.inexact


def test_read_paths(tmp_path: Path) -> None:
    listed = tmp_path / "list.txt"
    listed.write_text("\ufeff/a/x.mp4\n\n# a comment\n  /b/y.mkv  \n", encoding="utf-8")
    assert read_paths(listed) == ["/a/x.mp4", "/b/y.mkv"]
    (tmp_path / "lib" / "Site" / ".hidden").mkdir(parents=True)
    for name in ("a.MP4", "b.mkv", "c.jpg", "noext", ".d.mp4"):
        (tmp_path / "lib" / "Site" / name).write_bytes(b"")
    (tmp_path / "lib" / "Site" / ".hidden" / "e.mp4").write_bytes(b"")
    found = read_paths(tmp_path / "lib")
    assert [Path(p).name for p in found] == ["a.MP4", "b.mkv"]
