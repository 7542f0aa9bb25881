"""Guards a plan must pass before it is shown as applicable: deletes that cannot surprise."""

from __future__ import annotations

import re
from typing import Any

from ..kinds.assistant import FIELDS
from ..errors import PlanError
from ..ownership import APPLIED_KEY, KEY_PATTERN, PROTECT_KEY, TAG_KEY, is_protected, is_reserved, tag_value
from .plan import Action, Change, Plan
from ..actual.remote import ActualState

_KEY_RE = re.compile(KEY_PATTERN)
_TAGS_A_CHANGE_WRITES = frozenset({TAG_KEY, APPLIED_KEY, PROTECT_KEY})


def check_deletes(plan: Plan, *, allow_delete_all: bool = False) -> None:
    """Refuse plans that delete a protected assistant, or every managed assistant of the stack."""
    protected = [c for c in plan.changes if c.action is Action.DELETE and c.protected]
    if protected:
        names = ", ".join(f"{c.key} ({c.assistant_id})" for c in protected)
        raise PlanError(
            f"refusing to delete protected assistant{'s' if len(protected) > 1 else ''} {names}: "
            "the manifest said protect: true. To delete, restore the manifest with protect: false, "
            "apply, then remove the manifest; or plan with --no-delete to leave it in place"
        )
    deletes = {c.assistant_id for c in plan.changes if c.action is Action.DELETE}
    if plan.managed_count and len(deletes) >= plan.managed_count and not allow_delete_all:
        raise PlanError(
            f'this plan would delete all {plan.managed_count} managed assistants of stack "{plan.stack}". '
            "Is the manifests path empty or mistyped? If this is really intended, pass --allow-delete-all"
        )


def rejudged(plan: Plan, actual: ActualState) -> Plan:
    """`plan` with what the delete guards read taken from the fresh listing, not from a plan file.

    A delete is protected when its assistant carries the protect tag and no assistant of
    its key is kept (a duplicate's delete keeps the oldest, so it is never protected);
    `managed_count` is the stack's count now.
    """
    deleted = {c.assistant_id for c in plan.changes if c.action is Action.DELETE}
    kept_keys = {a.key for a in actual.assistants if a.id not in deleted}
    protected = {a.id for a in actual.assistants if is_protected(a.canonical.metadata) and a.key not in kept_keys}
    changes = [c.model_copy(update={"protected": c.assistant_id in protected}) if c.action is Action.DELETE else c
               for c in plan.changes]
    return plan.model_copy(update={"changes": changes, "managed_count": len(actual.assistants)})


def check_ownership(plan: Plan, actual: ActualState) -> None:
    """Refuse a saved plan holding any change this stack may not make, naming the first.

    A saved plan is a request, not an authority: an update or delete must target an
    assistant the stack owns under the change's key, an adopt an unowned one, a create
    no existing one; the metadata a change writes must carry the stack's tag for that
    key and no reserved key but the tool's own tags.
    """
    for change in plan.changes:
        problem = _ownership_problem(change, actual)
        if problem:
            raise PlanError(
                f"refusing the saved plan: its change {_describe(change)} {problem}; nothing was changed. "
                "A saved plan is carried out only as `plan` wrote it: run plan again"
            )


def _ownership_problem(change: Change, actual: ActualState) -> str | None:
    if not _KEY_RE.match(change.key):
        return f"has the invalid key {change.key!r}"
    unknown = sorted(set(change.fields) - set(FIELDS))
    if unknown:
        return f"writes unknown field{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}"
    target = _target_problem(change, actual)
    if target:
        return target
    if change.action is Action.DELETE:
        return "writes fields, which a delete never does" if change.fields else None
    if "metadata" in change.fields:
        return _tag_problem(change.fields["metadata"].after, actual.stack, change.key)
    if change.action is Action.UPDATE:
        return None  # metadata left alone keeps the tag the assistant has
    return f'does not write the ownership tag of stack "{actual.stack}"'


def _target_problem(change: Change, actual: ActualState) -> str | None:
    """Why the assistant a change targets is not one it may touch, or None."""
    wanted = change.assistant_id
    if change.action is Action.CREATE:
        if wanted is not None:
            return f"names an existing assistant ({wanted}), which a create never does"
        existing = next((a for a in actual.assistants if a.key == change.key), None)
        if existing is not None:
            return f'would duplicate {existing.id}, the assistant of stack "{actual.stack}" under that key'
        return None
    if wanted is None:
        return "names no assistant"
    if change.action is Action.ADOPT:
        if any(a.id == wanted for a in actual.unowned):
            return None
        return f"targets {_whose(wanted, actual)}; only an assistant without any ownership tag can be adopted"
    # An in-place rename (if the plan format has one) updates the assistant owned under its previous key.
    owned_under = getattr(change, "previous_key", None) or change.key
    if any(a.id == wanted and a.key == owned_under for a in actual.assistants):
        return None
    return f'targets {_whose(wanted, actual)}, not an assistant of stack "{actual.stack}" under key {change.key!r}'


def _whose(assistant_id: str, actual: ActualState) -> str:
    managed = next((a for a in actual.assistants if a.id == assistant_id), None)
    if managed is not None:
        return f'{assistant_id}, the assistant of stack "{actual.stack}" under key {managed.key!r}'
    if any(a.id == assistant_id for a in actual.unowned):
        return f"{assistant_id}, which no stack manages (it has no ownership tag)"
    if assistant_id in actual.foreign:
        return f'{assistant_id}, which belongs to stack "{actual.foreign[assistant_id]}"'
    return f"{assistant_id}, which is not on the endpoint"


def _tag_problem(metadata: Any, stack: str, key: str) -> str | None:
    """Why metadata a change writes is not this stack's for `key`, or None."""
    expected = tag_value(stack, key)
    tag = metadata.get(TAG_KEY) if isinstance(metadata, dict) else None
    if tag != expected:
        written = f"the ownership tag {tag!r}" if tag is not None else "metadata without the ownership tag"
        return f"writes {written}, not {expected!r}"
    foreign_keys = sorted(k for k in metadata if is_reserved(k) and k not in _TAGS_A_CHANGE_WRITES)
    if foreign_keys:
        return f"writes the reserved metadata key{'s' if len(foreign_keys) > 1 else ''} {', '.join(foreign_keys)}"
    return None


def _describe(change: Change) -> str:
    """The change as people read it: "delete weather (asst_123)"."""
    target = f" ({change.assistant_id})" if change.assistant_id else ""
    return f'"{change.action.value} {change.key}{target}"'
