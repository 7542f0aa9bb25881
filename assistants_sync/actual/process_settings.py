"""Settings of the whole process that hold while at least one listing is in flight.

Listings may overlap, in threads (a plan's kinds, or two plans in one process), and a
process has one collector and one switch interval. So such a setting is changed when the
first listing starts, with what it was saved, and put back when the last one ends, even
when a listing fails.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Generic, TypeVar

Saved = TypeVar("Saved")


class WhileListing(Generic[Saved]):
    """`change()` (which returns what it changed from) when the first listing starts; `put_back(saved)` when the
    last ends."""

    def __init__(self, change: Callable[[], Saved], put_back: Callable[[Saved], None]) -> None:
        self._change = change
        self._put_back = put_back
        self._lock = threading.Lock()
        self._in_flight = 0
        self._saved: Saved

    @contextmanager
    def held(self) -> Iterator[None]:
        with self._lock:
            if self._in_flight == 0:
                self._saved = self._change()
            self._in_flight += 1
        try:
            yield
        finally:
            with self._lock:
                self._in_flight -= 1
                if self._in_flight == 0:
                    self._put_back(self._saved)
