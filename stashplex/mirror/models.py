"""The SQLite mirror's tables. Alembic owns the schema: change these, then add a revision.

Every lookup Plex causes is an index seek: file paths are also stored reversed component by
component (`rpath`), so "the longest common path suffix" is a range scan on one index; basenames
are stored case-folded and as a "stem key" for the fuzzier tiers. Each scene also keeps its Plex
Metadata document, rendered at sync time, so answering Plex is one primary-key read.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import (
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Stable constraint names, so Alembic's batch mode can alter SQLite tables later.
NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class SceneRow(Base):
    __tablename__ = "scenes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    updated_at: Mapped[str] = mapped_column(String)  # Stash's own string, compared raw
    title: Mapped[str | None] = mapped_column(Text)
    code: Mapped[str | None] = mapped_column(Text)
    details: Mapped[str | None] = mapped_column(Text)
    director: Mapped[str | None] = mapped_column(Text)
    urls: Mapped[str | None] = mapped_column(Text)  # JSON list
    date: Mapped[str | None] = mapped_column(String)
    rating100: Mapped[int | None] = mapped_column(Integer)
    organized: Mapped[bool] = mapped_column(Boolean, default=False)
    o_counter: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[str | None] = mapped_column(String)
    screenshot_version: Mapped[str | None] = mapped_column(String)
    studio_id: Mapped[int | None] = mapped_column(Integer, index=True)
    stash_ids: Mapped[str | None] = mapped_column(Text)  # JSON list of [endpoint, id]
    # Normalised title for the last match tier (see matching.title_key).
    title_key: Mapped[str | None] = mapped_column(String, index=True)
    # Hash of everything mirrored from Stash: an unchanged scene costs no write.
    content_hash: Mapped[bytes] = mapped_column(LargeBinary)
    # The Plex Metadata JSON, image URLs relative to a base-URL token (see plex.documents).
    doc: Mapped[str | None] = mapped_column(Text)
    doc_hash: Mapped[bytes | None] = mapped_column(LargeBinary)
    synced_at: Mapped[float] = mapped_column(Float)


class FileRow(Base):
    __tablename__ = "files"

    scene_id: Mapped[int] = mapped_column(
        ForeignKey("scenes.id", ondelete="CASCADE"), primary_key=True
    )
    file_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    position: Mapped[int] = mapped_column(Integer)  # 0 is the primary file
    path: Mapped[str] = mapped_column(Text)
    rpath: Mapped[str] = mapped_column(Text)  # path components reversed, joined by "/"
    basename: Mapped[str] = mapped_column(Text)
    basename_cf: Mapped[str] = mapped_column(Text)
    stem_key: Mapped[str] = mapped_column(Text)
    size: Mapped[int | None] = mapped_column(Integer)
    duration: Mapped[float | None] = mapped_column(Float)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    frame_rate: Mapped[float | None] = mapped_column(Float)
    bit_rate: Mapped[int | None] = mapped_column(Integer)
    video_codec: Mapped[str | None] = mapped_column(String)
    audio_codec: Mapped[str | None] = mapped_column(String)
    mod_time: Mapped[str | None] = mapped_column(String)
    fingerprints: Mapped[str | None] = mapped_column(Text)  # JSON object type -> value

    __table_args__ = (
        Index("ix_files_rpath", "rpath"),
        Index("ix_files_basename_cf", "basename_cf"),
        Index("ix_files_stem_key", "stem_key"),
    )


class StudioRow(Base):
    __tablename__ = "studios"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(Text)
    parent_id: Mapped[int | None] = mapped_column(Integer, index=True)
    details: Mapped[str | None] = mapped_column(Text)
    image_version: Mapped[str | None] = mapped_column(String)
    updated_at: Mapped[str | None] = mapped_column(String)


class PerformerRow(Base):
    __tablename__ = "performers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(Text)
    disambiguation: Mapped[str | None] = mapped_column(Text)
    gender: Mapped[str | None] = mapped_column(String)
    image_version: Mapped[str | None] = mapped_column(String)
    updated_at: Mapped[str | None] = mapped_column(String)


class IdList(TypeDecorator[tuple[int, ...]]):
    """A tuple of ids stored as a JSON list (NULL when empty), read back as the same tuple, so
    a record read from the mirror equals the one that was written."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> str | None:
        return json.dumps(list(value), separators=(",", ":")) if value else None

    def process_result_value(self, value: Any, dialect: Any) -> tuple[int, ...]:
        return tuple(json.loads(value)) if value else ()


class TagRow(Base):
    __tablename__ = "tags"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[str | None] = mapped_column(String)
    # Stash's tag hierarchy: the parents' ids (NULL when none, read back as ())
    parent_ids: Mapped[tuple[int, ...]] = mapped_column(IdList, nullable=True)


class GroupRow(Base):
    __tablename__ = "groups"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(Text)
    date: Mapped[str | None] = mapped_column(String)
    synopsis: Mapped[str | None] = mapped_column(Text)
    front_image_version: Mapped[str | None] = mapped_column(String)
    updated_at: Mapped[str | None] = mapped_column(String)


