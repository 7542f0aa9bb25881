"""Guards a plan must pass before it is shown as applicable: deletes that cannot surprise."""

from __future__ import annotations

import re
from typing import Any

from ..actual.remote import ActualState
from ..errors import PlanError
from ..kinds import counted, kind_named
from ..kinds.base import DEFAULT_KIND
from ..ownership import APPLIED_KEY, KEY_PATTERN, PROTECT_KEY, TAG_KEY, is_protected, is_reserved, tag_value
from .plan import Action, Change, Plan

_KEY_RE = re.compile(KEY_PATTERN)
_TAGS_A_CHANGE_WRITES = frozenset({TAG_KEY, APPLIED_KEY, PROTECT_KEY})


def check_deletes(plan: Plan, *, allow_delete_all: bool = False) -> None:
    """Refuse plans that delete a protected object, or every managed object of the stack."""
    protected = [c for c in plan.changes if c.action is Action.DELETE and c.protected]
    if protected:
        kinds = {c.kind for c in protected}
        # One kind: its noun says it ("protected vector store docs"); several: each is labelled with its kind.
        names = ", ".join(f"{c.key if len(kinds) == 1 else _label(c)} ({c.id})" for c in protected)
        what = counted(kinds, len(protected)).split(" ", 1)[1]
        raise PlanError(
            f"refusing to delete protected {what} {names}: "
            "the manifest said protect: true. To delete, restore the manifest with protect: false, "
            "apply, then remove the manifest; or plan with --no-delete to leave it in place"
        )
    deletes = {c.id for c in plan.changes if c.action is Action.DELETE}
    if plan.managed_count and len(deletes) >= plan.managed_count and not allow_delete_all:
        plural = counted(plan.kinds, 2).split(" ", 1)[1]
        raise PlanError(
            f'this plan would delete all {plan.managed_count} managed {plural} of stack "{plan.stack}". '
            "Is the manifests path empty or mistyped? If this is really intended, pass --allow-delete-all"
        )


def rejudged(plan: Plan, actual: ActualState) -> Plan:
    """`plan` with what the delete guards read taken from the fresh listing, not from a plan file.

    A delete is protected when its assistant carries the protect tag and no assistant of
    its key is kept (a duplicate's delete keeps the oldest, so it is never protected);
    `managed_count` is the stack's count now.
    """
    deleted = {c.id for c in plan.changes if c.action is Action.DELETE}
    kept_keys = {(a.kind, a.key) for a in actual.managed if a.id not in deleted}
    protected = {a.id for a in actual.managed
                 if is_protected(a.canonical.metadata) and (a.kind, a.key) not in kept_keys}
    changes = [c.model_copy(update={"protected": c.id in protected}) if c.action is Action.DELETE else c
               for c in plan.changes]
    return plan.model_copy(update={"changes": changes, "managed_count": len(actual.managed)})


def check_ownership(plan: Plan, actual: ActualState) -> None:
    """Refuse a saved plan holding any change this stack may not make, naming the first.

    A saved plan is a request, not an authority: an update or delete must target an
    assistant the stack owns under the change's key, an adopt an unowned one, a create
    no existing one; the metadata a change writes must carry the stack's tag for that
    key and no reserved key but the tool's own tags. Each object is changed once: two
    changes of one id, or two creates, adopts or updates of one key, are refused (only
    deletes share a key: those of its duplicates).
    """
    for change in plan.changes:
        problem = _ownership_problem(change, actual)
        if problem:
            raise PlanError(
                f"refusing the saved plan: its change {_describe(change)} {problem}; nothing was changed. "
                "A saved plan is carried out only as `plan` wrote it: run plan again"
            )
    twice = _changed_twice(plan.changes)
    if twice:
        raise PlanError(
            f"refusing the saved plan: it holds {twice}, and a plan changes each object once; nothing was changed. "
            "A saved plan is carried out only as `plan` wrote it: run plan again"
        )


def check_references(plan: Plan, listed: ActualState) -> None:
    """Refuse a saved plan naming, as one of the stack's objects, an id that is not that object's.

    Apply sends the ids of `depends_on` in place of keys: an edited id would attach
    another's store (or file) under the name of the stack's own.
    """
    made = {(c.kind, c.key) for c in plan.changes if c.action is Action.CREATE}
    for change in plan.changes:
        for ref in change.depends_on:
            if ref.id is None and (ref.kind, ref.key) in made:
                continue
            if ref.id is None or listed.id_of(ref.kind, ref.key) != ref.id:
                raise PlanError(
                    f"refusing the saved plan: its change {_describe(change)} names {ref.kind} {ref.key} as "
                    f"{ref.id or 'an object this plan does not create'}, which is not this stack's {ref.kind} "
                    f"{ref.key}; nothing was changed. A saved plan is carried out only as `plan` wrote it: run plan again"
                )


