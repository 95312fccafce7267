"""The syncer's page prefetching: one page ahead, in order, errors raised, stops when dropped."""

from __future__ import annotations

import threading
import time

import pytest

from stashplex.mirror.sync import prefetched

WAIT = 10.0  # generous: only a broken prefetch ever waits this long


def test_the_next_page_is_fetched_while_the_caller_works_on_the_last() -> None:
    produced: list[int] = []
    second_ready = threading.Event()

    def pages():
        for n in range(1, 4):
            produced.append(n)
            if n == 2:
                second_ready.set()
            yield n

    source = prefetched(pages())
    assert next(source) == 1
    # The caller is still "writing" page 1; page 2 is fetched meanwhile, without being asked.
    assert second_ready.wait(WAIT)
    assert list(source) == [2, 3]
    assert produced == [1, 2, 3]


def test_no_more_than_one_page_waits() -> None:
    produced: list[int] = []
    third_started = threading.Event()

    def pages():
        for n in range(1, 10):
            if n == 3:
                third_started.set()
            produced.append(n)
            yield n

    source = prefetched(pages())
    assert next(source) == 1
    # Page 2 waits in the slot; page 3 is being made, and the producer blocks handing it over.
    assert third_started.wait(WAIT)
    assert not _eventually(lambda: len(produced) > 3)
    source.close()


def test_an_error_reaches_the_caller_after_the_pages_before_it() -> None:
    def pages():
        yield 1
        raise RuntimeError("Stash went away")

    source = prefetched(pages())
    assert next(source) == 1
    with pytest.raises(RuntimeError, match="went away"):
        next(source)


def test_a_caller_that_stops_early_stops_the_producer() -> None:
    finished = threading.Event()

    def pages():
        try:
            n = 0
            while True:
                n += 1
                yield n
        finally:
            finished.set()

    source = prefetched(pages())
    assert next(source) == 1
    source.close()
    assert finished.wait(WAIT)


def _eventually(condition, seconds: float = 0.3) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False
