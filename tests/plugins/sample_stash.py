"""Fixtures that start a sample Stash (stashplex.samplestash) on a free loopback port.

- ``sample_stash``: a fresh 60-scene library (every trap scene present), no auth,
  Stash v0.30.1 on Linux; function-scoped, so changes and faults never leak.
- ``sample_stash_factory``: ``make(**kwargs)`` starts one with custom arguments
  (``scenes``, ``api_key``, ``seed``, ``stash_version``, ``os_name``, ``utc_offset``);
  all are stopped at teardown.
- ``stash_client``: an ``httpx.Client`` for ``sample_stash`` that sends
  ``Accept: application/json`` and no redirects.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from stashplex.samplestash import SampleStash

from .net import LOOPBACK, free_port, wait_for_port

SMALL_LIBRARY = 60


@pytest.fixture
def sample_stash_factory() -> Iterator[Callable[..., SampleStash]]:
    started: list[SampleStash] = []

    def make(**kwargs: Any) -> SampleStash:
        kwargs.setdefault("scenes", SMALL_LIBRARY)
        kwargs.setdefault("host", LOOPBACK)
        stash = SampleStash(**kwargs).start()
        started.append(stash)
        return stash

    yield make
    for stash in started:
        stash.stop()


@pytest.fixture
def sample_stash(sample_stash_factory: Callable[..., SampleStash]) -> SampleStash:
    return sample_stash_factory()


@pytest.fixture
def stash_client(sample_stash: SampleStash) -> Iterator[httpx.Client]:
    headers = {"Accept": "application/json"}
    with httpx.Client(base_url=sample_stash.url, headers=headers, timeout=10) as client:
        yield client


@pytest.fixture
def stash_gql(stash_client: httpx.Client) -> Callable[..., dict[str, Any]]:
    """``gql(query, variables=None)`` -> response body; asserts HTTP 200."""

    def gql(query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        response = stash_client.post("/graphql", json={"query": query, "variables": variables})
        assert response.status_code == 200, response.text
        return response.json()

    return gql


def start_sample_stash_process(
    scenes: int, *extra: str, port: int | None = None, timeout: float = 300.0
) -> tuple[subprocess.Popen[bytes], str]:
    """`stashplex sample-stash` in a process of its own (benchmarks keep its CPU apart from
    what they measure), answering on a loopback port: (the process, its URL). Large libraries
    take a while to generate, hence the long wait. Stop it with terminate()."""
    port = port or free_port()
    command = [sys.executable, "-m", "stashplex", "sample-stash", "--scenes", str(scenes)]
    process = subprocess.Popen([*command, "--port", str(port), *extra], stdout=subprocess.DEVNULL)
    try:
        wait_for_port(port, timeout)
    except BaseException:
        process.kill()
        raise
    return process, f"http://{LOOPBACK}:{port}"
