from __future__ import annotations

import pytest

from stashplex.plex import pathkeys as pk


def test_reversed_path_splits_both_separators_and_drops_empties() -> None:
    assert pk.reversed_path("/data/Site/x.mp4") == "x.mp4/Site/data"
    assert pk.reversed_path("C:\\Media\\Site\\x.mp4") == "x.mp4/Site/Media/C:"
    assert pk.reversed_path("//nas//share/x.mp4") == "x.mp4/share/nas"
    assert pk.reversed_path("") == ""


def test_basename_and_fold() -> None:
    assert pk.basename("D:\\a\\B.MP4") == "B.MP4"
    assert pk.fold("Ｓｃｅｎｅ STRASSE") == "scene strasse"
    assert pk.fold("Straße") == "strasse"


@pytest.mark.parametrize(
    ("name", "stem", "ext"),
    [
        ("x.mp4", "x", "mp4"),
        ("x.1080p.MP4", "x.1080p", "MP4"),
        (".hidden", ".hidden", ""),
        ("name.", "name.", ""),
        ("x.final-cut", "x.final-cut", ""),
        ("no extension", "no extension", ""),
    ],
)
def test_split_extension(name: str, stem: str, ext: str) -> None:
    assert pk.split_extension(name) == (stem, ext)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Scene Title.1080p.mp4", "scene title.mp4"),
        ("Scene Title [2160p].mkv", "Scene Title.mp4"),
        ("Scene_Title - 720p.x264.mp4", "Scene Title.wmv"),
        ("Scène (4K).mp4", "scène.mp4"),
    ],
)
def test_stem_key_ignores_quality_tags_case_and_punctuation(a: str, b: str) -> None:
    assert pk.stem_key(a) == pk.stem_key(b)


def test_stem_key_keeps_real_words() -> None:
    assert pk.stem_key("Part 2.mp4") != pk.stem_key("Part 3.mp4")
    assert pk.stem_key("HD Collection Vol 1.mp4") == "hd collection vol 1"


def test_title_key() -> None:
    assert pk.title_key("  The—Scene: Part #2! ") == "the scene part 2"
    assert pk.title_key("") is None
    assert pk.title_key("!!!") is None
    assert pk.title_key(None) is None


def test_apply_path_map_longest_prefix_and_components() -> None:
    mapping = (("/mnt/media/adult", "/data/adult"), ("/mnt", "D:\\nas"))
    assert pk.apply_path_map("/mnt/media/adult/Site/x.mp4", mapping) == "data/adult/Site/x.mp4"
    assert pk.apply_path_map("/mnt/other/x.mp4", mapping) == "D:/nas/other/x.mp4"
    # A prefix matches whole components only.
    assert pk.apply_path_map("/mnt2/x.mp4", mapping) is None
    assert pk.reversed_path(pk.apply_path_map("/mnt/other/x.mp4", mapping)) == pk.reversed_path(
        "D:\\nas\\other\\x.mp4"
    )
