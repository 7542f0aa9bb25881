"""Plan -> remote API. Carries out `plan.changes` and decides nothing new.

- Creates, adoptions and updates run first, deletes after them, so a run cut short
  never removed an object before the rest of its work was done. An object that a change
  which failed (or never started) still names is not deleted.
- Within a phase, up to `parallelism` changes run at once (one shared client, whose
  rate limiter slows every worker after any 429), each as soon as what it depends on
  is done: a create, adopt or update after the changes of the objects it names
  (`Change.depends_on`), a delete before the deletes of those. A change whose
  dependency failed is not made (it fails, naming the dependency).
- One failed change does not stop the others; the result says what happened to each.
- Creates are not idempotent: when a create's answer is lost, the key is looked up
  before creating again, so a key never ends up with two objects.
- Ctrl-C (SIGINT, when called from the main thread) or `stop`: no new change starts,
  changes in flight finish, and the result marks the rest as not started.
- A change names other objects by key (`Change.depends_on`); apply gives the kind their
  ids: the id the plan listed, or the id of the object made earlier in this apply.
"""

from __future__ import annotations

import queue
import signal
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from ..defaults import DEFAULT_PARALLELISM
from ..errors import AmbiguousRequestError, ApiError, PlanError, SyncError
from ..kinds import get_kind
from ..kinds.base import ApplyContext, Kind, ObjectApi
from ..ownership import owner_of
from ..planning.plan import Action, Change, Plan

_ORDER = {Action.CREATE: 0, Action.ADOPT: 1, Action.UPDATE: 2, Action.DELETE: 3}
_CREATE_ATTEMPTS = 5  # creates whose answer was lost, each followed by a lookup


@dataclass(frozen=True)
class Outcome:
    """What happened to one change: done, failed (`error`), or never started."""

    change: Change
    object_id: str | None  # the created object's id, or the one changed
    error: str | None = None
    note: str | None = None
    started: bool = True

    @property
    def ok(self) -> bool:
        return self.started and self.error is None

    @property
    def assistant_id(self) -> str | None:
        return self.object_id


@dataclass(frozen=True)
class ApplyResult:
    outcomes: tuple[Outcome, ...]
    interrupted: bool = False

    @property
    def failed(self) -> tuple[Outcome, ...]:
        return tuple(o for o in self.outcomes if o.started and o.error is not None)

    @property
    def not_started(self) -> tuple[Outcome, ...]:
        return tuple(o for o in self.outcomes if not o.started)

    def count(self, action: Action) -> int:
        return sum(1 for o in self.outcomes if o.ok and o.change.action is action)


def body_for(change: Change, ids: IdTable | None = None) -> dict[str, Any]:
    """The JSON body apply sends for a create, adopt or update: exactly the plan's fields (the objects they
    name by key given by id)."""
    kind = get_kind(change.kind)
    # A new version of a versioned kind carries every field: the unchanged ones as they are (`kept`).
    after = {**change.kept, **{name: field.after for name, field in change.fields.items()}}
    body = kind.request_body(after, replace=change.action is not Action.CREATE)
    return kind.resolve(body, (ids or IdTable.of([change])).id_of)


class IdTable:
    """The ids of the objects the changes name: listed when planned, or learnt as creates finish."""

    def __init__(self, ids: dict[tuple[str, str], str]) -> None:
        self._ids = ids

    @classmethod
    def of(cls, changes: Iterable[Change]) -> IdTable:
        listed = list(changes)
        ids = {(r.kind, r.key): r.id for c in listed for r in c.depends_on if r.id}
        ids.update({(c.kind, c.key): c.id for c in listed if c.id and c.action is not Action.DELETE})
        return cls(ids)

    def learn(self, outcome: Outcome) -> None:
        if outcome.ok and outcome.object_id and outcome.change.action is Action.CREATE:
            self._ids[(outcome.change.kind, outcome.change.key)] = outcome.object_id

    def id_of(self, kind: str, key: str) -> str:
        try:
            return self._ids[(kind, key)]
        except KeyError:
            raise SyncError(f"the id of {kind} {key} is not known: it was neither listed when the plan was made nor "
                            "created by this apply") from None


