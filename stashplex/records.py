"""Plain records for what stashplex knows about a Stash library.

These are the common language of the package: the Stash client parses GraphQL answers into them,
the mirror stores and loads them, and the Plex mapping turns them into JSON. They carry no
behaviour beyond small derived properties, so every layer can be tested with hand-built values.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Fingerprint:
    type: str  # "oshash", "md5", "phash"
    value: str


@dataclass(frozen=True, slots=True)
class VideoFile:
    id: int
    path: str  # full path with Stash's own separator
    basename: str
    size: int | None = None
    duration: float | None = None  # seconds
    width: int | None = None
    height: int | None = None
    frame_rate: float | None = None
    bit_rate: int | None = None
    video_codec: str | None = None
    audio_codec: str | None = None
    mod_time: str | None = None
    fingerprints: tuple[Fingerprint, ...] = ()


@dataclass(frozen=True, slots=True)
class StashId:
    endpoint: str
    stash_id: str


@dataclass(frozen=True, slots=True)
class Studio:
    id: int
    name: str
    parent_id: int | None = None
    details: str | None = None
    # The `t` value of Stash's image URL; None when Stash only has its default image.
    image_version: str | None = None
    updated_at: str | None = None


@dataclass(frozen=True, slots=True)
class Performer:
    id: int
    name: str
    disambiguation: str | None = None
    gender: str | None = None
    image_version: str | None = None
    updated_at: str | None = None


@dataclass(frozen=True, slots=True)
class Tag:
    id: int
    name: str
    updated_at: str | None = None
    parent_ids: tuple[int, ...] = ()  # Stash's tag hierarchy: the tags directly above


@dataclass(frozen=True, slots=True)
class Group:
    """A Stash group (called "movie" before Stash v0.27)."""

    id: int
    name: str
    date: str | None = None
    synopsis: str | None = None
    front_image_version: str | None = None
    updated_at: str | None = None


@dataclass(frozen=True, slots=True)
class SceneGroup:
    group_id: int
    scene_index: int | None = None


@dataclass(frozen=True, slots=True)
class Scene:
    """One Stash scene as mirrored: related entities by id, in Stash's order."""

    id: int
    updated_at: str  # Stash's own string, local time with offset; compared raw, never converted
    title: str | None = None
    code: str | None = None
    details: str | None = None
    director: str | None = None
    urls: tuple[str, ...] = ()
    date: str | None = None  # YYYY, YYYY-MM or YYYY-MM-DD
    rating100: int | None = None
    organized: bool = False
    o_counter: int | None = None
    created_at: str | None = None
    # The `t` value of the screenshot URL. Stash returns a URL even for scenes without a cover
    # (the route then answers an SVG placeholder), so this only says which version to fetch.
    screenshot_version: str | None = None
    files: tuple[VideoFile, ...] = ()  # files[0] is the primary file
    studio_id: int | None = None
    performer_ids: tuple[int, ...] = ()
    tag_ids: tuple[int, ...] = ()
    groups: tuple[SceneGroup, ...] = ()
    stash_ids: tuple[StashId, ...] = ()

    @property
    def primary_file(self) -> VideoFile | None:
        return self.files[0] if self.files else None


@dataclass(frozen=True, slots=True)
class SceneBundle:
    """A scene with its related entities resolved: everything the Plex mapping needs."""

    scene: Scene
    studio: Studio | None = None
    parent_studio: Studio | None = None
    performers: tuple[Performer, ...] = ()
    tags: tuple[Tag, ...] = ()
    groups: tuple[tuple[Group, int | None], ...] = ()  # (group, scene_index)
    network: Studio | None = None  # the top of the studio's parent chain (the studio if none)
    tag_parents: tuple[Tag, ...] = ()  # every tag above the scene's tags, nearest first
