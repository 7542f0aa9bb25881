"""Actual state -> manifest files: bring existing assistants under management.

Each exported manifest states the assistant's canonical form, so planning the export
right away shows no content change: none at all for managed assistants, and only the
adoption (the tags) for unmanaged ones, which are written with ``adopt: <id>``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ..kinds.assistant import CanonicalAssistant
from ..errors import ConfigError
from ..ownership import KEY_PATTERN, applied_record, is_protected, user_metadata
from ..actual.remote import ActualState, RemoteAssistant

INLINE_INSTRUCTIONS_MAX = 200  # longer, or multi-line, instructions go to their own file
INSTRUCTIONS_DIR = "instructions"
_KEY_RE = re.compile(KEY_PATTERN)


@dataclass(frozen=True)
class ExportedFile:
    path: Path
    key: str
    assistant_id: str


def export_manifests(actual: ActualState, out_dir: Path, *, unmanaged: bool = False, force: bool = False
                     ) -> list[ExportedFile]:
    """Write one manifest per managed assistant (or per unmanaged one) into `out_dir`.

    Refuses (ConfigError, nothing written) when a file to write exists, unless `force`:
    a hand edit in an earlier export must not be lost silently.
    """
    if unmanaged:
        chosen = _unmanaged_with_keys(actual.unowned, taken={r.key for r in actual.assistants if r.key})
    else:
        chosen = _managed_oldest_first(actual.assistants)
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
        written.append(ExportedFile(out_dir / f"{key}.yaml", key, remote.id))
    return written


def _exported_files(key: str, remote: RemoteAssistant, *, adopt: bool) -> dict[str, str]:
    """File name (relative to the export directory) -> content, for one assistant."""
    files: dict[str, str] = {}
    document = manifest_document(key, remote, adopt=adopt)
    instructions = remote.canonical.instructions
    if instructions and ("\n" in instructions or len(instructions) > INLINE_INSTRUCTIONS_MAX):
        reference = f"{INSTRUCTIONS_DIR}/{key}.md"
        files[reference] = instructions
        document = {**document, "instructions_file": reference}
        document.pop("instructions", None)
        document = _ordered(document)
    header = f"# Exported by assistants-sync from {remote.id}.\n"
    files[f"{key}.yaml"] = header + yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100)
    return files


def manifest_document(key: str, remote: RemoteAssistant, *, adopt: bool) -> dict[str, Any]:
    """The manifest fields that reproduce `remote` exactly (defaults left out)."""
    canonical: CanonicalAssistant = remote.canonical
    record = applied_record(canonical.metadata)
    unmanaged = record.unmanaged if record else frozenset()
    document: dict[str, Any] = {"key": key}
    if adopt:
        document["adopt"] = remote.id
    if is_protected(canonical.metadata):
        document["protect"] = True
    ignored = sorted(unmanaged - {"reasoning_effort"})
    if ignored:
        document["ignore_changes"] = ignored
    values = canonical.as_dict()
    values["metadata"] = user_metadata(canonical.metadata)
    if "reasoning_effort" in unmanaged:
        values["reasoning_effort"] = None  # the manifest did not manage it; neither does the export
    for name, value in values.items():
        if value not in (None, [], {}, ""):
            document[name] = value
    return _ordered(document)


_ORDER = ("key", "adopt", "protect", "ignore_changes", "model", "name", "description", "instructions",
          "instructions_file", "tools", "tool_resources", "metadata", "temperature", "top_p", "response_format",
          "reasoning_effort")


def _ordered(document: dict[str, Any]) -> dict[str, Any]:
    return {name: document[name] for name in _ORDER if name in document}


def _managed_oldest_first(assistants: tuple[RemoteAssistant, ...]) -> list[tuple[str, RemoteAssistant]]:
    chosen: dict[str, RemoteAssistant] = {}
    for remote in sorted(assistants, key=lambda r: r.created_at):
        assert remote.key is not None
        chosen.setdefault(remote.key, remote)  # duplicates: the oldest is the one kept
    return sorted(chosen.items())


def _unmanaged_with_keys(assistants: tuple[RemoteAssistant, ...], taken: set[str]
                         ) -> list[tuple[str, RemoteAssistant]]:
    """A key for each assistant, from its name (else its id), never one in `taken` or given twice.

    Oldest first (ties in the server's listing order), so the same endpoint always gets the
    same keys: the oldest keeps the plain key, later ones get -2, -3, ...
    """
    used = set(taken)
    chosen = []
    for remote in sorted(assistants, key=lambda r: r.created_at):
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
