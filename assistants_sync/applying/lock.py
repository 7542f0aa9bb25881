"""A per-stack lock on an endpoint that has no conditional writes.

The API offers no compare-and-set, so the lock is an object of its own: a run creates
a lock object (its metadata names the stack, a lock id, who and when), lists, and
looks at every lock object of the stack:

- every other one is younger (a later server ``created_at``): the run holds the lock;
- an older one exists: that run holds it; delete ours, wait for it to go, start again;
- the oldest are tied (created in the same second): nobody can tell who came first;
  delete ours, back off for a random moment, start again.

Two runs never both hold the lock: each lists after creating its own object, so the
later of the two creates sees the earlier object, which is older or tied.

A lease frees the lock of a run that died (SIGKILL, a lost CI runner): the holder
writes its lease in its lock object and renews it, every third of the lease, by
counting up a renewal counter in the object's metadata (`Lease`, from a thread of its
own). A waiter that sees the holder's object unchanged (same object, same counter) for
longer than that lease, on its own monotonic clock (two machines' clocks are never
compared), deletes that object and takes the lock by the same protocol, so two waiters
that both saw a dead holder still end with one holder. A holder that finds its object
gone stops before its next write (`Lease.check`).

Nothing here knows what the objects are: `LockObjects` lists, creates and deletes
them (objects of a kind the endpoint serves: see `apply_lock`).
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Protocol

from ..errors import ApiError, LockError, LockHeldError, LockLostError, SyncError
from ..ownership import LOCK_KEY

LOCK_ID_KEY = "assistants-sync.lock.id"
LOCK_WHO_KEY = "assistants-sync.lock.who"
LOCK_OPERATION_KEY = "assistants-sync.lock.operation"
LOCK_CREATED_KEY = "assistants-sync.lock.created"  # the holder's clock, for people; order uses the server's
LOCK_LEASE_KEY = "assistants-sync.lock.lease"  # seconds: unchanged for longer, the holder is dead
LOCK_RENEWED_KEY = "assistants-sync.lock.renewed"  # the holder's renewal counter: a change shows it lives
LOCK_RENEWED_AT_KEY = "assistants-sync.lock.renewed-at"  # the holder's clock, for people

MIN_LEASE = 3.0  # shorter, a renewal's own round trip could outlast it

METADATA_VALUE_MAX = 512
_CONTENDED_ROUNDS = 20  # back-offs after ties before giving up: runs keep starting in the same second
_FIRST_POLL = 1.0
_MAX_POLL = 10.0


class LockObjects(Protocol):
    """Where lock objects live. Objects are mappings with `id`, `created_at` and `metadata`."""

    def list_objects(self) -> list[dict[str, Any]]:
        """Every object, oldest first."""
        ...

    def create_object(self, metadata: dict[str, str]) -> str | None:
        """Create one; its id, or None when the answer was lost (it may exist)."""
        ...

    def delete_object(self, object_id: str) -> None:
        """Delete one; an object already gone counts as deleted."""
        ...

    def update_object(self, object_id: str, metadata: dict[str, str]) -> None:
        """Replace one's metadata in place; ApiError 404 when it is gone."""
        ...


