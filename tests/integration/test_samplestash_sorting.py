"""The sample Stash's fast path for small updated_at pages agrees with the full sort."""

from __future__ import annotations

import pytest

QUERY = """
query Q($filter: FindFilterType!) {
  findScenes(filter: $filter) { scenes { id updated_at } }
}
"""


@pytest.mark.parametrize("direction", ["DESC", "ASC"])
def test_small_updated_at_page_matches_full_sort(sample_stash_factory, direction: str) -> None:
    stash = sample_stash_factory(scenes=3000)
    lib = stash.library
    lib.advance(100)
    for sid in (5, 2500, 17):  # equal timestamps: the title tiebreak decides
        lib.edit_scene(sid, title=f"Edited {sid}")

    def page(per_page: int, page_no: int = 1) -> list[str]:
        variables = {
            "filter": {
                "per_page": per_page,
                "page": page_no,
                "sort": "updated_at",
                "direction": direction,
            }
        }
        body = stash.graphql(QUERY, variables)
        return [s["id"] for s in body["data"]["findScenes"]["scenes"]]

    everything = page(-1)  # no fast path: the whole library sorted
    assert page(1) == everything[:1]
    assert page(5) == everything[:5]
    assert page(5, 3) == everything[10:15]
