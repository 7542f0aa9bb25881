"""The tags assistants-sync keeps in a managed assistant's metadata.

- ``"assistants-sync": "<stack>/<key>"``: ownership. Neither stacks nor keys may contain
  ``/``, so the value splits unambiguously.
- ``"assistants-sync.applied": "sha256=<hex>[;unmanaged=f1,f2]"``: a fingerprint of the
  managed fields as last applied, and which fields it left out (``ignore_changes`` and
  an unset ``reasoning_effort``). Comparing it with both sides tells whether an update
  comes from the manifest, from a change made outside assistants-sync, or both, with
  no local state file.
- ``"assistants-sync.protect": "true"``: set while the manifest says ``protect: true``;
  a protected assistant is never deleted because its manifest disappeared.

The API allows 16 metadata pairs; these take two (three when protected), so users keep
14 (13). Every key starting with ``assistants-sync`` is reserved for this tool.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar, cast

from .defaults import DEFAULT_STACK as DEFAULT_STACK

KeyOf = Callable[[str, str], "str | None"]  # (kind, remote id) -> the key of the stack's object with that id
_Form = TypeVar("_Form", bound="Canonical")
_Made = TypeVar("_Made")
# What a form made with a `KeyOf` asked it, and was answered: (kind, id, key).
KeysAsked = tuple[tuple[str, str, "str | None"], ...]


class KindStillListed(Exception):
    """A `KeyOf` of a listing in flight was asked of a kind whose listing is not in yet: the answer is not known."""


def made_with_keys(make: Callable[[KeyOf], _Made], key_of: KeyOf) -> tuple[_Made, KeysAsked]:
    """`make(key_of)`, and what it asked `key_of`: the result is the same with any `KeyOf` answering alike
    (`answers_hold`). Raises KindStillListed as `key_of` does."""
    asked: list[tuple[str, str, str | None]] = []

    def recorded(kind: str, object_id: str) -> str | None:
        key = key_of(kind, object_id)
        asked.append((kind, object_id, key))
        return key

    return make(recorded), tuple(asked)


def answers_hold(asked: KeysAsked, key_of: KeyOf) -> bool:
    """Whether `key_of` answers as the one a form was made with did (`made_with_keys`)."""
    if not asked:  # most forms name nothing: asked of every object of a plan
        return True
    return all(key_of(kind, object_id) == key for kind, object_id, key in asked)


class Canonical(Protocol):
    """What the tags are written into and computed from (kinds.base.Canonical)."""

    @property
    def metadata(self) -> dict[str, str]: ...
    def as_dict(self) -> dict[str, Any]: ...
    def with_metadata(self, metadata: dict[str, str]) -> Any: ...


class Kind(Protocol[_Form]):
    """What tagging needs of a kind (kinds.base.Kind): its canonical form, keys in place of the stack's ids."""

    def normalise(self, obj: Mapping[str, Any]) -> _Form: ...
    def in_keys(self, canonical: _Form, key_of: KeyOf) -> _Form: ...


class Owned(Protocol):
    """What the tags of a desired object are made from (desired.manifest.Desired)."""

    @property
    def key(self) -> str: ...
    @property
    def protect(self) -> bool: ...
    @property
    def request(self) -> dict[str, Any]: ...

TAG_KEY = "assistants-sync"
APPLIED_KEY = "assistants-sync.applied"
PROTECT_KEY = "assistants-sync.protect"
RESERVED_PREFIX = "assistants-sync"
LOCK_KEY = "assistants-sync.lock"  # its value is the stack: the mark of a lock object (see applying.lock)

KEY_PATTERN = r"^[a-z0-9._-]{1,128}$"
STACK_PATTERN = r"^[a-z0-9][a-z0-9._-]{0,63}$"
_STACK_RE = re.compile(STACK_PATTERN)

METADATA_MAX_PAIRS = 16


def tags_added(protect: bool) -> int:
    """How many metadata pairs this tool adds to an assistant."""
    return 3 if protect else 2


def tag_value(stack: str, key: str) -> str:
    """The ownership tag value of an assistant owned by `stack` under `key`."""
    return f"{stack}/{key}"


def owner_of(metadata: Mapping[str, object] | None) -> tuple[str, str] | None:
    """(stack, key) of a remote assistant, or None when it carries no valid tag."""
    if not metadata:
        return None
    value = metadata.get(TAG_KEY)
    if not isinstance(value, str) or "/" not in value:
        return None
    stack, _, key = value.partition("/")
    if not stack or not key:
        return None
    return stack, key


