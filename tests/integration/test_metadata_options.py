"""The `[metadata]` options, seen through the provider's routes over a hand-built mirror."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from falcon import testing

from stashplex.mirror import documents
from stashplex.mirror import sync as sync_module
from stashplex.mirror.db import Database
from stashplex.mirror.kinds import GROUPS, PERFORMERS, STUDIOS, TAGS
from stashplex.mirror.sync import Syncer
from stashplex.mirror.writer import MirrorWriter
from stashplex.records import Group, Performer, SceneGroup, StashId, Studio, Tag
from stashplex.settings import SettingsError, load
from stashplex.stash.errors import StashUnreachable
from stashplex.web.app import create_app
from tests.integration.test_fallback import Calls
from tests.plugins.mirror import Mirrored, make_settings
from tests.plugins.webkit import Provider, hand_scene, hand_settings

STUDIOS_ = [Studio(1, "Site", parent_id=2), Studio(2, "Network", parent_id=3), Studio(3, "Corp")]
PERFORMERS_ = [
    Performer(1, "Zed", disambiguation="the tall one", gender="MALE"),
    Performer(2, "Ann", gender="FEMALE"),
    Performer(3, "Bea", disambiguation="2010s", gender="TRANSGENDER_FEMALE"),
]
# Pool sits under Water, under Nature (Stash's tag hierarchy); Studio Tag under Outdoor.
TAGS_ = [
    Tag(1, "Outdoor"),
    Tag(2, "Pool", parent_ids=(4,)),
    Tag(3, "Studio Tag", parent_ids=(1, 99)),  # 99: a parent the mirror does not know
    Tag(4, "Water", parent_ids=(5,)),
    Tag(5, "Nature", parent_ids=(2,)),  # a cycle in bad data
]
GROUPS_ = [Group(1, "Series", front_image_version="7")]
STASHDB = StashId("https://stashdb.org/graphql", "0b5c1f6e-0000-4000-8000-000000000001")
SCENES = (
    hand_scene(
        1,
        "/data/Site/pool.day.1080p.mp4",
        title="Pool Day",
        code="ABC-1",
        date="2024-05-01",
        rating100=87,
        organized=True,
        performer_ids=(1, 2, 3),
        tag_ids=(1, 2, 3),
        groups=(SceneGroup(1, 1),),
        stash_ids=(STASHDB,),
        urls=("https://site.example/pool-day",),
    ),
    hand_scene(
        2,
        "/data/Site/untitled.clip.mp4",
        title=None,
        code=None,
        studio_id=None,
        date=None,
        rating100=None,
        organized=False,
        performer_ids=(),
        tag_ids=(),
        groups=(),
    ),
    # Unorganized, without a stash-box id, in the same studio as scene 1 (a TV episode).
    hand_scene(3, "/data/Site/rough.cut.mp4", title="Rough Cut", organized=False, date="2024-06"),
)


@pytest.fixture
def provider(tmp_path: Path) -> Iterator[Callable[..., Provider]]:
    """`make(**env)`: an app over a mirror of SCENES rendered with these settings."""
    made: list[Provider] = []

    def make(ini: str = "", **env: str) -> Provider:
        folder = tmp_path / f"p{len(made)}"
        settings = hand_settings(folder, **env)
        if ini:  # an empty value cannot come from the environment (empty means unset)
            folder.mkdir(parents=True, exist_ok=True)
            (folder / "settings.ini").write_text(ini, encoding="utf-8")
            settings = dataclasses.replace(
                settings, metadata=load(folder / "settings.ini", {}).metadata
            )
        db = Database.open(settings.mirror.database)
        writer = MirrorWriter(db, documents.mapping_options(settings))
        writer.apply_entities(STUDIOS, STUDIOS_)
        writer.apply_entities(PERFORMERS, PERFORMERS_)
        writer.apply_entities(TAGS, TAGS_)
        writer.apply_entities(GROUPS, GROUPS_)
        writer.apply_scenes(SCENES)
        writer.rebuild_tv(settings.tv.show_by)
        app = create_app(settings, db=db)
        made.append(Provider(settings, db, app, testing.TestClient(app)))
        return made[-1]

    yield make
    for p in made:
        p.app.close()
        p.db.close()


def metadata(p: Provider, scene_id: int) -> dict[str, Any]:
    response = p.client.simulate_get(f"/library/metadata/scene-{scene_id}")
    assert response.status_code == 200, response.text
    (item,) = response.json["MediaContainer"]["Metadata"]
    return item


def env(**values: str) -> dict[str, str]:
    return {f"STASHPLEX_METADATA_{k.upper()}": v for k, v in values.items()}


# --- title_format -------------------------------------------------------------------------------


def test_default_title_is_title_else_code_else_file_name(provider) -> None:
    p = provider()
    assert metadata(p, 1)["title"] == "Pool Day"
    assert metadata(p, 2)["title"] == "untitled.clip"


@pytest.mark.parametrize(
    ("template", "first", "second"),
    [
        ("[{studio} - ]{title|filename}", "Site - Pool Day", "untitled.clip"),
        ("{parent_studio} / {code|title}", "Network / ABC-1", "/"),
        ("[{date} ]{title}[ ({performers})]", "2024-05-01 Pool Day (Zed, Ann, Bea)", "Scene 2"),
        ("{year} {filename}", "2024 pool.day.1080p", "untitled.clip"),
    ],
)
def test_title_format_shapes_the_title(provider, template: str, first: str, second: str) -> None:
    p = provider(**env(title_format=template))
    item = metadata(p, 1)
    assert item["title"] == first
    assert all(image["alt"] == first for image in item["Image"])
    assert metadata(p, 2)["title"] == second


def test_title_format_in_the_images_route(provider) -> None:
    p = provider(**env(title_format="[{studio} - ]{title}"))
    response = p.client.simulate_get("/library/metadata/scene-1/images")
    assert {image["alt"] for image in response.json["MediaContainer"]["Image"]} == {
        "Site - Pool Day",
        "Series",  # the group's front cover keeps the group's name
    }


def test_matches_carry_the_formatted_title(provider) -> None:
    p = provider(**env(title_format="{code} {title}"))
    (candidate,) = p.match(filename="/mnt/Site/pool.day.1080p.mp4")
    assert candidate["title"] == "ABC-1 Pool Day"


# --- rating -------------------------------------------------------------------------------------


def test_rating_is_an_audience_rating_by_default(provider) -> None:
    item = metadata(provider(), 1)
    assert item["Rating"] == [
        {"type": "audience", "value": 8.7, "image": "themoviedb://image.rating"}
    ]
    assert "userRating" not in item
    assert "Rating" not in metadata(provider(), 2)


def test_rating_as_user_rating(provider) -> None:
    p = provider(**env(rating="user"))
    item = metadata(p, 1)
    assert item["userRating"] == 8.7 and "Rating" not in item
    assert "userRating" not in metadata(p, 2)


def test_rating_off(provider) -> None:
    item = metadata(provider(**env(rating="OFF")), 1)
    assert "Rating" not in item and "userRating" not in item


# --- cast ---------------------------------------------------------------------------------------


def roles(item: dict[str, Any]) -> list[tuple[str, str | None, int]]:
    return [(r["tag"], r.get("role"), r["order"]) for r in item["Role"]]


def test_cast_defaults_to_stash_order_with_disambiguation(provider) -> None:
    assert roles(metadata(provider(), 1)) == [
        ("Zed", "the tall one", 1),
        ("Ann", None, 2),
        ("Bea", "2010s", 3),
    ]


@pytest.mark.parametrize(
    ("role", "order", "expected"),
    [
        ("none", "name", [("Ann", None, 1), ("Bea", None, 2), ("Zed", None, 3)]),
        (
            "Performer",
            "female_first",
            [("Ann", "Performer", 1), ("Bea", "Performer", 2), ("Zed", "Performer", 3)],
        ),
        (
            "disambiguation",
            "male_first",
            [("Zed", "the tall one", 1), ("Ann", None, 2), ("Bea", "2010s", 3)],
        ),
    ],
)
def test_cast_role_and_order(provider, role: str, order: str, expected: list) -> None:
    assert roles(metadata(provider(**env(cast_role=role, cast_order=order)), 1)) == expected


def test_cast_order_also_orders_performers_in_the_title(provider) -> None:
    p = provider(**env(cast_order="name", title_format="{title} ({performers})"))
    assert metadata(p, 1)["title"] == "Pool Day (Ann, Bea, Zed)"


# --- gates --------------------------------------------------------------------------------------


def status(p: Provider, path: str) -> int:
    response = p.client.simulate_get(path)
    if response.status_code == 404:
        assert response.json["error"]["status"] == 404
    return response.status_code


@pytest.mark.parametrize("gate", ["require_organized", "require_stash_id", "require_url"])
def test_a_scene_failing_a_gate_is_not_offered(provider, gate: str) -> None:
    p = provider(**env(**{gate: "true"}))
    for route in ("", "/images", "/extras"):
        assert status(p, f"/library/metadata/scene-1{route}") == 200
        assert status(p, f"/library/metadata/scene-3{route}") == 404
    # No candidate for its file, its id or its guid, nor by its title in a Fix Match.
    assert p.match(filename="/mnt/Site/rough.cut.mp4") == []
    assert p.match(filename="/mnt/x/scene-3.mp4") == []
    assert p.match(guid="tv.plex.agents.custom.stashplex://movie/scene-3", manual=1) == []
    assert p.match(title="Rough Cut", manual=1) == []
    assert [c["ratingKey"] for c in p.match(filename="/mnt/Site/pool.day.1080p.mp4")] == ["scene-1"]


def test_without_gates_every_scene_is_offered(provider) -> None:
    p = provider()
    assert status(p, "/library/metadata/scene-3") == 200
    assert [c["ratingKey"] for c in p.match(filename="/mnt/Site/rough.cut.mp4")] == ["scene-3"]


def test_a_hidden_file_is_not_listed_as_unmatched(provider) -> None:
    p = provider(**env(require_organized="true"))
    assert p.match(filename="/mnt/Site/rough.cut.mp4") == []
    assert p.match(filename="/mnt/Site/unknown.mp4") == []
    assert [m.filename for m in p.app.context.misses.recent()] == ["/mnt/Site/unknown.mp4"]


def episodes(p: Provider) -> list[str]:
    response = p.client.simulate_get("/tv/library/metadata/studio-1/grandchildren")
    assert response.status_code == 200, response.text
    return [e["ratingKey"] for e in response.json["MediaContainer"]["Metadata"]]


def test_the_tv_library_follows_the_gates(provider) -> None:
    assert sorted(episodes(provider())) == ["scene-1", "scene-3"]
    p = provider(**env(require_organized="true"))
    assert episodes(p) == ["scene-1"]
    assert status(p, "/tv/library/metadata/scene-3") == 404
    assert status(p, "/tv/library/metadata/scene-1") == 200


def test_status_counts_what_each_gate_hides(provider) -> None:
    p = provider(**env(require_organized="true", require_stash_id="1", require_url="yes"))
    page = p.client.simulate_get("/status")
    assert "Hidden from Plex: 2 not organized" in page.text
    assert "2 without a stash-box id" in page.text
    assert "2 without a URL" in page.text
    assert "Hidden from Plex" not in provider().client.simulate_get("/status").text


def test_the_live_fallback_follows_the_gates(synced_provider, monkeypatch) -> None:
    p = synced_provider(env=env(require_organized="true"))
    library = p.mirrored.stash.library
    (hidden,) = library.add_scenes(1, title="Not Organized Yet")
    library.edit_scene(hidden, organized=False)
    (shown,) = library.add_scenes(1, title="Organized Arrival")
    library.edit_scene(shown, organized=True)
    calls = Calls(p, monkeypatch)
    assert status(p, f"/library/metadata/scene-{hidden}") == 404
    assert status(p, f"/library/metadata/scene-{shown}") == 200
    assert calls.lookups() == 2
    # Now mirrored: known, and hidden, so Stash is not asked again (by id or by file).
    assert status(p, f"/library/metadata/scene-{hidden}") == 404
    path = library.scene_paths(hidden)[0]
    assert p.match(filename="/mnt/plex/" + path.rsplit("/", 1)[-1]) == []
    assert calls.lookups() == 2


# --- collections --------------------------------------------------------------------------------


def collections(item: dict[str, Any]) -> list[str]:
    return [c["tag"] for c in item.get("Collection", [])]


def test_groups_are_collections_by_default(provider) -> None:
    assert collections(metadata(provider(), 1)) == ["Series"]
    assert collections(metadata(provider(), 2)) == []


def test_collection_sources_with_prefixes(provider) -> None:
    p = provider(
        **env(
            collections='group = "Group: ", studio = "Site: ", parent_studio, network = "Net: ",'
            ' performer, organized, tag:pool, tag:3 = "# "'
        )
    )
    assert collections(metadata(p, 1)) == [
        "Group: Series",
        "Site: Site",
        "Network",
        "Net: Corp",  # the top of Site -> Network -> Corp
        "Zed",
        "Ann",
        "Bea",
        "Organized",
        "Pool",  # named as in Stash
        "# Studio Tag",
    ]
    assert collections(metadata(p, 3)) == [
        "Group: Series",
        "Site: Site",
        "Network",
        "Net: Corp",
        "Zed",
        "Ann",
    ]


def test_collections_can_be_turned_off_and_studio_as_collection_still_works(provider) -> None:
    assert collections(metadata(provider(ini="[metadata]\ncollections =\n"), 1)) == []
    p = provider(**env(studio_as_collection="true"))
    assert collections(metadata(p, 1)) == ["Series", "Site"]
    assert [str(c) for c in p.settings.metadata.collections] == ["group", "studio"]


def test_a_studio_without_parent_is_its_own_network(provider) -> None:
    p = provider(**env(collections="network, parent_studio"))
    assert collections(metadata(p, 1)) == ["Corp", "Network"]  # Site -> Network -> Corp
    writer = MirrorWriter(p.db, documents.mapping_options(p.settings))
    writer.apply_entities(STUDIOS, [Studio(1, "Site")])  # no parent any more
    assert writer.rerender([1]) == [1]
    assert collections(metadata(p, 1)) == ["Site"]


def test_renaming_the_network_reaches_scenes_two_levels_below(provider) -> None:
    p = provider(**env(collections="network"))
    writer = MirrorWriter(p.db, documents.mapping_options(p.settings))
    writer.apply_entities(STUDIOS, [Studio(3, "Corp Renamed")])
    changed = writer.rerender(writer.scenes_showing("studio", {3}))
    assert changed == [1, 3]
    assert collections(metadata(p, 1)) == ["Corp Renamed"]


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("groups", "unknown collection source 'groups'"),
        ("tag:", "unknown collection source 'tag:'"),
        ("studio, studio", "'studio' is listed twice"),
        ('studio = "Site: ', "never closed"),
    ],
)
def test_bad_collections_name_the_key(tmp_path: Path, value: str, reason: str) -> None:
    path = tmp_path / "settings.ini"
    path.write_text(f"[metadata]\ncollections = {value}\n", encoding="utf-8")
    with pytest.raises(SettingsError) as caught:
        load(path, {})
    assert str(caught.value).startswith(f"{path}: [metadata] collections = ")
    assert reason in str(caught.value)


# --- genres -------------------------------------------------------------------------------------


def genres(item: dict[str, Any]) -> list[str]:
    return [g["tag"] for g in item.get("Genre", [])]


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({}, ["Outdoor", "Pool", "Studio Tag"]),
        ({"ignore_tags": "outdoor"}, ["Pool", "Studio Tag"]),
        ({"deny_tags": "POOL, 3"}, ["Outdoor"]),
        ({"allow_tags": "pool, 1"}, ["Outdoor", "Pool"]),
        ({"allow_tags": "pool, 1", "deny_tags": "1"}, ["Pool"]),
        ({"ignore_tags": "1"}, ["Outdoor", "Pool", "Studio Tag"]),  # ignore_tags: names only
    ],
)
def test_genre_allow_and_deny_lists(provider, settings: dict[str, str], expected) -> None:
    assert genres(metadata(provider(**env(**settings)), 1)) == expected


def test_tv_show_genres_follow_the_tag_lists(provider) -> None:
    def show_genres(p: Provider) -> list[str]:
        response = p.client.simulate_get("/tv/library/metadata/studio-1")
        return genres(response.json["MediaContainer"]["Metadata"][0])

    assert show_genres(provider()) == ["Outdoor", "Pool", "Studio Tag"]
    assert show_genres(provider(**env(deny_tags="2", allow_tags="outdoor, pool"))) == ["Outdoor"]


# --- changing the options re-renders the stored documents ---------------------------------------


def stored_titles(m: Mirrored) -> dict[int, str]:
    with m.db.reader.connect() as connection:
        rows = connection.exec_driver_sql("SELECT id, doc FROM scenes ORDER BY id").all()
    return {scene_id: json.loads(doc)["title"] for scene_id, doc in rows if doc}


def test_changed_options_rerender_from_the_mirror_in_pages(mirrored_factory, monkeypatch) -> None:
    m = mirrored_factory(scenes=30)
    before = stored_titles(m)
    studios = m.entities().studios
    scenes = m.scenes()
    settings = make_settings(
        m.settings.mirror.database.parent,
        m.stash.url,
        **env(title_format="[{studio} - ]{title|filename}", rating="off", require_organized="1"),
    )
    monkeypatch.setattr(sync_module, "RENDER_PAGE", 7)  # several pages of ids
    pages: list[int] = []
    syncer = Syncer(
        m.client, m.db, settings, progress=lambda p, d, t: pages.append(d) if p == "render" else 0
    )
    m.stash.faults.down()  # no full resync from Stash: the mirror's own rows are enough
    with pytest.raises(StashUnreachable):
        syncer.run("incremental")
    assert pages == [7, 14, 21, 28, 30]
    after = stored_titles(m)
    shown = {i for i, s in scenes.items() if s.organized}
    assert set(after) == shown and 0 < len(shown) < len(scenes)
    for scene_id in shown:
        studio = studios.get(scenes[scene_id].studio_id)
        prefix = f"{studio.name} - " if studio is not None else ""
        assert after[scene_id] == prefix + before[scene_id]
    # The fingerprint is stored: the next pass renders nothing again, and reports the documents
    # the failed pass changed (Plex refreshes them).
    m.stash.faults.up()
    pages.clear()
    report = syncer.run("incremental")
    assert pages == []
    assert set(report.changed_docs) == set(scenes)
    # Back to the old settings: every document as it was.
    m.syncer.run("incremental")
    assert stored_titles(m) == before


def test_tv_episodes_follow_the_options(provider) -> None:
    p = provider(**env(title_format="{code} {title}", rating="user", cast_role="none"))
    response = p.client.simulate_get("/tv/library/metadata/scene-1")
    (episode,) = response.json["MediaContainer"]["Metadata"]
    assert episode["title"] == "ABC-1 Pool Day"
    assert episode["userRating"] == 8.7 and "Rating" not in episode
    assert [r.get("role") for r in episode["Role"]] == [None, None, None]


def test_tv_episode_lists_follow_the_title_format(provider) -> None:
    def listed(p: Provider) -> list[str]:
        response = p.client.simulate_get("/tv/library/metadata/studio-1-2024/children")
        assert response.status_code == 200, response.text
        return sorted(e["title"] for e in response.json["MediaContainer"]["Metadata"])

    assert listed(provider()) == ["Pool Day", "Rough Cut"]
    # Laid out afresh (`rebuild`), with the performers the template names.
    p = provider(**env(title_format="{title}[ ({performers})]", cast_order="name"))
    assert listed(p) == ["Pool Day (Ann, Bea, Zed)", "Rough Cut (Ann, Zed)"]
    # Placed scene by scene (`place`), as a sync writes them.
    writer = MirrorWriter(p.db, documents.mapping_options(p.settings))
    writer.apply_entities(PERFORMERS, [Performer(2, "Abby", gender="FEMALE")])
    writer.rerender(writer.scenes_showing("performer", {2}))
    assert listed(p) == ["Pool Day (Abby, Bea, Zed)", "Rough Cut (Abby, Zed)"]


# --- parent tags --------------------------------------------------------------------------------


def test_parent_tags_are_genres_after_the_scene_own(provider) -> None:
    assert genres(metadata(provider(), 1)) == ["Outdoor", "Pool", "Studio Tag"]
    p = provider(**env(parent_tags="true"))
    assert genres(metadata(p, 1)) == ["Outdoor", "Pool", "Studio Tag", "Water", "Nature"]
    p = provider(**env(parent_tags="true", deny_tags="nature", allow_tags=""))
    assert genres(metadata(p, 1)) == ["Outdoor", "Pool", "Studio Tag", "Water"]


def test_parent_tags_fill_tag_collections(provider) -> None:
    assert collections(metadata(provider(**env(collections="tag:water")), 1)) == []
    p = provider(**env(collections="tag:water, tag:5", parent_tags="true"))
    assert collections(metadata(p, 1)) == ["Water", "Nature"]
    assert collections(metadata(p, 3)) == []  # only Outdoor: nothing above it


def test_renaming_a_grandparent_tag_rerenders_the_scenes_below(provider) -> None:
    p = provider(**env(parent_tags="true"))
    writer = MirrorWriter(p.db, documents.mapping_options(p.settings))
    writer.apply_entities(TAGS, [Tag(5, "Wildlife", parent_ids=(2,))])
    assert writer.rerender(writer.scenes_showing("tag", {5})) == [1]
    assert genres(metadata(p, 1))[-1] == "Wildlife"


def test_tag_parents_are_mirrored_from_stash(mirrored_factory) -> None:
    m = mirrored_factory(scenes=20)
    tags = m.entities().tags
    library = m.stash.library
    expected = {i: tuple(t.get("parent_ids", ())) for i, t in library.tags.items()}
    assert {i: t.parent_ids for i, t in tags.items()} == expected
    assert any(expected.values())
    # A tag moved under another: the next incremental pass sees it.
    child = next(i for i, parents in expected.items() if not parents and i > 10)
    library.update_entity("tag", child, parent_ids=[3])
    m.syncer.run("incremental")
    assert m.entities().tags[child].parent_ids == (3,)


def test_upgrade_clears_the_tag_cursor_so_tags_are_fetched_again(tmp_path: Path) -> None:
    from alembic import command

    from stashplex.mirror.db import alembic_config, migrate_to_head

    path = tmp_path / "old.db"
    command.upgrade(alembic_config(path), "0004")
    with sqlite3.connect(path) as con:
        con.execute(
            "INSERT INTO sync_state (key, value) VALUES ('cursor:tag', 'x'), ('cursor:scene', 'y')"
        )
    migrate_to_head(path)
    with sqlite3.connect(path) as con:
        state = dict(con.execute("SELECT key, value FROM sync_state"))
        columns = [row[1] for row in con.execute("PRAGMA table_info(tags)")]
    assert state == {"cursor:scene": "y"} and "parent_ids" in columns


def test_described_settings_read_back_the_same(tmp_path: Path) -> None:
    from stashplex.settings import describe

    path = tmp_path / "settings.ini"
    path.write_text(
        "[metadata]\n"
        "title_format = [{studio} - ]{title|code}\n"
        'collections = group, studio = "Site: ", tag:Pool Party = "Tag, "\n'
        "cast_role = Performer\n"
        "deny_tags = 12, boring\n",
        encoding="utf-8",
    )
    first = load(path, {})
    text = "[metadata]" + describe(first).split("[metadata]")[1].split("\n[")[0]
    assert 'collections = group, studio = "Site: ", tag:pool party = "Tag, "' in text
    (tmp_path / "again.ini").write_text(text, encoding="utf-8")
    assert load(tmp_path / "again.ini", {}).metadata == first.metadata


def test_a_hidden_file_in_a_tv_library_is_not_matched_to_another_episode(provider) -> None:
    body = {
        "type": 4,
        "filename": "/mnt/Site/rough.cut.mp4",
        "grandparentTitle": "Site",
        "date": "2024-05-01",  # scene 1's day: the date tier alone would offer scene 1
    }

    def matched(p: Provider) -> list[str]:
        response = p.client.simulate_post("/tv/library/metadata/matches", json=body)
        assert response.status_code == 200, response.text
        return [m["ratingKey"] for m in response.json["MediaContainer"]["Metadata"]]

    assert matched(provider()) == ["scene-3"]
    p = provider(**env(require_organized="true"))
    assert matched(p) == []
    assert p.app.context.misses.recent() == []  # known, so not listed as unmatched


def test_every_genre_tag_as_a_collection(provider) -> None:
    p = provider(**env(collections='tags = "Tag: "', deny_tags="2", parent_tags="1"))
    # Pool is denied; the tags above it stay (the scene has them through Pool).
    assert collections(metadata(p, 1)) == [
        "Tag: Outdoor",
        "Tag: Studio Tag",
        "Tag: Water",
        "Tag: Nature",
    ]
