"""How a running apply reports itself.

On a terminal: one status line, redrawn in place (changes done / total, failures so
far, the current rate-limit wait, what the server is still processing), with one line per finished change (its id, or why
it failed) printed above it as it happens. In CI logs (no terminal): the same line per
change, and no status line.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TextIO

from .apply import Outcome
from .report import render_outcome

_CLEAR_LINE = "\r\x1b[2K"


class ApplyProgress:
    """Receives outcomes (from the applying thread) and keeps the display current."""

    def __init__(self, total: int, stream: TextIO, *, terminal: bool,
                 rate_limit_wait: Callable[[], float] = lambda: 0.0, refresh: float = 0.25) -> None:
        self.total = total
        self.done = 0
        self.failed = 0
        self._stream = stream
        self._terminal = terminal
        self._rate_limit_wait = rate_limit_wait
        self._refresh = refresh
        self._lock = threading.Lock()
        self._finished = threading.Event()
        self._ticker: threading.Thread | None = None
        self._awaited = ""

    def __enter__(self) -> ApplyProgress:
        if self._terminal:
            self._draw()
            self._ticker = threading.Thread(target=self._tick, name="apply-progress", daemon=True)
            self._ticker.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._finished.set()
        if self._ticker is not None:
            self._ticker.join()
        if self._terminal:
            with self._lock:
                self._stream.write(_CLEAR_LINE + self.status() + "\n")
                self._stream.flush()

    def __call__(self, outcome: Outcome) -> None:
        with self._lock:
            self.done += 1
            self._awaited = ""
            self.failed += int(outcome.started and not outcome.ok)
            line = render_outcome(outcome)
            if not self._terminal:
                self._stream.write(line + "\n")
            else:
                self._stream.write(_CLEAR_LINE + line + "\n" + self.status())
            self._stream.flush()

    def waiting(self, text: str) -> None:
        """What apply waits for now (e.g. "vector store vs_1: 12/500 files processed"), shown in the status line.

        Called from a worker thread; cleared when the next change finishes."""
        self._awaited = text

    def status(self) -> str:
        wait = self._rate_limit_wait()
        limited = f", rate limited: waiting {wait:.1f}s" if wait > 0.05 else ""
        awaited = f"; waiting for {self._awaited}" if self._awaited else ""
        return f"Applying: {self.done}/{self.total} done, {self.failed} failed{limited}{awaited}"

    def _draw(self) -> None:
        with self._lock:
            self._stream.write(_CLEAR_LINE + self.status())
            self._stream.flush()

    def _tick(self) -> None:
        while not self._finished.wait(self._refresh):
            self._draw()
