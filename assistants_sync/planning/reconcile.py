"""The pipeline's stages wired together (saved plans: `saved`).

    load_manifests -> desired --\\
                                 compute_plan -> Plan (+ versions to delete) -> render_* / apply_plan
    fetch_actual   -> actual ---/

The endpoint is listed while the manifests load and validate (`ListingInFlight`): a
plan waits on the network, and loading is work it can do meanwhile, as is comparing
each page's objects with their manifests (`Comparisons`) while the next page is in
flight. Invalid input writes nothing: a plan only ever reads, and when validation fails
the listing stops before its next page and the manifests' problems are raised as they are.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from ..actual.remote import ActualState, ListingInFlight, ObjectLister, fetch_actual
from ..defaults import DEFAULT_PARALLELISM
from ..desired.manifest import Desired, load_manifests, require_manifests
from .compare import Comparisons
from .diff import stack_dependencies
from .plan import Plan
from .retention import with_versions_to_delete
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
    parallelism: int | None = None,
    defaults: Mapping[str, Any] | None = None,
    variables: Mapping[str, str] | None = None,
    project_file: str | os.PathLike[str] | None = None,
) -> Plan:
    """Validate the manifests while the endpoint is listed, then plan as `plan_from_desired`."""
    with ListingInFlight(client, stack, parallelism=parallelism) as listing:
        desired = load_manifests(paths, defaults=defaults, variables=variables, project_file=project_file,
                                 between_files=listing.give_way)
        return _planned(desired, paths, client, stack, allow_delete=allow_delete, allow_delete_all=allow_delete_all,
                        allow_no_manifests=allow_no_manifests, targets=targets, listing=listing,
                        parallelism=parallelism)[0]


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
    parallelism: int | None = None,
) -> Plan:
    """List the endpoint once, diff with `desired` (loaded from `paths`), and check the deletes are safe.

    Paths holding no manifest at all are refused (NoManifestsError) unless
    `allow_no_manifests`: planning from nothing deletes everything. `targets` limits
    the plan to those keys (see `plan_for_targets`); the guards judge that partial plan.
    `parallelism`: at most that many kinds listed at once (default: every kind).
    """
    return _planned(desired, paths, client, stack, allow_delete=allow_delete, allow_delete_all=allow_delete_all,
                    allow_no_manifests=allow_no_manifests, targets=targets, parallelism=parallelism)[0]


def graph_from_manifests(
    paths: Sequence[str | os.PathLike[str]],
    client: ObjectLister,
    stack: str,
    *,
    allow_delete: bool = True,
    allow_delete_all: bool = False,
    allow_no_manifests: bool = False,
    targets: Collection[str] = (),
    parallelism: int | None = None,
    defaults: Mapping[str, Any] | None = None,
    variables: Mapping[str, str] | None = None,
    project_file: str | os.PathLike[str] | None = None,
) -> tuple[Plan, dict[tuple[str, str], list[tuple[str, str]]]]:
    """The plan, as `plan_from_manifests` makes it (with its errors), and what every object of the stack names
    (`stack_dependencies`), for the whole stack's dependency graph."""
    with ListingInFlight(client, stack, parallelism=parallelism) as listing:
        desired = load_manifests(paths, defaults=defaults, variables=variables, project_file=project_file,
                                 between_files=listing.give_way)
        plan, actual = _planned(desired, paths, client, stack, allow_delete=allow_delete,
                                allow_delete_all=allow_delete_all, allow_no_manifests=allow_no_manifests,
                                targets=targets, listing=listing, parallelism=parallelism)
    return plan, stack_dependencies(desired, actual)


def _planned(desired: Sequence[Desired], paths: Sequence[str | os.PathLike[str]], client: ObjectLister, stack: str,
             *, allow_delete: bool, allow_delete_all: bool, allow_no_manifests: bool, targets: Collection[str],
             listing: ListingInFlight | None = None, parallelism: int | None = None) -> tuple[Plan, ActualState]:
    if not allow_no_manifests:
        require_manifests(desired, paths, hint=NO_MANIFESTS_HINT)
    comparisons = Comparisons(desired, stack)
    actual = listing_for(desired, client, stack, listing, parallelism=parallelism, comparisons=comparisons)
    plan = plan_for_targets(desired, actual, client.endpoint.identity, targets, allow_delete=allow_delete,
                            comparisons=comparisons)
    check_deletes(plan, allow_delete_all=allow_delete_all)
    return with_versions_to_delete(plan, client, parallelism or DEFAULT_PARALLELISM), actual


def drift_from_manifests(
    paths: Sequence[str | os.PathLike[str]],
    client: ObjectLister,
    stack: str,
    *,
    targets: Collection[str] = (),
    parallelism: int | None = None,
    defaults: Mapping[str, Any] | None = None,
    variables: Mapping[str, str] | None = None,
    project_file: str | os.PathLike[str] | None = None,
) -> Plan:
    """The drift report: like `plan_from_manifests`, but never refused by the delete guards (it only reports).

    Paths holding no manifest at all are still refused: every managed object would
    be reported, which says nothing about drift.
    """
    with ListingInFlight(client, stack, parallelism=parallelism) as listing:
        desired = load_manifests(paths, defaults=defaults, variables=variables, project_file=project_file,
                                 between_files=listing.give_way)
        require_manifests(desired, paths)
        comparisons = Comparisons(desired, stack)
        actual = listing_for(desired, client, stack, listing, comparisons=comparisons)
    drifted = drift_only(plan_for_targets(desired, actual, client.endpoint.identity, targets, comparisons=comparisons))
    return with_versions_to_delete(drifted, client, parallelism or DEFAULT_PARALLELISM)


def listing_for(desired: Sequence[Desired], client: ObjectLister, stack: str,
                listing: ListingInFlight | None = None, *, parallelism: int | None = None,
                comparisons: Comparisons | None = None) -> ActualState:
    """What the endpoint holds for `desired`: its kinds must be served, and the unowned objects it adopts are
    read whole (their content too), to plan what the adopt changes. `listing`: the listing started already
    (while `desired` loaded); else the endpoint is listed now, at most `parallelism` kinds at once.
    `comparisons` is given each page of the stack's objects of a listing started already, as it comes in."""
    wanted = {d.kind for d in desired}
    adopted = {d.adopt for d in desired if d.adopt}
    if listing is None:
        return fetch_actual(client, stack, wanted=wanted, unowned_read=adopted, parallelism=parallelism)
    return listing.state(wanted=wanted, also_read=adopted,
                         each_page=comparisons.compare_page if comparisons is not None else None)


def drift_only(plan: Plan) -> Plan:
    """The part of `plan` that no manifest edit explains: every change but manifest-caused updates and deletes."""
    drifted = [c for c in plan.changes if c.drift is not None]
    keys = {c.key for c in drifted}
    return plan.model_copy(update={"changes": drifted, "notes": [n for n in plan.notes if n.key in keys]})
