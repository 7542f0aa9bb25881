"""The GIL shared between listing threads and the thread that waits for them: the listing goes first.

A plan is bound by its listing: one page after another, each needing a little CPU once
its answer arrives (parsing it, sending the next request). Meanwhile the calling thread
loads manifests and normalises pages, holding the GIL. Left to itself, a listing thread
whose answer has arrived waits for the GIL up to the switch interval (5 ms) and then
shares it, so every page comes back later than the bare loop's, and the whole plan is
as late as its listing (BENCHMARKS.md, "The listing goes first").

So, while a listing is in flight:

- `Turns`: a listing thread handling an answer says so (from the answer's headers until
  its next request is on the wire), and the calling thread, between small steps of its
  own work (a manifest file, a listed object), gives way until no listing thread is
  (`give_way`; at most `GIVE_WAY_AT_MOST` at a time, so a bug can never stall it);
- `switching_often`: the switch interval is `LISTING_SWITCH_INTERVAL`, so that an answer
  waits at most that long for the GIL before the calling thread reaches a step.

The switch interval is the process's: it is set while at least one listing is in flight
(listings may overlap, in threads) and put back when the last ends; an interval already
shorter is left alone.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

LISTING_SWITCH_INTERVAL = 0.0005
GIVE_WAY_AT_MOST = 0.05  # seconds; an answer's handling takes about a millisecond


class Turns:
    """Which listing threads are handling an answer, for the calling thread to give way to."""

    def __init__(self) -> None:
        self._handling = 0
        self._changed = threading.Condition(threading.Lock())

    @property
    def handling(self) -> int:
        """How many listing threads are handling an answer now."""
        return self._handling

    def begin(self) -> None:
        """A listing thread has an answer to handle."""
        with self._changed:
            self._handling += 1

    def end(self) -> None:
        """A listing thread is done with its answer (its next request is out, or its listing is over)."""
        with self._changed:
            self._handling -= 1
            if self._handling == 0:
                self._changed.notify_all()

    def give_way(self) -> None:
        """Wait (at most `GIVE_WAY_AT_MOST`) while any listing thread handles an answer; at once when none does."""
        if self._handling:  # read without the lock: a step more or less before giving way costs nothing
            with self._changed:
                self._changed.wait_for(lambda: self._handling == 0, timeout=GIVE_WAY_AT_MOST)


_lock = threading.Lock()
_in_flight = 0
_saved = sys.getswitchinterval()


@contextmanager
def switching_often() -> Iterator[None]:
    """While inside, the switch interval is at most `LISTING_SWITCH_INTERVAL`; then as it was."""
    global _in_flight, _saved
    with _lock:
        if _in_flight == 0:
            _saved = sys.getswitchinterval()
            sys.setswitchinterval(min(_saved, LISTING_SWITCH_INTERVAL))
        _in_flight += 1
    try:
        yield
    finally:
        with _lock:
            _in_flight -= 1
            if _in_flight == 0:
                sys.setswitchinterval(_saved)
