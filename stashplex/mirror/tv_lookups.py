"""The TV provider's reads of the mirror: index seeks and bounded ranges, never a scan.

Pages of episodes come from the (show, season, idx) index alone: the inner query skips and
takes rowids on that covering index (a scene's id is the table's rowid), and only the rows of
the page are then joined to their scenes for the stored documents. Counts are ranges of the
same index. Seasons are listed by seeking from one season to the next, so a show with 50,000
episodes over ten years costs ten seeks, not 50,000 rows.
"""

from __future__ import annotations

from dataclasses import dataclass

from stashplex.mirror.lookups import ROW_LIMIT, Query, ReadConnections, Row
from stashplex.plex import pathkeys
from stashplex.plex.identity import parse_show_rating_key
from stashplex.plex.tv_mapping import EpisodeRow, ShowRow

GENRE_SAMPLE = 1000  # a show's genres are the most common tags of its newest episodes
GENRE_ROWS = 64

_EPISODE_COLUMNS = "e.scene_id, e.show, e.season, e.idx, e.aired, e.title, s.screenshot_version"


def _page_sql(where: str, order: str) -> str:
    # The inner query runs on the covering index only; the join touches the page's rows alone.
    return (
        f"SELECT {_EPISODE_COLUMNS}, s.doc FROM (SELECT scene_id AS id FROM tv_episodes"
        f" WHERE {where} ORDER BY {order} LIMIT ? OFFSET ?) AS p"
        " JOIN tv_episodes AS e ON e.scene_id = p.id JOIN scenes AS s ON s.id = p.id"
        f" ORDER BY {', '.join('e.' + c.strip() for c in order.split(','))}"
    )


def _one_sql(where: str, order: str) -> str:
    return (
        f"SELECT {_EPISODE_COLUMNS}, s.doc FROM tv_episodes AS e JOIN scenes AS s"
        f" ON s.id = e.scene_id WHERE {where} ORDER BY {order} LIMIT 1"
    )


QUERIES: dict[str, Query] = {
    "show_has_episodes": Query("SELECT 1 FROM tv_episodes WHERE show = ? LIMIT 1", one=True),
    "season_has_episodes": Query(
        "SELECT 1 FROM tv_episodes WHERE show = ? AND season = ? LIMIT 1", one=True
    ),
    "studio": Query(
        "SELECT name, details, image_version, NULL FROM studios WHERE id = ?", one=True
    ),
    "group": Query(
        "SELECT name, synopsis, front_image_version, date FROM groups WHERE id = ?", one=True
    ),
    "next_season": Query(
        "SELECT season FROM tv_episodes WHERE show = ? AND season > ? ORDER BY season LIMIT 1",
        one=True,
    ),
    "count_show": Query("SELECT count(*) FROM tv_episodes WHERE show = ?", one=True),
    "count_season": Query(
        "SELECT count(*) FROM tv_episodes WHERE show = ? AND season = ?", one=True
    ),
    "season_page": Query(_page_sql("show = ? AND season = ?", "idx")),
    "show_page": Query(_page_sql("show = ?", "season, idx")),
    "episode": Query(
        f"SELECT {_EPISODE_COLUMNS}, s.doc FROM tv_episodes AS e JOIN scenes AS s"
        " ON s.id = e.scene_id WHERE e.scene_id = ?",
        one=True,
    ),
    # All of a season without the documents (`includeChildren`).
    "season_frames": Query(
        f"SELECT {_EPISODE_COLUMNS}, NULL FROM tv_episodes AS e JOIN scenes AS s"
        " ON s.id = e.scene_id WHERE e.show = ? AND e.season = ? ORDER BY e.idx"
    ),
    "first_of_season": Query(_one_sql("e.show = ? AND e.season = ?", "e.idx"), one=True),
    "first_dated": Query(_one_sql("e.show = ? AND e.season > 0", "e.season, e.idx"), one=True),
    "first_any": Query(_one_sql("e.show = ?", "e.season, e.idx"), one=True),
    "latest": Query(_one_sql("e.show = ?", "e.season DESC, e.idx DESC"), one=True),
    "shows_by_title": Query(
        "SELECT t.show FROM tv_shows AS t WHERE t.title_key = ?"
        " AND EXISTS (SELECT 1 FROM tv_episodes AS e WHERE e.show = t.show)"
        f" ORDER BY t.show LIMIT {ROW_LIMIT}"
    ),
    # `+season`: Specials are filtered out, but the seek is on (show, aired), not on seasons.
    "by_aired": Query(
        "SELECT scene_id, title FROM tv_episodes WHERE show = ? AND aired = ? AND +season > 0"
        f" ORDER BY idx LIMIT {ROW_LIMIT}"
    ),
    "by_index": Query(
        "SELECT scene_id FROM tv_episodes WHERE show = ? AND season = ? AND idx = ?", one=True
    ),
    "genres": Query(
        "SELECT t.name, count(*) AS n, t.id FROM scene_tags AS st JOIN tags AS t"
        " ON t.id = st.tag_id"
        " WHERE st.scene_id IN (SELECT scene_id FROM tv_episodes WHERE show = ?"
        f" ORDER BY season DESC, idx DESC LIMIT {GENRE_SAMPLE})"
        f" GROUP BY st.tag_id ORDER BY n DESC, t.name LIMIT {GENRE_ROWS}"
    ),
}


