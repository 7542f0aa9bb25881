"""Apply outcomes -> lines for people: one per change as it ends, and the closing summary."""

from __future__ import annotations

from ..kinds import kind_named
from ..kinds.base import DEFAULT_KIND
from ..planning.plan import Action, Change
from ..render.plans import SYMBOLS, change_label
from .apply import ApplyResult, Outcome


def render_outcome(outcome: Outcome) -> str:
    """One line reporting a change as apply finishes it."""
    change = outcome.change
    label = _label(change)
    if not outcome.started:
        return f"  . {label}: {change.action.value} not started (interrupted)"
    if not outcome.ok:
        return f"  ! {label}: {change.action.value} FAILED: {outcome.error}"
    verb = {Action.CREATE: "created", Action.ADOPT: "adopted", Action.UPDATE: "updated",
            Action.DELETE: "deleted"}[change.action]
    created = f" {outcome.object_id}" if change.action is Action.CREATE else ""
    note = f" ({outcome.note})" if outcome.note else ""
    return f"  {SYMBOLS[change.action]} {label}: {verb}{created}{note}"


def _label(change: Change) -> str:
    """The change's label; an upload's key is a digest, so its file name follows it."""
    kind = kind_named(change.kind)
    label = change_label(change)
    return f"{label} ({change.name})" if change.name and kind is not None and not kind.declared else label


def _key_label(change: Change) -> str:
    """Kind (unless the default) and key, an upload's file name after its digest: which object failed."""
    kind = kind_named(change.kind)
    label = change.key if change.kind == DEFAULT_KIND else f"{change.kind} {change.key}"
    return f"{label} ({change.name})" if change.name and kind is not None and not kind.declared else label


def render_apply_summary(result: ApplyResult, *, retries: int = 0, partial: bool = False) -> str:
    """The closing lines of an apply: what succeeded, which changes failed, what to do next."""
    summary = _apply_summary(result, retries)
    if partial:  # as Terraform's "Applied changes may be incomplete"
        summary += "This was a partial apply (--target): plan without --target to see whether anything else differs.\n"
    return summary


def _apply_summary(result: ApplyResult, retries: int) -> str:
    adopted = result.count(Action.ADOPT)
    counts = (
        (f"{adopted} adopted, " if adopted else "")
        + f"{result.count(Action.CREATE)} created, {result.count(Action.UPDATE)} updated, "
        f"{result.count(Action.DELETE)} deleted"
    )
    retried = f" ({retries} request{'s' if retries != 1 else ''} retried)" if retries else ""
    failed, skipped = result.failed, result.not_started
    if result.interrupted:
        lines = [f"Apply interrupted: {counts}, {len(failed)} failed, {len(skipped)} not started{retried}."]
    elif failed:
        lines = [f"Apply finished with errors: {counts}, {len(failed)} failed{retried}:"]
    else:
        return f"Apply complete: {counts}{retried}.\n"
    # Each error was printed as its change failed: here only which changes failed, not why again.
    lines += [f"  ! {_key_label(o.change)} ({o.change.action.value})" for o in failed]
    lines.append("Run apply again: it plans only what is still different." if result.interrupted else
                 "Fix the cause and run apply again: it plans only what is still different.")
    return "\n".join(lines) + "\n"
