"""Paging through a PMS section: the next page starts after every entry PMS sent."""

from __future__ import annotations

from stashplex.pms.api import PlexPage


def test_a_full_page_with_unreadable_entries_is_not_the_last() -> None:
    # PMS sent 5 entries, one of them without a key we can use: more may follow.
    page = PlexPage(total=None, read=5, items=["a", "b", "c", "d"])
    assert not page.last(0, 5)


def test_a_short_page_or_the_total_ends_the_section() -> None:
    assert PlexPage(total=None, read=3, items=["a", "b", "c"]).last(10, 5)
    assert PlexPage(total=10, read=5, items=[]).last(5, 5)
    assert not PlexPage(total=11, read=5, items=[]).last(5, 5)
