"""The collector while listings are in flight: paused, then running as before, and what the listings made moved
into its oldest generation."""

from __future__ import annotations

import gc
import threading
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


def test_it_runs_again_when_the_block_raises() -> None:
    gc.enable()
    with pytest.raises(KeyError), collecting_less():
        raise KeyError("a listing failed")
    assert gc.isenabled()


def test_overlapping_listings_let_it_run_again_only_when_the_last_ends() -> None:
    gc.enable()
    first_in, second_out = threading.Event(), threading.Event()
    during_the_second: list[bool] = []

    def second_listing() -> None:
        assert first_in.wait(30)
        with collecting_less():
            during_the_second.append(gc.isenabled())
        second_out.set()

    thread = threading.Thread(target=second_listing)
    thread.start()
    with collecting_less():
        first_in.set()
        assert second_out.wait(30)
        # The second ended first: the first is still in flight, so the collector still does not run.
        assert not gc.isenabled()
    thread.join(30)
    assert during_the_second == [False]
    assert gc.isenabled()


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
