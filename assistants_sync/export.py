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

from .canonical import CanonicalAssistant
from .ownership import KEY_PATTERN, applied_record, is_protected, user_metadata
from .remote import ActualState, RemoteAssistant

INLINE_INSTRUCTIONS_MAX = 200  # longer, or multi-line, instructions go to their own file
INSTRUCTIONS_DIR = "instructions"
_KEY_RE = re.compile(KEY_PATTERN)


@dataclass(frozen=True)
class ExportedFile:
    path: Path
    key: str
    assistant_id: str


def export_manifests(actual: ActualState, out_dir: Path, *, unmanaged: bool = False) -> list[ExportedFile]:
    """Write one manifest per managed assistant (or per unmanaged one) into `out_dir`."""
    chosen = _unmanaged_with_keys(actual.unowned) if unmanaged else _managed_oldest_first(actual.assistants)
    written: list[ExportedFile] = []
    for key, remote in chosen:
        path = out_dir / f"{key}.yaml"
        document = manifest_document(key, remote, adopt=unmanaged)
        instructions = remote.canonical.instructions
        if instructions and ("\n" in instructions or len(instructions) > INLINE_INSTRUCTIONS_MAX):
            reference = f"{INSTRUCTIONS_DIR}/{key}.md"
            (out_dir / INSTRUCTIONS_DIR).mkdir(parents=True, exist_ok=True)
            (out_dir / reference).write_text(instructions, encoding="utf-8", newline="")
            document = {**document, "instructions_file": reference}
            document.pop("instructions", None)
            document = _ordered(document)
        out_dir.mkdir(parents=True, exist_ok=True)
        header = f"# Exported by assistants-sync from {remote.id}.\n"
        path.write_text(header + yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100),
                        encoding="utf-8")
        written.append(ExportedFile(path, key, remote.id))
    return written


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


def _unmanaged_with_keys(assistants: tuple[RemoteAssistant, ...]) -> list[tuple[str, RemoteAssistant]]:
    used: set[str] = set()
    chosen = []
    for remote in assistants:
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
