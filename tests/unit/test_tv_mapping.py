"""Pure TV mapping: shows, seasons and episodes as Plex reads them."""

from __future__ import annotations

import json

import pytest

from stashplex.plex.identity import TV_PROVIDER_ID
from stashplex.plex.mapping import MappingOptions, scene_metadata
from stashplex.plex.tv_mapping import (
    EpisodeRow,
    ShowRow,
    episode_metadata,
    episode_summary,
    genres,
    season_metadata,
    show_metadata,
    tv_candidate,
    with_children,
)
from stashplex.records import SceneBundle
from tests.plugins.tvkit import HAND_PERFORMERS, HAND_STUDIOS, HAND_TAGS, tv_scene

BASE = "http://stash.lan:9999"
OPTS = MappingOptions(base_url=BASE, ignore_tags=frozenset({"boring"}), provider_id=TV_PROVIDER_ID)
STUDIO = ShowRow("studio-2", "studio", 2, "Site A", "About.", image_version="5")
PLAIN = ShowRow("studio-3", "studio", 3, "Sub A")
GROUP = ShowRow("group-1", "group", 1, "Series One", "A series.", "7", "2019-05-01")
EP = EpisodeRow(12, "studio-2", 2024, 50101, "2024-05-01", "Alpha", "170")
SPECIAL = EpisodeRow(13, "studio-2", 0, 1, "2024-07-15", "Undated", None)


def movie(scene_id: int = 12, date: str | None = "2024-05-01") -> dict:
    scene = tv_scene(scene_id, date, title="Alpha", tag_ids=(1, 3))
    bundle = SceneBundle(scene, HAND_STUDIOS[1], HAND_STUDIOS[0], HAND_PERFORMERS, HAND_TAGS)
    return scene_metadata(bundle, MappingOptions(base_url=BASE, studio_as_collection=True))


def test_show_identity_and_fields() -> None:
    out = show_metadata(
        STUDIO,
        OPTS,
        first=EP,
        latest=SPECIAL,
        tags=[("Outdoor", 9, 1), ("boring", 8, 3), ("Indoor", 2, 2)],
    )
    assert out["type"] == "show"
    assert out["ratingKey"] == "studio-2"
    assert out["guid"] == f"{TV_PROVIDER_ID}://show/studio-2"
    assert out["guid"].rsplit("/", 1)[1] == out["ratingKey"]
    assert out["key"] == "/library/metadata/studio-2/children"
    assert (out["title"], out["summary"], out["studio"]) == ("Site A", "About.", "Site A")
    assert (out["originallyAvailableAt"], out["year"]) == ("2024-05-01", 2024)
    assert out["thumb"] == f"{BASE}/stash/studio/2/image?v=5"
    assert out["art"] == f"{BASE}/stash/scene/13/screenshot"
    assert [i["type"] for i in out["Image"]] == ["coverPoster", "background"]
    assert out["Genre"] == [{"tag": "Outdoor"}, {"tag": "Indoor"}]  # ignored tags left out
    assert (out["contentRating"], out["isAdult"]) == ("XXX", True)


def test_a_show_without_an_image_uses_its_newest_episode() -> None:
    out = show_metadata(PLAIN, OPTS, first=SPECIAL, latest=EP)
    assert out["thumb"] == out["art"] == f"{BASE}/stash/scene/12/screenshot?v=170"
    assert "year" not in out  # its only episodes are Specials: no release year
    assert out["originallyAvailableAt"] == "2024-07-15"
    assert "Genre" not in out and "summary" not in out


def test_a_group_show_has_its_own_date_and_cover() -> None:
    out = show_metadata(GROUP, OPTS, first=EP, latest=EP)
    assert (out["originallyAvailableAt"], out["year"]) == ("2019-05-01", 2019)
    assert out["thumb"] == f"{BASE}/stash/group/1/front?v=7"
    assert "studio" not in out and "Studio" not in out


