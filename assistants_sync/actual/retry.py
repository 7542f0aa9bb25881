"""When and how long to wait before trying a request again.

Full-jitter exponential backoff, unless the server says how long to wait
(``retry-after-ms``, ``retry-after`` in seconds or as an HTTP date, or
``x-ratelimit-reset-requests`` such as ``"150ms"``, ``"1s"``, ``"6m0s"``). One
`RateLimiter` is shared by every worker of a run, so a 429 on any request pauses them all.
"""

from __future__ import annotations

import random
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

from ..errors import RemoteError

RETRYABLE_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504}) | frozenset(range(505, 600))
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")


@dataclass(frozen=True)
class RetryPolicy:
    """Bounds on retrying one request: attempts, and a deadline over all attempts and waits.

    The defaults let 100 changes succeed against an endpoint failing 25% of requests at
    random (each request fails 10 times in a row with probability 1e-6), and give up on
    an endpoint that always fails after about a minute.
    """

    max_attempts: int = 10
    deadline: float = 60.0  # seconds, per request
    base_delay: float = 0.5
    max_delay: float = 8.0

    def backoff(self, retry: int, rng: random.Random | None = None) -> float:
        """Full jitter: uniform in [0, min(max_delay, base_delay * 2**retry)]."""
        ceiling = min(self.max_delay, self.base_delay * 2**retry)
        return (rng or random).uniform(0, ceiling)


def server_wait(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds the server asked us to wait, from the headers it sent, if any."""
    value = headers.get("retry-after-ms")
    if value:
        try:
            return max(0.0, float(value) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value:
        try:
            return max(0.0, float(value))
        except ValueError:
            try:
                moment = parsedate_to_datetime(value).timestamp()
            except (TypeError, ValueError, IndexError):
                moment = None
            if moment is not None:
                return max(0.0, moment - (time.time() if now is None else now))
    value = headers.get("x-ratelimit-reset-requests")
    if value:
        return parse_duration(value)
    return None


def parse_duration(text: str) -> float | None:
    """Seconds in a Go-style duration: "150ms", "1s", "6m0s", "1h2m3.5s"."""
    text = text.strip()
    parts = _DURATION_PART.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        return None
    unit = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
    return sum(float(number) * unit[suffix] for number, suffix in parts)


class RateLimiter:
    """A pause shared by all requests of a run: set by any 429, honoured by every request.

    `clock` (seconds, monotonic) is injectable so a test can hold a pause as long as it
    needs to, instead of racing a real one.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._lock = threading.Lock()
        self._until = 0.0
        self._clock = clock

    def pause(self, seconds: float) -> None:
        with self._lock:
            self._until = max(self._until, self._clock() + seconds)

    def remaining(self) -> float:
        """Seconds until requests may go again (0 when not paused)."""
        with self._lock:
            return max(0.0, self._until - self._clock())

    def wait(self, stop: threading.Event) -> bool:
        """Sleep out the pause; False if `stop` was set meanwhile."""
        while (left := self.remaining()) > 0:
            if stop.wait(min(left, 0.1)):
                return False
        return not stop.is_set()


class ListingCancelled(RemoteError):
    """A listing's request not sent because the listing was cancelled (the plan stopped); never shown, so not
    part of the public exception tree."""
