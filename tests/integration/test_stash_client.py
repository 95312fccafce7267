"""StashClient against the sample Stash: headers, retries, timeouts and typed errors."""

from __future__ import annotations

import time

import pytest

from stashplex.stash.client import StashClient
from stashplex.stash.errors import (
    StashAuthError,
    StashBadResponse,
    StashDataError,
    StashServerError,
    StashUnreachable,
)
from stashplex.stash.version import probe
from tests.plugins.net import free_port


def client_for(stash, **kwargs) -> StashClient:
    kwargs.setdefault("backoff", 0.01)
    kwargs.setdefault("timeout", 2)
    return StashClient(stash.url, **kwargs)


def test_probe_reports_version_os_and_generation(sample_stash_factory) -> None:
    new = sample_stash_factory(stash_version="v0.30.1", os_name="windows")
    with client_for(new) as client:
        info = probe(client)
    assert (info.version, info.numbers, info.has_groups, info.separator) == (
        "v0.30.1",
        (0, 30, 1),
        True,
        "\\",
    )
    old = sample_stash_factory(stash_version="v0.24.0")
    with client_for(old) as client:
        info = probe(client)
        assert not info.has_groups and client.legacy


def test_accept_header_and_no_key_unless_configured(sample_stash) -> None:
    with client_for(sample_stash) as client:
        headers = client._http.headers
        assert headers["Accept"] == "application/json"
        assert "ApiKey" not in headers
        # The sample refuses any key when it has none, as Stash does: this call proves none went.
        client.execute("Version")
    with client_for(sample_stash, api_key="k-123") as client, pytest.raises(StashAuthError):
        client.execute("Version")


def test_dropped_connections_and_5xx_are_retried(sample_stash) -> None:
    with client_for(sample_stash) as client:
        sample_stash.faults.drop(times=2)
        assert client.execute("Version")["version"]["version"]
        sample_stash.faults.status(502, times=3)
        assert client.execute("Version")
        sample_stash.faults.status(502, times=4)
        with pytest.raises(StashServerError, match="HTTP 502"):
            client.execute("Version")


def test_no_retries_when_asked(sample_stash) -> None:
    with client_for(sample_stash) as client:
        sample_stash.faults.status(503, times=1)
        start = sample_stash.faults.requests
        with pytest.raises(StashServerError):
            client.execute("Version", retries=0)
        assert sample_stash.faults.requests - start == 1


def test_garbage_and_graphql_errors(sample_stash) -> None:
    with client_for(sample_stash, retries=0) as client:
        sample_stash.faults.invalid_json(times=1)
        with pytest.raises(StashBadResponse, match="not JSON"):
            client.execute("Version")
        sample_stash.faults.graphql_errors("database is locked", times=1)
        with pytest.raises(StashDataError, match="database is locked"):
            client.execute("Version")


def test_timeout_is_unreachable_and_bounded(sample_stash) -> None:
    sample_stash.faults.latency(30)  # a hung Stash
    with client_for(sample_stash, timeout=0.3, retries=0) as client:
        started = time.monotonic()
        with pytest.raises(StashUnreachable, match="did not answer in time"):
            client.execute("Version")
        assert time.monotonic() - started < 15  # the timeout, not the hang, decides


def test_refused_connection(tmp_path) -> None:
    with StashClient(f"http://127.0.0.1:{free_port()}", retries=1, backoff=0.01) as client:
        with pytest.raises(StashUnreachable, match="cannot reach Stash"):
            client.execute("Version")
        assert client.healthz() is False


def test_images(sample_stash_factory) -> None:
    stash = sample_stash_factory(api_key="img-key")
    with client_for(stash, api_key="img-key") as client:
        real = client.image("/scene/1/screenshot")
        assert real.state == "ok" and real.data[:3] == b"\xff\xd8\xff" and real.etag
        assert client.image("/scene/1/screenshot", etag=real.etag).data is None
        assert client.image("/scene/2/screenshot").state == "placeholder"  # no cover
        assert client.image("/scene/999999/screenshot").state == "missing"
    with client_for(stash) as client, pytest.raises(StashAuthError):
        client.image("/scene/1/screenshot")  # Stash redirects to /login: never an image
