"""The stack lock on the endpoint: lock objects are objects of the first kind it serves.

The API has no object of its own for a lock, so a lock object is an object with free
metadata (an assistant; an agent where assistants are not served) named
"assistants-sync lock", whose metadata marks it (`lock.LOCK_KEY`); the listing
(remote.py) never counts it as managed, unowned or another stack's.

Creating one needs a model the endpoint accepts: the lock takes the model of the work
it guards (the first manifest; the first change of a saved plan, or the object it
changes), so it never needs a model the run does not already use.
``ASSISTANTS_SYNC_LOCK_MODEL`` overrides that, and `DEFAULT_LOCK_MODEL` is the last resort.
"""

from __future__ import annotations

import getpass
import os
import socket
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Callable, TypeVar

from ..errors import AmbiguousRequestError, ApiError, LockError
from .lock import LOCK_ID_KEY, LOCK_KEY

if TYPE_CHECKING:
    from ..kinds.base import Kind, ObjectApi
    from ..actual.remote import ActualState
    from ..desired.manifest import Desired
    from ..planning.plan import Plan

_T = TypeVar("_T")
LOCK_MODEL_ENV = "ASSISTANTS_SYNC_LOCK_MODEL"
DEFAULT_LOCK_MODEL = "gpt-4o-mini"
LOCK_NAME = "assistants-sync lock"


class EndpointLockObjects:
    """`lock.LockObjects` on an endpoint: objects of the first kind it serves (assistants, else agents).

    The store is the first kind, in registry order, whose first answer is not a 404 (an
    OpenAI endpoint no longer serves assistants); every bundled kind holds free metadata.
    The note saying how to release a lock goes in the kind's `description`, or else its
    `instructions`.
    """

    def __init__(self, client: ObjectApi, model: str = DEFAULT_LOCK_MODEL) -> None:
        self.client = client
        self.model = model
        self._kind: Kind | None = None

    def _served(self, call: Callable[[Kind], _T]) -> _T:
        """`call` on the store's kind: the first kind whose answer is not a 404, remembered."""
        from ..kinds import kinds

        candidates = [self._kind] if self._kind is not None else list(kinds())
        for index, kind in enumerate(candidates):
            try:
                answer = call(kind)
            except ApiError as exc:
                if exc.status != 404 or index == len(candidates) - 1 or self._kind is not None or self._serves(kind):
                    raise  # a 404 of a kind the endpoint serves (an unknown model) is the answer
                continue
            self._kind = kind
            return answer
        raise AssertionError("unreachable: every kind was tried")

    def _serves(self, kind: Kind) -> bool:
        try:
            kind.list(self.client)
        except ApiError as exc:
            if exc.status == 404:
                return False
            raise
        return True

    def list_objects(self) -> list[dict[str, Any]]:
        return self._served(lambda kind: kind.list(self.client))

    def create_object(self, metadata: dict[str, str]) -> str | None:
        stack, lock_id = metadata[LOCK_KEY], metadata[LOCK_ID_KEY]
        model = self.model

        def create(kind: Kind) -> str:
            note = "description" if "description" in kind.fields else "instructions"
            body = {
                "model": model,
                "name": LOCK_NAME,
                note: (f'Lock of stack "{stack}", held by a running assistants-sync apply and deleted when it '
                       f"ends. Left by a killed run? Release it with: assistants-sync force-unlock {lock_id} "
                       f"--stack {stack}"),
                "metadata": metadata,
            }
            return str(kind.create(self.client, body)["id"])

        try:
            return self._served(create)
        except AmbiguousRequestError:
            return None  # the lock's listing finds it by its lock id, if it was created
        except ApiError as exc:
            noun = self._kind.noun if self._kind is not None else "assistant"
            raise LockError(
                f'taking the lock of stack "{stack}" (an {noun} named "{LOCK_NAME}", model {self.model!r}): '
                f"{exc}\n  If the endpoint does not know this model, set {LOCK_MODEL_ENV} to one it has"
            ) from exc

    def delete_object(self, object_id: str) -> None:
        try:
            self._served(lambda kind: kind.delete(self.client, object_id))
        except ApiError as exc:
            if exc.status != 404:
                raise


def model_for_manifests(desired: Sequence[Desired], environ: Mapping[str, str]) -> str:
    """The lock's model for an apply of `desired`: the first manifest's."""
    override = environ.get(LOCK_MODEL_ENV)
    if override:
        return override
    model = next((d.request.get("model") for d in desired), None)
    return model if isinstance(model, str) and model else DEFAULT_LOCK_MODEL


def model_for_plan(plan: Plan, actual: ActualState, environ: Mapping[str, str]) -> str:
    """The lock's model for a saved plan: the first model it writes, else that of the first object it changes."""
    override = environ.get(LOCK_MODEL_ENV)
    if override:
        return override
    changes = list(plan.changes)
    for change in changes:
        field = change.fields.get("model")
        if field is not None and isinstance(field.after, str) and field.after:
            return field.after
    models = {a.id: a.canonical.as_dict().get("model") for a in (*actual.managed, *actual.unowned)}
    for change in changes:
        model = models.get(change.id or "")
        if isinstance(model, str) and model:
            return model
    return DEFAULT_LOCK_MODEL


def who_am_i() -> str:
    """user@host pid N: enough to find the run that holds a lock."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no user name in some containers
        user = "unknown"
    return f"{user}@{socket.gethostname()} pid {os.getpid()}"
