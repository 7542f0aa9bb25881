"""The versions a plan deletes: for a versioned kind, each update or adopt whose manifest keeps
only its newest versions (``keep_versions``) names the stack's versions that its new one
leaves older than that, read with the plan (one listing of the object's versions each,
several at once), so that what the plan shows is what apply deletes. Creates have no older
versions.
"""

from __future__ import annotations

import queue
import threading

from ..kinds import get_kind
from ..kinds.base import ObjectListing
from .plan import Action, Change, Plan


def with_versions_to_delete(plan: Plan, client: ObjectListing, parallelism: int) -> Plan:
    """`plan`, its updates and adopts with `keep_versions` given their `deletes_versions`: up to `parallelism`
    listings of versions at once. The first failure is raised, and no further listing is started."""
    asked = [index for index, change in enumerate(plan.changes) if _keeps_versions(change)]
    if not asked:
        return plan
    changes = list(plan.changes)
    todo: queue.SimpleQueue[int] = queue.SimpleQueue()
    for index in asked:
        todo.put(index)
    failures: list[BaseException] = []

    def read() -> None:
        while not failures:
            try:
                index = todo.get_nowait()
            except queue.Empty:
                return
            try:
                changes[index] = _with_deletes(changes[index], client)
            except BaseException as exc:  # noqa: BLE001 - raised again in the calling thread
                failures.append(exc)

    # Daemon threads, as the listing's: a Ctrl-C or a failure is not held up by a listing still in flight.
    readers = [threading.Thread(target=read, daemon=True) for _ in range(min(max(1, parallelism), len(asked)))]
    for reader in readers:
        reader.start()
    for reader in readers:
        reader.join()
    if failures:
        raise failures[0]
    return plan.model_copy(update={"changes": changes})


def _keeps_versions(change: Change) -> bool:
    return change.keep_versions is not None and change.action in (Action.UPDATE, Action.ADOPT) and change.id is not None


def _with_deletes(change: Change, client: ObjectListing) -> Change:
    stack = change.tagging_stack()
    assert change.id is not None and change.keep_versions is not None and stack is not None, \
        "a new version carries the stack's tag"
    deletes = get_kind(change.kind).versions_to_delete(client, change.id, change.keep_versions, stack)
    return change.model_copy(update={"deletes_versions": deletes})
