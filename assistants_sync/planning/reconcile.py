"""The pipeline's stages wired together, and saved plans.

    load_manifests -> desired --\\
                                 compute_plan -> Plan -> render_* / apply_plan
    fetch_actual   -> actual ---/

Manifests are always loaded and validated before the first request, so invalid
input never reaches the API.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..actual.client import AssistantsClient
from ..errors import PlanError
from ..desired.manifest import load_manifests, require_manifests
from .plan import Action, Plan
from ..actual.remote import ActualState, fetch_actual
from ..render.plans import render_json
from .safety import check_deletes, check_ownership, rejudged
from .targeting import plan_for_targets

NO_MANIFESTS_HINT = (
    "a plan from no manifests would delete every managed assistant of the stack; "
    "if that is what you want, pass --allow-delete-all"
)


def plan_from_manifests(
    paths: Sequence[str | os.PathLike[str]],
    client: AssistantsClient,
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
    """Validate the manifests, list the endpoint once, diff, and check the deletes are safe.

    Paths holding no manifest at all are refused (NoManifestsError) unless
    `allow_no_manifests`: planning from nothing deletes everything. `targets` limits
    the plan to those keys (see `plan_for_targets`); the guards judge that partial plan.
    """
    desired = load_manifests(paths, defaults=defaults, variables=variables, project_file=project_file)
    if not allow_no_manifests:
        require_manifests(desired, paths, hint=NO_MANIFESTS_HINT)
    actual = fetch_actual(client, stack)
    plan = plan_for_targets(desired, actual, client.endpoint.identity, targets, allow_delete=allow_delete)
    check_deletes(plan, allow_delete_all=allow_delete_all)
    return plan


def drift_from_manifests(
    paths: Sequence[str | os.PathLike[str]],
    client: AssistantsClient,
    stack: str,
    *,
    targets: Collection[str] = (),
    defaults: Mapping[str, Any] | None = None,
    variables: Mapping[str, str] | None = None,
    project_file: str | os.PathLike[str] | None = None,
) -> Plan:
    """The drift report: like `plan_from_manifests`, but never refused by the delete guards (it only reports).

    Paths holding no manifest at all are still refused: every managed assistant would
    be reported, which says nothing about drift.
    """
    desired = load_manifests(paths, defaults=defaults, variables=variables, project_file=project_file)
    require_manifests(desired, paths)
    actual = fetch_actual(client, stack)
    return drift_only(plan_for_targets(desired, actual, client.endpoint.identity, targets))


def drift_only(plan: Plan) -> Plan:
    """The part of `plan` that no manifest edit explains: every change but manifest-caused updates and deletes."""
    drifted = [c for c in plan.changes if c.drift is not None]
    keys = {c.key for c in drifted}
    return plan.model_copy(update={"changes": drifted, "notes": [n for n in plan.notes if n.key in keys]})


def save_plan(plan: Plan, path: str | os.PathLike[str]) -> None:
    """Write `plan` as its JSON document (atomically: a reader never sees half a plan)."""
    target = Path(path)
    temporary = target.with_name(target.name + ".tmp")
    temporary.write_text(render_json(plan), encoding="utf-8")
    os.replace(temporary, target)


def load_plan(path: str | os.PathLike[str]) -> Plan:
    """A plan saved by ``plan --out``, or PlanError saying why it cannot be read."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise PlanError(f"cannot read saved plan {str(path)!r}: {exc.strerror}") from exc
    try:
        return Plan.model_validate_json(text)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(document)"
        raise PlanError(
            f"{path}: not a saved plan of this version of assistants-sync ({where}: {first['msg']})"
        ) from exc


def check_saved_plan(plan: Plan, client: AssistantsClient, stack: str, *, allow_delete_all: bool = False
                     ) -> ActualState:
    """Refuse a saved plan made for another stack or endpoint, holding a change the stack
    may not make (see `check_ownership`), made stale since, or failing the delete guards
    judged on the fresh listing (a plan file's `protected` and `managed_count` are not
    trusted); else the listing checked."""
    if plan.stack != stack:
        raise PlanError(f'the saved plan was made for stack "{plan.stack}", not "{stack}"; nothing was changed')
    if plan.endpoint != client.endpoint.identity:
        raise PlanError(
            f"the saved plan was made for {plan.endpoint}, not {client.endpoint.identity}; nothing was changed"
        )
    whole = fetch_actual(client, stack)
    # a targeted plan's fingerprint covers only its keys (see plan_for_targets)
    actual = whole.limited_to(plan.targets) if plan.targets else whole
    adopted = [c.assistant_id for c in plan.changes if c.action is Action.ADOPT and c.assistant_id]
    if actual.fingerprint(also=adopted) != plan.remote_fingerprint:
        raise PlanError(
            f'the managed assistants of stack "{stack}" have changed since the plan was made; '
            "nothing was changed. Run plan again and review the new plan."
        )
    check_ownership(plan, actual)  # on a listing the plan was made from: only an edit can fail it
    check_deletes(rejudged(plan, whole), allow_delete_all=allow_delete_all)
    return actual