@dataclass(frozen=True, slots=True)
class Page:
    total: int
    episodes: list[EpisodeRow]


def _episode(row: Row) -> EpisodeRow:
    scene_id, show, season, index, aired, title, screenshot_version, doc = row
    return EpisodeRow(scene_id, show, season, index, aired, title, screenshot_version, doc)


class TvLookups:
    """Reads for the TV resources, on the responder's per-thread connections."""

    def __init__(self, connections: ReadConnections) -> None:
        self.connections = connections

    def _rows(self, name: str, *params: object) -> list[Row]:
        return self.connections.rows(QUERIES[name], params)

    def _first(self, name: str, *params: object) -> Row | None:
        rows = self._rows(name, *params)
        return rows[0] if rows else None

    # --- shows and seasons ------------------------------------------------------------------

    def show(self, show_key: str) -> ShowRow | None:
        """The show, if it has episodes (a studio without scenes is no show)."""
        if self._first("show_has_episodes", show_key) is None:
            return None
        return self.show_row(show_key)

    def show_row(self, show_key: str) -> ShowRow | None:
        """The show's entity, for a caller that already knows the show has episodes (it read
        one of its seasons or episodes)."""
        parsed = parse_show_rating_key(show_key)
        if parsed is None:
            return None
        kind, entity_id = parsed
        row = self._first(kind, entity_id)
        if row is None:
            return None
        name, summary, image_version, date = row
        return ShowRow(show_key, kind, entity_id, name, summary, image_version, date)

    def seasons(self, show_key: str) -> list[int]:
        """The show's season numbers in order, one index seek each."""
        found: list[int] = []
        row = self._first("next_season", show_key, -1)
        while row is not None:
            found.append(row[0])
            row = self._first("next_season", show_key, row[0])
        return found

    def has_season(self, show_key: str, season: int) -> bool:
        return self._first("season_has_episodes", show_key, season) is not None

    def count_season(self, show_key: str, season: int) -> int:
        return self._rows("count_season", show_key, season)[0][0]

    def count_show(self, show_key: str) -> int:
        return self._rows("count_show", show_key)[0][0]

    def first_of_season(self, show_key: str, season: int) -> EpisodeRow | None:
        row = self._first("first_of_season", show_key, season)
        return _episode(row) if row else None

    def first_aired(self, show_key: str) -> EpisodeRow | None:
        row = self._first("first_dated", show_key) or self._first("first_any", show_key)
        return _episode(row) if row else None

    def latest(self, show_key: str) -> EpisodeRow | None:
        row = self._first("latest", show_key)
        return _episode(row) if row else None

    def genres(self, show_key: str) -> list[tuple[str, int, int]]:
        """(tag name, episodes, tag id) for the most common tags of the show's newest
        episodes."""
        return [(name, count, tag_id) for name, count, tag_id in self._rows("genres", show_key)]

    # --- episodes ---------------------------------------------------------------------------

    def episode(self, scene_id: int) -> EpisodeRow | None:
        row = self._first("episode", scene_id)
        return _episode(row) if row else None

    def season_frames(self, show_key: str, season: int) -> list[EpisodeRow]:
        """Every episode of a season, without documents, in index order."""
        return [_episode(row) for row in self._rows("season_frames", show_key, season)]

    def season_page(self, show_key: str, season: int, offset: int, limit: int) -> Page:
        total = self.count_season(show_key, season)
        rows = self._page("season_page", limit, offset, total, show_key, season)
        return Page(total, rows)

    def show_page(self, show_key: str, offset: int, limit: int) -> Page:
        total = self.count_show(show_key)
        return Page(total, self._page("show_page", limit, offset, total, show_key))

    def _page(
        self, name: str, limit: int, offset: int, total: int, *key: object
    ) -> list[EpisodeRow]:
        if limit <= 0 or offset >= total:
            return []
        return [_episode(row) for row in self._rows(name, *key, limit, offset)]

    # --- matching ---------------------------------------------------------------------------

    def shows_by_title(self, title: str) -> list[str]:
        key = pathkeys.title_key(title)
        return [row[0] for row in self._rows("shows_by_title", key)] if key else []

    def by_aired(self, show_key: str, aired: str) -> list[tuple[int, str]]:
        return [(scene_id, title) for scene_id, title in self._rows("by_aired", show_key, aired)]

    def by_index(self, show_key: str, season: int, index: int) -> int | None:
        row = self._first("by_index", show_key, season, index)
        return row[0] if row else None
