"""Actual state -> manifest files: bring existing objects under management.

Each exported manifest states the object's canonical form, so planning the export
right away shows no content change: none at all for managed objects, and only the
adoption (the tags) for unmanaged ones, which are written with ``adopt: <id>``.
What a manifest of each kind holds is the kind's (`Kind.export_document`,
`Kind.export_files`); the default kind's files are ``KEY.yaml``, another kind's
``KIND/KEY.yaml``. Every path a manifest names is relative to the manifest itself, as
the loader reads it: a kind's instructions files go beside its manifests, and the
repository files whose content is an upload of the stack (`Kind.export_contents`: a
store's documents, code_interpreter's files) are downloaded to the paths that name
them, each checked against the digest it was uploaded with. Where the endpoint does
not give a content back (OpenAI keeps uploads for assistants to itself), the export
says which file is missing where (`MissingContent`): planning the export needs it.

A file never holds a secret (the API key, a header value), and never its mask either:
a masked value in a manifest would be desired state, and apply would write ``****``
over the real value. A field holding a secret is left out of the manifest and listed
in ``ignore_changes``, so plan and apply leave it as it is on the server; a field that
cannot be left out (metadata, which holds the tags, or a required one) refuses the
export.
"""

from __future__ import annotations

import json
import os
import posixpath
import re
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ..actual.remote import ActualState, RemoteObject
from ..errors import ConfigError, ContentUnavailable
from ..kinds import get_kind
from ..kinds.base import DEFAULT_KIND, Canonical, CanonicalFields, Kind, ObjectApi, Reference
from ..ownership import KEY_PATTERN, applied_record, is_protected, user_metadata
from ..redact import Redactor

_KEY_RE = re.compile(KEY_PATTERN)


_DOWNLOADS_AT_ONCE = 8


@dataclass(frozen=True)
class MissingContent:
    """A file an exported manifest names that the export could not write: its content is not given back."""

    path: Path  # where the manifest expects it
    manifest: Path
    object_id: str  # the object holding the content
    why: str

    @property
    def warning(self) -> str:
        return (f"{self.path} is missing: the endpoint does not give back the content of {self.object_id} "
                f"({self.why}); {self.manifest} names it, so plan fails until the file is there")


@dataclass(frozen=True)
class ExportedFile:
    path: Path
    key: str
    object_id: str
    kind: str = DEFAULT_KIND
    withheld: tuple[str, ...] = ()  # fields left out (and to ignore_changes) for holding a secret
    downloaded: tuple[Path, ...] = ()  # the files it names, written from the endpoint's content
    missing: tuple[MissingContent, ...] = ()  # the files it names that could not be

    @property
    def assistant_id(self) -> str:
        return self.object_id

    @property
    def withheld_warning(self) -> str | None:
        """What a reviewer must know about the fields left out, or None."""
        if not self.withheld:
            return None
        fields, one = ", ".join(self.withheld), len(self.withheld) == 1
        return (f"{self.path}: {fields} {'holds' if one else 'hold'} the API key or a header value, so "
                f"{'it is' if one else 'they are'} left out, with ignore_changes: [{fields}]: apply leaves "
                f"{'it as it is' if one else 'them as they are'} on the server")