@dataclass(frozen=True)
class LockInfo:
    """One lock object of a stack, as listed."""

    object_id: str
    stack: str
    lock_id: str
    who: str
    operation: str
    created_at: int  # the server's clock: the order of holders
    lease: float | None = None  # seconds; None for a lock that declares no lease (never taken over)
    renewed: str = ""  # the holder's renewal counter
    metadata: Mapping[str, str] = field(default_factory=dict, compare=False)  # as listed

    @property
    def since(self) -> str:
        return datetime.fromtimestamp(self.created_at, timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")

    def describe(self) -> str:
        return f"{self.who} ({self.operation}) since {self.since}, lock id {self.lock_id}"


def lock_metadata(stack: str, lock_id: str, who: str, operation: str, now: float,
                  lease: float | None = None) -> dict[str, str]:
    """The metadata of a new lock object: 5 pairs (8 with a lease), every value within the API's 512 characters."""
    metadata = {LOCK_KEY: stack, LOCK_ID_KEY: lock_id, LOCK_WHO_KEY: who[:METADATA_VALUE_MAX],
                LOCK_OPERATION_KEY: operation[:METADATA_VALUE_MAX], LOCK_CREATED_KEY: _timestamp(now)}
    if lease is not None:
        metadata.update({LOCK_LEASE_KEY: f"{lease:g}", LOCK_RENEWED_KEY: "0", LOCK_RENEWED_AT_KEY: _timestamp(now)})
    return metadata


def renewed_metadata(metadata: Mapping[str, str], count: int, now: float) -> dict[str, str]:
    """`metadata` of a lock object after its `count`th renewal."""
    return {**metadata, LOCK_RENEWED_KEY: str(count), LOCK_RENEWED_AT_KEY: _timestamp(now)}


def check_lease(seconds: float, where: str = "--lock-lease") -> float:
    """`seconds` as a lease, or LockError naming `where` (a lease below MIN_LEASE cannot be renewed in time)."""
    if not seconds >= MIN_LEASE or seconds > 86400:
        raise LockError(f"{where} {seconds:g}: a lock lease is {MIN_LEASE:g} to 86400 seconds (the holder renews "
                        "it every third of it); nothing was sent")
    return seconds


def locks_of(objects: Iterable[Mapping[str, Any]], stack: str) -> list[LockInfo]:
    """The lock objects of `stack`, oldest first (server time, then listing order)."""
    found = []
    for obj in objects:
        metadata = obj.get("metadata") or {}
        if not isinstance(metadata, Mapping) or metadata.get(LOCK_KEY) != stack:
            continue
        found.append(LockInfo(
            object_id=str(obj["id"]), stack=stack, lock_id=str(metadata.get(LOCK_ID_KEY) or obj["id"]),
            who=str(metadata.get(LOCK_WHO_KEY) or "unknown"), operation=str(metadata.get(LOCK_OPERATION_KEY) or "?"),
            created_at=_int(obj.get("created_at")), lease=_lease(metadata.get(LOCK_LEASE_KEY)),
            renewed=str(metadata.get(LOCK_RENEWED_KEY) or ""),
            metadata={str(k): str(v) for k, v in metadata.items()},
        ))
    return sorted(found, key=lambda lock: lock.created_at)  # stable: ties keep the listing order


def new_lock_id() -> str:
    return uuid.uuid4().hex


@dataclass
class _Clock:
    """Time and sleep, replaceable so tests of the protocol need no real waiting."""

    now: Callable[[], float] = time.monotonic
    wall: Callable[[], float] = time.time
    sleep: Callable[[float], None] = time.sleep
    jitter: Callable[[float, float], float] = random.uniform


def acquire(
    objects: LockObjects,
    stack: str,
    *,
    who: str,
    operation: str = "apply",
    timeout: float = 0.0,
    lease: float | None = None,
    on_wait: Callable[[LockInfo, float], None] | None = None,
    on_takeover: Callable[[LockInfo, float], None] | None = None,
    lock_id: str | None = None,
    clock: _Clock | None = None,
) -> LockInfo:
    """Take the lock of `stack`, waiting up to `timeout` seconds for another holder to release it.

    `lease`: the seconds this run declares (it must renew: see `Lease`). While waiting, a
    holder whose lock object stays unchanged for longer than its own lease is dead: its
    object is deleted (`on_takeover(holder, seconds unchanged)` says so first) and the
    lock taken as usual. `on_wait(holder, seconds_left)` is called when a wait for a
    holder begins. Raises LockHeldError when the lock is still held at the deadline. On
    any exception (Ctrl-C included) no lock object of this run is left behind.
    """
    clock = clock or _Clock()
    lock_id = lock_id or new_lock_id()
    deadline = clock.now() + timeout
    waiting_for: str | None = None
    contended = 0
    ours_may_exist = False
    try:
        while True:
            ours_may_exist = True
            objects.create_object(lock_metadata(stack, lock_id, who, operation, clock.wall(), lease))
            locks = locks_of(objects.list_objects(), stack)
            mine = [lock for lock in locks if lock.lock_id == lock_id]
            holder: LockInfo | None = None
            if mine:
                for extra in mine[1:]:  # a lost answer made us create twice
                    objects.delete_object(extra.object_id)
                held = mine[0]
                rivals = [lock for lock in locks if lock.lock_id != lock_id and lock.created_at <= held.created_at]
                if not rivals:
                    return held
                objects.delete_object(held.object_id)
                ours_may_exist = False
                if any(lock.created_at < held.created_at for lock in rivals):
                    holder = rivals[0]
            if holder is None:  # a tie, or our create was lost: contention, not a holder
                contended += 1
                if contended > _CONTENDED_ROUNDS:
                    raise LockError(
                        f'could not take the lock of stack "{stack}": other runs kept taking it at the same moment '
                        f"({_CONTENDED_ROUNDS} tries); nothing was changed"
                    )
                # Perhaps another run backing off too: look again after a random moment.
                clock.sleep(clock.jitter(0.1, min(2.0, 0.2 * contended)))
                holder = _oldest_other(objects, stack, lock_id)
            interval = _FIRST_POLL
            seen = _Unchanged(clock.now)
            while holder is not None:  # wait for the holder (and whoever follows it) to release, or to die
                unchanged = seen.since(holder)
                if holder.lease is not None and unchanged > holder.lease:
                    if on_takeover is not None:
                        on_takeover(holder, unchanged)
                    objects.delete_object(holder.object_id)  # by its id: never a lock taken since
                    break
                left = deadline - clock.now()
                if left <= 0:
                    raise LockHeldError(holder, waited=timeout)
                if on_wait is not None and holder.lock_id != waiting_for:
                    on_wait(holder, left)
                waiting_for = holder.lock_id
                nap = min(interval, left)
                if holder.lease is not None:  # look again soon after the lease would run out
                    nap = min(nap, max(0.0, holder.lease - unchanged) + _FIRST_POLL)
                clock.sleep(nap)
                interval = min(_MAX_POLL, interval * 1.5)
                holder = _oldest_other(objects, stack, lock_id)
    except BaseException:
        if ours_may_exist:
            _remove_own(objects, stack, lock_id)
        raise


class _Unchanged:
    """How long a waiter has seen one lock object unchanged (same object, same renewal count), on its own clock."""

    def __init__(self, now: Callable[[], float]) -> None:
        self._now = now
        self._state: tuple[str, str] | None = None
        self._first_seen = 0.0

    def since(self, lock: LockInfo) -> float:
        state = (lock.object_id, lock.renewed)
        if state != self._state:
            self._state, self._first_seen = state, self._now()
        return self._now() - self._first_seen


class Lease:
    """The holder's side of a lease: renews its lock object from a thread of its own, and says, before each write
    of the run (`check`), whether the run still holds the lock.

    A renewal counts up `LOCK_RENEWED_KEY` every third of the lease. A renewal that finds the object gone means
    a waiter took the lock over (this run looked dead: stopped, suspended, cut off); then, and also when no
    renewal has succeeded for a whole lease (a waiter may be taking over), `check` raises LockLostError naming
    who holds the lock now, so the run stops before its next write.
    """

    def __init__(self, objects: LockObjects, held: LockInfo, metadata: Mapping[str, str], seconds: float,
                 clock: _Clock | None = None) -> None:
        self.objects, self.held, self.seconds = objects, held, seconds
        self._metadata = dict(metadata)
        self._clock = clock or _Clock()
        self._count = 0
        self._renewed = self._clock.now()
        self._lost: str | None = None
        self._lock = threading.Lock()  # one renewal at a time: the thread's, or a check's
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def renewals(self) -> int:
        return self._count

    def renew(self) -> bool:
        """Renew now; False (and the lock is lost) when the lock object is gone. Other failures: try again later."""
        with self._lock:
            if self._lost is not None:
                return False
            try:
                self.objects.update_object(self.held.object_id,
                                           renewed_metadata(self._metadata, self._count + 1, self._clock.wall()))
            except ApiError as exc:
                if exc.status != 404:
                    return True  # the endpoint failed, not the lease: the next renewal tries again
                self._lost = self._taken_by()
                return False
            except SyncError:
                return True
            self._count += 1
            self._renewed = self._clock.now()
            return True

    def check(self) -> None:
        """LockLostError when this run no longer holds (or cannot be sure it holds) the lock; before each write."""
        if self._lost is None and self._clock.now() - self._renewed > self.seconds:
            self.renew()  # unconfirmed for a whole lease (a stopped process, resumed): ask the endpoint
            if self._lost is None and self._clock.now() - self._renewed > self.seconds:
                self._lost = "it could not be renewed for longer than its lease"
        if self._lost is not None:
            raise LockLostError(
                f'the lock of stack "{self.held.stack}" ({self.held.lock_id}) is no longer this run\'s: '
                f"{self._lost}. Stopped before the next write; run plan to see what was done")

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="lock-lease", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self.seconds / 3):
            if not self.renew():
                return

    def _taken_by(self) -> str:
        try:
            others = [lock for lock in locks_of(self.objects.list_objects(), self.held.stack)
                      if lock.lock_id != self.held.lock_id]
        except SyncError:
            others = []
        if others:
            return f"it was taken over by {others[0].describe()}"
        return "its lock object was deleted (taken over, or force-unlock)"


