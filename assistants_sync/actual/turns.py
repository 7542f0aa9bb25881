"""The GIL shared between listing threads and the thread that waits for them: the listing goes first.

A plan is bound by its listing: one page after another, each needing a little CPU once
its answer arrives (parsing it, sending the next request). Meanwhile the calling thread
loads manifests and normalises pages, holding the GIL. Left to itself, a listing thread
whose answer has arrived waits for the GIL (the switch interval, then the hand-over,
several times a page), so every page comes back later than the bare loop's, and the
whole plan is as late as its listing (BENCHMARKS.md, "The listing goes first").

So, while a listing is in flight, the calling thread gives way (`Turns.give_way`, called
between small steps of its own work: a manifest file, a listed object):

- while a listing thread handles an answer (from the answer's headers until its next
  request is on the wire), the calling thread waits for it to be done (at most
  `GIVE_WAY_AT_MOST`, so a bug can never stall it);
- from `EARLY` before a listing thread's answer is due (its request's time on the wire
  plus what its last answer took) until it has been handled, the calling thread waits
  too, since only a thread that has let go of the GIL hands it over at once; an answer
  later than `LATE_AT_MOST` after that is no longer waited for.

The calling thread loses at most a few milliseconds a page, of time it would otherwise
spend waiting for the last page. And `switching_often` sets the switch interval to
`LISTING_SWITCH_INTERVAL` while a listing is in flight, so that an answer the calling
thread did not see coming waits less for the GIL. The interval is the process's: it is
set while at least one listing is in flight and put back when the last ends
(`process_settings`); an interval already shorter is left alone.
"""

from __future__ import annotations

import math
import sys
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager

from .process_settings import WhileListing

LISTING_SWITCH_INTERVAL = 0.0005
GIVE_WAY_AT_MOST = 0.05  # seconds; an answer's handling takes about a millisecond
EARLY = 0.001  # seconds before an answer is due
LATE_AT_MOST = 0.005  # seconds after EARLY: an answer later than that is not waited for
CREEP = 0.0005  # seconds a page by which the time an answer is due may grow


class Turns:
    """Which listing threads are handling an answer, and when the others' answers are due, for the calling
    thread to give way to. A listing thread tells it `sent`, `answered` and, at its end, `finished`."""

    def __init__(self) -> None:
        self._handling: set[object] = set()
        self._sent_at: dict[object, float] = {}
        self._took: dict[object, float] = {}  # what each listing's last answer took, from its request on the wire
        self._due: dict[object, float] = {}  # when the answers awaited are due
        self._soonest = math.inf  # EARLY before the first answer due
        self._changed = threading.Condition(threading.Lock())

    def sent(self, listing: object) -> None:
        """`listing`'s request is on the wire: its answer is due when its last one took (unknown at first)."""
        now = time.perf_counter()
        with self._changed:
            self._done_with(listing)
            self._sent_at[listing] = now
            took = self._took.get(listing)
            if took is not None:
                self._due[listing] = now + took
            self._soonest_changed()

    def answered(self, listing: object) -> None:
        """`listing`'s answer has arrived: its turn, until its next request is on the wire (or it is finished)."""
        now = time.perf_counter()
        with self._changed:
            sent = self._sent_at.pop(listing, None)
            if sent is not None:  # the quickest answer so far, creeping up: a late answer was late for the GIL too
                took, before = now - sent, self._took.get(listing)
                self._took[listing] = took if before is None else min(took, before + CREEP)
            self._due.pop(listing, None)
            self._handling.add(listing)
            self._soonest_changed()

    def finished(self, listing: object) -> None:
        """`listing` is over (or failed): nothing of it is handled or awaited any more."""
        with self._changed:
            self._done_with(listing)
            self._sent_at.pop(listing, None)
            self._due.pop(listing, None)
            self._soonest_changed()

    def give_way(self) -> None:
        """Wait while any listing thread handles an answer (at most `GIVE_WAY_AT_MOST`), and from `EARLY` before
        an answer is due until it is handled (at most `LATE_AT_MOST`); at once otherwise."""
        # Read without the lock: a step more or less before giving way costs nothing.
        if self._handling:
            with self._changed:
                self._changed.wait_for(lambda: not self._handling, timeout=GIVE_WAY_AT_MOST)
        elif time.perf_counter() >= self._soonest:
            with self._changed:
                if not self._changed.wait_for(self._nothing_due, timeout=LATE_AT_MOST):
                    late = [listing for listing, due in self._due.items() if due - EARLY <= time.perf_counter()]
                    for listing in late:  # late: not waited for again until it has come
                        self._due.pop(listing)
                    self._soonest_changed()

    def _nothing_due(self) -> bool:
        return not self._handling and time.perf_counter() < self._soonest

    def _done_with(self, listing: object) -> None:
        if listing in self._handling:
            self._handling.discard(listing)
            if not self._handling:
                self._changed.notify_all()

    def _soonest_changed(self) -> None:
        self._soonest = min(self._due.values(), default=math.inf) - EARLY
        self._changed.notify_all()


def _switch_interval_shortened() -> float:
    """The switch interval at most `LISTING_SWITCH_INTERVAL`; what it was."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(min(before, LISTING_SWITCH_INTERVAL))
    return before


# While inside, the switch interval is at most `LISTING_SWITCH_INTERVAL`; then as it was.
switching_often: Callable[[], AbstractContextManager[None]] = WhileListing(
    _switch_interval_shortened, sys.setswitchinterval).held
