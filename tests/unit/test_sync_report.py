"""A sync report's scene ids stay small however many scenes a pass changes."""

from __future__ import annotations

import sys

from stashplex.mirror.sync import SyncReport
from stashplex.mirror.writer import PageResult


def test_a_million_changed_scenes_take_8_bytes_each() -> None:
    report = SyncReport("full")
    page = range(1, 1001)
    for start in range(0, 1_000_000, 1000):
        report.add(PageResult(changed_docs=[start + n for n in page], removed_ids=[start + 1]))
    assert len(report.changed_docs) == 1_000_000 and report.changed_docs[-1] == 1_000_000
    # A list would hold a pointer and an int object per id: over 30 MB.
    assert sys.getsizeof(report.changed_docs) < 8.5 * 1_000_000
    assert list(report.removed_ids[:2]) == [1, 1001]
