"""A cache of parsed manifest files, so that a large repository is not parsed again on every run.

Only parsing is cached, never a verdict: defaults are merged, every document is validated
and referenced files are read on every run, cached or not. So a cache entry can save
time, but it cannot make invalid input pass; and whenever a cached document has any
problem, the file is parsed again so that the messages name its lines as usual.

- An entry is a file's YAML documents as (number, first line, data), keyed by the
  SHA-256 of the cache format, assistants-sync's and PyYAML's versions and the file's
  bytes. It is stored only for a file that loaded without a problem and whose data is
  exactly JSON (string keys; strings, numbers, booleans, nulls, lists, mappings: no
  timestamps or binary), and whose text has no ``$`` (nor a backslash, which could
  escape one). So no entry depends on the variables, the defaults or anything but the
  file itself, and manifests whose values come from ``${VARIABLES}`` (secrets, say) are
  never written down.
- Where: ``$ASSISTANTS_SYNC_CACHE_DIR``, else ``$XDG_CACHE_HOME/assistants-sync``, else
  ``~/.cache/assistants-sync``; one JSON file per set of manifest roots, replaced
  atomically, holding only the entries of its last run. The directory is created
  private (0700) and used only when it belongs to the user and nobody else may write
  to it; ``ASSISTANTS_SYNC_CACHE_DIR=off`` turns the cache off. A cache that cannot be
  read or written is ignored: it only ever costs the time it was meant to save.
- Loads of fewer than `CACHE_MIN_FILES` files do not use it: they are fast anyway.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import tempfile
from collections.abc import Iterable, Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

import yaml

CACHE_MIN_FILES = 200
_FORMAT = "assistants-sync parsed manifests 1"
Entry = list[tuple[int, int, Any]]  # (document number, its first line, its data)


def cache_directory(environ: Mapping[str, str] = os.environ) -> Path | None:
    """Where the cache lives, or None when it is turned off."""
    chosen = environ.get("ASSISTANTS_SYNC_CACHE_DIR")
    if chosen is not None:
        return None if chosen.strip().lower() in ("", "off", "0", "false", "no") else Path(chosen)
    base = environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "assistants-sync"


class ParseCache:
    """The parsed documents of one set of manifest roots, read at the start of a load and saved at its end."""

    def __init__(self, file: Path | None, entries: dict[str, Entry]) -> None:
        self._file = file
        self._old = entries
        self._used: dict[str, Entry] = {}

    @classmethod
    def off(cls) -> ParseCache:
        return cls(None, {})

    @classmethod
    def open(cls, roots: Iterable[str], file_count: int) -> ParseCache:
        """The cache for manifests under `roots` (real paths), or one that does nothing."""
        directory = cache_directory() if file_count >= CACHE_MIN_FILES else None
        if directory is None or not _private_directory(directory):
            return cls.off()
        name = hashlib.sha256("\0".join(sorted(set(roots))).encode()).hexdigest()[:32]
        file = directory / f"manifests-{name}.json"
        return cls(file, _read_entries(file))

    def key(self, text: str) -> str:
        if self._file is None:
            return ""
        return hashlib.sha256(f"{_FORMAT}\0{_VERSIONS}\0{text}".encode()).hexdigest()

    def get(self, key: str) -> Entry | None:
        if self._file is None:
            return None
        entry = self._old.get(key)
        if entry is not None:
            self._used[key] = entry
        return entry

    def put(self, key: str, text: str, entry: Entry) -> None:
        """Keep `entry`, the parse of `text`, if nothing but `text` decides it."""
        # Without "$" (or a backslash escape that could spell one) no variable was substituted.
        if self._file is not None and "$" not in text and "\\" not in text \
                and all(_json_exact(data) for _, _, data in entry):
            self._used[key] = entry

    def save(self) -> None:
        """Write this run's entries, if they differ from what was read (atomically; errors are ignored)."""
        if self._file is None or self._used.keys() == self._old.keys():
            return
        try:
            descriptor, temporary = tempfile.mkstemp(dir=self._file.parent, prefix=".manifests-", suffix=".tmp")
            try:
                with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
                    json.dump({"format": _FORMAT, "versions": _VERSIONS, "entries": self._used}, handle,
                              separators=(",", ":"))
                os.replace(temporary, self._file)
            except BaseException:
                os.unlink(temporary)
                raise
        except OSError:
            pass  # a cache that cannot be written only costs time


def _versions() -> str:
    try:
        tool = metadata.version("assistants-sync")
    except metadata.PackageNotFoundError:
        tool = "unknown"
    return f"{tool}/{yaml.__version__}/{'libyaml' if hasattr(yaml, 'CSafeLoader') else 'python'}"


_VERSIONS = _versions()


def _private_directory(directory: Path) -> bool:
    """Create `directory` (0700) if needed; True when it is ours and nobody else can write to it."""
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        status = os.stat(directory)
    except OSError:
        return False
    return (stat.S_ISDIR(status.st_mode) and status.st_uid == os.getuid()
            and not status.st_mode & (stat.S_IWGRP | stat.S_IWOTH))


def _read_entries(file: Path) -> dict[str, Entry]:
    try:
        with open(file, encoding="utf-8") as handle:
            saved = json.load(handle)
    except (OSError, ValueError):
        return {}
    if not isinstance(saved, dict) or saved.get("format") != _FORMAT or saved.get("versions") != _VERSIONS:
        return {}
    entries = saved.get("entries")
    if not isinstance(entries, dict):
        return {}
    return {key: [(number, line, data) for number, line, data in entry]
            for key, entry in entries.items() if _well_formed(entry)}


def _well_formed(entry: Any) -> bool:
    return isinstance(entry, list) and all(
        isinstance(item, list) and len(item) == 3 and type(item[0]) is int and type(item[1]) is int
        for item in entry)


def _json_exact(value: Any, depth: int = 0) -> bool:
    """Whether `value` comes back from JSON as it is, and holds no ${...} that variables could change."""
    kind = type(value)
    if kind is str:
        return "$" not in value
    if value is None or kind in (int, float, bool):
        return True
    if depth > 64:
        return False
    if kind is list:
        return all(_json_exact(item, depth + 1) for item in value)
    if kind is dict:
        return all(type(k) is str and "$" not in k and _json_exact(v, depth + 1) for k, v in value.items())
    return False