def apply_plan(
    plan: Plan,
    client: ObjectApi,
    on_outcome: Callable[[Outcome], None] | None = None,
    *,
    parallelism: int = DEFAULT_PARALLELISM,
    stop: threading.Event | None = None,
    wait: bool = True,
    on_progress: Callable[[str], None] | None = None,
) -> ApplyResult:
    """Carry out every change of `plan`; report each through `on_outcome` as it ends.

    `on_outcome` is called from the calling thread, one outcome at a time. `wait`: wait
    for what the server processes after a change (a vector store's files), reporting
    through `on_progress` (from a worker thread).
    """
    refuse_stale(plan)
    stop = stop if stop is not None else getattr(client, "stop", None) or threading.Event()
    ordered = sorted(plan.changes, key=lambda c: (_ORDER[c.action], c.key))
    phases = [[c for c in ordered if c.action is not Action.DELETE], [c for c in ordered if c.action is Action.DELETE]]
    outcomes: list[Outcome] = []
    ids = IdTable.of(plan.changes)

    def run(change: Change) -> Outcome:
        if stop.is_set():
            return Outcome(change, change.id, started=False)
        return _apply_change(change, client, ApplyContext(ids.id_of, wait, on_progress), ids)

    def report(outcome: Outcome) -> None:
        ids.learn(outcome)  # before its dependents are queued: they read it
        outcomes.append(outcome)
        if on_outcome is not None:
            on_outcome(outcome)

    interrupted = threading.Event()
    restore = _stop_on_ctrl_c(stop, interrupted)
    try:
        _run_phase(phases[0], _waits_for(phases[0], reverse=False), run, report, parallelism)
        named_by_undone = {(r.kind, r.key): o.change for o in outcomes if not o.ok for r in o.change.depends_on}

        def delete(change: Change) -> Outcome:
            blocker = named_by_undone.get((change.kind, change.key))
            if blocker is None or stop.is_set():
                return run(change)
            return Outcome(change, change.id, error=(
                f"not deleted: the {blocker.action.value} of {blocker.kind} {blocker.key}, which names it, was not done"))

        _run_phase(phases[1], _waits_for(phases[1], reverse=True), delete, report, parallelism)
    finally:
        restore()
    return ApplyResult(tuple(outcomes), interrupted=interrupted.is_set() or stop.is_set())


def refuse_stale(plan: Plan) -> None:
    """PlanError, before any request, when a create can no longer be made as planned (a document edited since
    the plan was made): a stale plan changes nothing rather than half of it."""
    stale = [why for c in plan.changes if c.action is Action.CREATE
             if (why := get_kind(c.kind).stale({name: f.after for name, f in c.fields.items()})) is not None]
    if stale:
        more = f" (and {len(stale) - 1} more)" if len(stale) > 1 else ""
        raise PlanError(f"{stale[0]}{more}; nothing was changed. Run plan again and review the new plan.")


def _waits_for(phase: list[Change], *, reverse: bool) -> list[list[int]]:
    """For each change of `phase`, the positions of the changes it must wait for.

    A create, adopt or update waits for the changes of what it depends on; a delete
    (`reverse`) for the deletes of what depends on it.
    """
    position = {(c.kind, c.key): i for i, c in enumerate(phase)}
    waits: list[list[int]] = [[] for _ in phase]
    for i, change in enumerate(phase):
        for ref in change.depends_on:
            j = position.get((ref.kind, ref.key))
            if j is None or j == i:
                continue
            if reverse:
                waits[j].append(i)
            else:
                waits[i].append(j)
    return waits


def _run_phase(phase: list[Change], waits: list[list[int]], run: Callable[[Change], Outcome],
               report: Callable[[Outcome], None], parallelism: int) -> None:
    """Run `phase` on up to `parallelism` workers, each change once the ones it waits for are done."""
    if not phase:
        return
    # Workers pull from a queue (not one future per change: waiting on thousands of
    # futures costs more than the requests at high parallelism).
    todo: queue.SimpleQueue[Change | None] = queue.SimpleQueue()
    results: queue.SimpleQueue[tuple[int, Outcome]] = queue.SimpleQueue()
    index = {id(c): i for i, c in enumerate(phase)}
    waiting = [len(set(w)) for w in waits]
    dependents: list[list[int]] = [[] for _ in phase]
    for i, wait in enumerate(waits):
        for j in set(wait):
            dependents[j].append(i)
    for i, change in enumerate(phase):
        if not waiting[i]:
            todo.put(change)
    workers = [threading.Thread(target=_work, args=(todo, results, run, index), name=f"apply-{n}", daemon=True)
               for n in range(min(max(1, parallelism), len(phase)))]
    for worker in workers:
        worker.start()
    done = 0
    failed: dict[int, Change] = {}
    while done < len(phase):
        finished, outcome = results.get()
        done += 1
        report(outcome)
        if not outcome.ok:
            failed[finished] = outcome.change
        for dependent in dependents[finished]:
            waiting[dependent] -= 1
            if waiting[dependent]:
                continue
            blocker = next((failed[j] for j in waits[dependent] if j in failed), None)
            if blocker is None:
                todo.put(phase[dependent])
            else:  # not made: what it waits for failed (its dependents learn it through `failed` too)
                results.put((dependent, Outcome(phase[dependent], phase[dependent].id, error=(
                    f"not applied: it waits for {blocker.action.value} of {blocker.kind} {blocker.key}, "
                    "which was not done"))))
    for _ in workers:
        todo.put(None)
    for worker in workers:
        worker.join()


