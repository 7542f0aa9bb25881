"""Remote API (list) -> actual state: the objects of every kind this stack owns, normalised.

Every registered kind is listed. An endpoint may not serve every kind: a kind whose
list path answers 404 is skipped (`ActualState.unserved`), never taken to be empty,
so nothing of it is ever planned for deletion; a kind the manifests use must be
served (`UnservedKindError`). An endpoint serving none of the kinds is an endpoint
of another API, or a wrong base URL: its first 404 is raised as it is.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any, Protocol

from ..errors import ApiError, BadResponseError, UnservedKindError
from ..kinds import kinds
from ..kinds.base import DEFAULT_KIND, Canonical, KeyOf, Kind, ObjectListing
from ..ownership import is_lock_object, owner_of


class Endpointed(Protocol):
    @property
    def identity(self) -> str: ...
    @property
    def display_url(self) -> str: ...


class ObjectLister(ObjectListing, Protocol):
    """A client's listing, and the endpoint it reaches."""

    @property
    def endpoint(self) -> Endpointed: ...


@dataclass(frozen=True)
class RemoteObject:
    """A remote object: its kind, identity, owner key (None if unowned) and canonical form."""

    id: str
    key: str | None
    created_at: int
    canonical: Canonical
    kind: str = DEFAULT_KIND
    version: str | None = None  # the version it is at, for a versioned kind


RemoteAssistant = RemoteObject  # its name before the engine knew other kinds


@dataclass(frozen=True)
class ActualState:
    """What the endpoint holds, as far as `stack` is concerned.

    `managed` are the objects this stack owns, in the server's (oldest-first) order;
    `unowned` carry no ownership tag (candidates for adopt); `foreign` maps the ids of
    other stacks' objects to their stack, so adopt can refuse them by name.
    `unserved` names the kinds the endpoint does not serve (nothing of them was listed).
    """

    stack: str
    managed: tuple[RemoteObject, ...]
    unowned: tuple[RemoteObject, ...] = ()
    foreign: Mapping[str, str] = field(default_factory=dict)
    unserved: frozenset[str] = frozenset()

    def fingerprint(self, also: Iterable[str] = ()) -> str:
        """Changes whenever a managed object (or one of the `also` ids) is added, removed or edited."""
        wanted = set(also)
        chosen = sorted((*self.managed, *(a for a in self.unowned if a.id in wanted)), key=lambda a: a.id)
        digest = hashlib.sha256()
        for remote in chosen:  # one record at a time: no 50 MB string for 5,000 large objects
            # The default kind's records are those of format_version 1, whose saved plans stay valid.
            record = [remote.id, remote.key or "", remote.canonical.as_dict()]
            if remote.kind != DEFAULT_KIND:
                record.insert(0, remote.kind)
            digest.update(json.dumps(record, sort_keys=True, separators=(",", ":")).encode())
        return "sha256:" + digest.hexdigest()

    def limited_to(self, keys: Collection[str]) -> ActualState:
        """The same state with only the managed objects of `keys` (unowned and foreign ones kept)."""
        return replace(self, managed=tuple(a for a in self.managed if a.key in keys))

    def managed_of(self, kind: str) -> tuple[RemoteObject, ...]:
        return tuple(a for a in self.managed if a.kind == kind)

    @cached_property
    def _keys(self) -> dict[tuple[str, str], str]:
        return {(r.kind, r.id): r.key for r in self.managed if r.key is not None}

    def key_of(self, kind: str, object_id: str) -> str | None:
        """The key of the stack's object of `kind` with `object_id`, if it manages one."""
        return self._keys.get((kind, object_id))

    def id_of(self, kind: str, key: str) -> str | None:
        """The id of the stack's (oldest) object of `kind` under `key`, if any."""
        return next((r.id for r in self.managed if r.kind == kind and r.key == key), None)


