"""The file kind: content of the repository uploaded to ``/files`` (purpose ``assistants``).

No manifest declares a file: the desired files are derived from what the stack's other
objects use (`Kind.local_files`: a vector store's documents, an assistant's
code_interpreter files). One upload per content and stack, however many paths and
objects use it; its key is the content's sha256. An upload no longer used by anything
of the stack is deleted.

A file object has no metadata, so its filename carries the ownership:
``assistants-sync~<stack>~<sha256>~<base name>``. The base name comes last because the
API tells a document's type from its extension. Listing turns that name into the
ownership tag every other kind keeps in metadata, so the engine treats uploads like any
other object: an upload whose answer was lost is found by its name before uploading
again, an interrupted apply's uploads are found (and used, or deleted) by the next one,
and files without such a name (or another stack's) are never touched.

A file cannot be changed: it is always as uploaded, so listing also writes the applied
tag that an apply would have left. Its canonical fields are its size and purpose
(compared), and its filename and local source (only sent: ``ignore_changes`` of every
derived file, since two paths of one content are one upload).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

from ..errors import ApiError, ContentUnavailable, SyncError
from ..ownership import TAG_KEY, applied_tag, tag_value
from .base import (ApplyContext, Canonical, CanonicalFields, Derived, DesiredView, Kind, ManifestBase, ObjectApi,
                   ObjectListing, PlannedChange)

PURPOSE = "assistants"
MAX_FILE_BYTES = 512 * 1024 * 1024  # the API's limit for one file
LIST_PAGE = 10_000  # the largest page GET /files serves
FIELDS = ("bytes", "purpose", "filename", "source", "metadata")
NOT_COMPARED = frozenset({"bytes", "filename", "source"})  # the content is the sha256 in the name: nothing to update
_SEPARATOR = "~"
_PREFIX = "assistants-sync"
_CHUNK = 1024 * 1024


def upload_name(stack: str, sha256: str, name: str) -> str:
    """The filename an upload of `stack` with content `sha256` gets (a stack has no ``~``)."""
    return _SEPARATOR.join((_PREFIX, stack, sha256, name))


def owner_of_name(filename: Any) -> tuple[str, str, str] | None:
    """(stack, sha256, base name) of an upload's filename, or None if no stack uploaded it."""
    if not isinstance(filename, str):
        return None
    parts = filename.split(_SEPARATOR, 3)
    if len(parts) != 4 or parts[0] != _PREFIX or len(parts[2]) != 64:
        return None
    return parts[1], parts[2], parts[3]