def export_manifests(actual: ActualState, out_dir: Path, *, unmanaged: bool = False, force: bool = False,
                     only_kinds: frozenset[str] | None = None, redactor: Redactor | None = None,
                     api: ObjectApi | None = None) -> list[ExportedFile]:
    """Write one manifest per managed object (or per unmanaged one) into `out_dir`, with the files it names.

    `only_kinds`: export objects of these kinds only (every kind when None).
    `redactor`: the secrets no file may hold (see the module docstring); `actual` is
    the listing as it is, unmasked, so that a field holding one can be recognised.
    `api`: where the contents of the stack's uploads are read back (None: not read, each reported missing).

    Refuses (ConfigError, nothing written) when a file to write exists, unless `force`:
    a hand edit in an earlier export must not be lost silently; when a secret could only
    be written (or masked) into a manifest; and when two manifests name one path for two
    contents, or a path outside `out_dir`.
    """
    kinds = sorted({r.kind for r in (*actual.managed, *actual.unowned)
                    if (only_kinds is None or r.kind in only_kinds) and get_kind(r.kind).exported},
                   key=lambda k: (k != DEFAULT_KIND, k))
    mask = redactor.mask if redactor is not None else _unchanged
    chosen: list[tuple[str, RemoteObject]] = []
    for kind in kinds:
        if unmanaged:
            chosen += _unmanaged_with_keys(tuple(r for r in actual.unowned if r.kind == kind),
                                           taken={r.key for r in actual.managed_of(kind) if r.key}, mask=mask)
        else:
            chosen += _managed_oldest_first(actual.managed_of(kind))
    stack_objects: dict[Reference, RemoteObject] = {(r.kind, r.key): r for r in actual.managed if r.key is not None}
    withheld = [_withheld(remote, redactor) for _, remote in chosen]
    exported = [_exported_files(key, remote, adopt=unmanaged, withheld=frozenset(fields), stack_objects=stack_objects)
                for (key, remote), fields in zip(chosen, withheld, strict=True)]
    files = [texts for texts, _ in exported]
    if redactor is not None:
        _refuse_secrets(out_dir, chosen, files, redactor)
    contents = _contents_by_path(chosen, exported)
    if not force:
        names = {name for texts in files for name in texts} | set(contents)
        existing = sorted(str(out_dir / name) for name in names if (out_dir / name).exists())
        if existing:
            more = f" and {len(existing) - 10} more" if len(existing) > 10 else ""
            raise ConfigError(
                f"export would overwrite {len(existing)} existing file{'s' if len(existing) != 1 else ''}: "
                f"{', '.join(existing[:10])}{more}; nothing was written. Pass --force to overwrite them, "
                "or choose another --out"
            )
    refused = _download(contents, stack_objects, out_dir, api)  # first: a failed one leaves no manifest behind
    for texts in files:
        for name, text in texts.items():
            (out_dir / name).parent.mkdir(parents=True, exist_ok=True)
            (out_dir / name).write_text(text, encoding="utf-8", newline="")
    written: list[ExportedFile] = []
    for (key, remote), fields, (_, named) in zip(chosen, withheld, exported, strict=True):
        manifest = out_dir / _manifest_name(key, remote.kind)
        paths = sorted(named)
        written.append(ExportedFile(
            manifest, key, remote.id, remote.kind, withheld=tuple(fields),
            downloaded=tuple(out_dir / path for path in paths if path not in refused),
            missing=tuple(MissingContent(out_dir / path, manifest, *refused[path]) for path in paths if path in refused)))
    return written


def _contents_by_path(chosen: list[tuple[str, RemoteObject]],
                      exported: list[tuple[dict[str, str], dict[str, Reference]]]) -> dict[str, Reference]:
    """Every content to write, by its path in the export directory (one path, one content)."""
    contents: dict[str, Reference] = {}
    for (key, remote), (texts, named) in zip(chosen, exported, strict=True):
        for path, reference in named.items():
            if path in texts or contents.get(path, reference) != reference:
                raise ConfigError(f"export would write two contents to {path} (the last named by "
                                  f"{_manifest_name(key, remote.kind)}); nothing was written. Export the kinds one "
                                  "at a time (--kind) into separate directories")
            contents[path] = reference
    return contents


