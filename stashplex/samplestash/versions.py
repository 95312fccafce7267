"""Which Stash release the sample Stash pretends to be, and what that changes.

What the schema has (fields, arguments, types) is written once, as ``@since``/``@until`` marks
in ``schema.graphql`` (see ``schema.py``); the flags here are the behaviour outside the schema.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MIN_VERSION = (0, 24, 0)
# The first release of each line from the oldest supported one (the newest line: its latest
# patch): what the tests run stashplex against.
RELEASE_LINES = ("v0.24.0", "v0.25.0", "v0.26.0", "v0.27.0", "v0.28.0", "v0.29.0", "v0.30.1")
_VERSION_RE = re.compile(r"^v?(\d+)\.(\d+)\.(\d+)(?:-[0-9A-Za-z.-]+)?$")


def parse_version(text: str) -> tuple[int, int, int]:
    """Parse ``v0.30.1`` (or ``v0.30.1-19-gcf3489ef``) into a comparable tuple."""
    match = _VERSION_RE.match(text.strip())
    if not match:
        raise ValueError(f"not a Stash version: {text!r} (expected like v0.30.1)")
    return (int(match[1]), int(match[2]), int(match[3]))


@dataclass(frozen=True, slots=True)
class StashVersion:
    text: str
    number: tuple[int, int, int]

    @classmethod
    def parse(cls, text: str) -> StashVersion:
        number = parse_version(text)
        if number < MIN_VERSION:
            raise ValueError(f"Stash {text} is older than the oldest supported v0.24.0")
        label = text.strip()
        return cls(label if label.startswith("v") else "v" + label, number)

    def at_least(self, major: int, minor: int, patch: int = 0) -> bool:
        return self.number >= (major, minor, patch)

    @property
    def partial_dates(self) -> bool:
        """v0.30 can store ``YYYY`` or ``YYYY-MM`` dates."""
        return self.at_least(0, 30)

    @property
    def validation_400_unless_json(self) -> bool:
        """From v0.29 a validation error answers 400 unless the client accepts JSON."""
        return self.at_least(0, 29)

    @property
    def legacy_auth_500(self) -> bool:
        """Up to v0.25 a wrong API key answered 500 ``unauthorized`` instead of 401."""
        return not self.at_least(0, 26)

    @property
    def app_schema(self) -> int:
        """Database schema number reported by systemStatus (roughly Stash's own)."""
        table = [((0, 30), 75), ((0, 29), 73), ((0, 28), 70), ((0, 27), 67), ((0, 26), 60)]
        for (major, minor), schema in table:
            if self.at_least(major, minor):
                return schema
        return 58