def _changed_twice(changes: list[Change]) -> str | None:
    """The first object two changes touch, with both changes ("2 changes of asst_1 (...)"), or None."""
    by_id: dict[tuple[str, str], Change] = {}
    by_key: dict[tuple[str, str], Change] = {}
    for change in changes:
        if change.id is not None:
            first = by_id.setdefault((change.kind, change.id), change)
            if first is not change:
                return f"2 changes of {change.id} ({_describe(first)} and {_describe(change)})"
        if change.action is not Action.DELETE:
            first = by_key.setdefault((change.kind, change.key), change)
            if first is not change:
                key = f"{change.kind} key" if change.kind != DEFAULT_KIND else "key"
                return f"2 changes for {key} {change.key!r} ({_describe(first)} and {_describe(change)})"
    return None


def _ownership_problem(change: Change, actual: ActualState) -> str | None:
    if not _KEY_RE.match(change.key):
        return f"has the invalid key {change.key!r}"
    kind = kind_named(change.kind)
    if kind is None or change.kind not in actual_kinds(actual):
        return f"is of the kind {change.kind!r}, which is not managed on this endpoint"
    unknown = sorted(set(change.fields) - set(kind.fields))
    if unknown:
        return f"writes unknown field{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}"
    target = _target_problem(change, actual)
    if target:
        return target
    if change.action is Action.DELETE:
        return "writes fields, which a delete never does" if change.fields else None
    written = change.metadata_written()  # a new version's `kept` fields are written too
    if written is not None:
        return _tag_problem(written, actual.stack, change.key)
    if change.action is Action.UPDATE:
        return None  # metadata left alone keeps the tag the assistant has
    return f'does not write the ownership tag of stack "{actual.stack}"'


def _target_problem(change: Change, actual: ActualState) -> str | None:
    """Why the object a change targets is not one it may touch, or None."""
    wanted = change.id
    noun = _noun(change.kind)
    if change.action is Action.CREATE:
        if wanted is not None:
            return f"names an existing {noun} ({wanted}), which a create never does"
        existing = next((a for a in actual.managed if a.key == change.key and a.kind == change.kind), None)
        if existing is not None:
            return f'would duplicate {existing.id}, the {noun} of stack "{actual.stack}" under that key'
        return None
    if wanted is None:
        return f"names no {noun}"
    if change.action is Action.ADOPT:
        if any(a.id == wanted and a.kind == change.kind for a in actual.unowned):
            return None
        return f"targets {_whose(wanted, actual)}; only {_a(noun)} without any ownership tag can be adopted"
    # An in-place rename updates the object owned under its previous key.
    owned_under = change.previous_key or change.key
    if any(a.id == wanted and a.key == owned_under and a.kind == change.kind for a in actual.managed):
        return None
    return f'targets {_whose(wanted, actual)}, not {_a(noun)} of stack "{actual.stack}" under key {change.key!r}'


def _whose(assistant_id: str, actual: ActualState) -> str:
    managed = next((a for a in actual.managed if a.id == assistant_id), None)
    if managed is not None:
        return f'{assistant_id}, the {_noun(managed.kind)} of stack "{actual.stack}" under key {managed.key!r}'
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
    target = f" ({change.id})" if change.id else ""
    return f'"{change.action.value} {_label(change)}{target}"'


def _label(change: Change) -> str:
    """The key, after its kind unless that is the default one: "weather", "vector_store docs"."""
    return change.key if change.kind == DEFAULT_KIND else f"{change.kind} {change.key}"


def _noun(kind_name: str) -> str:
    kind = kind_named(kind_name)
    return kind.noun if kind is not None else kind_name


def _a(noun: str) -> str:
    return f"{'an' if noun[:1] in 'aeiou' else 'a'} {noun}"


def actual_kinds(actual: ActualState) -> set[str]:
    """The kinds listed on the endpoint (registered and served)."""
    from ..kinds import kinds

    return {k.name for k in kinds()} - actual.unserved
