"""Plan -> remote API. Carries out `plan.changes` and decides nothing new.

- Creates, adoptions and updates run first, deletes after them, so a run cut short
  never removed an assistant before the rest of its work was done.
- Within a phase, up to `parallelism` changes run at once (one shared client, whose
  rate limiter slows every worker after any 429).
- One failed change does not stop the others; the result says what happened to each.
- Creates are not idempotent: when a create's answer is lost, the key is looked up
  before creating again, so a key never ends up with two assistants.
- Ctrl-C (SIGINT, when called from the main thread) or `stop`: no new change starts,
  changes in flight finish, and the result marks the rest as not started.
"""

from __future__ import annotations

import queue
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from ..kinds.assistant import request_body
from ..defaults import DEFAULT_PARALLELISM
from ..errors import AmbiguousRequestError, ApiError, SyncError
from ..ownership import TAG_KEY
from ..planning.plan import Action, Change, Plan

_ORDER = {Action.CREATE: 0, Action.ADOPT: 1, Action.UPDATE: 2, Action.DELETE: 3}
_CREATE_ATTEMPTS = 5  # creates whose answer was lost, each followed by a lookup


class AssistantWriter(Protocol):
    def list_assistants(self) -> list[dict[str, Any]]: ...
    def create_assistant(self, body: dict[str, Any]) -> dict[str, Any]: ...
    def modify_assistant(self, assistant_id: str, body: dict[str, Any]) -> dict[str, Any]: ...
    def delete_assistant(self, assistant_id: str) -> dict[str, Any]: ...


@dataclass(frozen=True)
class Outcome:
    """What happened to one change: done, failed (`error`), or never started."""

    change: Change
    assistant_id: str | None
    error: str | None = None
    note: str | None = None
    started: bool = True

    @property
    def ok(self) -> bool:
        return self.started and self.error is None


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


def body_for(change: Change) -> dict[str, Any]:
    """The JSON body apply sends for a create, adopt or update: exactly the plan's fields."""
    after = {name: field.after for name, field in change.fields.items()}
    return request_body(after, replace=change.action is not Action.CREATE)


def apply_plan(
    plan: Plan,
    client: AssistantWriter,
    on_outcome: Callable[[Outcome], None] | None = None,
    *,
    parallelism: int = DEFAULT_PARALLELISM,
    stop: threading.Event | None = None,
) -> ApplyResult:
    """Carry out every change of `plan`; report each through `on_outcome` as it ends.

    `on_outcome` is called from the calling thread, one outcome at a time.
    """
    stop = stop if stop is not None else getattr(client, "stop", None) or threading.Event()
    ordered = sorted(plan.changes, key=lambda c: (_ORDER[c.action], c.key))
    phases = [[c for c in ordered if c.action is not Action.DELETE], [c for c in ordered if c.action is Action.DELETE]]
    outcomes: list[Outcome] = []

    def run(change: Change) -> Outcome:
        if stop.is_set():
            return Outcome(change, change.assistant_id, started=False)
        return _apply_change(change, client)

    interrupted = threading.Event()
    restore = _stop_on_ctrl_c(stop, interrupted)
    try:
        for phase in phases:
            # Workers pull from a queue (not one future per change: waiting on thousands of
            # futures costs more than the requests at high parallelism).
            todo: queue.SimpleQueue[Change] = queue.SimpleQueue()
            for change in phase:
                todo.put(change)
            results: queue.SimpleQueue[Outcome] = queue.SimpleQueue()
            workers = [threading.Thread(target=_work, args=(todo, results, run), name=f"apply-{n}", daemon=True)
                       for n in range(min(max(1, parallelism), len(phase)))]
            for worker in workers:
                worker.start()
            for _ in phase:
                outcome = results.get()
                outcomes.append(outcome)
                if on_outcome is not None:
                    on_outcome(outcome)
            for worker in workers:
                worker.join()
    finally:
        restore()
    return ApplyResult(tuple(outcomes), interrupted=interrupted.is_set() or stop.is_set())


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


def _work(todo: queue.SimpleQueue[Change], results: queue.SimpleQueue[Outcome],
          run: Callable[[Change], Outcome]) -> None:
    while True:
        try:
            change = todo.get_nowait()
        except queue.Empty:
            return
        try:
            outcome = run(change)
        except Exception as exc:  # a bug must not leave the run waiting for this outcome forever
            outcome = Outcome(change, change.assistant_id, error=f"unexpected {type(exc).__name__}: {exc}")
        results.put(outcome)


def _apply_change(change: Change, client: AssistantWriter) -> Outcome:
    try:
        if change.action is Action.CREATE:
            return _create(change, client)
        assert change.assistant_id is not None, "adopt, update and delete changes carry an assistant id"
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


def _create(change: Change, client: AssistantWriter) -> Outcome:
    body = body_for(change)
    tag = body["metadata"][TAG_KEY]
    lost: AmbiguousRequestError | None = None
    for _ in range(_CREATE_ATTEMPTS):
        try:
            created = client.create_assistant(body)
            return Outcome(change, str(created["id"]), note="created again after checking the first try left nothing" if lost else None)
        except AmbiguousRequestError as exc:
            lost = exc
            # The answer was lost, not necessarily the create: look before creating again.
            found = [a for a in client.list_assistants() if (a.get("metadata") or {}).get(TAG_KEY) == tag]
            if found:
                return Outcome(change, str(found[0]["id"]), note="found after its answer was lost")
    assert lost is not None
    raise lost
