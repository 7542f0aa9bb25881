"""One listed object against its manifest: the per-object part of a plan. Pure: no I/O.

Most of a plan's CPU is per object: the manifest side's canonical form, and whether the
listed object differs from it. None of it needs the whole listing: a form naming another
of the stack's objects needs only that object's kind to be listed (its key is in the
listing), and the kinds are listed at once, the small ones long before the last page of
the large. So `Comparisons` does it while the
next page is in flight (`compare_page`, told by the listing of each page's objects once
the kinds they name are in), memoised by the identity of its immutable inputs and the
keys each form used; `compute_plan` then finds it done, and does the rest itself. A plan
is the same with or without it: a memo is used only where the plan's keys answer alike.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ..actual.remote import RemoteObject
from ..desired.manifest import Desired, with_derived
from ..kinds.base import Canonical, KeyOf, Kind, Reference
from ..ownership import (APPLIED_KEY, KeysAsked, KindStillListed, answers_hold, carries_applied_record, made_with_keys,
                         owned_form)
from .plan import FieldChange


class Comparisons:
    """The per-object results of a plan for `stack` and `desired`, filled as the listing comes in (`compare_page`);
    what no page brought is worked out on demand and not kept (each is asked for once a plan).

    Each memo holds the objects it was computed from, so an entry is used only for those very objects (an `id()`
    is never reused while they live); a manifest's form holds the keys it was made with, and is used only where
    the plan's `key_of` answers alike."""

    def __init__(self, desired: Sequence[Desired], stack: str) -> None:
        self.stack = stack
        self._declared = desired
        self._desired = with_derived(desired)  # the uploads too: their listing is compared as it comes in
        self._wanted = {(d.kind, d.key): d for d in self._desired}
        self._owned: dict[int, tuple[Desired, Canonical, KeysAsked]] = {}
        self._differs: dict[tuple[int, int, frozenset[str]], tuple[Canonical, Canonical, bool]] = {}
        # kind -> key -> (the listed object its page found needing nothing, its manifest, the keys its form used)
        self._settled: dict[str, dict[str, tuple[RemoteObject, Desired, KeysAsked]]] = {}

    def with_derived(self, desired: Sequence[Desired]) -> list[Desired]:
        """`manifest.with_derived(desired)`: made once, for the desired objects these comparisons are of."""
        return self._desired if desired is self._declared else with_derived(desired)

    def compare_page(self, kind: Kind, page: Sequence[RemoteObject], key_of: KeyOf) -> None:
        """Compare some of the stack's listed objects (as the plan's state will hold them) with their manifests.
        `key_of`: the keys of the stack's objects listed so far; a manifest naming an object of a kind still
        listed (KindStillListed) is compared by the plan, once the whole listing is in."""
        for remote in page:
            listed = remote.canonical
            wanted = self._wanted.get((kind.name, remote.key or ""))
            if wanted is None:
                continue
            base = self._early_owned_form(kind, wanted, key_of)
            if base is None:
                continue
            skip = wanted.unmanaged
            differs = bool(diff_fields(listed, base, skip))
            if not differs and carries_applied_record(listed.metadata) and (not wanted.adopt
                                                                             or wanted.adopt == remote.id):
                # Settled, unless the whole listing says otherwise (`settled_keys`); else the plan asks `differs`.
                self._settled.setdefault(kind.name, {})[wanted.key] = (remote, wanted, self._owned[id(wanted)][2])
            self._differs[(id(listed), id(base), skip)] = (listed, base, differs)

    def settled_keys(self, kind: Kind, found: Mapping[str, Sequence[RemoteObject]],
                     wanted: Mapping[str, Desired], key_of: KeyOf) -> set[str]:
        """The keys of `kind` needing nothing, found out as their pages came in: the key's one listed object
        (`found`: the plan's, by key) matched its manifest's form (`wanted`: by key), made with keys the plan's
        `key_of` answers alike, carries the applied tag and adopts nothing else. (A named kind's object matching
        its form has its name: no replacement either.) A key its page did not tell of is not among them."""
        of_key, manifest_of = found.get, wanted.get  # asked of every object
        return {key for key, (remote, manifest, asked) in self._settled.get(kind.name, {}).items()
                if (listed := of_key(key)) is not None and len(listed) == 1 and listed[0] is remote
                and manifest_of(key) is manifest and (not asked or answers_hold(asked, key_of))}

    def owned_form(self, kind: Kind, wanted: Desired, key_of: KeyOf) -> Canonical:
        """`ownership.owned_form` of `wanted` for this stack, with the stack's objects it names written as keys."""
        made = self._owned.get(id(wanted))
        if made is not None and made[0] is wanted and answers_hold(made[2], key_of):
            return made[1]
        return owned_form(kind, wanted, self.stack, key_of)

    def differs(self, before: Canonical, after: Canonical, skip: frozenset[str]) -> bool:
        """Whether `diff_fields(before, after, skip)` finds any difference."""
        made = self._differs.get((id(before), id(after), skip))
        if made is not None and made[0] is before and made[1] is after:
            return made[2]
        return bool(diff_fields(before, after, skip))

    def references(self, kind: Kind, canonical: Canonical, *, only: frozenset[str] | None = None) -> list[Reference]:
        """What `canonical` (of `kind`) names (`Kind.references`), in its fields `only` when given: worked out when
        asked (only a plan that creates or deletes a derived object asks, of every object), never page by page."""
        return _references(kind, canonical, only)

    def _early_owned_form(self, kind: Kind, wanted: Desired, key_of: KeyOf) -> Canonical | None:
        """The manifest side's canonical form, memoised with the keys it used; None while it names an object of a
        kind still listed."""
        made = self._owned.get(id(wanted))
        if made is not None and made[0] is wanted:
            return made[1]
        try:
            form, asked = made_with_keys(lambda keys: owned_form(kind, wanted, self.stack, keys), key_of)
        except KindStillListed:
            return None
        self._owned[id(wanted)] = (wanted, form, asked)
        return form


