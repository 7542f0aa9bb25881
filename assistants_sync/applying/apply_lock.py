"""The stack lock on the endpoint: lock objects are empty vector stores where the endpoint serves them.

The API has no object of its own for a lock. An empty vector store suits one best on
every endpoint here (OpenAI, Azure OpenAI, Foundry's classic and new agents, self-hosted
servers): its metadata is free and updated in place (the lease's renewals), it needs no
model, it costs nothing while it holds no file, and its ``expires_after`` (a day after
its last activity) removes one that a killed run left behind. Where vector stores are
not served, an assistant is the lock object, else an agent: those need a model the
endpoint accepts, so the lock takes the model of the work it guards (the first
manifest; the first change of a saved plan, or the object it changes);
``ASSISTANTS_SYNC_LOCK_MODEL`` overrides that, and `DEFAULT_LOCK_MODEL` is the last resort.
A lock object is named "assistants-sync lock" and marked by its metadata
(`lock.LOCK_KEY`); the listing (remote.py) never counts it as managed, unowned or
another stack's.
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


LOCK_KINDS = ("vector_store", "assistant", "agent")  # the objects a lock may be, the best first
LOCK_EXPIRES_AFTER = {"anchor": "last_active_at", "days": 1}  # a vector store's own clean-up of a leftover lock


class EndpointLockObjects:
    """`lock.LockObjects` on an endpoint: objects of the first of `LOCK_KINDS` it serves.

    The store is the first of those kinds whose first answer is not a 404 (an OpenAI
    endpoint no longer serves assistants). An assistant's or an agent's lock carries a
    note saying how to release it, in its `description` or else its `instructions`.
    """

    def __init__(self, client: ObjectApi, model: str = DEFAULT_LOCK_MODEL) -> None:
        self.client = client
        self.model = model
        self._kind: Kind | None = None

    def _served(self, call: Callable[[Kind], _T]) -> _T:
        """`call` on the store's kind: the first kind whose answer is not a 404, remembered."""
        from ..kinds import kind_named

        candidates = [self._kind] if self._kind is not None else [
            kind for name in LOCK_KINDS if (kind := kind_named(name)) is not None]
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
            if "model" not in kind.fields:  # a vector store: no model, no note (its name and metadata say it)
                return str(kind.create(self.client, {"name": LOCK_NAME, "metadata": metadata,
                                                     "expires_after": LOCK_EXPIRES_AFTER})["id"])
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
            kind = self._kind
            if kind is not None and "model" not in kind.fields:
                raise LockError(f'taking the lock of stack "{stack}" (a {kind.noun} named "{LOCK_NAME}"): '
                                f"{exc}") from exc
            noun = kind.noun if kind is not None else "assistant"
            raise LockError(
                f'taking the lock of stack "{stack}" (an {noun} named "{LOCK_NAME}", model {self.model!r}): '
                f"{exc}\n  If the endpoint does not know this model, set {LOCK_MODEL_ENV} to one it has"
            ) from exc

    def update_object(self, object_id: str, metadata: dict[str, str]) -> None:
        self._served(lambda kind: kind.update(self.client, object_id, {"metadata": metadata}))

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
