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

Nothing here knows what the objects are: `LockObjects` lists, creates and deletes
them (objects of a kind the endpoint serves: see `apply_lock`).
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Protocol

from ..errors import LockError, LockHeldError, SyncError
from ..ownership import LOCK_KEY

LOCK_ID_KEY = "assistants-sync.lock.id"
LOCK_WHO_KEY = "assistants-sync.lock.who"
LOCK_OPERATION_KEY = "assistants-sync.lock.operation"
LOCK_CREATED_KEY = "assistants-sync.lock.created"  # the holder's clock, for people; order uses the server's

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


@dataclass(frozen=True)
class LockInfo:
    """One lock object of a stack, as listed."""

    object_id: str
    stack: str
    lock_id: str
    who: str
    operation: str
    created_at: int  # the server's clock: the order of holders

    @property
    def since(self) -> str:
        return datetime.fromtimestamp(self.created_at, timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")

    def describe(self) -> str:
        return f"{self.who} ({self.operation}) since {self.since}, lock id {self.lock_id}"


def lock_metadata(stack: str, lock_id: str, who: str, operation: str, now: float) -> dict[str, str]:
    """The metadata of a new lock object: 5 pairs, every value within the API's 512 characters."""
    created = datetime.fromtimestamp(now, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {LOCK_KEY: stack, LOCK_ID_KEY: lock_id, LOCK_WHO_KEY: who[:METADATA_VALUE_MAX],
            LOCK_OPERATION_KEY: operation[:METADATA_VALUE_MAX], LOCK_CREATED_KEY: created}


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
            created_at=_int(obj.get("created_at")),
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
    on_wait: Callable[[LockInfo, float], None] | None = None,
    lock_id: str | None = None,
    clock: _Clock | None = None,
) -> LockInfo:
    """Take the lock of `stack`, waiting up to `timeout` seconds for another holder to release it.

    `on_wait(holder, seconds_left)` is called when a wait for a holder begins. Raises
    LockHeldError when the lock is still held at the deadline. On any exception
    (Ctrl-C included) no lock object of this run is left behind.
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
            objects.create_object(lock_metadata(stack, lock_id, who, operation, clock.wall()))
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
            while holder is not None:  # wait for the holder (and whoever follows it) to release
                left = deadline - clock.now()
                if left <= 0:
                    raise LockHeldError(holder, waited=timeout)
                if on_wait is not None and holder.lock_id != waiting_for:
                    on_wait(holder, left)
                waiting_for = holder.lock_id
                clock.sleep(min(interval, left))
                interval = min(_MAX_POLL, interval * 1.5)
                holder = _oldest_other(objects, stack, lock_id)
    except BaseException:
        if ours_may_exist:
            _remove_own(objects, stack, lock_id)
        raise


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


def _int(value: Any) -> int:
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0
