"""Desired state + actual state -> Plan. Pure: no I/O."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from ..kinds.assistant import DEFAULTS, FIELDS, CanonicalAssistant, fingerprint
from ..errors import PlanError
from ..desired.manifest import DesiredAssistant
from ..ownership import APPLIED_KEY, applied_record, is_protected
from .plan import Action, Cause, Change, DriftKind, FieldChange, Note, Plan
from ..actual.remote import ActualState, RemoteAssistant


def compute_plan(
    desired: Sequence[DesiredAssistant], actual: ActualState, endpoint: str, *, allow_delete: bool = True
) -> Plan:
    """The changes that make `actual` match `desired`, sorted by key, with notes for people.

    A manifest's `previous_keys` turn the assistant of an old key into an update of the
    new one (same id). An `adopt:` that cannot apply (the key is already managed, the id
    is gone or belongs to another stack) is planned as if it were not there, with a note.
    Raises PlanError only for an adopt of an assistant this stack manages under another key.
    """
    by_key = {d.key: d for d in desired}
    found: dict[str, list[RemoteAssistant]] = defaultdict(list)
    for remote in actual.assistants:
        assert remote.key is not None
        found[remote.key].append(remote)

    notes: list[Note] = []
    renames = _renames(desired, by_key.keys(), found, notes)
    unowned_records = _unowned_by_record(actual)
    changes: list[Change] = []
    for key in sorted((by_key.keys() | found.keys()) - set(renames.values())):
        previous = renames.get(key)
        # Oldest first; the listing is oldest-first too, which breaks created_at ties.
        remotes = sorted(found.get(previous or key, []), key=lambda r: r.created_at)
        wanted = by_key.get(key)
        if wanted is None:
            changes.extend(_delete(r, "no manifest for this key", is_protected(r.canonical.metadata),
                                   drift=_unexplained_drift(r)) for r in remotes)
            continue
        base = wanted.canonical_without_record(actual.stack)
        if not remotes:
            target = wanted.with_applied_record(base)
            adopted = _adoptable(wanted, actual, notes)
            if adopted is not None:
                changes.append(_modification(Action.ADOPT, adopted, wanted, target, name=target.name, drift="missing"))
                continue
            changes.append(_create(key, target))
            notes.extend(_unowned_matches(key, target, unowned_records))
            continue
        kept, duplicates = remotes[0], remotes[1:]
        if wanted.adopt and wanted.adopt != kept.id:
            fate = "is a duplicate of it" if any(r.id == wanted.adopt for r in duplicates) else "is left alone"
            notes.append(Note(key=key, kind="adopt_skipped", text=(
                f"adopt: {wanted.adopt} skipped: the key is already managed by this stack as {kept.id}; "
                f"{wanted.adopt} {fate}")))
        update = _update(kept, wanted, base, previous)
        if update is not None:
            changes.append(update)
        changes.extend(_delete(r, f"duplicate of {kept.id} (the oldest is kept)", False, drift="duplicate")
                       for r in duplicates)
    if not allow_delete:
        changes = [c for c in changes if c.action is not Action.DELETE]
    changes.sort(key=lambda c: c.key)  # stable: a renamed key's duplicates carry the old key
    adopted_ids = [c.assistant_id for c in changes if c.action is Action.ADOPT and c.assistant_id]
    return Plan(
        stack=actual.stack,
        endpoint=endpoint,
        remote_fingerprint=actual.fingerprint(also=adopted_ids),
        managed_count=len(actual.assistants),
        changes=changes,
        notes=sorted(notes, key=lambda n: n.key),
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


def _update(remote: RemoteAssistant, wanted: DesiredAssistant, base: CanonicalAssistant,
            previous_key: str | None = None) -> Change | None:
    record = applied_record(remote.canonical.metadata)
    # Most assistants match: find that out without hashing anything (the record is ignored).
    if not diff_fields(remote.canonical, base, skip=wanted.unmanaged):
        return None if record is not None else _record_only(remote, wanted, base)
    target = wanted.with_applied_record(base)
    cause = drift_cause(remote, wanted, target)
    drift: DriftKind | None = "untracked" if record is None else None if cause == "manifest" else "changed"
    return _modification(
        Action.UPDATE, remote, wanted, target,
        cause=cause, drift=drift, previous_key=previous_key,
        name=target.name if "name" not in wanted.unmanaged else remote.canonical.name,
    )


def _record_only(remote: RemoteAssistant, wanted: DesiredAssistant, base: CanonicalAssistant) -> Change:
    """An update writing only the applied tag, for an assistant tagged with this stack by someone else.

    Its fields match, but no apply wrote it: until an apply records it, drift reports it.
    """
    target = wanted.with_applied_record(base)
    return Change(
        action=Action.UPDATE, key=wanted.key, assistant_id=remote.id, cause="drift", drift="untracked",
        fields={"metadata": FieldChange(before=remote.canonical.metadata, after=target.metadata)},
        unchanged=len(FIELDS) - len(wanted.unmanaged) - 1,
        name=target.name if "name" not in wanted.unmanaged else remote.canonical.name,
    )


def _adoptable(wanted: DesiredAssistant, actual: ActualState, notes: list[Note]) -> RemoteAssistant | None:
    """The unowned assistant `wanted` adopts, or None (with a note when an adopt line was skipped)."""
    if wanted.adopt is None:
        return None
    if wanted.adopt in actual.foreign:
        notes.append(_adopt_skipped(wanted, (
            f"it belongs to stack {actual.foreign[wanted.adopt]!r}, not {actual.stack!r}, and an assistant is "
            "never taken from another stack")))
        return None
    managed = next((r for r in actual.assistants if r.id == wanted.adopt), None)
    if managed is not None:
        raise PlanError(
            f"{wanted.source}: adopt: {wanted.adopt} is already managed by this stack as key {managed.key!r}; "
            f"to rename that key to {wanted.key!r}, list it in previous_keys instead"
        )
    remote = next((r for r in actual.unowned if r.id == wanted.adopt), None)
    if remote is None:
        notes.append(_adopt_skipped(wanted, (
            f"no assistant {wanted.adopt} on this endpoint (deleted since, or the manifest was written for "
            "another endpoint)")))
    return remote


def _adopt_skipped(wanted: DesiredAssistant, why: str) -> Note:
    return Note(key=wanted.key, kind="adopt_skipped",
                text=f"adopt: {wanted.adopt} skipped: {why}; planned as if the adopt line were not there")


def _renames(desired: Sequence[DesiredAssistant], manifest_keys: Collection[str],
             found: Mapping[str, list[RemoteAssistant]], notes: list[Note]) -> dict[str, str]:
    """New key -> the previous key whose assistants it takes over: the first listed that has any.

    When the new key has assistants already, it wins: the old key's are planned like any
    key without a manifest (deleted, unless --no-delete).
    """
    renames: dict[str, str] = {}
    for wanted in desired:
        live = [p for p in wanted.previous_keys if found.get(p) and p not in manifest_keys]
        if not live:
            continue
        if found.get(wanted.key):
            kept = min(found[wanted.key], key=lambda r: r.created_at).id
            reason = f"{wanted.key!r} already has an assistant ({kept}), which is kept"
        else:
            renames[wanted.key], live = live[0], live[1:]
            reason = f"{renames[wanted.key]!r} is the one renamed to {wanted.key!r}"
        notes.extend(Note(key=wanted.key, kind="rename_skipped", text=(
            f"previous key {p!r} not renamed: {reason}; the assistants under {p!r} are planned like any key "
            "without a manifest")) for p in live)
    return renames


def _unexplained_drift(remote: RemoteAssistant) -> DriftKind | None:
    """Why deleting `remote` (whose manifest is gone) is drift too, or None if an apply left it as it is."""
    record = applied_record(remote.canonical.metadata)
    if record is None:
        return "untracked"
    return None if fingerprint(remote.canonical, record.unmanaged) == record.fingerprint else "changed"


def _unowned_by_record(actual: ActualState) -> dict[str, list[str]]:
    """Ids of unowned assistants by the fingerprint of their applied tag (left when an ownership tag is removed)."""
    index: dict[str, list[str]] = defaultdict(list)
    for remote in actual.unowned:
        record = applied_record(remote.canonical.metadata)
        if record is not None:
            index[record.fingerprint].append(remote.id)
    return index


def _unowned_matches(key: str, target: CanonicalAssistant, index: Mapping[str, list[str]]) -> list[Note]:
    record = applied_record(target.metadata)
    assert record is not None
    return [Note(key=key, kind="unowned_match", text=(
        f"the unowned assistant {assistant_id} carries the applied tag of this manifest (was its ownership tag "
        f"removed?); to take it back instead of creating another, add \"adopt: {assistant_id}\" to the manifest"))
        for assistant_id in index.get(record.fingerprint, [])]


def _modification(action: Action, remote: RemoteAssistant, wanted: DesiredAssistant, target: CanonicalAssistant,
                  **display: Any) -> Change:
    """An update or adopt of `remote`: the managed fields that differ, and how many did not."""
    fields = diff_fields(remote.canonical, target, skip=wanted.unmanaged)
    return Change(action=action, key=wanted.key, assistant_id=remote.id, fields=fields,
                  unchanged=len(FIELDS) - len(wanted.unmanaged) - len(fields), **display)


def _create(key: str, wanted: CanonicalAssistant) -> Change:
    # Drift calls every create missing: a new manifest and an assistant deleted outside
    # assistants-sync look the same, and the desired state is not live either way.
    values = wanted.as_dict()
    fields = {
        name: FieldChange(before=None, after=values[name])
        for name in FIELDS
        if name in ("model", "metadata") or not _is_default(name, values[name])
    }
    return Change(action=Action.CREATE, key=key, fields=fields, name=wanted.name, drift="missing")


def _delete(remote: RemoteAssistant, reason: str, protected: bool, drift: DriftKind | None) -> Change:
    assert remote.key is not None
    return Change(
        action=Action.DELETE, key=remote.key, assistant_id=remote.id, reason=reason,
        name=remote.canonical.name, protected=protected, drift=drift,
    )


def _without_record(metadata: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in metadata.items() if k != APPLIED_KEY}


def _is_default(name: str, value: Any) -> bool:
    return bool(value == DEFAULTS[name])
