"""Desired state + actual state -> Plan. Pure: no I/O."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from .canonical import DEFAULTS, FIELDS, CanonicalAssistant, fingerprint
from .errors import PlanError
from .manifest import DesiredAssistant
from .ownership import APPLIED_KEY, applied_record, is_protected
from .plan import Action, Cause, Change, FieldChange, Plan
from .remote import ActualState, RemoteAssistant


def compute_plan(
    desired: Sequence[DesiredAssistant], actual: ActualState, endpoint: str, *, allow_delete: bool = True
) -> Plan:
    """The changes that make `actual` match `desired`, sorted by key.

    Raises PlanError for an adopt that cannot be carried out (unknown id, another
    stack's assistant, or a key already managed by a different assistant).
    """
    by_key = {d.key: d for d in desired}
    found: dict[str, list[RemoteAssistant]] = defaultdict(list)
    for remote in actual.assistants:
        assert remote.key is not None
        found[remote.key].append(remote)

    changes: list[Change] = []
    for key in sorted(by_key.keys() | found.keys()):
        # Oldest first; the listing is oldest-first too, which breaks created_at ties.
        remotes = sorted(found.get(key, []), key=lambda r: r.created_at)
        wanted = by_key.get(key)
        if wanted is None:
            changes.extend(_delete(r, "no manifest for this key", is_protected(r.canonical.metadata)) for r in remotes)
            continue
        base = wanted.canonical_without_record(actual.stack)
        if not remotes:
            target = wanted.with_applied_record(base)
            changes.append(_adopt(wanted, target, actual) if wanted.adopt else _create(key, target))
            continue
        kept, duplicates = remotes[0], remotes[1:]
        if wanted.adopt and wanted.adopt != kept.id:
            raise PlanError(
                f"{wanted.source}: adopt: key {key!r} is already managed by {kept.id}, not {wanted.adopt}; "
                "remove the adopt line, or delete one of the two assistants"
            )
        update = _update(kept, wanted, base)
        if update is not None:
            changes.append(update)
        changes.extend(_delete(r, f"duplicate of {kept.id} (the oldest is kept)", False) for r in duplicates)
    if not allow_delete:
        changes = [c for c in changes if c.action is not Action.DELETE]
    adopted = [c.assistant_id for c in changes if c.action is Action.ADOPT and c.assistant_id]
    return Plan(
        stack=actual.stack,
        endpoint=endpoint,
        remote_fingerprint=actual.fingerprint(also=adopted),
        managed_count=len(actual.assistants),
        changes=changes,
    )


def diff_fields(before: CanonicalAssistant, after: CanonicalAssistant, skip: frozenset[str] = frozenset()
                ) -> dict[str, FieldChange]:
    """The fields whose canonical values differ, leaving out `skip`.

    The applied tag alone never makes a difference (it records, it does not manage);
    when anything else differs, metadata is included so the new record is written.
    """
    old, new = before.as_dict(), after.as_dict()
    fields = {
        name: FieldChange(before=old[name], after=new[name])
        for name in FIELDS
        if name not in skip and name != "metadata" and old[name] != new[name]
    }
    if _without_record(old["metadata"]) != _without_record(new["metadata"]) or (
        fields and old["metadata"] != new["metadata"]
    ):
        fields["metadata"] = FieldChange(before=old["metadata"], after=new["metadata"])
    return {name: fields[name] for name in FIELDS if name in fields}  # display order


def drift_cause(remote: RemoteAssistant, wanted: DesiredAssistant, target: CanonicalAssistant) -> Cause:
    """Why an update is needed, from the applied tag the last apply left on the remote."""
    record = applied_record(remote.canonical.metadata)
    if record is None:
        return "drift"  # every apply writes the tag: without it, someone edited the metadata
    manifest_changed = (
        record.unmanaged != wanted.unmanaged or fingerprint(target, wanted.unmanaged) != record.fingerprint
    )
    drifted = fingerprint(remote.canonical, record.unmanaged) != record.fingerprint
    if manifest_changed and drifted:
        return "both"
    return "drift" if drifted else "manifest"


def _update(remote: RemoteAssistant, wanted: DesiredAssistant, base: CanonicalAssistant) -> Change | None:
    # Most assistants match: find that out without hashing anything (the record is ignored).
    if not diff_fields(remote.canonical, base, skip=wanted.unmanaged):
        return None
    target = wanted.with_applied_record(base)
    return _modification(
        Action.UPDATE, remote, wanted, target,
        cause=drift_cause(remote, wanted, target),
        name=target.name if "name" not in wanted.unmanaged else remote.canonical.name,
    )


def _adopt(wanted: DesiredAssistant, target: CanonicalAssistant, actual: ActualState) -> Change:
    assert wanted.adopt is not None
    if wanted.adopt in actual.foreign:
        raise PlanError(
            f"{wanted.source}: adopt: {wanted.adopt} belongs to stack {actual.foreign[wanted.adopt]!r}, "
            f"not {actual.stack!r}; an assistant is never taken from another stack"
        )
    managed = next((r for r in actual.assistants if r.id == wanted.adopt), None)
    if managed is not None:
        raise PlanError(
            f"{wanted.source}: adopt: {wanted.adopt} is already managed by this stack as key {managed.key!r}"
        )
    remote = next((r for r in actual.unowned if r.id == wanted.adopt), None)
    if remote is None:
        raise PlanError(f"{wanted.source}: adopt: no assistant {wanted.adopt} on this endpoint")
    return _modification(Action.ADOPT, remote, wanted, target, name=target.name)


def _modification(action: Action, remote: RemoteAssistant, wanted: DesiredAssistant, target: CanonicalAssistant,
                  **display: Any) -> Change:
    """An update or adopt of `remote`: the managed fields that differ, and how many did not."""
    fields = diff_fields(remote.canonical, target, skip=wanted.unmanaged)
    return Change(action=action, key=wanted.key, assistant_id=remote.id, fields=fields,
                  unchanged=len(FIELDS) - len(wanted.unmanaged) - len(fields), **display)


def _create(key: str, wanted: CanonicalAssistant) -> Change:
    values = wanted.as_dict()
    fields = {
        name: FieldChange(before=None, after=values[name])
        for name in FIELDS
        if name in ("model", "metadata") or not _is_default(name, values[name])
    }
    return Change(action=Action.CREATE, key=key, fields=fields, name=wanted.name)


def _delete(remote: RemoteAssistant, reason: str, protected: bool) -> Change:
    assert remote.key is not None
    return Change(
        action=Action.DELETE, key=remote.key, assistant_id=remote.id, reason=reason,
        name=remote.canonical.name, protected=protected,
    )


def _without_record(metadata: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in metadata.items() if k != APPLIED_KEY}


def _is_default(name: str, value: Any) -> bool:
    return bool(value == DEFAULTS[name])