def sha256_of(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for chunk in iter(lambda: stream.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


class CanonicalFile(CanonicalFields):
    """A file's canonical form, named by its base name (its key is only the content's digest)."""

    @property
    def name(self) -> str | None:
        value = dict(self.values).get("filename")
        return value if isinstance(value, str) else None

    def with_metadata(self, metadata: dict[str, str]) -> CanonicalFile:
        return CanonicalFile(tuple((n, metadata if n == "metadata" else v) for n, v in self.values))


class FileManifest(ManifestBase):
    """Never valid in a manifest (see `FileKind.declared`); the engine's fields only."""


class FileKind(Kind):
    """Uploads of the stack at ``/files``, one per content."""

    name = "file"
    noun = "file"
    plural = "files"
    path = "files"
    manifest_model = FileManifest
    fields = FIELDS
    defaults = {"bytes": 0, "purpose": PURPOSE, "filename": None, "source": None, "metadata": {}}
    declared = False
    exported = False
    unused_reason = "no longer used by any object of this stack"

    def normalise(self, obj: Mapping[str, Any]) -> Canonical:
        owned = owner_of_name(obj.get("filename"))
        name = owned[2] if owned is not None else obj.get("filename")
        values: dict[str, Any] = {"bytes": int(obj.get("bytes") or 0), "purpose": obj.get("purpose") or PURPOSE,
                                  "filename": name, "source": obj.get("source"),
                                  "metadata": dict(sorted((obj.get("metadata") or {}).items()))}
        return CanonicalFile(tuple(values.items()))

    def stale(self, body: Mapping[str, Any]) -> str | None:
        """Why the source no longer holds the content planned, or None."""
        _, sha256 = _owner(body)
        source = str(body.get("source") or "")
        try:
            found = sha256_of(source)
        except OSError as exc:
            return f"cannot read {source} to upload it: {exc.strerror}"
        if found != sha256:
            return f"{source} changed since the plan was made (its content is no longer sha256 {sha256[:12]}…)"
        return None

    def create(self, api: ObjectApi, body: dict[str, Any], context: ApplyContext | None = None) -> dict[str, Any]:
        """Upload the content from its source, after checking it is still the content planned."""
        stack, sha256 = _owner(body)
        source = str(body.get("source") or "")
        why = self.stale(body)  # again: it may have changed while apply ran
        if why is not None:
            raise SyncError(f"{why}; nothing was uploaded. Run plan again.")
        created = api.upload_file(self.path, source, upload_name(stack, sha256, str(body.get("filename") or "file")),
                                  {"purpose": str(body.get("purpose") or PURPOSE)})
        return _with_tags(self, created)

    def update(self, api: ObjectApi, object_id: str, body: dict[str, Any],
               context: ApplyContext | None = None) -> dict[str, Any]:
        raise SyncError(f"file {object_id} cannot be changed: an upload is replaced, never edited")

    def delete(self, api: ObjectApi, object_id: str) -> dict[str, Any]:
        return api.delete_object(self.path, object_id)

    def download(self, api: ObjectApi, object_id: str, key: str, destination: str) -> None:
        """Write the upload's content to `destination`, checked against its key, the sha256 it was uploaded with.

        ContentUnavailable when the endpoint refuses (OpenAI never gives back a file of purpose assistants)."""
        try:
            written = api.download(f"{self.path}/{object_id}/content", f"downloading {object_id}", destination)
        except ApiError as exc:
            if exc.status >= 500 or exc.status == 429:  # the endpoint failed: not a refusal
                raise
            raise ContentUnavailable(f"HTTP {exc.status}: {exc.api_message}") from exc
        if written.get("sha256") != key:
            raise SyncError(f"downloading {object_id}: the content that came back is not the one uploaded "
                            f"(sha256 {str(written.get('sha256'))[:12]}…, uploaded as {key[:12]}…)")

    def derive(self, desired: Sequence[DesiredView]) -> list[Derived]:
        """One file per content used by the desired objects (the first use names its source)."""
        from . import get_kind

        derived: dict[str, Derived] = {}
        for wanted in desired:
            for local in get_kind(wanted.kind).local_files(wanted.request, wanted.unmanaged):
                if local.sha256 not in derived:
                    derived[local.sha256] = Derived(
                        key=local.sha256, source=wanted.source, ignore_changes=NOT_COMPARED,
                        request={"bytes": local.size, "purpose": PURPOSE, "filename": local.name,
                                 "source": local.source})
        return [derived[key] for key in sorted(derived)]

    def group_title(self, action: str, changes: Sequence[PlannedChange]) -> str | None:
        """"3 files will be uploaded (1.2 MB)": a plan counts uploads rather than listing each."""
        files = self.counted(len(changes))
        if action == "create":
            size = sum(int(c.fields["bytes"].after or 0) for c in changes if "bytes" in c.fields)
            return f"{files} will be uploaded ({_size(size)})"
        if action == "delete":
            return f"{files} uploaded by this stack will be deleted: {self.unused_reason}"
        return None

    def list(self, api: ObjectListing) -> list[dict[str, Any]]:
        """Every upload for assistants, each of the stack's with the tags its filename stands for."""
        # /files pages hold up to 10,000 (not 100 like the other collections): one request for most stacks.
        listed = api.list_objects(self.path, self.plural, params={"purpose": PURPOSE, "limit": str(LIST_PAGE)})
        return [_with_tags(self, obj) for obj in listed]


def _owner(body: Mapping[str, Any]) -> tuple[str, str]:
    value = str((body.get("metadata") or {}).get(TAG_KEY) or "")
    stack, _, sha256 = value.partition("/")
    return stack, sha256


def _with_tags(kind: FileKind, obj: Mapping[str, Any]) -> dict[str, Any]:
    """`obj` with the tags its filename stands for (none for a file no stack uploaded)."""
    owned = owner_of_name(obj.get("filename"))
    if owned is None:
        return dict(obj)
    stack, sha256, _ = owned
    tags = {TAG_KEY: tag_value(stack, sha256)}
    canonical = kind.normalise({**obj, "metadata": tags})
    return {**obj, "metadata": {**tags, **applied_tag(canonical, NOT_COMPARED)}}


def _size(count: int) -> str:
    """"512 bytes", "1.2 MB" (decimal units, as the API's limits are stated)."""
    if count < 1000:
        return f"{count:,} byte{'s' if count != 1 else ''}"
    scaled = count / 1000
    for unit in ("kB", "MB"):
        if scaled < 1000:
            return f"{scaled:.1f} {unit}"
        scaled /= 1000
    return f"{scaled:.1f} GB"


FILE = FileKind()