def release(objects: LockObjects, held: LockInfo) -> None:
    """Delete the lock object of `held`; LockError (naming force-unlock) if it cannot be deleted."""
    try:
        objects.delete_object(held.object_id)
    except SyncError as exc:
        raise LockError(f"releasing the lock failed ({exc}); {unlock_hint(held)}") from exc


@contextmanager
def holding(objects: LockObjects, stack: str, *, warn: Callable[[str], None] | None = None,
            **options: Any) -> Iterator[LockInfo]:
    """Hold the lock of `stack` for the `with` block (see `acquire` for `options`).

    When the block raises and the release fails too, the block's exception wins and
    `warn` gets the release failure (the lock is left: force-unlock releases it).
    """
    held = acquire(objects, stack, **options)
    try:
        yield held
    except BaseException:
        try:
            release(objects, held)
        except LockError as exc:
            if warn is not None:
                warn(str(exc))
        raise
    release(objects, held)


@contextmanager
def leased(objects: LockObjects, stack: str, *, lease: float, warn: Callable[[str], None] | None = None,
           clock: _Clock | None = None, **options: Any) -> Iterator[Lease]:
    """Hold the lock of `stack` with a lease of `lease` seconds for the `with` block, renewed meanwhile.

    The block calls the lease's `check` before each write. The renewals stop before the
    release; a lock taken over meanwhile is not ours to release (its object is gone).
    """
    with holding(objects, stack, warn=warn, lease=check_lease(lease), clock=clock, **options) as held:
        renewing = Lease(objects, held, held.metadata, lease, clock)
        renewing.start()
        try:
            yield renewing
        finally:
            renewing.stop()


