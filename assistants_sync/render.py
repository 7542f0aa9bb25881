"""Plan -> text or JSON. Works from the plan alone, so a saved plan renders the same."""

from __future__ import annotations

import difflib
import json
from typing import Any

from .apply import ApplyResult, Outcome
from .plan import Action, Change, Plan

_SYMBOL = {Action.CREATE: "+", Action.UPDATE: "~", Action.DELETE: "-"}
_BLOCK_LINES = 20  # lines of a multi-line value shown for a create
_DIFF_LINES = 40  # lines of a line diff shown for an update
_CONTEXT = 2


def render_json(plan: Plan) -> str:
    """The stable machine-readable plan (format_version 1); also the saved-plan format."""
    data = plan.model_dump(mode="json")
    ordered = {
        "format_version": data["format_version"],
        "summary": data["summary"],
        "changes": data["changes"],
        **{k: v for k, v in data.items() if k not in ("format_version", "summary", "changes")},
    }
    return json.dumps(ordered, indent=2, ensure_ascii=False) + "\n"


def render_text(plan: Plan) -> str:
    """A Terraform-like plan: + create, ~ update, - delete, then the counts."""
    header = f'Stack "{plan.stack}" at {plan.endpoint}'
    if plan.is_empty:
        return (
            f"{header}\n\nNo changes. The {plan.managed_count} managed assistant"
            f"{'s' if plan.managed_count != 1 else ''} match the manifests.\n\n{summary_line(plan)}\n"
        )
    blocks = [_render_change(change) for change in plan.changes]
    return header + "\n\n" + "\n".join(blocks) + "\n" + summary_line(plan) + "\n"


def summary_line(plan: Plan) -> str:
    s = plan.summary
    return f"Plan: {s.create} to create, {s.update} to update, {s.delete} to delete."


def render_outcome(outcome: Outcome) -> str:
    """One line reporting a change as apply finishes it."""
    change = outcome.change
    label = _label(change) if change.action is not Action.CREATE else change.key
    if not outcome.ok:
        return f"  ! {label}: {change.action.value} FAILED: {outcome.error}"
    verb = {Action.CREATE: "created", Action.UPDATE: "updated", Action.DELETE: "deleted"}[change.action]
    created = f" {outcome.assistant_id}" if change.action is Action.CREATE else ""
    note = f" ({outcome.note})" if outcome.note else ""
    return f"  {_SYMBOL[change.action]} {label}: {verb}{created}{note}"


def render_apply_summary(result: ApplyResult) -> str:
    counts = (
        f"{result.count(Action.CREATE)} created, {result.count(Action.UPDATE)} updated, "
        f"{result.count(Action.DELETE)} deleted"
    )
    if not result.failed:
        return f"Apply complete: {counts}.\n"
    lines = [f"Apply finished with errors: {counts}, {len(result.failed)} failed:"]
    lines += [f"  ! {o.change.key} ({o.change.action.value}): {o.error}" for o in result.failed]
    lines.append("Fix the cause and run apply again: it plans only what is still different.")
    return "\n".join(lines) + "\n"


def _label(change: Change) -> str:
    return f"{change.key} ({change.assistant_id})" if change.assistant_id else change.key


def _render_change(change: Change) -> str:
    symbol = _SYMBOL[change.action]
    if change.action is Action.DELETE:
        reason = f": {change.reason}" if change.reason else ""
        return f"  {symbol} {_label(change)} will be deleted{reason}\n"
    title = "will be created" if change.action is Action.CREATE else "will be updated in place"
    width = max(len(name) for name in change.fields) + 1
    lines = [f"  {symbol} {_label(change)} {title}"]
    for name, field in change.fields.items():
        label = f"{name}:".ljust(width + 1)
        if change.action is Action.CREATE:
            lines += _render_value(label, field.after)
        else:
            lines += _render_update(label, field.before, field.after)
    return "\n".join(lines) + "\n"


def _render_value(label: str, value: Any) -> list[str]:
    if isinstance(value, str) and "\n" in value:
        text_lines = value.splitlines()
        shown = [f"        | {line}" for line in text_lines[:_BLOCK_LINES]]
        if len(text_lines) > _BLOCK_LINES:
            shown.append(f"        ... {len(text_lines) - _BLOCK_LINES} more lines (--format json shows everything)")
        return [f"      {label}({len(text_lines)} lines)", *shown]
    return [f"      {label}{_json(value)}"]


def _render_update(label: str, before: Any, after: Any) -> list[str]:
    multi_line = any(isinstance(v, str) and "\n" in v for v in (before, after))
    if not multi_line:
        return [f"      {label}{_json(before)} -> {_json(after)}"]
    old = before.splitlines() if isinstance(before, str) else []
    new = after.splitlines() if isinstance(after, str) else []
    diff = list(difflib.unified_diff(old, new, lineterm="", n=_CONTEXT))[2:]  # drop ---/+++ headers
    shown = [f"        {line}" for line in diff[:_DIFF_LINES]]
    if len(diff) > _DIFF_LINES:
        shown.append(f"        ... {len(diff) - _DIFF_LINES} more diff lines (--format json shows everything)")
    return [f"      {label}(line diff)", *shown]


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)
