"""The versions a plan deletes: for a versioned kind, each update or adopt whose manifest keeps
only its newest versions (``keep_versions``) names the stack's versions that its new one
leaves older than that, read with the plan (one listing of the object's versions each), so
that what the plan shows is what apply deletes. Creates have no older versions.
"""

from __future__ import annotations

from ..kinds import get_kind
from ..kinds.base import ObjectListing
from ..ownership import owner_of
from .plan import Action, Change, Plan


def with_versions_to_delete(plan: Plan, client: ObjectListing) -> Plan:
    """`plan`, its updates and adopts with `keep_versions` given their `deletes_versions`."""
    if not any(_keeps_versions(change) for change in plan.changes):
        return plan
    changes = [_with_deletes(change, client) if _keeps_versions(change) else change for change in plan.changes]
    return plan.model_copy(update={"changes": changes})


def _keeps_versions(change: Change) -> bool:
    return change.keep_versions is not None and change.action in (Action.UPDATE, Action.ADOPT) and change.id is not None


def _with_deletes(change: Change, client: ObjectListing) -> Change:
    owner = owner_of(change.metadata_after())
    assert owner is not None and change.id is not None and change.keep_versions is not None, \
        "a new version carries the stack's tag"
    deletes = get_kind(change.kind).versions_to_delete(client, change.id, change.keep_versions, owner)
    return change.model_copy(update={"deletes_versions": deletes})
