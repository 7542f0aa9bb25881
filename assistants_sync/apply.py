"""Plan -> remote API. Carries out `plan.changes` and decides nothing new.

Creates and updates go first and deletes last, so a run cut short never removed an
assistant before its replacement work was done. One failed change does not stop the
others; the result says what happened to each.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from .canonical import request_body
from .errors import ApiError, SyncError
from .plan import Action, Change, Plan

_ORDER = {Action.CREATE: 0, Action.ADOPT: 1, Action.UPDATE: 2, Action.DELETE: 3}


class AssistantWriter(Protocol):
    def create_assistant(self, body: dict[str, Any]) -> dict[str, Any]: ...
    def modify_assistant(self, assistant_id: str, body: dict[str, Any]) -> dict[str, Any]: ...
    def delete_assistant(self, assistant_id: str) -> dict[str, Any]: ...


@dataclass(frozen=True)
class Outcome:
    """What happened to one change."""

    change: Change
    assistant_id: str | None
    error: str | None = None
    note: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class ApplyResult:
    outcomes: tuple[Outcome, ...]

    @property
    def failed(self) -> tuple[Outcome, ...]:
        return tuple(o for o in self.outcomes if not o.ok)

    def count(self, action: Action) -> int:
        return sum(1 for o in self.outcomes if o.ok and o.change.action is action)


def body_for(change: Change) -> dict[str, Any]:
    """The JSON body apply sends for a create or update: exactly the plan's fields."""
    after = {name: field.after for name, field in change.fields.items()}
    return request_body(after, replace=change.action is not Action.CREATE)


def apply_plan(
    plan: Plan, client: AssistantWriter, on_outcome: Callable[[Outcome], None] | None = None
) -> ApplyResult:
    """Carry out every change of `plan`; report each through `on_outcome` as it ends."""
    outcomes: list[Outcome] = []
    for change in sorted(plan.changes, key=lambda c: (_ORDER[c.action], c.key)):
        outcome = _apply_change(change, client)
        outcomes.append(outcome)
        if on_outcome is not None:
            on_outcome(outcome)
    return ApplyResult(tuple(outcomes))


def _apply_change(change: Change, client: AssistantWriter) -> Outcome:
    try:
        if change.action is Action.CREATE:
            created = client.create_assistant(body_for(change))
            return Outcome(change, str(created.get("id")))
        assert change.assistant_id is not None, "update and delete changes carry an assistant id"
        if change.action in (Action.UPDATE, Action.ADOPT):
            client.modify_assistant(change.assistant_id, body_for(change))
            return Outcome(change, change.assistant_id)
        try:
            client.delete_assistant(change.assistant_id)
        except ApiError as exc:
            if exc.status != 404:
                raise
            return Outcome(change, change.assistant_id, note="already deleted")
        return Outcome(change, change.assistant_id)
    except SyncError as exc:
        return Outcome(change, change.assistant_id, error=str(exc))