def _stop_on_ctrl_c(stop: threading.Event, interrupted: threading.Event) -> Callable[[], None]:
    """While applying, Ctrl-C sets `stop` instead of raising KeyboardInterrupt.

    An exception can land between any two bytecodes, even between taking an outcome
    off the queue and recording it; a handler that only sets events cannot lose one.
    Signal handlers can only be set from the main thread; elsewhere `stop` is the way.
    """
    if threading.current_thread() is not threading.main_thread():
        return lambda: None

    def handler(signum: int, frame: Any) -> None:
        interrupted.set()
        stop.set()

    previous = signal.signal(signal.SIGINT, handler)

    def restore() -> None:
        signal.signal(signal.SIGINT, previous)

    return restore


def _work(todo: queue.SimpleQueue[Change | None], results: queue.SimpleQueue[tuple[int, Outcome]],
          run: Callable[[Change], Outcome], index: dict[int, int]) -> None:
    while True:
        change = todo.get()
        if change is None:
            return
        try:
            outcome = run(change)
        except Exception as exc:  # a bug must not leave the run waiting for this outcome forever
            outcome = Outcome(change, change.id, error=f"unexpected {type(exc).__name__}: {exc}")
        results.put((index[id(change)], outcome))


def _apply_change(change: Change, client: ObjectApi, context: ApplyContext, ids: IdTable) -> Outcome:
    kind = get_kind(change.kind)
    try:
        if change.action is Action.CREATE:
            return _create(change, client, context, ids)
        assert change.id is not None, "adopt, update and delete changes carry an object id"
        if change.action in (Action.UPDATE, Action.ADOPT):
            made = _version_made(kind, kind.update(client, change.id, body_for(change, ids), context))
            return _pruned(Outcome(change, change.id, note=_version_note(made)), client, made)
        try:
            kind.delete(client, change.id)
        except ApiError as exc:
            if exc.status != 404:
                raise
            return Outcome(change, change.id, note="already deleted")
        return Outcome(change, change.id)
    except SyncError as exc:
        return Outcome(change, change.id, error=str(exc))


def _create(change: Change, client: ObjectApi, context: ApplyContext, ids: IdTable) -> Outcome:
    kind = get_kind(change.kind)
    body = body_for(change, ids)
    owner = owner_of(body["metadata"])
    lost: AmbiguousRequestError | None = None
    for _ in range(_CREATE_ATTEMPTS):
        try:
            created = kind.create(client, dict(body), context)
            made = _version_made(kind, created)
            notes = ["created again after checking the first try left nothing" if lost else None, _version_note(made)]
            return _pruned(Outcome(change, str(created["id"]), note="; ".join(filter(None, notes)) or None), client,
                           made)
        except AmbiguousRequestError as exc:
            lost = exc
            # The answer was lost, not necessarily the create: look before creating again.
            found = [a for a in kind.list(client) if owner_of(a.get("metadata")) == owner]
            if found:
                return Outcome(change, str(found[0]["id"]), note="found after its answer was lost")
    assert lost is not None
    raise lost


def _version_made(kind: Kind, answer: Any) -> str | None:
    """The version a change of a versioned kind made, as the server numbered it; None for other kinds."""
    return kind.version_of(answer) if kind.versioned and isinstance(answer, dict) else None


def _version_note(version: str | None) -> str | None:
    return f"version {version}" if version else None


def _pruned(outcome: Outcome, client: ObjectApi, made: str | None) -> Outcome:
    """After a new version (numbered `made`): the versions the plan said it deletes (`deletes_versions`, for
    `keep_versions`) deleted, and said in the outcome's note; but only those that are still the stack's, beyond its
    newest `keep_versions` and older than the one made (a saved plan is a request, and the agent may have been
    deleted and made again since the plan); the others are said to be kept. A failed deletion fails the change:
    the new version is made, the rest is not. (A plan saved before plans named them deletes none.)"""
    change = outcome.change
    stack = change.tagging_stack()
    if not change.deletes_versions or change.keep_versions is None or outcome.object_id is None or made is None \
            or stack is None:
        return outcome
    kind = get_kind(change.kind)
    try:
        # With the new version made, the versions beyond the newest `keep_versions` (one more than before it).
        beyond = kind.versions_to_delete(client, outcome.object_id, change.keep_versions + 1, stack)
        allowed = set(beyond[:beyond.index(made)] if made in beyond else beyond)
        deleted = [v for v in change.deletes_versions
                   if v in allowed and kind.delete_version(client, outcome.object_id, v)]
    except SyncError as exc:
        return Outcome(change, outcome.object_id, error=f"made, but deleting its older versions failed: {exc}")
    kept = [v for v in change.deletes_versions if v not in allowed]
    said = [f"deleted {_numbered(deleted)} (keep_versions: {change.keep_versions})" if deleted else None,
            f"kept {_numbered(kept)}, which the plan named: no longer this stack's older versions" if kept else None]
    if not deleted and not kept:
        return outcome
    return Outcome(change, outcome.object_id, note="; ".join(filter(None, [outcome.note, *said])))


def _numbered(versions: list[str]) -> str:
    return f"version{'s' if len(versions) > 1 else ''} {', '.join(versions)}"
