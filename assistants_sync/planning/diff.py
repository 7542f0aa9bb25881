"""Desired state + actual state -> Plan. Pure: no I/O. The same for every kind.

Keys are unique per kind: a manifest is matched with the remote objects of its kind
tagged with its key. Changes are sorted by kind (the default kind first) and key.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any

from ..actual.remote import ActualState, RemoteObject
from ..desired.manifest import Desired, with_derived
from ..errors import PlanError
from ..kinds import get_kind, kinds
from ..kinds.base import DEFAULT_KIND, Canonical
from ..ownership import applied_record, carries_applied_record, fingerprint, is_protected, owned_form, recorded
from .compare import Comparisons, diff_fields
from .plan import Action, Cause, Change, DriftKind, FieldChange, Note, Plan, Ref


def compute_plan(
    desired: Sequence[Desired], actual: ActualState, endpoint: str, *, allow_delete: bool = True,
    comparisons: Comparisons | None = None,
) -> Plan:
    """The changes that make `actual` match `desired`, sorted by kind and key, with notes for people.

    A manifest's `previous_keys` turn the object of an old key into an update of the
    new one (same id). An `adopt:` that cannot apply (the key is already managed, the id
    is gone or belongs to another stack) is planned as if it were not there, with a note.
    Raises PlanError for an adopt of an object this stack manages under another key, and
    for objects that depend on each other in a circle.
    A kind the endpoint does not serve (`actual.unserved`) is not planned at all.
    `comparisons`: the per-object work done already (page by page, as the listing came in), if any.
    """
    seen = comparisons if comparisons is not None else Comparisons(desired, actual.stack)
    assert seen.stack == actual.stack, "comparisons made for another stack"
    desired = seen.with_derived(desired)
    changes: list[Change] = []
    notes: list[Note] = []
    planned_kinds = [k.name for k in kinds() if k.name not in actual.unserved]
    of_kind: dict[str, list[Desired]] = {kind: [] for kind in planned_kinds}
    for wanted in desired:
        if wanted.kind in of_kind:
            of_kind[wanted.kind].append(wanted)
    for kind in planned_kinds:
        changes += _kind_changes(kind, of_kind[kind], actual, notes, seen)
    if any(c.action is Action.DELETE and not get_kind(c.kind).declared for c in changes):
        in_use = _named_by_what_is_left_alone(desired, actual, seen)  # only a derived object's delete asks it
        changes = [c for c in changes if not (c.action is Action.DELETE and (c.kind, c.key) in in_use)]
    changes = _new_content_is_no_drift(changes, actual, seen)
    kept = changes if allow_delete else [c for c in changes if c.action is not Action.DELETE]
    skipped_deletes = len(changes) - len(kept)
    changes = _with_dependencies(kept, desired, actual)
    adopted_ids = [c.id for c in changes if c.action is Action.ADOPT and c.id]
    # The kinds a plan speaks of (its wording: "3 assistants", "3 objects"): those in play.
    in_play = [k for k in planned_kinds if of_kind[k] or actual.managed_of(k)]
    return Plan(
        stack=actual.stack,
        endpoint=endpoint,
        remote_fingerprint=actual.fingerprint(also=adopted_ids),
        managed_count=len(actual.managed),
        changes=changes,
        notes=sorted(notes, key=lambda n: (n.object_kind != DEFAULT_KIND, n.object_kind, n.key)),
        kinds=in_play or planned_kinds[:1] or [DEFAULT_KIND],
        skipped_deletes=skipped_deletes,
    )


def _kind_changes(kind: str, desired: Sequence[Desired], actual: ActualState, notes: list[Note],
                  seen: Comparisons) -> list[Change]:
    """The changes of one kind, sorted by key."""
    of_kind = get_kind(kind)
    by_key = {d.key: d for d in desired}
    found: dict[str, list[RemoteObject]] = {}
    for remote in actual.managed_of(kind):  # asked of every object: no defaultdict, one lookup for most
        assert remote.key is not None
        of_key = found.get(remote.key)
        if of_key is None:
            found[remote.key] = [remote]
        else:
            of_key.append(remote)

    renames = _renames(desired, by_key.keys(), found, notes)
    unowned_records = _unowned_by_record(actual, kind)
    # Found out as their pages came in: the one object of the key, as its manifest says.
    settled = seen.settled_keys(of_kind, found, by_key, actual.key_of)
    changes: list[Change] = []
    for key in sorted((by_key.keys() | found.keys()) - set(renames.values()) - settled):
        previous = renames.get(key)
        # Oldest first; the listing is oldest-first too, which breaks created_at ties.
        remotes = found.get(previous or key, [])
        if len(remotes) > 1:
            remotes = sorted(remotes, key=lambda r: r.created_at)
        wanted = by_key.get(key)
        if wanted is None:
            changes.extend(_delete(r, of_kind.unused_reason, is_protected(r.canonical.metadata),
                                   drift=_unexplained_drift(r)) for r in remotes)
            continue
        base = seen.owned_form(of_kind, wanted, actual.key_of)
        if not remotes:
            target = recorded(base, wanted.unmanaged)
            adopted = _adoptable(wanted, actual, notes)
            if adopted is not None:
                changes.append(_versioned(_modification(Action.ADOPT, adopted, wanted, target, name=target.name,
                                                        drift="missing"), adopted, wanted))
                continue
            _refuse_taken_name(wanted, target, actual)
            changes.append(_versioned(_create(wanted, target), None, wanted))
            notes.extend(_unowned_matches(wanted, target, unowned_records))
            continue
        kept, duplicates = remotes[0], remotes[1:]
        if wanted.adopt and wanted.adopt != kept.id:
            fate = "is a duplicate of it" if any(r.id == wanted.adopt for r in duplicates) else "is left alone"
            notes.append(_note(wanted, "adopt_skipped", (
                f"adopt: {wanted.adopt} skipped: the key is already managed by this stack as {kept.id}; "
                f"{wanted.adopt} {fate}")))
        replacement = _replacement(kept, wanted, base, actual)
        update = _update(kept, wanted, base, seen, previous) if replacement is None else None
        changes.extend(replacement or [])
        if update is not None:
            changes.append(_versioned(update, kept, wanted))
        changes.extend(_delete(r, f"duplicate of {kept.id} (the oldest is kept)", False, drift="duplicate")
                       for r in duplicates)
    changes.sort(key=lambda c: c.key)  # stable: a renamed key's duplicates carry the old key
    return changes


def _versioned(change: Change, remote: RemoteObject | None, wanted: Desired) -> Change:
    """A change of a versioned kind with what its new version needs: the version it replaces, the unchanged fields'
    current values (carried into the new version as they are), and how many versions to keep."""
    kind = get_kind(wanted.kind)
    if not kind.versioned or remote is None:  # a first version: nothing older to keep or delete
        return change
    values = remote.canonical.as_dict()
    return change.model_copy(update={
        "version": remote.version, "keep_versions": kind.retention(wanted.request),
        "kept": {name: values[name] for name in kind.fields if name not in change.fields}})


def _refuse_taken_name(wanted: Desired, target: Canonical, actual: ActualState) -> None:
    """PlanError when the id an object would be made with (a Foundry agent's name) is held by an object that is not
    this one: nothing is ever added to an object the stack does not own."""
    kind = get_kind(wanted.kind)
    named = kind.named_id(target.as_dict()) if kind.named else None
    if named is None:
        return
    noun = kind.noun
    if named in actual.foreign:
        raise PlanError(f"{wanted.source}: the {noun} name {named!r} is taken by {_a(noun)} of stack "
                        f"{actual.foreign[named]!r}; a stack never changes another's {noun}: choose another name")
    if any(r.id == named and r.kind == kind.name for r in actual.unowned):
        untagged, adopted = (("its latest version carries", "its next version will be the manifest's")
                             if kind.versioned else ("it carries", "it will be updated to the manifest"))
        raise PlanError(f"{wanted.source}: the {noun} {named!r} exists and is not this stack's ({untagged} no "
                        f"assistants-sync tag); to manage it, add \"adopt: {named}\" to the manifest ({adopted}), "
                        "or choose another name")
    holder = next((r for r in actual.managed_of(kind.name) if r.id == named and r.key != wanted.key), None)
    if holder is not None:
        raise PlanError(f"{wanted.source}: the {noun} name {named!r} is held by this stack's {noun} of key "
                        f"{holder.key!r}; to move it to key {wanted.key!r}, list {holder.key!r} in previous_keys")


def _replacement(remote: RemoteObject, wanted: Desired, base: Canonical, actual: ActualState) -> list[Change] | None:
    """A create and a delete when the manifest gives the object another id (a Foundry agent's new name is a new
    agent), or None. The create runs first; the old object goes with the deletes."""
    kind = get_kind(wanted.kind)
    named = kind.named_id(base.as_dict()) if kind.named else None
    if named is None or named == remote.id or "name" in wanted.unmanaged:
        return None
    target = recorded(base, wanted.unmanaged)
    _refuse_taken_name(wanted, target, actual)
    create = _create(wanted, target).model_copy(update={
        "reason": f"replaces {remote.id}: a {kind.noun}'s name is its identity", "drift": None})
    delete = _delete(remote, f"replaced by {named} (the manifest renames it)", is_protected(remote.canonical.metadata),
                     drift=None)
    return [_versioned(create, None, wanted), delete]


def desired_form(wanted: Desired, stack: str, actual: ActualState | None = None) -> Canonical:
    """What `wanted` looks like applied by `stack`: its canonical form with every tag an apply writes
    (the stack's objects it names by id written as keys, given what is listed: `actual`)."""
    key_of = actual.key_of if actual is not None else None
    return recorded(owned_form(get_kind(wanted.kind), wanted, stack, key_of), wanted.unmanaged)


def _new_content_is_no_drift(changes: list[Change], actual: ActualState, seen: Comparisons) -> list[Change]:
    """A derived object (an upload) to create is missing only when the stack's objects name it now (it was
    deleted outside assistants-sync); else a manifest asks for new content, which is no drift."""
    if not any(c.action is Action.CREATE and not get_kind(c.kind).declared for c in changes):
        return changes  # no upload to create: nothing to find out
    named = {(k, actual.key_of(k, name) or name) for r in actual.managed
             for k, name in seen.references(get_kind(r.kind), r.canonical)}
    return [c.model_copy(update={"drift": None})
            if c.action is Action.CREATE and not get_kind(c.kind).declared and (c.kind, c.key) not in named else c
            for c in changes]


def _named_by_what_is_left_alone(desired: Sequence[Desired], actual: ActualState,
                                 seen: Comparisons) -> set[tuple[str, str]]:
    """Derived objects (uploads) that a field a manifest leaves alone (ignore_changes) still names on the remote
    object: no manifest asks for them, and yet they are in use, so they are not deleted."""
    kept: set[tuple[str, str]] = set()
    for wanted in desired:
        remote = actual.oldest(wanted.kind, wanted.key) if wanted.unmanaged else None  # as planned
        if remote is None:
            continue
        for kind_name, name in seen.references(get_kind(wanted.kind), remote.canonical, only=wanted.unmanaged):
            if not get_kind(kind_name).declared:
                kept.add((kind_name, actual.key_of(kind_name, name) or name))
    return kept


def _note(wanted: Desired, kind: Any, text: str) -> Note:
    return Note(key=wanted.key, kind=kind, text=text, object_kind=wanted.kind)


def stack_dependencies(desired: Sequence[Desired], actual: ActualState) -> dict[tuple[str, str], list[tuple[str, str]]]:
    """(kind, key) -> what that desired object names, for every object of the stack (derived ones too): the
    dependency order apply follows, whether the object changes or not."""
    wanted = with_derived(desired)
    probes = [Change(action=Action.CREATE, kind=d.kind, key=d.key) for d in wanted]
    return {(c.kind, c.key): [(r.kind, r.key) for r in c.depends_on] for c in _with_dependencies(probes, wanted, actual)}


def _with_dependencies(changes: list[Change], desired: Sequence[Desired], actual: ActualState) -> list[Change]:
    """Each change with the objects it names (`Kind.references`), as refs by kind and key.

    A create or adopt names what its manifest names; an update that and what the remote
    object names now (so that what it stops naming is not deleted unless it is done); a
    delete what the remote object names. A reference by remote id is turned into the key of the managed object.
    A ref carries the id of the object when it is listed; a ref without one names an
    object this plan creates, whose id apply learns when it is made.
    Objects that depend on each other in a circle cannot be ordered: PlanError.
    """
    if not changes:
        return []  # nothing to order (a plan with no changes need not index the whole stack)
    requests = {(d.kind, d.key): d.request for d in desired}
    remotes = {(r.kind, r.id): r for r in actual.managed}
    created = {(c.kind, c.key) for c in changes if c.action is Action.CREATE}
    result: list[Change] = []
    for change in changes:
        kind = get_kind(change.kind)
        if change.action is Action.DELETE:
            remote = remotes.get((change.kind, change.id or ""))
            values: Mapping[str, Any] = remote.canonical.as_dict() if remote is not None else {}
        else:
            values = requests.get((change.kind, change.key), {})
        named = {(k, actual.key_of(k, name) or name) for k, name in kind.references(values)}
        remote = remotes.get((change.kind, change.id or "")) if change.action is Action.UPDATE else None
        if remote is not None:
            named |= {(k, actual.key_of(k, name) or name) for k, name in kind.references(remote.canonical.as_dict())}
        # What is neither the stack's nor made by this plan (an id of another's object) orders nothing.
        refs = sorted((Ref(kind=k, key=key, id=None if (k, key) in created else actual.id_of(k, key))
                       for k, key in named if (k, key) != (change.kind, change.key)
                       and ((k, key) in created or actual.id_of(k, key) is not None)),
                      key=lambda r: (r.kind, r.key))
        result.append(change.model_copy(update={"depends_on": refs}) if refs else change)
    _refuse_circles(result)
    return result


def _refuse_circles(changes: Iterable[Change]) -> None:
    """PlanError naming a circle of create/adopt/update changes that depend on each other."""
    edges: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for change in changes:
        if change.action is not Action.DELETE:
            edges[(change.kind, change.key)] = [(r.kind, r.key) for r in change.depends_on]
    state: dict[tuple[str, str], int] = {}  # 1 on the path, 2 done

    def visit(node: tuple[str, str], path: list[tuple[str, str]]) -> None:
        state[node] = 1
        for after in edges.get(node, []):
            if after not in edges:
                continue
            if state.get(after) == 1:
                circle = [*path[path.index(after):], after] if after in path else [node, after]
                raise PlanError("these objects depend on each other in a circle, so none can be made first: "
                                + " -> ".join(f"{k} {key}" for k, key in circle))
            if state.get(after) is None:
                visit(after, [*path, after])
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node, [node])


def drift_cause(remote: RemoteObject, wanted: Desired, target: Canonical) -> Cause:
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


def _update(remote: RemoteObject, wanted: Desired, base: Canonical, seen: Comparisons,
            previous_key: str | None = None) -> Change | None:
    # Most assistants match: find that out without hashing anything (the record is ignored).
    if not seen.differs(remote.canonical, base, wanted.unmanaged):
        return None if carries_applied_record(remote.canonical.metadata) else _record_only(remote, wanted, base)
    record = applied_record(remote.canonical.metadata)
    target = recorded(base, wanted.unmanaged)
    cause = drift_cause(remote, wanted, target)
    drift: DriftKind | None = "untracked" if record is None else None if cause == "manifest" else "changed"
    return _modification(
        Action.UPDATE, remote, wanted, target,
        cause=cause, drift=drift, previous_key=previous_key,
        name=target.name if "name" not in wanted.unmanaged else remote.canonical.name,
    )


def _record_only(remote: RemoteObject, wanted: Desired, base: Canonical) -> Change:
    """An update writing only the applied tag, for an assistant tagged with this stack by someone else.

    Its fields match, but no apply wrote it: until an apply records it, drift reports it.
    """
    target = recorded(base, wanted.unmanaged)
    return Change(
        action=Action.UPDATE, kind=wanted.kind, key=wanted.key, id=remote.id, cause="drift", drift="untracked",
        fields={"metadata": FieldChange(before=remote.canonical.metadata, after=target.metadata)},
        unchanged=len(get_kind(wanted.kind).fields) - len(wanted.unmanaged) - 1,
        name=target.name if "name" not in wanted.unmanaged else remote.canonical.name,
    )


def _adoptable(wanted: Desired, actual: ActualState, notes: list[Note]) -> RemoteObject | None:
    """The unowned object `wanted` adopts, or None (with a note when an adopt line was skipped)."""
    if wanted.adopt is None:
        return None
    noun = get_kind(wanted.kind).noun
    if wanted.adopt in actual.foreign:
        notes.append(_adopt_skipped(wanted, (
            f"it belongs to stack {actual.foreign[wanted.adopt]!r}, not {actual.stack!r}, and {_a(noun)} is "
            "never taken from another stack")))
        return None
    managed = next((r for r in actual.managed if r.id == wanted.adopt), None)
    if managed is not None and managed.kind != wanted.kind:
        raise PlanError(f"{wanted.source}: adopt: {wanted.adopt} is {_a(get_kind(managed.kind).noun)} (managed by "
                        f"this stack as key {managed.key!r}), {_not_adoptable_as(noun)}")
    if managed is not None:
        raise PlanError(
            f"{wanted.source}: adopt: {wanted.adopt} is already managed by this stack as key {managed.key!r}; "
            f"to rename that key to {wanted.key!r}, list it in previous_keys instead"
        )
    other = next((r for r in actual.unowned if r.id == wanted.adopt and r.kind != wanted.kind), None)
    if other is not None:
        notes.append(_adopt_skipped(wanted, f"{other.id} is {_a(get_kind(other.kind).noun)}, "
                                            f"{_not_adoptable_as(noun)}"))
        return None
    remote = next((r for r in actual.unowned if r.id == wanted.adopt and r.kind == wanted.kind), None)
    if remote is None:
        notes.append(_adopt_skipped(wanted, (
            f"no {noun} {wanted.adopt} on this endpoint (deleted since, or the manifest was written for "
            "another endpoint)")))
    return remote


def _adopt_skipped(wanted: Desired, why: str) -> Note:
    return _note(wanted, "adopt_skipped", f"adopt: {wanted.adopt} skipped: {why}; planned as if the adopt line "
                                          "were not there")


def _not_adoptable_as(noun: str) -> str:
    return f"and cannot be adopted as {_a(noun)}: a manifest adopts an object of its own kind"


def _a(noun: str) -> str:
    return f"{'an' if noun[:1] in 'aeiou' else 'a'} {noun}"


def _renames(desired: Sequence[Desired], manifest_keys: Collection[str],
             found: Mapping[str, list[RemoteObject]], notes: list[Note]) -> dict[str, str]:
    """New key -> the previous key whose objects it takes over: the first listed that has any.

    When the new key has objects already, it wins: the old key's are planned like any
    key without a manifest (deleted, unless --no-delete).
    """
    renames: dict[str, str] = {}
    for wanted in desired:
        if not wanted.previous_keys:
            continue
        live = [p for p in wanted.previous_keys if found.get(p) and p not in manifest_keys]
        if not live:
            continue
        kind = get_kind(wanted.kind)
        if found.get(wanted.key):
            kept = min(found[wanted.key], key=lambda r: r.created_at).id
            reason = f"{wanted.key!r} already has {_a(kind.noun)} ({kept}), which is kept"
        else:
            renames[wanted.key], live = live[0], live[1:]
            reason = f"{renames[wanted.key]!r} is the one renamed to {wanted.key!r}"
        notes.extend(_note(wanted, "rename_skipped", (
            f"previous key {p!r} not renamed: {reason}; the {kind.plural} under {p!r} are planned like any key "
            "without a manifest")) for p in live)
    return renames


def _unexplained_drift(remote: RemoteObject) -> DriftKind | None:
    """Why deleting `remote` (whose manifest is gone) is drift too, or None if an apply left it as it is."""
    record = applied_record(remote.canonical.metadata)
    if record is None:
        return "untracked"
    return None if fingerprint(remote.canonical, record.unmanaged) == record.fingerprint else "changed"


def _unowned_by_record(actual: ActualState, kind: str) -> dict[str, list[str]]:
    """Ids of unowned objects of `kind` by the fingerprint of their applied tag (left when an ownership tag is
    removed)."""
    index: dict[str, list[str]] = defaultdict(list)
    for remote in actual.unowned:
        record = applied_record(remote.canonical.metadata) if remote.kind == kind else None
        if record is not None:
            index[record.fingerprint].append(remote.id)
    return index


def _unowned_matches(wanted: Desired, target: Canonical, index: Mapping[str, list[str]]) -> list[Note]:
    record = applied_record(target.metadata)
    assert record is not None
    noun = get_kind(wanted.kind).noun
    return [_note(wanted, "unowned_match", (
        f"the unowned {noun} {object_id} carries the applied tag of this manifest (was its ownership tag "
        f"removed?); to take it back instead of creating another, add \"adopt: {object_id}\" to the manifest"))
        for object_id in index.get(record.fingerprint, [])]


def _modification(action: Action, remote: RemoteObject, wanted: Desired, target: Canonical,
                  **display: Any) -> Change:
    """An update or adopt of `remote`: the managed fields that differ, and how many did not."""
    fields = diff_fields(remote.canonical, target, skip=wanted.unmanaged)
    return Change(action=action, kind=wanted.kind, key=wanted.key, id=remote.id, fields=fields,
                  unchanged=len(get_kind(wanted.kind).fields) - len(wanted.unmanaged) - len(fields), **display)


def _create(wanted: Desired, target: Canonical) -> Change:
    # Drift calls every create missing: a new manifest and an object deleted outside
    # assistants-sync look the same, and the desired state is not live either way.
    defaults = get_kind(wanted.kind).defaults
    fields = {
        name: FieldChange(before=None, after=value)
        for name, value in target.as_dict().items()
        if name == "metadata" or value != defaults.get(name)
    }
    return Change(action=Action.CREATE, kind=wanted.kind, key=wanted.key, fields=fields, name=target.name,
                  drift="missing")


def _delete(remote: RemoteObject, reason: str, protected: bool, drift: DriftKind | None) -> Change:
    assert remote.key is not None
    return Change(
        action=Action.DELETE, kind=remote.kind, key=remote.key, id=remote.id, reason=reason,
        name=remote.canonical.name, protected=protected, drift=drift,
    )
