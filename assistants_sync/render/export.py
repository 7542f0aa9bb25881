"""Actual state -> manifest files: bring existing objects under management.

Each exported manifest states the object's canonical form, so planning the export
right away shows no content change: none at all for managed objects, and only the
adoption (the tags) for unmanaged ones, which are written with ``adopt: <id>``.
What a manifest of each kind holds is the kind's (`Kind.export_document`,
`Kind.export_files`); the default kind's files are ``KEY.yaml``, another kind's
``KIND/KEY.yaml``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ..actual.remote import ActualState, RemoteObject
from ..errors import ConfigError
from ..kinds import get_kind
from ..kinds.base import DEFAULT_KIND
from ..ownership import KEY_PATTERN, applied_record, is_protected, user_metadata

_KEY_RE = re.compile(KEY_PATTERN)


@dataclass(frozen=True)
class ExportedFile:
    path: Path
    key: str
    object_id: str
    kind: str = DEFAULT_KIND

    @property
    def assistant_id(self) -> str:
        return self.object_id


def export_manifests(actual: ActualState, out_dir: Path, *, unmanaged: bool = False, force: bool = False,
                     only_kinds: frozenset[str] | None = None) -> list[ExportedFile]:
    """Write one manifest per managed object (or per unmanaged one) into `out_dir`.

    `only_kinds`: export objects of these kinds only (every kind when None).

    Refuses (ConfigError, nothing written) when a file to write exists, unless `force`:
    a hand edit in an earlier export must not be lost silently.
    """
    kinds = sorted({r.kind for r in (*actual.managed, *actual.unowned)
                    if only_kinds is None or r.kind in only_kinds}, key=lambda k: (k != DEFAULT_KIND, k))
    chosen: list[tuple[str, RemoteObject]] = []
    for kind in kinds:
        if unmanaged:
            chosen += _unmanaged_with_keys(tuple(r for r in actual.unowned if r.kind == kind),
                                           taken={r.key for r in actual.managed_of(kind) if r.key})
        else:
            chosen += _managed_oldest_first(actual.managed_of(kind))
    files = [_exported_files(key, remote, adopt=unmanaged) for key, remote in chosen]
    if not force:
        existing = [str(out_dir / name) for texts in files for name in texts if (out_dir / name).exists()]
        if existing:
            more = f" and {len(existing) - 10} more" if len(existing) > 10 else ""
            raise ConfigError(
                f"export would overwrite {len(existing)} existing file{'s' if len(existing) != 1 else ''}: "
                f"{', '.join(existing[:10])}{more}; nothing was written. Pass --force to overwrite them, "
                "or choose another --out"
            )
    written: list[ExportedFile] = []
    for (key, remote), texts in zip(chosen, files, strict=True):
        for name, text in texts.items():
            (out_dir / name).parent.mkdir(parents=True, exist_ok=True)
            (out_dir / name).write_text(text, encoding="utf-8", newline="")
        written.append(ExportedFile(out_dir / _manifest_name(key, remote.kind), key, remote.id, remote.kind))
    return written


def _manifest_name(key: str, kind: str) -> str:
    return f"{key}.yaml" if kind == DEFAULT_KIND else f"{kind}/{key}.yaml"


def _exported_files(key: str, remote: RemoteObject, *, adopt: bool) -> dict[str, str]:
    """File name (relative to the export directory) -> content, for one object."""
    document, files = get_kind(remote.kind).export_files(key, manifest_document(key, remote, adopt=adopt))
    header = f"# Exported by assistants-sync from {remote.id}.\n"
    files = {**files, _manifest_name(key, remote.kind):
             header + yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100)}
    return files


def manifest_document(key: str, remote: RemoteObject, *, adopt: bool) -> dict[str, Any]:
    """The manifest fields that reproduce `remote` exactly (defaults left out)."""
    kind = get_kind(remote.kind)
    canonical = remote.canonical
    record = applied_record(canonical.metadata)
    unmanaged = record.unmanaged if record else frozenset()
    document: dict[str, Any] = {"key": key}
    if remote.kind != DEFAULT_KIND:
        document = {"kind": remote.kind, **document}
    if adopt:
        document["adopt"] = remote.id
    if is_protected(canonical.metadata):
        document["protect"] = True
    ignored = sorted(unmanaged - kind.unmanaged_when_unset)
    if ignored:
        document["ignore_changes"] = ignored
    fields = kind.export_document(canonical.with_metadata(user_metadata(canonical.metadata)), unmanaged)
    return {**document, **fields}


def _managed_oldest_first(managed: tuple[RemoteObject, ...]) -> list[tuple[str, RemoteObject]]:
    chosen: dict[str, RemoteObject] = {}
    for remote in sorted(managed, key=lambda r: r.created_at):
        assert remote.key is not None
        chosen.setdefault(remote.key, remote)  # duplicates: the oldest is the one kept
    return sorted(chosen.items())


def _unmanaged_with_keys(unowned: tuple[RemoteObject, ...], taken: set[str]
                         ) -> list[tuple[str, RemoteObject]]:
    """A key for each object, from its name (else its id), never one in `taken` or given twice.

    Oldest first (ties in the server's listing order), so the same endpoint always gets the
    same keys: the oldest keeps the plain key, later ones get -2, -3, ...
    """
    used = set(taken)
    chosen = []
    for remote in sorted(unowned, key=lambda r: r.created_at):
        base = _slug(remote.canonical.name or "") or _slug(remote.id)
        key, number = base, 1
        while key in used:
            number += 1
            key = f"{base[:120]}-{number}"
        used.add(key)
        chosen.append((key, remote))
    return sorted(chosen)


def _slug(text: str) -> str:
    slug = re.sub(r"[^a-z0-9._-]+", "-", text.lower()).strip("-.")[:128]
    return slug if _KEY_RE.match(slug) else ""
