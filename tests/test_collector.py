"""The collector while listings are in flight: its thresholds raised, then put back as they were, and what the
listings made moved into its oldest generation."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator

import pytest

from assistants_sync.actual.collector import LISTING_THRESHOLDS, collecting_less


@pytest.fixture(autouse=True)
def thresholds() -> Iterator[None]:
    before = gc.get_threshold()
    yield
    gc.set_threshold(*before)


def test_inside_the_thresholds_are_raised_and_after_they_are_as_before() -> None:
    gc.set_threshold(700, 10, 10)
    with collecting_less():
        assert gc.get_threshold() == LISTING_THRESHOLDS
    assert gc.get_threshold() == (700, 10, 10)


def test_they_are_put_back_when_the_block_raises() -> None:
    gc.set_threshold(700, 10, 10)
    with pytest.raises(KeyError), collecting_less():
        raise KeyError("a listing failed")
    assert gc.get_threshold() == (700, 10, 10)


def test_a_threshold_already_higher_than_ours_is_left_alone() -> None:
    gc.set_threshold(1_000_000, 5, 500)
    with collecting_less():
        assert gc.get_threshold() == (1_000_000, LISTING_THRESHOLDS[1], 500)
    assert gc.get_threshold() == (1_000_000, 5, 500)


def test_overlapping_listings_put_them_back_only_when_the_last_ends() -> None:
    gc.set_threshold(700, 10, 10)
    first_in, second_out = threading.Event(), threading.Event()
    during_the_second: list[tuple[int, int, int]] = []

    def second_listing() -> None:
        assert first_in.wait(30)
        with collecting_less():
            during_the_second.append(gc.get_threshold())
        second_out.set()

    thread = threading.Thread(target=second_listing)
    thread.start()
    with collecting_less():
        first_in.set()
        assert second_out.wait(30)
        # The second ended first: the first is still in flight, so the thresholds stay raised.
        assert gc.get_threshold() == LISTING_THRESHOLDS
    thread.join(30)
    assert during_the_second == [LISTING_THRESHOLDS]
    assert gc.get_threshold() == (700, 10, 10)


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
