"""Saved plans: written by ``plan --out``, read and checked again by ``apply --plan``.

A saved plan is the plan's JSON document (`plan.plan_json`), the same as
``--format json`` prints, but written here, not by the renderer. Plans of
format_version 1 (before kinds: every change an assistant's) are read as version 2.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..actual.remote import ActualState, ObjectLister, fetch_actual
from ..errors import PlanError
from ..redact import Redactor
from .plan import READABLE_VERSIONS, Action, Plan, plan_json
from .safety import check_deletes, check_ownership, check_references, rejudged


def save_plan(plan: Plan, path: str | os.PathLike[str], *, redactor: Redactor | None = None) -> None:
    """Write `plan` as its JSON document (atomically: a reader never sees half a plan).

    With `redactor`, every secret it knows is masked first (a server may have echoed one
    into a field); a secret among the values apply would send is refused (PlanError),
    since masking it would make apply write the mask.
    """
    if redactor is not None:
        data = plan.model_dump(mode="json")
        masked = redactor.mask_data(data)
        if _after_values(masked) != _after_values(data):
            raise PlanError(f"not saving the plan to {path}: a manifest value holds the API key or a header "
                            "value, and a plan file never holds a secret; take the secret out of the manifest")
        plan = Plan.model_validate(masked)
    target = Path(path)
    temporary = target.with_name(target.name + ".tmp")
    temporary.write_text(plan_json(plan), encoding="utf-8")
    os.replace(temporary, target)


def _after_values(plan_data: dict[str, Any]) -> list[Any]:
    """What apply would send, from a plan's JSON data."""
    return [[field["after"] for field in change["fields"].values()] for change in plan_data["changes"]]


def load_plan(path: str | os.PathLike[str]) -> Plan:
    """A plan saved by ``plan --out``, or PlanError saying why it cannot be read."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise PlanError(f"cannot read saved plan {str(path)!r}: {exc.strerror}") from exc
    try:
        return Plan.model_validate_json(text)
    except ValidationError as exc:
        version = _format_version(text)
        if version is not None and version not in READABLE_VERSIONS:
            raise PlanError(
                f"{path}: not a saved plan of this version of assistants-sync (format_version {version}; this "
                f"version reads {' and '.join(map(str, READABLE_VERSIONS))}): make the plan again with this version"
            ) from exc
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(document)"
        raise PlanError(
            f"{path}: not a saved plan of this version of assistants-sync ({where}: {first['msg']})"
        ) from exc


def check_saved_plan(plan: Plan, client: ObjectLister, stack: str, *, allow_delete_all: bool = False,
                     parallelism: int | None = None) -> ActualState:
    """Refuse a saved plan made for another stack or endpoint, holding a change the stack
    may not make (see `check_ownership`), made stale since, or failing the delete guards
    judged on the fresh listing (a plan file's `protected` and `managed_count` are not
    trusted); else the listing checked (at most `parallelism` kinds listed at once)."""
    if plan.stack != stack:
        raise PlanError(f'the saved plan was made for stack "{plan.stack}", not "{stack}"; nothing was changed')
    if plan.endpoint != client.endpoint.identity:
        raise PlanError(
            f"the saved plan was made for {plan.endpoint}, not {client.endpoint.identity}; nothing was changed"
        )
    whole = fetch_actual(client, stack, wanted={c.kind for c in plan.changes if c.action is not Action.DELETE},
                         unowned_read={c.id for c in plan.changes if c.action is Action.ADOPT and c.id},
                         parallelism=parallelism)
    # a targeted plan's fingerprint covers only its keys (see plan_for_targets)
    actual = whole.limited_to(plan.targets) if plan.targets else whole
    adopted = [c.id for c in plan.changes if c.action is Action.ADOPT and c.id]
    if actual.fingerprint(also=adopted) != plan.remote_fingerprint:
        raise PlanError(
            f'the managed {_objects(plan)} of stack "{stack}" have changed since the plan was made; '
            "nothing was changed. Run plan again and review the new plan."
        )
    check_ownership(plan, actual)  # on a listing the plan was made from: only an edit can fail it
    check_references(plan, whole)
    check_deletes(rejudged(plan, whole), allow_delete_all=allow_delete_all)
    return actual


def _objects(plan: Plan) -> str:
    from ..kinds import counted

    return counted(plan.kinds, 2).split(" ", 1)[1]


def _format_version(text: str) -> object:
    import json

    try:
        document = json.loads(text)
    except ValueError:
        return None
    return document.get("format_version") if isinstance(document, dict) else None
