"""The HTTP checks an installed stashplex must pass against a sample Stash, as Plex would meet it.

Used by tests/integration/test_packaging.py (the wheel in a fresh virtualenv) and by
scripts/docker-smoke (the image), which runs this file with the image's own Python:

    python smoke.py STASHPLEX_URL STASH_URL

So it uses the standard library and httpx only, and learns the library from Stash over GraphQL.
"""

from __future__ import annotations

import sys
import time
from typing import Any

import httpx

SCENES = """
query Smoke($filter: FindFilterType) {
  findScenes(filter: $filter) { count scenes { id title files { path } } }
}
"""
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def stash_library(stash_url: str) -> tuple[int, dict[str, Any]]:
    """The number of scenes in Stash, and one scene with a title and a file."""
    response = httpx.post(
        f"{stash_url}/graphql",
        json={"query": SCENES, "variables": {"filter": {"per_page": 40}}},
        timeout=30,
    )
    response.raise_for_status()
    found = response.json()["data"]["findScenes"]
    scene = next(s for s in found["scenes"] if s["title"] and s["files"])
    return found["count"], scene


def check(url: str, stash_url: str, timeout: float = 120.0) -> None:
    """Raise AssertionError unless stashplex at `url` mirrors and answers for Stash's library."""
    count, scene = stash_library(stash_url)
    with httpx.Client(base_url=url, timeout=30) as http:
        deadline = time.monotonic() + timeout
        while True:
            try:
                health = http.get("/health").json()
                if health["mirror"]["scenes"] == count and health["sync"]["last_run"]:
                    break
            except (httpx.HTTPError, ValueError, KeyError):
                pass
            assert time.monotonic() < deadline, f"the mirror never reached {count} scenes"
            time.sleep(0.25)
        # The first pass of an empty mirror is a full one, and is called so.
        assert health["sync"]["last_run"]["kind"] == "full", health["sync"]
        key = f"scene-{scene['id']}"
        body = {"type": 1, "filename": scene["files"][0]["path"]}
        response = http.post("/library/metadata/matches", json=body)
        assert response.status_code == 200, response.text
        (hit,) = response.json()["MediaContainer"]["Metadata"]
        assert hit["ratingKey"] == key, hit
        response = http.get(f"/library/metadata/{key}")
        assert response.status_code == 200, response.text
        (item,) = response.json()["MediaContainer"]["Metadata"]
        assert item["guid"] == f"tv.plex.agents.custom.stashplex://movie/{key}", item
        assert item["title"] == scene["title"], (item["title"], scene["title"])
        # Both providers describe themselves to PMS; a browser is sent to the status page.
        assert http.get("/").json()["MediaProvider"]["title"] == "Stash (stashplex)"
        assert http.get("/tv").json()["MediaProvider"]["identifier"].endswith(".tv")
        page = http.get("/", headers={"Accept": BROWSER}, follow_redirects=True)
        assert page.status_code == 200 and page.url.path == "/status", page.url
        assert "<html" in page.text.lower()


if __name__ == "__main__":
    check(sys.argv[1].rstrip("/"), sys.argv[2].rstrip("/"))
    print(f"smoke: {sys.argv[1]} mirrors and answers for {sys.argv[2]}")
