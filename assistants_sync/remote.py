"""Remote API (list) -> actual state: the assistants this stack owns, normalised."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from .canonical import CanonicalAssistant, normalise
from .ownership import owner_of


class AssistantLister(Protocol):
    def list_assistants(self) -> list[dict[str, Any]]: ...


@dataclass(frozen=True)
class RemoteAssistant:
    """A managed remote assistant: its identity and its canonical form."""

    id: str
    key: str
    created_at: int
    canonical: CanonicalAssistant


@dataclass(frozen=True)
class ActualState:
    """What this stack owns on the endpoint, in the server's (oldest-first) order."""

    stack: str
    assistants: tuple[RemoteAssistant, ...]
    total_listed: int  # including unmanaged ones and other stacks'

    @property
    def fingerprint(self) -> str:
        """Changes whenever any managed assistant of the stack is added, removed or edited."""
        records = sorted((a.id, a.key, a.canonical.as_dict()) for a in self.assistants)
        return "sha256:" + hashlib.sha256(json.dumps(records, sort_keys=True).encode()).hexdigest()


def actual_state(objects: Iterable[Mapping[str, Any]], stack: str) -> ActualState:
    """The assistants among `objects` (API objects) owned by `stack`."""
    managed: list[RemoteAssistant] = []
    total = 0
    for obj in objects:
        total += 1
        owner = owner_of(obj.get("metadata"))
        if owner is None or owner[0] != stack:
            continue
        managed.append(
            RemoteAssistant(
                id=str(obj["id"]),
                key=owner[1],
                created_at=int(obj.get("created_at") or 0),
                canonical=normalise(obj),
            )
        )
    return ActualState(stack=stack, assistants=tuple(managed), total_listed=total)


def fetch_actual(client: AssistantLister, stack: str) -> ActualState:
    """List the endpoint once (paginated) and keep what `stack` owns."""
    return actual_state(client.list_assistants(), stack)
