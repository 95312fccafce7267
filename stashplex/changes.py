"""What Stash told us changed, as plugin hook events (`Scene.Update.Post`, id 123, ...).

Pure: `parse_events` checks a webhook body's events and `Changes` gathers them into the sets a
targeted sync works from, so a burst of thousands of events becomes one small value. It is
also what the mirror keeps (as JSON) when a targeted sync could not run, for the next pass.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

# Stash's trigger types we act on: `<Type>.<Create|Update|Destroy|Merge>.Post`. Movie is the
# name of groups before Stash v0.27; the mirror calls both groups.
ENTITY_TYPES = {
    "Performer": "performer",
    "Studio": "studio",
    "Tag": "tag",
    "Group": "group",
    "Movie": "group",
}
ACTIONS = ("Create", "Update", "Destroy", "Merge")
MAX_EVENTS = 10_000
MAX_ID = 2**63 - 1


class EventError(ValueError):
    """An event that cannot be used; the message says which and why."""


@dataclass
class Changes:
    scenes: set[int] = field(default_factory=set)  # fetch again (created or updated)
    scenes_gone: set[int] = field(default_factory=set)  # destroyed: out of the mirror at once
    entities: dict[str, set[int]] = field(default_factory=dict)  # kind -> ids to look up again

    def __bool__(self) -> bool:
        return bool(self.scenes or self.scenes_gone or any(self.entities.values()))

    def __len__(self) -> int:
        return (
            len(self.scenes)
            + len(self.scenes_gone)
            + sum(len(ids) for ids in self.entities.values())
        )

    def add(self, kind: str, action: str, ident: int, sources: Iterable[int] = ()) -> None:
        if kind == "scene":
            for source in sources:  # merged into `ident`: gone from Stash
                self.add("scene", "Destroy", source)
            if action == "Destroy":
                self.scenes_gone.add(ident)
                self.scenes.discard(ident)
            else:
                self.scenes.add(ident)
                self.scenes_gone.discard(ident)
            return
        ids = self.entities.setdefault(kind, set())
        ids.add(ident)
        ids.update(sources)  # merged away: their scenes now show the destination

    def merge(self, other: Changes) -> None:
        for ident in other.scenes_gone:
            self.add("scene", "Destroy", ident)
        for ident in other.scenes:
            self.add("scene", "Update", ident)
        for kind, ids in other.entities.items():
            self.entities.setdefault(kind, set()).update(ids)

    def to_json(self) -> str:
        return json.dumps(
            {
                "scenes": sorted(self.scenes),
                "scenes_gone": sorted(self.scenes_gone),
                "entities": {k: sorted(v) for k, v in sorted(self.entities.items()) if v},
            }
        )

    @classmethod
    def from_json(cls, text: str | None) -> Changes:
        """What `to_json` wrote; anything unreadable is an empty value (the sweep covers it)."""
        changes = cls()
        try:
            raw = json.loads(text) if text else {}
            changes.scenes = {int(i) for i in raw.get("scenes", ())}
            changes.scenes_gone = {int(i) for i in raw.get("scenes_gone", ())}
            changes.entities = {
                str(k): {int(i) for i in v} for k, v in dict(raw.get("entities", {})).items()
            }
        except (ValueError, TypeError, AttributeError):
            return cls()
        return changes


def _ident(value: Any, where: str) -> int:
    if isinstance(value, bool):
        raise EventError(f"{where} must be an integer id")
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 18:
        value = int(value)  # Stash's ids are GraphQL IDs: JSON strings
    if not isinstance(value, int) or not 0 < value <= MAX_ID:
        raise EventError(f"{where} must be a positive integer id")
    return value


def parse_type(text: Any, where: str) -> tuple[str, str]:
    """`Scene.Update.Post` -> ("scene", "Update"); EventError for anything we do not know."""
    if not isinstance(text, str):
        raise EventError(f"{where}.type must be a string like 'Scene.Update.Post'")
    parts = text.split(".")
    if len(parts) != 3 or parts[2] != "Post" or parts[1] not in ACTIONS:
        raise EventError(
            f"{where}.type {text[:60]!r} is not a Stash hook type like 'Scene.Update.Post'"
        )
    name, action = parts[0], parts[1]
    if name == "Scene":
        kind = "scene"
    elif name in ENTITY_TYPES:
        kind = ENTITY_TYPES[name]
    else:
        raise EventError(f"{where}.type {text[:60]!r}: stashplex does not follow {name} objects")
    return kind, action


def parse_events(body: Mapping[str, Any]) -> Changes:
    """A webhook body `{"events": [{"type": "Scene.Update.Post", "id": 123}, ...]}`.

    A Merge event (`Tag.Merge.Post`) may name the merged-away ids in `"sources"`. An empty list
    is valid (the plugin's connection check sends one). Raises EventError with a reason for the
    first unusable event: a body is taken whole or not at all.
    """
    events = body.get("events")
    if not isinstance(events, list):
        raise EventError("'events' must be a list of {type, id} objects")
    if len(events) > MAX_EVENTS:
        raise EventError(f"at most {MAX_EVENTS} events per request")
    changes = Changes()
    for index, event in enumerate(events):
        where = f"events[{index}]"
        if not isinstance(event, dict):
            raise EventError(f"{where} must be an object with 'type' and 'id'")
        kind, action = parse_type(event.get("type"), where)
        ident = _ident(event.get("id"), f"{where}.id")
        raw_sources = event.get("sources") or []
        if not isinstance(raw_sources, list) or len(raw_sources) > MAX_EVENTS:
            raise EventError(f"{where}.sources must be a list of ids")
        sources = [_ident(s, f"{where}.sources") for s in raw_sources]
        if sources and action != "Merge":
            raise EventError(f"{where}.sources only goes with a Merge event")
        changes.add(kind, action, ident, sources)
    return changes
