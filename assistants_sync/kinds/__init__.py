"""The kinds the engine manages, by their manifest `kind:` name.

A kind is one module (see `base.Kind`); `register` adds one (the bundled ones are
registered on first use, so importing this package stays cheap).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from .base import DEFAULT_KIND, Kind

_registered: dict[str, Kind] = {}


def _bundled() -> dict[str, Kind]:
    if not _registered:
        from .agent import AGENT
        from .assistant import ASSISTANT
        from .file import FILE
        from .foundry_agent import FOUNDRY_AGENT
        from .vector_store import VECTOR_STORE

        for kind in (ASSISTANT, AGENT, VECTOR_STORE, FILE, FOUNDRY_AGENT):
            _registered[kind.name] = kind
    return _registered


def register(kind: Kind) -> None:
    """Manage `kind` too (replacing a kind of the same name)."""
    _bundled()[kind.name] = kind


def unregister(name: str) -> None:
    _bundled().pop(name, None)


def kinds() -> Iterator[Kind]:
    """Every registered kind, the default one first."""
    known = _bundled()
    yield from sorted(known.values(), key=lambda k: (k.name != DEFAULT_KIND, k.name))


def kind_named(name: str) -> Kind | None:
    return _bundled().get(name)


def get_kind(name: str) -> Kind:
    """The kind called `name` (KeyError for one never registered)."""
    return _bundled()[name]


def kind_nouns() -> str:
    """Every kind's noun that manifests declare, for "no assistant, agent or vector store manifests"."""
    nouns = [kind.noun for kind in kinds() if kind.declared]
    return nouns[0] if len(nouns) == 1 else f"{', '.join(nouns[:-1])} or {nouns[-1]}"


def default_fields(kind: Kind) -> frozenset[str]:
    """The fields `kind` takes from the project file's `defaults:`."""
    return frozenset(kind.defaults_model.model_fields) if kind.defaults_model is not None else frozenset()


def defaults_taken(kind: Kind, defaults: Mapping[str, Any]) -> dict[str, Any]:
    """The project's `defaults` that `kind` takes (a field another kind takes is not for it)."""
    fields = default_fields(kind)
    return {name: value for name, value in defaults.items() if name in fields}


def counted(kind_names: set[str] | list[str], count: int) -> str:
    """"3 assistants" when every object counted is of one kind, else "3 objects"."""
    names = set(kind_names)
    if len(names) == 1:
        kind = kind_named(next(iter(names)))
        if kind is not None:
            return kind.counted(count)
    return f"{count} object{'s' if count != 1 else ''}"


def counted_manifests(kind_names: set[str], count: int) -> str:
    """"3 assistant manifests", "1 toy manifest"; "3 manifests" of several kinds (or none)."""
    manifests = f"manifest{'s' if count != 1 else ''}"
    kind = kind_named(next(iter(kind_names))) if len(kind_names) == 1 else None
    if not kind_names:
        kind = kind_named(DEFAULT_KIND)
    return f"{count} {kind.noun} {manifests}" if kind is not None else f"{count} {manifests}"


__all__ = ["DEFAULT_KIND", "Kind", "counted", "counted_manifests", "default_fields", "defaults_taken", "get_kind",
           "kind_named", "kind_nouns", "kinds", "register", "unregister"]