def force_unlock(objects: LockObjects, stack: str, lock_id: str,
                 confirm: Callable[[LockInfo], None] | None = None) -> LockInfo:
    """Delete the lock `lock_id` (a lock id or its object's id) of `stack`, whoever holds it.

    `confirm(lock)` is called before anything is deleted; it raises to cancel.
    """
    locks = locks_of(objects.list_objects(), stack)
    chosen = [lock for lock in locks if lock_id in (lock.lock_id, lock.object_id)]
    if not chosen:
        if locks:
            current = "; ".join(lock.describe() for lock in locks)
            raise LockError(f'stack "{stack}" has no lock {lock_id}; it is locked by {current}')
        raise LockError(f'stack "{stack}" has no lock {lock_id}; it is not locked')
    if confirm is not None:
        confirm(chosen[0])
    for lock in chosen:
        objects.delete_object(lock.object_id)
    return chosen[0]


def unlock_hint(held: LockInfo) -> str:
    return (f'the lock of stack "{held.stack}" ({held.lock_id}) was not released; release it with: '
            f"assistants-sync force-unlock {held.lock_id} --stack {held.stack}")


def _remove_own(objects: LockObjects, stack: str, lock_id: str) -> None:
    """Best effort, on the way out of a failed or interrupted acquire: delete our lock objects."""
    try:
        for lock in locks_of(objects.list_objects(), stack):
            if lock.lock_id == lock_id:
                objects.delete_object(lock.object_id)
    except (SyncError, KeyboardInterrupt):
        pass  # the original exception matters more; a leftover lock names force-unlock


def _oldest_other(objects: LockObjects, stack: str, lock_id: str) -> LockInfo | None:
    others = [lock for lock in locks_of(objects.list_objects(), stack) if lock.lock_id != lock_id]
    return others[0] if others else None


def _timestamp(now: float) -> str:
    return datetime.fromtimestamp(now, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _lease(value: Any) -> float | None:
    try:
        lease = float(value)
    except (TypeError, ValueError):
        return None
    return lease if lease >= MIN_LEASE else None  # a lock that names no usable lease is never taken over


def _int(value: Any) -> int:
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0
