"""The collector while listings are in flight: paused, then running as before, and what the listings made moved
into its oldest generation."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from assistants_sync.actual.collector import collecting_less


@pytest.fixture(autouse=True)
def collector() -> Iterator[None]:
    enabled = gc.isenabled()
    yield
    (gc.enable if enabled else gc.disable)()


def test_inside_the_collector_does_not_run_and_after_it_runs_as_before() -> None:
    gc.enable()
    with collecting_less():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_collector_someone_disabled_stays_disabled() -> None:
    gc.disable()
    with collecting_less():
        assert not gc.isenabled()
    assert not gc.isenabled()


def test_what_a_listing_made_is_in_the_oldest_generation_once_the_last_ends() -> None:
    # Else the young collection after it passes over every object of the plan, which the caller pays.
    with collecting_less():
        made = [[n] for n in range(1000)]
    assert gc.get_count()[0] < 100
    oldest = {id(obj) for obj in gc.get_objects(generation=2)}
    assert all(id(obj) in oldest for obj in made)


def test_what_someone_froze_stays_frozen() -> None:
    kept = [["made before a fork"]]
    gc.freeze()  # as a server does before it forks
    try:
        with collecting_less():
            made = [[n] for n in range(1000)]
        assert gc.get_freeze_count() > 0
        oldest = gc.get_objects(generation=2)  # the frozen are in no generation
        assert not any(obj is kept for obj in oldest)
        assert not any(obj is made for obj in oldest)  # and nothing is moved, rather than thaw them
    finally:
        gc.unfreeze()