def actual_state(objects: Iterable[Mapping[str, Any]], stack: str, kind: Kind | None = None,
                 key_of: KeyOf | None = None) -> ActualState:
    """Sort `objects` (API objects of `kind`, default the default kind) into this stack's, unowned and others'.

    Lock objects (of any stack) are none of these: they are left out altogether. With
    `key_of`, the ids of the stack's objects that an object names are written as keys.
    """
    if kind is None:
        from ..kinds import get_kind

        kind = get_kind(DEFAULT_KIND)
    managed: list[RemoteObject] = []
    unowned: list[RemoteObject] = []
    foreign: dict[str, str] = {}
    for obj in objects:
        if is_lock_object(obj.get("metadata")):
            continue
        owner = owner_of(obj.get("metadata"))
        if owner is not None and owner[0] != stack:
            foreign[str(obj["id"])] = owner[0]
            continue
        try:
            remote = RemoteObject(
                id=str(obj["id"]),
                key=owner[1] if owner else None,
                created_at=int(obj.get("created_at") or 0),
                canonical=_canonical(kind, obj, key_of),
                kind=kind.name,
                version=kind.version_of(obj),
            )
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise BadResponseError(
                f"the server listed {kind.noun} {obj.get('id')!r} with a malformed field ({type(exc).__name__}: "
                f"{exc}); refusing to plan from an answer that is not the API"
            ) from exc
        (managed if owner else unowned).append(remote)
    return ActualState(stack=stack, managed=tuple(managed), unowned=tuple(unowned), foreign=foreign)


def _canonical(kind: Kind, obj: Mapping[str, Any], key_of: KeyOf | None) -> Canonical:
    canonical = kind.normalise(obj)
    return kind.in_keys(canonical, key_of) if key_of is not None else canonical


def _read_whole(obj: Mapping[str, Any], stack: str, unowned_read: Collection[str] | None) -> bool:
    """Whether a listed object's content is read: the stack's own, and the unowned ones named (None: all)."""
    metadata = obj.get("metadata")
    if is_lock_object(metadata):
        return False
    owner = owner_of(metadata)
    if owner is not None:
        return owner[0] == stack
    return unowned_read is None or obj.get("id") in unowned_read


def stack_keys(listed: Iterable[tuple[Kind, list[dict[str, Any]]]], stack: str) -> dict[tuple[str, str], str]:
    """(kind, id) -> key of every object `stack` owns among the listed ones."""
    keys: dict[tuple[str, str], str] = {}
    for kind, objects in listed:
        for obj in objects:
            owner = owner_of(obj.get("metadata"))
            if owner is not None and owner[0] == stack and not is_lock_object(obj.get("metadata")):
                keys[(kind.name, str(obj["id"]))] = owner[1]
    return keys


def fetch_actual(client: ObjectLister, stack: str, *, wanted: Collection[str] = (),
                 unowned_read: Collection[str] | None = ()) -> ActualState:
    """List every kind once (paginated) and sort what the endpoint holds.

    `wanted` names the kinds the manifests use: those must be served. The content a
    listing leaves out (a vector store's files) is read for the stack's own objects and
    for the unowned ones `unowned_read` names (those an adopt takes over; None: all, for
    an export), never for another stack's. Every kind is
    listed before any is normalised: an object naming another of the stack (by id)
    is compared by that object's key.
    """
    listings: list[tuple[Kind, list[dict[str, Any]]]] = []
    unserved: dict[str, ApiError] = {}
    for kind in kinds():
        try:
            listed = kind.list(client)
            listings.append((kind, [kind.read_content(client, obj) if _read_whole(obj, stack, unowned_read) else obj
                                    for obj in listed]))
        except ApiError as exc:
            if exc.status != 404:
                raise
            unserved[kind.name] = exc
    keys = stack_keys(listings, stack)
    states = [actual_state(listed, stack, kind, key_of=lambda k, i: keys.get((k, i))) for kind, listed in listings]
    missing = sorted(set(wanted) & unserved.keys())
    if missing:
        from ..kinds import get_kind

        kind = get_kind(missing[0])
        hint = unserved[kind.name].hint
        why = (f"listing them (GET {kind.path}) answered HTTP 404" if unserved[kind.name].sent
               else unserved[kind.name].api_message)
        raise UnservedKindError(
            f"{client.endpoint.display_url} does not serve {kind.plural}: {why}, and the manifests hold "
            f"{kind.plural} (kind: {kind.name}); nothing was changed. Plan them "
            f"against an endpoint that serves {kind.plural}, or check the endpoint.{' ' + hint if hint else ''}"
        )
    if not states:  # no kind at all: not an endpoint of this API (a wrong base URL?)
        raise next(iter(unserved.values()))
    return ActualState(
        stack=stack,
        managed=tuple(a for s in states for a in s.managed),
        unowned=tuple(a for s in states for a in s.unowned),
        foreign={i: o for s in states for i, o in s.foreign.items()},
        unserved=frozenset(unserved),
    )
