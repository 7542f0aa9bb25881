"""``--target KEY``: a partial plan of only some keys, as Terraform's ``-target``. Pure: no I/O.

The filter sits around `compute_plan`, not inside it: the diff sees only the targeted
manifests but the whole listing (so an adopt still recognises every object), and
then only the targeted keys' changes are kept. A targeted key without a manifest is
planned like any other key without one: deleted.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from ..actual.remote import ActualState
from ..desired.manifest import Desired
from .compare import Comparisons
from .diff import compute_plan
from .plan import Action, Plan


def plan_for_targets(
    desired: Sequence[Desired], actual: ActualState, endpoint: str, targets: Collection[str], *,
    allow_delete: bool = True, comparisons: Comparisons | None = None,
) -> Plan:
    """`compute_plan` limited to the keys in `targets`; the whole plan when `targets` is empty.

    The fingerprint covers only the targeted keys' objects: the plan's changes depend
    on nothing else, so a saved targeted plan stays valid while other keys are applied.
    `managed_count` stays the stack's, so the delete-all guard still means "every
    managed object of the stack". `comparisons`: as `compute_plan`'s.
    """
    if not targets:
        return compute_plan(desired, actual, endpoint, allow_delete=allow_delete, comparisons=comparisons)
    keys = set(targets)
    # A renaming manifest is selected by its new key or any previous one, and covers both.
    selected = [d for d in desired if d.key in keys or keys.intersection(d.previous_keys)]
    covered = keys.union(*({d.key, *d.previous_keys} for d in selected))
    # Deletes are left out after the keys are chosen, so that only the targeted keys' count as skipped.
    # Planned from every manifest (each key's change depends on its own manifest only), so that the
    # targets' dependencies are planned too, and uploads other manifests use are never taken as unused.
    full = compute_plan(desired, actual, endpoint, comparisons=comparisons)
    needed = _needed(full, covered)
    planned = [c for c in full.changes if c.key in covered or (c.kind, c.key) in needed]
    covered |= {key for _, key in needed}
    changes = planned if allow_delete else [c for c in planned if c.action is not Action.DELETE]
    adopted = [c.id for c in changes if c.action is Action.ADOPT and c.id]
    known = {k for d in desired for k in (d.key, *d.previous_keys)} | {
        a.key for a in actual.managed if a.key is not None}
    return full.model_copy(update={
        "changes": changes,
        "notes": [n for n in full.notes if n.key in covered],
        "targets": sorted(keys),
        "unmatched_targets": sorted(keys - known),
        "skipped_deletes": len(planned) - len(changes),
        "remote_fingerprint": actual.limited_to(covered).fingerprint(also=adopted),
    })


def _needed(plan: Plan, covered: set[str]) -> set[tuple[str, str]]:
    """(kind, key) of the creates and updates that the targeted changes depend on, however indirectly (as
    Terraform's -target takes a target's dependencies along): an upload a targeted store attaches is made with it."""
    by_ref = {(c.kind, c.key): c for c in plan.changes if c.action is not Action.DELETE}
    pending = [r for c in plan.changes if c.key in covered and c.action is not Action.DELETE for r in c.depends_on]
    needed: set[tuple[str, str]] = set()
    while pending:
        ref = pending.pop()
        change = by_ref.get((ref.kind, ref.key))
        if change is not None and (ref.kind, ref.key) not in needed and change.key not in covered:
            needed.add((ref.kind, ref.key))
            pending += change.depends_on
    return needed