def _references(kind: Kind, canonical: Canonical, only: frozenset[str] | None) -> list[Reference]:
    values = canonical.as_dict()
    if only is not None:
        values = {name: value for name, value in values.items() if name in only}
    return list(kind.references(values))


def diff_fields(before: Canonical, after: Canonical, skip: frozenset[str] = frozenset()
                ) -> dict[str, FieldChange]:
    """The fields whose canonical values differ, leaving out `skip`.

    The applied tag alone never makes a difference (it records, it does not manage);
    when anything else differs, metadata is included so the new record is written.
    """
    old, new = before.as_dict(), after.as_dict()  # both of one kind: its fields, in display order
    fields = {
        name: FieldChange(before=old[name], after=new[name])
        for name in new
        if name not in skip and name != "metadata" and old[name] != new[name]
    }
    # Fields named `object.part` are parts of one object on the wire, which the API
    # replaces whole: when one part changes, the other managed parts are sent with it.
    changed_objects = {name.split(".", 1)[0] for name in fields if "." in name}
    for name in new if changed_objects else ():
        if name not in skip and name not in fields and name.split(".", 1)[0] in changed_objects and "." in name:
            fields[name] = FieldChange(before=old[name], after=new[name])
    if not _alike_but_the_applied_tag(old["metadata"], new["metadata"]) or (
        fields and old["metadata"] != new["metadata"]
    ):
        fields["metadata"] = FieldChange(before=old["metadata"], after=new["metadata"])
    return {name: fields[name] for name in new if name in fields} if fields else {}  # display order


def _alike_but_the_applied_tag(old: Mapping[str, str], new: Mapping[str, str]) -> bool:
    """`without_applied_tag(old) == without_applied_tag(new)`, without making either (asked of every object)."""
    if len(old) - (APPLIED_KEY in old) != len(new) - (APPLIED_KEY in new):
        return False
    return all(name == APPLIED_KEY or new.get(name, _ABSENT) == value for name, value in old.items())


_ABSENT = object()
