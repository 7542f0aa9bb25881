"""Python's garbage collector, run less often while a listing is in flight.

A listing of thousands of objects makes millions of small containers (parsed pages,
normalised forms) in several threads at once; none of them is garbage, but with the
default thresholds the collector runs every 700 allocations and, every so often, walks
all of them, holding the GIL while pages wait to be parsed. Raising the first
generation's threshold (as mypy does for the same reason) made a plan of 10,000
assistants 0.16 s faster (BENCHMARKS.md, "The garbage collector while a listing is in
flight"); disabling the collector or freezing the heap did no better. Memory is unaffected: what is collected
late is only cyclic garbage, at most a threshold's worth of containers.

The thresholds are the process's: they are raised while at least one listing is in
flight (listings may overlap, in threads) and put back as they were when the last ends.
A threshold already higher than ours is left alone.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

LISTING_THRESHOLDS = (50_000, 20, 100)

_lock = threading.Lock()
_in_flight = 0
_saved: tuple[int, int, int] = gc.get_threshold()


@contextmanager
def collecting_less() -> Iterator[None]:
    """While inside, the collector's thresholds are at least `LISTING_THRESHOLDS`; then as they were."""
    global _in_flight, _saved
    with _lock:
        if _in_flight == 0:
            _saved = gc.get_threshold()
            gc.set_threshold(*(max(ours, theirs) for ours, theirs in zip(LISTING_THRESHOLDS, _saved)))
        _in_flight += 1
    try:
        yield
    finally:
        with _lock:
            _in_flight -= 1
            if _in_flight == 0:
                gc.set_threshold(*_saved)
                _into_the_oldest_generation()


def _into_the_oldest_generation() -> None:
    """Every object the collector tracks now goes into its oldest generation, at once, as surviving collections
    would have taken it: a listing's objects outlive it (they are the plan), and with the thresholds put back the
    collector would otherwise pass over all of them in the next young collection (0.1 s at 10,000 objects),
    which the caller pays. Cyclic garbage among them is collected in the next full collection, as any old
    object's. Not done while anything is frozen (`gc.freeze`, as before a fork): unfreezing would thaw that too."""
    if gc.get_freeze_count() == 0:
        gc.freeze()  # moves the tracked objects of every generation to the permanent one, in one step
        gc.unfreeze()  # and back into the oldest generation, in one step
