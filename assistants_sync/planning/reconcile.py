"""The pipeline's stages wired together (saved plans: `saved`).

    load_manifests -> desired --\\
                                 compute_plan -> Plan -> render_* / apply_plan
    fetch_actual   -> actual ---/

Manifests are always loaded and validated before the first request, so invalid
input never reaches the API.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from ..actual.remote import ActualState, ObjectLister, fetch_actual
from ..desired.manifest import Desired, load_manifests, require_manifests
from .diff import stack_dependencies
from .plan import Plan
from .safety import check_deletes
from .targeting import plan_for_targets

NO_MANIFESTS_HINT = (
    "a plan from no manifests would delete every object the stack manages; "
    "if that is what you want, pass --allow-delete-all"
)


def plan_from_manifests(
    paths: Sequence[str | os.PathLike[str]],
    client: ObjectLister,
    stack: str,
    *,
    allow_delete: bool = True,
    allow_delete_all: bool = False,
    allow_no_manifests: bool = False,
    targets: Collection[str] = (),
    defaults: Mapping[str, Any] | None = None,
    variables: Mapping[str, str] | None = None,
    project_file: str | os.PathLike[str] | None = None,
) -> Plan:
    """Validate the manifests, then `plan_from_desired`."""
    desired = load_manifests(paths, defaults=defaults, variables=variables, project_file=project_file)
    return plan_from_desired(desired, paths, client, stack, allow_delete=allow_delete,
                             allow_delete_all=allow_delete_all, allow_no_manifests=allow_no_manifests,
                             targets=targets)


def plan_from_desired(
    desired: Sequence[Desired],
    paths: Sequence[str | os.PathLike[str]],
    client: ObjectLister,
    stack: str,
    *,
    allow_delete: bool = True,
    allow_delete_all: bool = False,
    allow_no_manifests: bool = False,
    targets: Collection[str] = (),
) -> Plan:
    """List the endpoint once, diff with `desired` (loaded from `paths`), and check the deletes are safe.

    Paths holding no manifest at all are refused (NoManifestsError) unless
    `allow_no_manifests`: planning from nothing deletes everything. `targets` limits
    the plan to those keys (see `plan_for_targets`); the guards judge that partial plan.
    """
    return _planned(desired, paths, client, stack, allow_delete=allow_delete, allow_delete_all=allow_delete_all,
                    allow_no_manifests=allow_no_manifests, targets=targets)[0]


def graph_from_manifests(
    paths: Sequence[str | os.PathLike[str]],
    client: ObjectLister,
    stack: str,
    *,
    allow_delete: bool = True,
    allow_delete_all: bool = False,
    allow_no_manifests: bool = False,
    targets: Collection[str] = (),
    defaults: Mapping[str, Any] | None = None,
    variables: Mapping[str, str] | None = None,
    project_file: str | os.PathLike[str] | None = None,
) -> tuple[Plan, dict[tuple[str, str], list[tuple[str, str]]]]:
    """The plan, as `plan_from_manifests` makes it (with its errors), and what every object of the stack names
    (`stack_dependencies`), for the whole stack's dependency graph."""
    desired = load_manifests(paths, defaults=defaults, variables=variables, project_file=project_file)
    plan, actual = _planned(desired, paths, client, stack, allow_delete=allow_delete,
                            allow_delete_all=allow_delete_all, allow_no_manifests=allow_no_manifests, targets=targets)
    return plan, stack_dependencies(desired, actual)


def _planned(desired: Sequence[Desired], paths: Sequence[str | os.PathLike[str]], client: ObjectLister, stack: str,
             *, allow_delete: bool, allow_delete_all: bool, allow_no_manifests: bool, targets: Collection[str]
             ) -> tuple[Plan, ActualState]:
    if not allow_no_manifests:
        require_manifests(desired, paths, hint=NO_MANIFESTS_HINT)
    actual = listing_for(desired, client, stack)
    plan = plan_for_targets(desired, actual, client.endpoint.identity, targets, allow_delete=allow_delete)
    check_deletes(plan, allow_delete_all=allow_delete_all)
    return plan, actual


def drift_from_manifests(
    paths: Sequence[str | os.PathLike[str]],
    client: ObjectLister,
    stack: str,
    *,
    targets: Collection[str] = (),
    defaults: Mapping[str, Any] | None = None,
    variables: Mapping[str, str] | None = None,
    project_file: str | os.PathLike[str] | None = None,
) -> Plan:
    """The drift report: like `plan_from_manifests`, but never refused by the delete guards (it only reports).

    Paths holding no manifest at all are still refused: every managed object would
    be reported, which says nothing about drift.
    """
    desired = load_manifests(paths, defaults=defaults, variables=variables, project_file=project_file)
    require_manifests(desired, paths)
    actual = listing_for(desired, client, stack)
    return drift_only(plan_for_targets(desired, actual, client.endpoint.identity, targets))


def listing_for(desired: Sequence[Desired], client: ObjectLister, stack: str) -> ActualState:
    """What the endpoint holds for `desired`: its kinds must be served, and the unowned objects it adopts are
    read whole (their content too), to plan what the adopt changes."""
    return fetch_actual(client, stack, wanted={d.kind for d in desired},
                        unowned_read={d.adopt for d in desired if d.adopt})


def drift_only(plan: Plan) -> Plan:
    """The part of `plan` that no manifest edit explains: every change but manifest-caused updates and deletes."""
    drifted = [c for c in plan.changes if c.drift is not None]
    keys = {c.key for c in drifted}
    return plan.model_copy(update={"changes": drifted, "notes": [n for n in plan.notes if n.key in keys]})
