"""The pipeline's stages wired together, and saved plans.

    load_manifests -> desired --\\
                                 compute_plan -> Plan -> render_* / apply_plan
    fetch_actual   -> actual ---/

Manifests are always loaded and validated before the first request, so invalid
input never reaches the API.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from .client import AssistantsClient
from .diff import compute_plan
from .errors import PlanError
from .manifest import load_manifests
from .plan import Action, Plan
from .remote import fetch_actual
from .render import render_json
from .safety import check_deletes


def plan_from_manifests(
    paths: Sequence[str | os.PathLike[str]],
    client: AssistantsClient,
    stack: str,
    *,
    allow_delete: bool = True,
    allow_delete_all: bool = False,
    defaults: Mapping[str, Any] | None = None,
    variables: Mapping[str, str] | None = None,
    project_file: str | os.PathLike[str] | None = None,
) -> Plan:
    """Validate the manifests, list the endpoint once, diff, and check the deletes are safe."""
    desired = load_manifests(paths, defaults=defaults, variables=variables, project_file=project_file)
    actual = fetch_actual(client, stack)
    plan = compute_plan(desired, actual, client.endpoint.identity, allow_delete=allow_delete)
    check_deletes(plan, allow_delete_all=allow_delete_all)
    return plan


def drift_only(plan: Plan) -> Plan:
    """The part of `plan` caused by changes made outside assistants-sync."""
    drifted = [c for c in plan.changes if c.action is Action.UPDATE and c.cause in ("drift", "both")]
    return plan.model_copy(update={"changes": drifted})


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


def check_saved_plan(plan: Plan, client: AssistantsClient, stack: str) -> None:
    """Refuse a saved plan made for another stack or endpoint, or made stale since."""
    if plan.stack != stack:
        raise PlanError(f'the saved plan was made for stack "{plan.stack}", not "{stack}"; nothing was changed')
    if plan.endpoint != client.endpoint.identity:
        raise PlanError(
            f"the saved plan was made for {plan.endpoint}, not {client.endpoint.identity}; nothing was changed"
        )
    actual = fetch_actual(client, stack)
    adopted = [c.assistant_id for c in plan.changes if c.action is Action.ADOPT and c.assistant_id]
    if actual.fingerprint(also=adopted) != plan.remote_fingerprint:
        raise PlanError(
            f'the managed assistants of stack "{stack}" have changed since the plan was made; '
            "nothing was changed. Run plan again and review the new plan."
        )