def _download(contents: dict[str, Reference], stack_objects: dict[Reference, RemoteObject],
              out_dir: Path, api: ObjectApi | None) -> dict[str, tuple[str, str]]:
    """Write each content to its path; (object id, why) of those the endpoint did not give back, by path.

    The first is read alone: when the endpoint refuses it (OpenAI refuses every upload for assistants), the
    others are not asked for."""
    refused: dict[str, tuple[str, str]] = {}
    pending = sorted(contents.items())

    def fetch(item: tuple[str, Reference]) -> tuple[str, tuple[str, str] | None]:
        path, (kind, key) = item
        remote = stack_objects.get((kind, key))
        if remote is None:
            return path, (f"{kind} {key}", "no object of the stack holds it")
        if api is None:
            return path, (remote.id, "not read")
        target = out_dir / path
        out_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=out_dir, prefix=".download-", delete=False) as stream:
            partial = Path(stream.name)  # not beside the target: a refused download leaves no folder behind
        try:
            get_kind(kind).download(api, remote.id, key, str(partial))
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(partial, target)  # whole or not at all
        except ContentUnavailable as exc:
            return path, (remote.id, str(exc))
        finally:
            partial.unlink(missing_ok=True)
        return path, None

    if not pending:
        return refused
    first_path, first_refusal = fetch(pending[0])
    if first_refusal is not None:
        # the endpoint's rule for the first upload is its rule for all: not asked again
        return {path: (first_refusal[0] if path == first_path else _id_of(stack_objects, ref), first_refusal[1])
                for path, ref in pending}
    with ThreadPoolExecutor(max_workers=_DOWNLOADS_AT_ONCE) as pool:
        for path, refusal in pool.map(fetch, pending[1:]):
            if refusal is not None:
                refused[path] = refusal
    return refused


def _id_of(stack_objects: dict[Reference, RemoteObject], reference: Reference) -> str:
    remote = stack_objects.get(reference)
    return remote.id if remote is not None else f"{reference[0]} {reference[1]}"


def _unchanged(text: str) -> str:
    return text


def _user_values(remote: RemoteObject) -> dict[str, Any]:
    """`remote`'s field values, its metadata without the engine's tags (which an export never writes)."""
    return remote.canonical.with_metadata(user_metadata(remote.canonical.metadata)).as_dict()


def _withheld(remote: RemoteObject, redactor: Redactor | None) -> list[str]:
    """The fields of `remote` holding a secret that its manifest can leave to ignore_changes."""
    if redactor is None:
        return []
    kind = get_kind(remote.kind)
    return [name for name, value in _user_values(remote).items()
            if redactor.reveals(value) and _can_leave_out(kind, name)]


def _can_leave_out(kind: Kind, field: str) -> bool:
    """Whether a manifest may leave `field` out and list it in ignore_changes.

    Not metadata (it holds the tags, so it is always managed) nor a field every
    manifest must give.
    """
    model_field = kind.manifest_model.model_fields.get(field.split(".", 1)[0])
    return field != "metadata" and model_field is not None and not model_field.is_required()


def _refuse_secrets(out_dir: Path, chosen: list[tuple[str, RemoteObject]], files: list[dict[str, str]],
                    redactor: Redactor) -> None:
    """ConfigError naming each manifest that would still hold a secret, and the field that holds it."""
    problems: list[str] = []
    for (key, remote), texts in zip(chosen, files, strict=True):
        if not any(redactor.reveals(text) for text in texts.values()):
            continue
        where = f"{out_dir / _manifest_name(key, remote.kind)} ({remote.id})"
        fields = _fields_kept_with_secrets(remote, redactor) or ["a value holds the API key or a header value"]
        problems += [f"{where}: {field}" for field in fields]
    if problems:
        raise ConfigError(f"export would write a secret: {'; '.join(problems)}; nothing was written. Take the "
                          "secret out of the object on the server, then export again")


def _fields_kept_with_secrets(remote: RemoteObject, redactor: Redactor) -> list[str]:
    """Why `remote` cannot be exported: each field (or metadata pair) holding a secret that a manifest cannot
    leave out, and why it cannot."""
    kind = get_kind(remote.kind)
    found: list[str] = []
    for name, value in _user_values(remote).items():
        if not redactor.reveals(value) or _can_leave_out(kind, name):
            continue
        if name == "metadata":
            found += [f"metadata[{json.dumps(k)}] holds the API key or a header value, and metadata cannot be "
                      "left out (it holds the ownership tags)"
                      for k, v in value.items() if redactor.reveals(k) or redactor.reveals(v)]
        else:
            found.append(f"{name} holds the API key or a header value, and {name} cannot be left out "
                         "(every manifest gives it)")
    return found


