"""Remote API (list) -> actual state: the assistants this stack owns, normalised."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from ..kinds.assistant import CanonicalAssistant, normalise
from ..errors import BadResponseError
from ..applying.lock import is_lock_object
from ..ownership import owner_of


class AssistantLister(Protocol):
    def list_assistants(self) -> list[dict[str, Any]]: ...


@dataclass(frozen=True)
class RemoteAssistant:
    """A remote assistant: its identity, owner key (None if unowned) and canonical form."""

    id: str
    key: str | None
    created_at: int
    canonical: CanonicalAssistant


@dataclass(frozen=True)
class ActualState:
    """What the endpoint holds, as far as `stack` is concerned.

    `assistants` are the ones this stack owns, in the server's (oldest-first) order;
    `unowned` carry no ownership tag (candidates for adopt); `foreign` maps the ids of
    other stacks' assistants to their stack, so adopt can refuse them by name.
    """

    stack: str
    assistants: tuple[RemoteAssistant, ...]
    unowned: tuple[RemoteAssistant, ...] = ()
    foreign: Mapping[str, str] = field(default_factory=dict)

    def fingerprint(self, also: Iterable[str] = ()) -> str:
        """Changes whenever a managed assistant (or one of the `also` ids) is added, removed or edited."""
        wanted = set(also)
        chosen = sorted((*self.assistants, *(a for a in self.unowned if a.id in wanted)), key=lambda a: a.id)
        digest = hashlib.sha256()
        for assistant in chosen:  # one record at a time: no 50 MB string for 5,000 large assistants
            record = [assistant.id, assistant.key or "", assistant.canonical.as_dict()]
            digest.update(json.dumps(record, sort_keys=True, separators=(",", ":")).encode())
        return "sha256:" + digest.hexdigest()

    def limited_to(self, keys: Collection[str]) -> ActualState:
        """The same state with only the managed assistants of `keys` (unowned and foreign ones kept)."""
        return replace(self, assistants=tuple(a for a in self.assistants if a.key in keys))


def actual_state(objects: Iterable[Mapping[str, Any]], stack: str) -> ActualState:
    """Sort `objects` (API objects) into this stack's, unowned and other stacks'.

    Lock objects (of any stack) are none of these: they are left out altogether.
    """
    managed: list[RemoteAssistant] = []
    unowned: list[RemoteAssistant] = []
    foreign: dict[str, str] = {}
    for obj in objects:
        if is_lock_object(obj.get("metadata")):
            continue
        owner = owner_of(obj.get("metadata"))
        if owner is not None and owner[0] != stack:
            foreign[str(obj["id"])] = owner[0]
            continue
        try:
            remote = RemoteAssistant(
                id=str(obj["id"]),
                key=owner[1] if owner else None,
                created_at=int(obj.get("created_at") or 0),
                canonical=normalise(obj),
            )
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise BadResponseError(
                f"the server listed assistant {obj.get('id')!r} with a malformed field ({type(exc).__name__}: {exc}); "
                "refusing to plan from an answer that is not the Assistants API"
            ) from exc
        (managed if owner else unowned).append(remote)
    return ActualState(stack=stack, assistants=tuple(managed), unowned=tuple(unowned), foreign=foreign)


def fetch_actual(client: AssistantLister, stack: str) -> ActualState:
    """List the endpoint once (paginated) and sort what it holds."""
    return actual_state(client.list_assistants(), stack)