def test_season() -> None:
    out = season_metadata(STUDIO, 2024, OPTS, first=EP)
    assert out["type"] == "season"
    assert out["ratingKey"] == "studio-2-2024"
    assert out["guid"] == f"{TV_PROVIDER_ID}://season/studio-2-2024"
    assert out["key"] == "/library/metadata/studio-2-2024/children"
    assert (out["title"], out["index"], out["year"]) == ("2024", 2024, 2024)
    assert out["parentRatingKey"] == "studio-2"
    assert out["parentKey"] == "/library/metadata/studio-2"
    assert out["parentGuid"] == f"{TV_PROVIDER_ID}://show/studio-2"
    assert (out["parentType"], out["parentTitle"]) == ("show", "Site A")
    assert out["thumb"] == f"{BASE}/stash/studio/2/image?v=5"
    specials = season_metadata(PLAIN, 0, OPTS, first=SPECIAL)
    assert (specials["title"], specials["index"]) == ("Specials", 0)
    assert "year" not in specials
    assert specials["thumb"] == f"{BASE}/stash/scene/13/screenshot"


def test_episode_from_the_movie_document() -> None:
    doc = json.loads(json.dumps(movie()))  # as stored
    out = episode_metadata(doc, EP, STUDIO, OPTS)
    assert out["type"] == "episode"
    assert out["ratingKey"] == "scene-12"
    assert out["key"] == "/library/metadata/scene-12"
    assert out["guid"] == f"{TV_PROVIDER_ID}://episode/scene-12"
    assert (out["index"], out["parentIndex"]) == (50101, 2024)
    assert out["parentRatingKey"] == "studio-2-2024"
    assert out["parentKey"] == "/library/metadata/studio-2-2024"
    assert out["parentGuid"] == f"{TV_PROVIDER_ID}://season/studio-2-2024"
    assert out["grandparentRatingKey"] == "studio-2"
    assert out["grandparentKey"] == "/library/metadata/studio-2"
    assert out["grandparentGuid"] == f"{TV_PROVIDER_ID}://show/studio-2"
    assert (out["parentTitle"], out["grandparentTitle"]) == ("2024", "Site A")
    assert (out["parentType"], out["grandparentType"]) == ("season", "show")
    assert (out["title"], out["originallyAvailableAt"]) == ("Alpha", "2024-05-01")
    assert out["year"] == 2024
    assert out["summary"] == "About scene 12."
    assert out["duration"] == 90000
    assert [r["tag"] for r in out["Role"]] == ["Jane", "John"]
    assert out["thumb"] == f"{BASE}/stash/scene/12/screenshot?v=170"
    assert out["Image"] == [
        {"type": "snapshot", "url": out["thumb"], "alt": "Alpha"},
        {"type": "background", "url": out["thumb"], "alt": "Alpha"},
    ]
    # Genres, studio and collections belong to the show in a TV library.
    for key in ("Genre", "studio", "Studio", "Collection", "tagline", "art"):
        assert key not in out


def test_a_special_has_no_year() -> None:
    out = episode_metadata(movie(13, None), SPECIAL, STUDIO, OPTS)
    assert "year" not in out
    assert out["originallyAvailableAt"] == movie(13, None)["originallyAvailableAt"]
    assert (out["parentTitle"], out["parentIndex"], out["index"]) == ("Specials", 0, 1)


def test_children_and_candidates() -> None:
    season = season_metadata(STUDIO, 2024, OPTS, first=EP)
    with_children(season, [episode_summary(EP, STUDIO, OPTS)])
    assert season["Children"]["size"] == 1
    (child,) = season["Children"]["Metadata"]
    assert (child["ratingKey"], child["index"], child["parentIndex"]) == ("scene-12", 50101, 2024)
    candidate = tv_candidate(season, 100)
    assert candidate["score"] == 100 and candidate["Children"] == season["Children"]
    assert candidate["parentTitle"] == "Site A" and candidate["index"] == 2024
    with pytest.raises(ValueError):
        tv_candidate(season, 101)
    with pytest.raises(ValueError):
        tv_candidate({"type": "show"}, 50)


def test_genres_are_capped_and_unique() -> None:
    tags = [(f"Tag {i}", 100 - i, i + 1) for i in range(20)] + [("tag 0", 1, 99), ("", 1, 98)]
    out = genres(tags, OPTS)
    assert len(out) == 10 and out[0] == {"tag": "Tag 0"}
    assert len({g["tag"].casefold() for g in out}) == 10