# Links keep Stash's order (`position`) and carry no foreign key to the entity: a scene may
# reference a performer the mirror has not fetched yet, and that must not fail its write.
class ScenePerformerRow(Base):
    __tablename__ = "scene_performers"

    scene_id: Mapped[int] = mapped_column(
        ForeignKey("scenes.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    performer_id: Mapped[int] = mapped_column(Integer, index=True)


class SceneTagRow(Base):
    __tablename__ = "scene_tags"

    scene_id: Mapped[int] = mapped_column(
        ForeignKey("scenes.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    tag_id: Mapped[int] = mapped_column(Integer, index=True)


class SceneGroupRow(Base):
    __tablename__ = "scene_groups"

    scene_id: Mapped[int] = mapped_column(
        ForeignKey("scenes.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    group_id: Mapped[int] = mapped_column(Integer, index=True)
    scene_index: Mapped[int | None] = mapped_column(Integer)


class SyncStateRow(Base):
    """Small key/value facts about the mirror: cursors, last runs, render fingerprint."""

    __tablename__ = "sync_state"

    key: Mapped[str] = mapped_column(String, primary_key=True)
    value: Mapped[str | None] = mapped_column(Text)


class SyncRunRow(Base):
    """One line per sync pass, for the status page and `/health`."""

    __tablename__ = "sync_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String)  # full, incremental, sweep, scenes
    started_at: Mapped[float] = mapped_column(Float, index=True)
    finished_at: Mapped[float | None] = mapped_column(Float)
    ok: Mapped[bool | None] = mapped_column(Boolean)
    added: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    removed: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)


class PosterRow(Base):
    """One scene's poster as last checked: what the cover was and what was rendered from it.

    No foreign key to `scenes`: when a scene is deleted its row must outlive it long enough for
    the poster file to be removed too (`mirror.poster_states.orphans`).
    """

    __tablename__ = "posters"

    scene_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    state: Mapped[str] = mapped_column(String)  # ok, no_cover, corrupt, missing
    # The scene's screenshot `t` when last checked: unchanged means nothing to ask Stash.
    scene_version: Mapped[str | None] = mapped_column(String)
    cover_etag: Mapped[str | None] = mapped_column(String)
    cover_hash: Mapped[bytes | None] = mapped_column(LargeBinary)
    style: Mapped[str | None] = mapped_column(String)
    # Hash of the poster file's bytes: what the Plex upload compares.
    poster_version: Mapped[str | None] = mapped_column(String)
    reason: Mapped[str | None] = mapped_column(Text)
    checked_at: Mapped[float] = mapped_column(Float)
    rendered_at: Mapped[float | None] = mapped_column(Float)


class PlexItemRow(Base):
    """A scene that Plex Media Server holds as an item, and the poster last uploaded to it."""

    __tablename__ = "plex_items"

    scene_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    plex_key: Mapped[str] = mapped_column(String)  # PMS's own ratingKey (digits)
    uploaded_version: Mapped[str | None] = mapped_column(String)
    found_at: Mapped[float] = mapped_column(Float)
    uploaded_at: Mapped[float | None] = mapped_column(Float)
    refreshed_at: Mapped[float | None] = mapped_column(Float)


class PlexUploadRow(Base):
    """An image uploaded into a Plex Media Server item (`pms.uploader`): one per item and kind.

    `item` is our guid the PMS item carried, `source` our image path with its version (what the
    item's `thumb` or `art` names), `digest` a hash of the bytes sent. A changed source whose
    bytes hash the same is not sent again.
    """

    __tablename__ = "plex_uploads"

    plex_key: Mapped[str] = mapped_column(String, primary_key=True)  # PMS's ratingKey
    kind: Mapped[str] = mapped_column(String, primary_key=True)  # poster, art
    item: Mapped[str] = mapped_column(String, index=True)
    source: Mapped[str] = mapped_column(String)
    digest: Mapped[str] = mapped_column(String)
    uploaded_at: Mapped[float] = mapped_column(Float)


class TvEpisodeRow(Base):
    """Where a scene sits in the TV library: its show, season and episode index.

    Maintained by `mirror.tv_index` for one `[tv] show_by` layout (named in `sync_state`). The
    index is assigned once and kept while the scene stays in the same show, season and day, so
    adding or deleting other scenes never renumbers it; (show, season, idx) drives every page.
    """

    __tablename__ = "tv_episodes"

    scene_id: Mapped[int] = mapped_column(
        ForeignKey("scenes.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    show: Mapped[str] = mapped_column(String)  # the show's ratingKey: studio-12, group-7
    season: Mapped[int] = mapped_column(Integer)  # release year; 0 for undated scenes
    idx: Mapped[int] = mapped_column(Integer)
    # originallyAvailableAt (YYYY-MM-DD): the release date, or for season 0 the day it was added.
    aired: Mapped[str | None] = mapped_column(String)
    title: Mapped[str] = mapped_column(Text)  # the episode title, for Children lists

    __table_args__ = (
        Index("ux_tv_episodes_show_season_idx", "show", "season", "idx", unique=True),
        Index("ix_tv_episodes_show_aired", "show", "aired"),
    )


class TvShowRow(Base):
    """A show that has (or had) episodes, with its title folded for matching by name."""

    __tablename__ = "tv_shows"

    show: Mapped[str] = mapped_column(String, primary_key=True)
    title: Mapped[str] = mapped_column(Text)
    title_key: Mapped[str | None] = mapped_column(String, index=True)


def _table(row: type[Base]) -> Table:
    """The mapped class's Core table, typed as one (SQLAlchemy types `__table__` loosely)."""
    table = row.__table__
    assert isinstance(table, Table)
    return table


scenes = _table(SceneRow)
files = _table(FileRow)
studios = _table(StudioRow)
performers = _table(PerformerRow)
tags = _table(TagRow)
groups = _table(GroupRow)
scene_performers = _table(ScenePerformerRow)
scene_tags = _table(SceneTagRow)
scene_groups = _table(SceneGroupRow)
sync_state = _table(SyncStateRow)
sync_runs = _table(SyncRunRow)
posters = _table(PosterRow)
plex_items = _table(PlexItemRow)
plex_uploads = _table(PlexUploadRow)
tv_episodes = _table(TvEpisodeRow)
tv_shows = _table(TvShowRow)