def is_lock_object(metadata: Mapping[str, object] | None) -> bool:
    """True for a lock object (of any stack): never a managed or unmanaged object."""
    return isinstance(metadata, Mapping) and LOCK_KEY in metadata


def is_protected(metadata: Mapping[str, object] | None) -> bool:
    return bool(metadata) and (metadata or {}).get(PROTECT_KEY) == "true"


@dataclass(frozen=True)
class AppliedRecord:
    """What the applied tag says: a fingerprint and the fields it left out."""

    fingerprint: str
    unmanaged: frozenset[str]

    def value(self) -> str:
        suffix = f";unmanaged={','.join(sorted(self.unmanaged))}" if self.unmanaged else ""
        return f"sha256={self.fingerprint}{suffix}"


def fingerprint(canonical: Canonical, unmanaged: Iterable[str]) -> str:
    """A short hash of the managed fields (the applied tag itself left out).

    Equal canonical forms give equal fingerprints, whatever the key order or spelling
    the server used, because it is computed from the canonical form.
    """
    skipped = set(unmanaged)
    values = {name: value for name, value in canonical.as_dict().items() if name not in skipped}
    if "metadata" in values:
        values["metadata"] = without_applied_tag(values["metadata"])
    encoded = json.dumps(values, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(encoded.encode()).hexdigest()[:32]


def without_applied_tag(metadata: Mapping[str, str]) -> dict[str, str]:
    """`metadata` without the applied tag: what the tag records, and what alone never makes a difference."""
    return {k: v for k, v in metadata.items() if k != APPLIED_KEY}


def applied_tag(canonical: Canonical, unmanaged: frozenset[str]) -> dict[str, str]:
    """The applied tag recording `canonical` as applied with `unmanaged` left out: {APPLIED_KEY: value}."""
    return {APPLIED_KEY: AppliedRecord(fingerprint(canonical, unmanaged), unmanaged).value()}


def owned_form(kind: Kind[_Form], desired: Owned, stack: str, key_of: KeyOf | None = None) -> _Form:
    """The canonical form of `desired` as owned by `stack`: with the ownership and protect tags, not yet the
    applied one (enough to tell whether anything differs). With `key_of`, ids of the stack's objects it names
    are written as their keys, as they are on the listed side."""
    tags = owner_tags(stack, desired.key, protect=desired.protect)
    canonical = kind.normalise({**desired.request, "metadata": {**desired.request.get("metadata", {}), **tags}})
    return kind.in_keys(canonical, key_of) if key_of is not None else canonical


def recorded(base: _Form, unmanaged: frozenset[str]) -> _Form:
    """`base` with the applied tag recording its fingerprint: what an apply writes (hashing is why this is
    separate from `owned_form`)."""
    return cast(_Form, base.with_metadata(dict(sorted({**base.metadata, **applied_tag(base, unmanaged)}.items()))))


def owner_tags(stack: str, key: str, *, protect: bool) -> dict[str, str]:
    """The ownership tag (and the protect tag) of an object `stack` manages under `key`."""
    tags = {TAG_KEY: tag_value(stack, key)}
    if protect:
        tags[PROTECT_KEY] = "true"
    return tags


def applied_record(metadata: Mapping[str, object] | None) -> AppliedRecord | None:
    """The applied tag of a remote assistant, or None if absent or unreadable."""
    value = _applied_value(metadata)
    if value is None:
        return None
    fingerprint, _, rest = value[len("sha256="):].partition(";")
    unmanaged = rest.removeprefix("unmanaged=")
    return AppliedRecord(fingerprint, frozenset(f for f in unmanaged.split(",") if f) if rest else frozenset())


def carries_applied_record(metadata: Mapping[str, object] | None) -> bool:
    """Whether `applied_record` finds a tag (without reading it: most plans only ask this)."""
    return _applied_value(metadata) is not None


def _applied_value(metadata: Mapping[str, object] | None) -> str | None:
    value = (metadata or {}).get(APPLIED_KEY)
    return value if isinstance(value, str) and value.startswith("sha256=") else None


def is_reserved(metadata_key: str) -> bool:
    """True for metadata keys a manifest may not set itself."""
    return metadata_key.startswith(RESERVED_PREFIX)


def user_metadata(metadata: Mapping[str, str]) -> dict[str, str]:
    """Metadata without this tool's tags."""
    return {k: v for k, v in metadata.items() if not is_reserved(k)}


def check_stack(stack: str) -> str | None:
    """An explanation of why `stack` is not a valid stack name, or None if it is."""
    if _STACK_RE.match(stack):
        return None
    return (
        f"invalid stack name {stack!r}: use 1-64 lower-case letters, digits, '.', '_' or '-', "
        "starting with a letter or digit"
    )