def _manifest_name(key: str, kind: str) -> str:
    return f"{key}.yaml" if kind == DEFAULT_KIND else f"{kind}/{key}.yaml"


def _exported_files(key: str, remote: RemoteObject, *, adopt: bool, withheld: frozenset[str] = frozenset(),
                    stack_objects: dict[Reference, RemoteObject] | None = None
                    ) -> tuple[dict[str, str], dict[str, Reference]]:
    """For one object: file name -> text (the manifest and the texts it names, such as instructions), and
    file name -> the object whose content it must hold; names relative to the export directory."""
    kind = get_kind(remote.kind)
    known = stack_objects or {}

    def name_of(reference: Reference) -> str | None:
        named = known.get(reference)
        return named.canonical.name if named is not None else None

    document, texts = kind.export_files(key, manifest_document(key, remote, adopt=adopt, withheld=withheld))
    document, contents = kind.export_contents(remote.canonical, document, name_of)
    manifest = _manifest_name(key, remote.kind)
    header = f"# Exported by assistants-sync from {remote.id}.\n"
    texts = {**{_beside(manifest, name): text for name, text in texts.items()},
             manifest: header + yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100)}
    return texts, {_beside(manifest, name): reference for name, reference in contents.items()}


def _beside(manifest: str, reference: str) -> str:
    """The path, relative to the export directory, of what `manifest` names as `reference` (as the loader reads it:
    relative to the manifest's directory). ConfigError for a path leaving the export directory."""
    path = posixpath.normpath(posixpath.join(posixpath.dirname(manifest), reference))
    if posixpath.isabs(reference) or path == ".." or path.startswith("../"):
        raise ConfigError(f"export of {manifest}: it names {reference!r}, outside the export directory; "
                          "nothing was written")
    return path


def manifest_document(key: str, remote: RemoteObject, *, adopt: bool, withheld: frozenset[str] = frozenset()
                      ) -> dict[str, Any]:
    """The manifest fields that reproduce `remote` exactly (defaults left out).

    `withheld` fields are left out too, and listed in ignore_changes: plan and apply
    leave them as they are.
    """
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
    ignored = sorted((unmanaged - kind.unmanaged_when_unset) | withheld)
    if ignored:
        document["ignore_changes"] = ignored
    exported = _without(canonical.with_metadata(user_metadata(canonical.metadata)), withheld, kind)
    fields = kind.export_document(exported, unmanaged)
    return {**document, **fields}


def _without(canonical: Canonical, fields: frozenset[str], kind: Kind) -> Canonical:
    """`canonical` with `fields` at their defaults, which an export leaves out."""
    if not fields:
        return canonical
    return CanonicalFields(tuple((name, kind.defaults.get(name) if name in fields else value)
                                 for name, value in canonical.as_dict().items()))


def _managed_oldest_first(managed: tuple[RemoteObject, ...]) -> list[tuple[str, RemoteObject]]:
    chosen: dict[str, RemoteObject] = {}
    for remote in sorted(managed, key=lambda r: r.created_at):
        assert remote.key is not None
        chosen.setdefault(remote.key, remote)  # duplicates: the oldest is the one kept
    return sorted(chosen.items())


def _unmanaged_with_keys(unowned: tuple[RemoteObject, ...], taken: set[str], mask: Callable[[str], str]
                         ) -> list[tuple[str, RemoteObject]]:
    """A key for each object, from its name (else its id), never one in `taken` or given twice.

    Oldest first (ties in the server's listing order), so the same endpoint always gets the
    same keys: the oldest keeps the plain key, later ones get -2, -3, ... A secret in a
    name is `mask`ed out before the key is made from it.
    """
    used = set(taken)
    chosen = []
    for remote in sorted(unowned, key=lambda r: r.created_at):
        base = _slug(mask(remote.canonical.name or "")) or _slug(remote.id)
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
