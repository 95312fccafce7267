"""The doctor's report: checks grouped under headings, each passed, failed or a warning (pure).

`stashplex doctor` prints it as text (✓ ✗ !, or ASCII where the terminal cannot show those) and
the status page renders the same object as HTML, so both say exactly the same thing.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Literal

State = Literal["ok", "warn", "fail"]
OK: State = "ok"
WARN: State = "warn"
FAIL: State = "fail"

SYMBOLS: dict[State, str] = {OK: "✓", WARN: "!", FAIL: "✗"}
ASCII_SYMBOLS: dict[State, str] = {OK: "+", WARN: "!", FAIL: "x"}


@dataclass(frozen=True)
class Check:
    state: State
    text: str
    fix: str | None = None  # the setting or step that fixes a failure or warning
    details: tuple[str, ...] = ()  # extra lines shown under it (paths, a path_map line)


@dataclass
class Section:
    title: str
    checks: list[Check] = field(default_factory=list)

    def add(
        self, state: State, text: str, fix: str | None = None, details: tuple[str, ...] = ()
    ) -> Check:
        check = Check(state, text, fix, details)
        self.checks.append(check)
        return check


@dataclass
class Report:
    sections: list[Section] = field(default_factory=list)
    finished_at: float = field(default_factory=time.time)

    def section(self, title: str) -> Section:
        found = Section(title)
        self.sections.append(found)
        return found

    @property
    def checks(self) -> list[Check]:
        return [check for section in self.sections for check in section.checks]

    @property
    def passed(self) -> bool:
        """True when nothing failed (warnings allowed)."""
        return all(check.state != FAIL for check in self.checks)

    def counts(self) -> dict[State, int]:
        found: dict[State, int] = {OK: 0, WARN: 0, FAIL: 0}
        for check in self.checks:
            found[check.state] += 1
        return found


def can_encode(encoding: str | None) -> bool:
    """Whether a stream in `encoding` can show ✓ and ✗ (a Windows console or LANG=C cannot)."""
    try:
        "".join(SYMBOLS.values()).encode(encoding or "ascii")
    except (UnicodeEncodeError, LookupError):
        return False
    return True


def render_text(report: Report, *, unicode: bool = True) -> str:
    symbols = SYMBOLS if unicode else ASCII_SYMBOLS
    arrow = "→" if unicode else "->"
    lines: list[str] = []
    for section in report.sections:
        if not section.checks:
            continue
        lines.append(section.title)
        for check in section.checks:
            lines.append(f"  {symbols[check.state]} {check.text}")
            lines.extend(f"      {detail}" for detail in check.details)
            if check.fix and check.state != OK:
                lines.append(f"    {arrow} {check.fix}")
    counts = report.counts()
    verdict = "ready to scan" if report.passed else "fix the lines marked " + symbols[FAIL]
    lines.append(f"{counts[OK]} passed, {counts[WARN]} warnings, {counts[FAIL]} failed: {verdict}")
    return "\n".join(lines)
