"""Auth, image routes, faults and the control route of the sample Stash."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from PIL import Image

from stashplex.samplestash import SampleStash

VERSION = {"query": "{ version { version } }"}


# -- auth ----------------------------------------------------------------------------------


@pytest.fixture
def secured(sample_stash_factory: Callable[..., SampleStash]) -> SampleStash:
    return sample_stash_factory(api_key="s3cret")


def test_graphql_needs_the_key(secured: SampleStash) -> None:
    url = secured.url + "/graphql"
    missing = httpx.post(url, json=VERSION)
    assert (missing.status_code, missing.content) == (401, b"")
    wrong = httpx.post(url, json=VERSION, headers={"ApiKey": "nope"})
    assert (wrong.status_code, wrong.content) == (401, b"")
    assert httpx.post(url, json=VERSION, headers={"ApiKey": "s3cret"}).status_code == 200
    assert httpx.post(url + "?apikey=s3cret", json=VERSION).status_code == 200


def test_images_without_key_redirect_to_login(secured: SampleStash) -> None:
    response = httpx.get(secured.url + "/scene/1/screenshot?t=5")
    assert response.status_code == 302
    assert response.headers["location"] == "/login?returnURL=%2Fscene%2F1%2Fscreenshot%3Ft%3D5"
    followed = httpx.get(secured.url + "/scene/1/screenshot", follow_redirects=True)
    assert followed.status_code == 200
    assert followed.headers["content-type"].startswith("text/html")
    keyed = httpx.get(secured.url + "/scene/1/screenshot", headers={"ApiKey": "s3cret"})
    assert keyed.headers["content-type"] == "image/jpeg"
    assert httpx.get(secured.url + "/scene/1/screenshot?apikey=s3cret").status_code == 200


def test_healthz_is_open(secured: SampleStash) -> None:
    assert httpx.get(secured.url + "/healthz").status_code == 200


def test_key_sent_to_a_keyless_stash_is_refused(sample_stash: SampleStash) -> None:
    response = httpx.post(sample_stash.url + "/graphql", json=VERSION, headers={"ApiKey": "k"})
    assert response.status_code == 401
    assert httpx.post(sample_stash.url + "/graphql", json=VERSION).status_code == 200


def test_old_stash_answers_500_for_a_wrong_key(
    sample_stash_factory: Callable[..., SampleStash],
) -> None:
    stash = sample_stash_factory(api_key="k", stash_version="v0.25.1")
    response = httpx.post(stash.url + "/graphql", json=VERSION, headers={"ApiKey": "x"})
    assert (response.status_code, response.text) == (500, "unauthorized")
    assert httpx.post(stash.url + "/graphql", json=VERSION).status_code == 401


def test_stream_path_embeds_the_key(secured: SampleStash) -> None:
    body = secured.graphql('{ findScene(id: "1") { paths { stream screenshot } } }')
    paths = body["data"]["findScene"]["paths"]
    assert paths["stream"].endswith("/scene/1/stream?apikey=s3cret")
    assert "apikey" not in paths["screenshot"]


# -- images --------------------------------------------------------------------------------


def jpeg(response: httpx.Response) -> Image.Image:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/jpeg"
    image = Image.open(io.BytesIO(response.content))
    image.load()
    assert image.format == "JPEG"
    return image


def test_scene_screenshot_is_a_distinct_16_9_jpeg(stash_client: httpx.Client) -> None:
    first = jpeg(stash_client.get("/scene/1/screenshot"))
    assert first.size == (1280, 720)
    third = jpeg(stash_client.get("/scene/3/screenshot"))
    assert first.tobytes() != third.tobytes()


def test_scene_without_cover_is_an_svg_placeholder(stash_client: httpx.Client) -> None:
    response = stash_client.get("/scene/2/screenshot")
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/svg+xml"
    assert response.content.startswith(b"<svg")


def test_etag_and_not_modified(stash_client: httpx.Client) -> None:
    first = stash_client.get("/scene/1/screenshot")
    tag = first.headers["etag"]
    again = stash_client.get("/scene/1/screenshot", headers={"If-None-Match": tag})
    assert (again.status_code, again.content) == (304, b"")
    other = stash_client.get("/scene/1/screenshot", headers={"If-None-Match": '"x"'})
    assert other.status_code == 200


@pytest.mark.parametrize(
    ("route", "status"),
    [
        ("/scene/abc/screenshot", 400),
        ("/scene/9999/screenshot", 404),
        ("/performer/x/image", 400),
        ("/performer/99999/image", 404),
        ("/scene/1/nothing", 404),
    ],
)
def test_bad_image_ids(stash_client: httpx.Client, route: str, status: int) -> None:
    assert stash_client.get(route).status_code == status


def test_entity_images(stash_client: httpx.Client, sample_stash: SampleStash) -> None:
    body = sample_stash.graphql(
        """{ findPerformers(filter: {per_page: -1}) { performers { id image_path } }
             findGroups(filter: {per_page: -1}) { groups { id front_image_path back_image_path } }
             findStudios(filter: {per_page: 1}) { studios { image_path } }
             findTags(filter: {per_page: 1}) { tags { image_path } } }"""
    )["data"]
    performers = body["findPerformers"]["performers"]
    with_image = next(p for p in performers if "default=true" not in p["image_path"])
    without = next(p for p in performers if p["image_path"].endswith("&default=true"))
    assert with_image["image_path"].startswith(sample_stash.url + "/performer/")
    width, height = jpeg(httpx.get(with_image["image_path"])).size
    assert height > width  # portrait
    default = httpx.get(without["image_path"])
    assert default.headers["content-type"] == "image/svg+xml"
    assert httpx.get(without["image_path"].split("&")[0]).headers["content-type"] == "image/svg+xml"
    for group in body["findGroups"]["groups"]:
        front = httpx.get(group["front_image_path"])
        assert front.status_code == 200
        if group["back_image_path"]:
            jpeg(httpx.get(group["back_image_path"]))
    for key in ("findStudios", "findTags"):
        entity = next(iter(body[key].values()))[0]
        assert httpx.get(entity["image_path"]).status_code == 200


def test_image_urls_follow_the_host_header(sample_stash: SampleStash) -> None:
    response = httpx.post(
        sample_stash.url + "/graphql",
        json={"query": '{ findScene(id: "1") { paths { screenshot } performers { image_path } } }'},
        headers={"Host": "stash.example:9999"},
    )
    scene = response.json()["data"]["findScene"]
    assert scene["paths"]["screenshot"].startswith(
        "http://stash.example:9999/scene/1/screenshot?t="
    )


def test_legacy_movie_image_route(sample_stash_factory: Callable[..., SampleStash]) -> None:
    stash = sample_stash_factory(stash_version="v0.26.0")
    assert httpx.get(stash.url + "/movie/1/frontimage").status_code == 200
    assert httpx.get(stash.url + "/group/1/frontimage").status_code == 404


def test_groups_replace_the_movie_image_route(
    sample_stash_factory: Callable[..., SampleStash],
) -> None:
    """From v0.27 Stash mounts /group and no longer /movie; Movie.front_image_path follows."""
    stash = sample_stash_factory(stash_version="v0.27.0", scenes=12)
    assert httpx.get(stash.url + "/group/1/frontimage").status_code == 200
    assert httpx.get(stash.url + "/movie/1/frontimage").status_code == 404
    body = httpx.post(
        stash.url + "/graphql",
        json={"query": '{ findMovie(id: "1") { front_image_path } }'},
        headers={"Accept": "application/json"},
    ).json()
    assert "/group/1/frontimage" in body["data"]["findMovie"]["front_image_path"]


# -- faults --------------------------------------------------------------------------------


def gql_status(stash: SampleStash) -> int:
    return httpx.post(stash.url + "/graphql", json=VERSION).status_code


def test_latency(sample_stash: SampleStash) -> None:
    sample_stash.faults.latency(0.3)
    started = time.monotonic()
    assert gql_status(sample_stash) == 200
    assert time.monotonic() - started >= 0.3
    sample_stash.faults.clear()


def test_status_fault_for_n_requests(sample_stash: SampleStash) -> None:
    sample_stash.faults.status(503, times=2)
    assert [gql_status(sample_stash) for _ in range(3)] == [503, 503, 200]


def test_invalid_json(sample_stash: SampleStash) -> None:
    sample_stash.faults.invalid_json()
    response = httpx.post(sample_stash.url + "/graphql", json=VERSION)
    assert response.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        response.json()


def test_graphql_errors_null_and_partial(sample_stash: SampleStash) -> None:
    query = {"query": "{ version { version } systemStatus { status } }"}
    sample_stash.faults.graphql_errors("boom")
    body = httpx.post(sample_stash.url + "/graphql", json=query).json()
    assert body == {"errors": [{"message": "boom"}], "data": None}
    sample_stash.faults.graphql_errors("half", partial=True)
    body = httpx.post(sample_stash.url + "/graphql", json=query).json()
    assert body["data"] == {"version": None, "systemStatus": {"status": "OK"}}
    assert body["errors"] == [{"message": "half", "path": ["version"]}]


def test_unauthorized_and_drop(sample_stash: SampleStash) -> None:
    sample_stash.faults.unauthorized(times=1)
    assert gql_status(sample_stash) == 401
    sample_stash.faults.drop(times=1)
    with pytest.raises(httpx.TransportError):
        httpx.post(sample_stash.url + "/graphql", json=VERSION)
    assert gql_status(sample_stash) == 200


def test_down_refuses_and_up_restores_the_same_port(sample_stash: SampleStash) -> None:
    port = sample_stash.port
    with httpx.Client(base_url=sample_stash.url) as client:
        assert client.get("/healthz").status_code == 200  # a keep-alive connection
        sample_stash.faults.down()
        with pytest.raises(httpx.TransportError):
            client.get("/healthz")
        with pytest.raises(httpx.ConnectError):
            httpx.get(sample_stash.url + "/healthz")
        sample_stash.faults.up()
        assert sample_stash.port == port
        assert client.get("/healthz").status_code == 200


def test_fault_after_n_requests(sample_stash: SampleStash) -> None:
    sample_stash.faults.after(3, "status", code=500)
    assert [gql_status(sample_stash) for _ in range(5)] == [200, 200, 200, 500, 500]
    sample_stash.faults.clear()
    assert gql_status(sample_stash) == 200


def test_down_after_n_requests(sample_stash: SampleStash) -> None:
    sample_stash.faults.after(1, "down")
    assert gql_status(sample_stash) == 200
    with pytest.raises(httpx.TransportError):
        gql_status(sample_stash)
    with pytest.raises(httpx.ConnectError):
        gql_status(sample_stash)
    sample_stash.faults.up()
    assert gql_status(sample_stash) == 200


# -- control route -------------------------------------------------------------------------


def control(stash: SampleStash, op: str, **args: Any) -> httpx.Response:
    return httpx.post(stash.url + "/__sample/control", json={"op": op, "args": args})


def test_control_route(secured: SampleStash) -> None:
    info = control(secured, "info").json()
    assert info["ok"] and info["result"]["scenes"] == 60 and info["result"]["auth"] is True
    assert control(secured, "advance", seconds=60).json()["ok"]
    stamp = control(secured, "edit_scene", id=4, title="Via control").json()["result"]
    assert control(secured, "scene", id=4).json()["result"]["updated_at"] == stamp
    assert control(secured, "nope").status_code == 400
    assert control(secured, "status", code=503, times=1).json()["ok"]
    assert httpx.get(secured.url + "/healthz").status_code == 503
    assert control(secured, "down").status_code == 400  # needs seconds over HTTP
    # Down for 3 s: the next request meets it however late this thread runs; then back up.
    assert control(secured, "down", seconds=3).json()["ok"]
    with pytest.raises(httpx.ConnectError):
        httpx.get(secured.url + "/healthz")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            assert httpx.get(secured.url + "/healthz").status_code == 200
            break
        except httpx.ConnectError:
            time.sleep(0.05)
    else:
        pytest.fail("the sample Stash did not come back up")


def test_concurrent_requests_and_changes(sample_stash: SampleStash) -> None:
    from concurrent.futures import ThreadPoolExecutor

    query = {"query": '{ findScenes(filter: {per_page: 20, sort: "id"}) { count scenes { id } } }'}

    def worker(n: int) -> list[int]:
        with httpx.Client(base_url=sample_stash.url) as client:
            statuses = []
            for i in range(8):
                statuses.append(client.post("/graphql", json=query).status_code)
                statuses.append(client.get(f"/scene/{1 + (n + i) % 60}/screenshot").status_code)
            return statuses

    with ThreadPoolExecutor(4) as pool:
        futures = [pool.submit(worker, n) for n in range(4)]
        for i in range(20):
            sample_stash.library.edit_scene(40 + i % 10, title=f"t{i}")
        results = [f.result() for f in futures]
    assert {s for r in results for s in r} == {200}
