"""The path_map suggestion: common suffix, differing prefixes, a majority, Stash's folders."""

from __future__ import annotations

import pytest

from stashplex.plex.path_hints import (
    FolderIndex,
    PathMapHint,
    differing_prefixes,
    parent,
    strip_components,
    suggest_path_map,
)


@pytest.mark.parametrize(
    ("path", "count", "expected"),
    [
        ("/mnt/media/Site/x.mp4", 2, "/mnt/media"),
        ("/mnt/media/Site/x.mp4", 0, "/mnt/media/Site/x.mp4"),
        ("/media/x.mp4", 1, "/media"),
        ("/x.mp4", 1, "/"),
        ("C:\\Media\\Site\\x.mp4", 2, "C:\\Media"),
        ("C:\\Media\\x.mp4", 2, "C:\\"),
        ("//nas/share/Site/x.mp4", 2, "//nas/share"),
        ("/mnt//media/", 1, "/mnt"),
    ],
)
def test_strip_components(path: str, count: int, expected: str) -> None:
    assert strip_components(path, count) == expected


def test_differing_prefixes() -> None:
    assert differing_prefixes("/mnt/media/Site/x.mp4", "/data/stash/Site/x.mp4") == (
        "/mnt/media",
        "/data/stash",
    )
    # Plex on Linux, Stash on Windows.
    assert differing_prefixes("/mnt/media/Site/x.mp4", "C:\\Media\\Site\\x.mp4") == (
        "/mnt/media",
        "C:\\Media",
    )
    assert differing_prefixes("/a/x.mp4", "/b/y.mp4") is None  # nothing in common at the end
    assert differing_prefixes("/data/x.mp4", "\\data\\x.mp4") is None  # only the separators
    assert differing_prefixes("Site/x.mp4", "/data/Site/x.mp4") is None  # no Plex prefix


def test_suggestion_needs_half_of_the_differing_pairs() -> None:
    pairs = [
        ("/mnt/media/A/1.mp4", "/data/A/1.mp4"),
        ("/mnt/media/B/2.mp4", "/data/B/2.mp4"),
        ("/mnt/other/C/3.mp4", "/srv/C/3.mp4"),
        ("/x/4.mp4", "/y/5.mp4"),  # explains nothing either way
    ]
    hint = suggest_path_map(pairs)
    assert hint == PathMapHint("/mnt/media", "/data", 2, 4)
    assert hint.line == "path_map = /mnt/media = /data"
    split = [*pairs, ("/mnt/third/D/6.mp4", "/opt/D/6.mp4")]
    assert suggest_path_map(split) == PathMapHint("/mnt/media", "/data", 2, 5)  # half of 4
    split.append(("/mnt/fourth/E/7.mp4", "/var/E/7.mp4"))
    assert suggest_path_map(split) is None  # 2 of 5: no line explains most
    assert suggest_path_map([]) is None


def test_folder_index_finds_the_folder_with_the_longest_common_ending() -> None:
    folders = FolderIndex(
        parent(p)
        for p in (
            "/data/stash/Site/2020/a.mp4",
            "/data/stash/Other/2020/b.mp4",
            "/data/stash/Site/c.mp4",
        )
    )
    assert folders.closest("/mnt/media/Site/2020") == "/data/stash/Site/2020"
    assert folders.closest("/mnt/media/Site") == "/data/stash/Site"
    assert folders.closest("/mnt/media/Unknown") is None
    # Two folders end in "2020": the same one wins every time.
    assert folders.closest("/elsewhere/2020") == "/data/stash/Other/2020"
    assert folders.closest("/elsewhere/2020", min_depth=2) is None
    assert folders.closest("/mnt/media/Site/2020", min_depth=2) == "/data/stash/Site/2020"
