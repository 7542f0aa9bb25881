"""The versions a plan deletes: for a versioned kind, each update or adopt whose manifest keeps
only its newest versions (``keep_versions``) names the stack's versions that its new one
leaves older than that, read with the plan (one listing of the object's versions each,
several at once), so that what the plan shows is what apply deletes. Creates have no older
versions.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from ..defaults import DEFAULT_PARALLELISM
from ..kinds import get_kind
from ..kinds.base import ObjectListing
from .plan import Action, Change, Plan


def with_versions_to_delete(plan: Plan, client: ObjectListing) -> Plan:
    """`plan`, its updates and adopts with `keep_versions` given their `deletes_versions`: up to
    `DEFAULT_PARALLELISM` listings of versions at once."""
    asked = [index for index, change in enumerate(plan.changes) if _keeps_versions(change)]
    if not asked:
        return plan
    changes = list(plan.changes)
    pool = ThreadPoolExecutor(max_workers=min(DEFAULT_PARALLELISM, len(asked)))
    try:
        for index, change in zip(asked, pool.map(lambda i: _with_deletes(changes[i], client), asked)):
            changes[index] = change
    finally:
        pool.shutdown(wait=False, cancel_futures=True)  # on a failure or Ctrl-C, nothing more is asked
    return plan.model_copy(update={"changes": changes})


def _keeps_versions(change: Change) -> bool:
    return change.keep_versions is not None and change.action in (Action.UPDATE, Action.ADOPT) and change.id is not None


def _with_deletes(change: Change, client: ObjectListing) -> Change:
    assert change.id is not None and change.keep_versions is not None
    owners = change.owners_of_versions()  # a new version carries the stack's tag
    deletes = get_kind(change.kind).versions_to_delete(client, change.id, change.keep_versions, owners)
    return change.model_copy(update={"deletes_versions": deletes})
