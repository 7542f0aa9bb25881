"""Guards a plan must pass before it is shown as applicable: deletes that cannot surprise."""

from __future__ import annotations

from .errors import PlanError
from .plan import Action, Plan


def check_deletes(plan: Plan, *, allow_delete_all: bool = False) -> None:
    """Refuse plans that delete a protected assistant, or every managed assistant of the stack."""
    protected = [c for c in plan.changes if c.action is Action.DELETE and c.protected]
    if protected:
        names = ", ".join(f"{c.key} ({c.assistant_id})" for c in protected)
        raise PlanError(
            f"refusing to delete protected assistant{'s' if len(protected) > 1 else ''} {names}: "
            "the manifest said protect: true. To delete, restore the manifest with protect: false, "
            "apply, then remove the manifest; or plan with --no-delete to leave it in place"
        )
    deletes = {c.assistant_id for c in plan.changes if c.action is Action.DELETE}
    if plan.managed_count and len(deletes) >= plan.managed_count and not allow_delete_all:
        raise PlanError(
            f'this plan would delete all {plan.managed_count} managed assistants of stack "{plan.stack}". '
            "Is the manifests path empty or mistyped? If this is really intended, pass --allow-delete-all"
        )
