"""Desired state + actual state -> Plan. Pure: no I/O."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from .canonical import DEFAULTS, FIELDS, UNMANAGED_WHEN_UNSET, CanonicalAssistant
from .manifest import DesiredAssistant
from .plan import Action, Change, FieldChange, Plan
from .remote import ActualState, RemoteAssistant


def compute_plan(desired: Sequence[DesiredAssistant], actual: ActualState, endpoint: str) -> Plan:
    """The changes that make `actual` match `desired`, sorted by key."""
    wanted = {d.key: d.canonical(actual.stack) for d in desired}
    found: dict[str, list[RemoteAssistant]] = defaultdict(list)
    for remote in actual.assistants:
        found[remote.key].append(remote)

    changes: list[Change] = []
    for key in sorted(wanted.keys() | found.keys()):
        # Oldest first; the listing is oldest-first too, which breaks created_at ties.
        remotes = sorted(found.get(key, []), key=lambda r: r.created_at)
        if key not in wanted:
            changes.extend(_delete(r, "no manifest for this key") for r in remotes)
            continue
        if not remotes:
            changes.append(_create(key, wanted[key]))
            continue
        kept, duplicates = remotes[0], remotes[1:]
        fields = diff_fields(kept.canonical, wanted[key])
        if fields:
            changes.append(Change(action=Action.UPDATE, key=key, assistant_id=kept.id, fields=fields))
        changes.extend(_delete(r, f"duplicate of {kept.id} (the oldest is kept)") for r in duplicates)
    return Plan(
        stack=actual.stack,
        endpoint=endpoint,
        remote_fingerprint=actual.fingerprint,
        managed_count=len(actual.assistants),
        changes=changes,
    )


def diff_fields(before: CanonicalAssistant, after: CanonicalAssistant) -> dict[str, FieldChange]:
    """The fields whose canonical values differ (an unmanaged, unset field never does)."""
    old, new = before.as_dict(), after.as_dict()
    return {
        name: FieldChange(before=old[name], after=new[name])
        for name in FIELDS
        if old[name] != new[name] and not (name in UNMANAGED_WHEN_UNSET and new[name] is None)
    }


def _create(key: str, wanted: CanonicalAssistant) -> Change:
    values = wanted.as_dict()
    fields = {
        name: FieldChange(before=None, after=values[name])
        for name in FIELDS
        if name in ("model", "metadata") or not _is_default(name, values[name])
    }
    return Change(action=Action.CREATE, key=key, fields=fields)


def _delete(remote: RemoteAssistant, reason: str) -> Change:
    return Change(action=Action.DELETE, key=remote.key, assistant_id=remote.id, reason=reason)


def _is_default(name: str, value: Any) -> bool:
    return bool(value == DEFAULTS[name])
