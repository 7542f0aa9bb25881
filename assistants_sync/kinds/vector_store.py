"""The vector_store kind: ``kind: vector_store``, at ``/vector_stores``, with its files as content.

A manifest names the store's documents (paths and globs relative to it); each document
is identified in the store by that path, and its content by its sha256. The uploads
themselves are objects of the file kind (one per content and stack): a store depends on
the uploads of its contents, so they are made before it and deleted after it no longer
names them.

Canonical form: ``name``, ``expires_after``, ``files`` and ``metadata``, where ``files``
maps each path to ``{content, attributes, chunking_strategy}``:
- ``auto`` chunking is written as what the server resolves it to (static, 800 tokens
  with 400 overlap), so a manifest saying ``auto`` matches a listed file;
- a listed file's bookkeeping attributes (its path and content) become the mapping's key
  and ``content``; the user's attributes are the rest;
- a file attached outside assistants-sync (no bookkeeping attributes) is listed under
  ``"<file id> (attached outside assistants-sync)"``, and a file whose processing failed
  carries ``processing: failed``: neither can match a manifest, so apply detaches the
  former and attaches the latter again.

Apply attaches files with file batches (up to 2,000 a batch), updates attributes in
place, detaches and attaches again for a new chunking strategy, then waits until the
store has processed what it attached (unless told not to) and reports files that failed.
"""

from __future__ import annotations

import itertools
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Union

from pydantic import AfterValidator, Discriminator, Field, StringConstraints, Tag, WithJsonSchema, field_validator
from pydantic_core import PydanticCustomError

from ..errors import AmbiguousRequestError, ApiError, SyncError
from ..ownership import KEY_PATTERN, owner_of
from .base import (ApplyContext, Canonical, Reference, CanonicalFields, Kind, ManifestChecks, ObjectApi, ObjectListing,
                   LocalFile, ReferencedFiles, Strict, defaults_model_of, local_entry, local_file_of)
from .file import MAX_FILE_BYTES

PATH_ATTRIBUTE = "assistants-sync.path"
CONTENT_ATTRIBUTE = "assistants-sync.sha256"
ATTRIBUTES_MAX_PAIRS = 16
USER_ATTRIBUTES_MAX = ATTRIBUTES_MAX_PAIRS - 2  # the path and the content take two
ATTRIBUTE_VALUE_MAX = 512
BATCH_MAX = 2000
AUTO_CHUNKING: dict[str, Any] = {"type": "static", "static": {"max_chunk_size_tokens": 800, "chunk_overlap_tokens": 400}}
OUTSIDE = " (attached outside assistants-sync)"
FIELDS = ("name", "expires_after", "files", "metadata")
DEFAULTS: dict[str, Any] = {"name": None, "expires_after": None, "files": {}, "metadata": {}}
PROCESSING_TIMEOUT = 30 * 60.0  # seconds apply waits for one store's files before giving up
_POLL_DELAYS = (0.0, 0.05, 0.1, 0.2, 0.4, 0.8, 1.6)
_POLL_DELAY_MAX = 2.0
_RESERVED_ATTRIBUTE = re.compile(r"^assistants-sync")


# The manifest model

class StaticChunking(Strict):
    max_chunk_size_tokens: int = Field(ge=100, le=4096)
    chunk_overlap_tokens: int = Field(ge=0)

    @field_validator("chunk_overlap_tokens")
    @classmethod
    def _at_most_half(cls, value: int, info: Any) -> int:
        size = info.data.get("max_chunk_size_tokens")
        if isinstance(size, int) and value > size // 2:
            raise PydanticCustomError("overlap", f"at most half of max_chunk_size_tokens ({size // 2})")
        return value


class StaticChunkingStrategy(Strict):
    type: Literal["static"]
    static: StaticChunking


class AutoChunkingStrategy(Strict):
    type: Literal["auto"]


def _chunking_tag(value: Any) -> str | None:
    if isinstance(value, str):
        return "name"
    if isinstance(value, dict):
        return value.get("type") if value.get("type") in ("auto", "static") else None
    return getattr(value, "type", None)  # a model instance, when serialising


ChunkingStrategy = Annotated[
    Union[Annotated[Literal["auto"], Tag("name")], Annotated[AutoChunkingStrategy, Tag("auto")],
          Annotated[StaticChunkingStrategy, Tag("static")]],
    Discriminator(_chunking_tag, custom_error_type="chunking_strategy",
                  custom_error_message="must be 'auto' or a mapping whose type is auto or static"),
]
AttributeKey = Annotated[str, StringConstraints(min_length=1, max_length=64)]
def _attribute_value(value: Any) -> Any:
    """One rule, one message (a union would report each of its members)."""
    if isinstance(value, (bool, int, float)) or (isinstance(value, str) and len(value) <= ATTRIBUTE_VALUE_MAX):
        return value
    raise PydanticCustomError("attribute_value", f"an attribute is a string of at most {ATTRIBUTE_VALUE_MAX} "
                                                 "characters, a number or a boolean")


AttributeValue = Annotated[Any, AfterValidator(_attribute_value), WithJsonSchema({"oneOf": [
    {"type": "string", "maxLength": ATTRIBUTE_VALUE_MAX}, {"type": "number"}, {"type": "boolean"}]})]


class FileEntry(Strict):
    """One entry of ``files:`` with settings: a path or glob, with attributes and chunking for its files."""

    path: Annotated[str, StringConstraints(min_length=1)]
    attributes: dict[AttributeKey, AttributeValue] = Field(default_factory=dict, max_length=USER_ATTRIBUTES_MAX)
    chunking_strategy: ChunkingStrategy | None = None

    @field_validator("attributes")
    @classmethod
    def _no_reserved(cls, value: dict[str, Any]) -> dict[str, Any]:
        reserved = sorted(k for k in value if _RESERVED_ATTRIBUTE.match(k))
        if reserved:
            raise PydanticCustomError("reserved_key", f"attribute {reserved[0]!r} is reserved: attributes starting "
                                                      "with 'assistants-sync' hold the file's path and content")
        return value


def _file_item_tag(value: Any) -> str | None:
    if isinstance(value, str):
        return "path"
    return "entry" if isinstance(value, (dict, FileEntry)) else None


FileItem = Annotated[
    Union[Annotated[Annotated[str, StringConstraints(min_length=1)], Tag("path")], Annotated[FileEntry, Tag("entry")]],
    Discriminator(_file_item_tag, custom_error_type="file_item",
                  custom_error_message="must be a path or glob, or a mapping with path (and attributes, "
                                       "chunking_strategy)"),
]


class ExpiresAfter(Strict):
    anchor: Literal["last_active_at"]
    days: int = Field(ge=1, le=365)


class VectorStoreManifest(ManifestChecks):
    """One YAML document: one desired vector store."""

    key: Annotated[str, StringConstraints(pattern=KEY_PATTERN)]
    previous_keys: list[Annotated[str, StringConstraints(pattern=KEY_PATTERN)]] = Field(default_factory=list)
    protect: bool = False
    ignore_changes: list[Literal["name", "expires_after", "files"]] = Field(default_factory=list)
    adopt: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,128}$")] | None = None
    name: Annotated[str, StringConstraints(max_length=256)] | None = None
    files: list[FileItem] = Field(default_factory=list)
    chunking_strategy: ChunkingStrategy = "auto"
    expires_after: ExpiresAfter | None = None
    metadata: dict[Annotated[str, StringConstraints(min_length=1, max_length=64)],
                   Annotated[str, StringConstraints(max_length=512)]] = Field(default_factory=dict)


# `defaults:` of the project file that a vector store takes (a default name or files would make no sense).
VectorStoreDefaults = defaults_model_of("VectorStoreDefaults", VectorStoreManifest,
                                        ("protect", "metadata", "expires_after", "chunking_strategy"))
KNOWN_FIELD_NAMES = frozenset({*VectorStoreManifest.model_fields, *FileEntry.model_fields, *ExpiresAfter.model_fields,
                               *StaticChunking.model_fields, "type", "static"})


# The canonical form

def chunking(strategy: Any) -> dict[str, Any]:
    """A chunking strategy as the server resolves it (``auto`` is static 800/400)."""
    if strategy is None or strategy == "auto" or (isinstance(strategy, Mapping) and strategy.get("type") == "auto"):
        return AUTO_CHUNKING
    if isinstance(strategy, Mapping) and strategy.get("type") == "static":
        static = strategy.get("static") or {}
        return {"type": "static", "static": {"max_chunk_size_tokens": static.get("max_chunk_size_tokens"),
                                             "chunk_overlap_tokens": static.get("chunk_overlap_tokens")}}
    return dict(strategy) if isinstance(strategy, Mapping) else {"type": str(strategy)}


def _entry(entry: Mapping[str, Any]) -> dict[str, Any]:
    canonical: dict[str, Any] = {"content": entry.get("content"),
                                 "attributes": dict(sorted((entry.get("attributes") or {}).items())),
                                 "chunking_strategy": chunking(entry.get("chunking_strategy"))}
    if entry.get("processing"):
        canonical["processing"] = entry["processing"]
    return canonical


def normalise(obj: Mapping[str, Any]) -> CanonicalFields:
    """Canonical form of an API-shaped vector store (a manifest's request, or a listed store with its files)."""
    expires = obj.get("expires_after")
    files = obj.get("files") or {}
    return CanonicalFields((
        ("name", obj.get("name") or None),
        ("expires_after", {"anchor": expires.get("anchor"), "days": expires.get("days")} if expires else None),
        ("files", {path: _entry(files[path]) for path in sorted(files)}),
        ("metadata", {str(k): str(v) for k, v in sorted((obj.get("metadata") or {}).items())}),
    ))


def listed_files(attachments: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """A store's attached files (vector store file objects) as the ``files`` of its canonical form."""
    files: dict[str, dict[str, Any]] = {}
    for attachment in attachments:
        attributes = dict(attachment.get("attributes") or {})
        path, content = attributes.pop(PATH_ATTRIBUTE, None), attributes.pop(CONTENT_ATTRIBUTE, None)
        entry: dict[str, Any] = {"content": content, "attributes": attributes,
                                 "chunking_strategy": attachment.get("chunking_strategy")}
        if attachment.get("status") in ("failed", "cancelled"):
            entry["processing"] = attachment["status"]
        if not isinstance(path, str) or not isinstance(content, str):
            path = f"{attachment['id']}{OUTSIDE}"
        elif path in files:  # two attachments claim one path (an interrupted apply): the second is extra
            path = f"{path} (also attached as {attachment['id']})"
        files[path] = entry
    return files


# Apply: what to do with a store's files

@dataclass
class FileWork:
    """The requests that make a store's attached files those of `wanted`."""

    detach: list[str]  # file ids
    attach: list[tuple[str, dict[str, Any]]]  # (path, its canonical entry)
    attributes: list[tuple[str, str, dict[str, Any]]]  # (file id, path, entry): attributes set in place


def file_work(attached: Sequence[Mapping[str, Any]], wanted: Mapping[str, Mapping[str, Any]]) -> FileWork:
    """Compare what is attached (vector store file objects) with the wanted files (path -> canonical entry).

    A file is its content: a path whose content changed detaches the old content and
    attaches the new; a renamed path keeps its attachment (its attributes change).
    """
    by_content = {entry["content"]: path for path, entry in wanted.items()}
    work = FileWork([], [], [])
    kept: set[str] = set()
    for attachment in attached:
        attributes = attachment.get("attributes") or {}
        content = attributes.get(CONTENT_ATTRIBUTE)
        path = by_content.get(content) if isinstance(content, str) and content not in kept else None
        if path is None:
            work.detach.append(str(attachment["id"]))
            continue
        kept.add(str(content))
        entry = wanted[path]
        if (attachment.get("status") in ("failed", "cancelled")
                or chunking(attachment.get("chunking_strategy")) != entry["chunking_strategy"]):
            work.detach.append(str(attachment["id"]))
            work.attach.append((path, dict(entry)))
        elif dict(attributes) != attachment_attributes(path, entry):
            work.attributes.append((str(attachment["id"]), path, dict(entry)))
    work.attach += [(path, dict(entry)) for path, entry in wanted.items() if entry["content"] not in kept]
    return work


def attachment_attributes(path: str, entry: Mapping[str, Any]) -> dict[str, Any]:
    """The attributes an attached file carries: the user's, its path and its content."""
    return {**entry.get("attributes", {}), PATH_ATTRIBUTE: path, CONTENT_ATTRIBUTE: entry["content"]}


# The kind

class VectorStoreKind(Kind):
    """Vector stores at ``/vector_stores``, their files attached from the stack's uploads."""

    name = "vector_store"
    noun = "vector store"
    plural = "vector stores"
    path = "vector_stores"
    manifest_model = VectorStoreManifest
    defaults_model = VectorStoreDefaults
    fields = FIELDS
    defaults = DEFAULTS
    known_field_names = KNOWN_FIELD_NAMES
    manifest_only = frozenset({"chunking_strategy"})

    def normalise(self, obj: Mapping[str, Any]) -> Canonical:
        return normalise(obj)

    def complete_request(self, request: dict[str, Any], files: ReferencedFiles) -> None:
        """Expand ``files:`` into the path -> {content, attributes, chunking} of each document."""
        default = request.pop("chunking_strategy", "auto")
        entries: dict[str, dict[str, Any]] = {}
        for index, item in enumerate(request.pop("files", [])):
            settings = item if isinstance(item, dict) else {"path": item}
            at: list[int | str] = ["files", index] if isinstance(item, str) else ["files", index, "path"]
            for path in files.glob(settings["path"], at) or []:
                if len(path) > ATTRIBUTE_VALUE_MAX:
                    files.report(at, f"{path}: a path of at most {ATTRIBUTE_VALUE_MAX} characters (it is kept in "
                                     "an attribute of the file)")
                    continue
                local = files.local_file(path, at, max_bytes=MAX_FILE_BYTES)
                if local is None:
                    continue
                entries[path] = {**local_entry(local), "attributes": settings.get("attributes") or {},
                                 "chunking_strategy": chunking(settings.get("chunking_strategy") or default)}
        seen: dict[str, str] = {}
        for path, entry in entries.items():
            if entry["content"] in seen:
                files.report(["files"], f"{seen[entry['content']]} and {path} have the same content; a vector store "
                                        "holds each content once, so list only one of them")
            seen.setdefault(entry["content"], path)
        request["files"] = entries

    def local_files(self, request: Mapping[str, Any], unmanaged: frozenset[str] = frozenset()) -> Iterable[LocalFile]:
        if "files" in unmanaged:
            return []
        return [local for entry in (request.get("files") or {}).values() if (local := local_file_of(entry)) is not None]

    def references(self, values: Mapping[str, Any]) -> Iterable[tuple[str, str]]:
        files = values.get("files") or {}
        return sorted({("file", e["content"]) for e in files.values() if isinstance(e, Mapping) and e.get("content")})

    def request_body(self, fields: Mapping[str, Any], *, replace: bool) -> dict[str, Any]:
        return {name: value for name, value in fields.items() if replace or value is not None}

    def create(self, api: ObjectApi, body: dict[str, Any], context: ApplyContext | None = None) -> dict[str, Any]:
        files = body.pop("files", {})
        try:
            created = api.create_object(self.path, self.noun, body)
        except AmbiguousRequestError:  # the answer was lost: if the store was made, attach its files to it
            owner = owner_of(body.get("metadata"))
            found = [s for s in api.list_objects(self.path, self.plural) if owner_of(s.get("metadata")) == owner]
            if not found:
                raise
            created = found[0]
        try:
            self._sync_files(api, str(created["id"]), [], files, context)
        except SyncError as exc:
            raise SyncError(f"{exc} (the vector store {created['id']} was created)") from exc
        return created

    def update(self, api: ObjectApi, object_id: str, body: dict[str, Any],
               context: ApplyContext | None = None) -> dict[str, Any]:
        files = body.pop("files", None)
        updated = api.modify_object(self.path, object_id, body) if body else {"id": object_id}
        if files is not None:
            self._sync_files(api, object_id, self._attached(api, object_id), files, context)
        return updated

    def read_content(self, api: Any, obj: dict[str, Any]) -> dict[str, Any]:
        """The store with its attached files under ``files`` (one listing of them, 100 a page)."""
        return {**obj, "files": listed_files(self._attached(api, str(obj["id"])))}

    def _attached(self, api: ObjectListing, store_id: str) -> list[dict[str, Any]]:
        return api.list_objects(f"{self.path}/{store_id}/files", f"files of vector store {store_id}")

    def _sync_files(self, api: ObjectApi, store_id: str, attached: Sequence[Mapping[str, Any]],
                    wanted: Mapping[str, Mapping[str, Any]], context: ApplyContext | None) -> None:
        work = file_work(attached, wanted)
        for file_id in work.detach:
            _detach(api, store_id, file_id)
        for file_id, path, entry in work.attributes:
            api.post_object(f"{self.path}/{store_id}/files/{file_id}", f"setting the attributes of {path}",
                            {"attributes": attachment_attributes(path, entry)})
        if not work.attach:
            return
        if context is None:
            raise SyncError("attaching files needs the ids of their uploads")
        paths: dict[str, str] = {}
        batches: list[str] = []
        for start in range(0, len(work.attach), BATCH_MAX):
            entries = []
            for path, entry in work.attach[start:start + BATCH_MAX]:
                file_id = context.id_of("file", entry["content"])
                paths[file_id] = path
                entries.append({"file_id": file_id, "attributes": attachment_attributes(path, entry),
                                "chunking_strategy": entry["chunking_strategy"]})
            batch = api.post_object(f"{self.path}/{store_id}/file_batches", f"attaching {len(entries)} files",
                                    {"files": entries})
            batches.append(str(batch["id"]))
        if context.wait:
            failures = [f for batch_id in batches for f in _processed(api, store_id, batch_id, paths, context)]
            if failures:
                raise SyncError(f"{len(failures)} file{'s' if len(failures) != 1 else ''} failed processing: "
                                + "; ".join(failures))

    # How a plan shows the files

    def field_lines(self, name: str, before: Any, after: Any) -> list[tuple[str, str]] | None:
        if name != "files":
            return None
        return file_lines(before or {}, after or {})

    def export_document(self, canonical: Canonical, unmanaged: frozenset[str]) -> dict[str, Any]:
        document = super().export_document(canonical, unmanaged)
        files = document.pop("files", {})
        entries: list[Any] = []
        for path, entry in files.items():
            if path.endswith(OUTSIDE):
                continue
            settings: dict[str, Any] = {"path": path}
            if entry.get("attributes"):
                settings["attributes"] = entry["attributes"]
            if entry.get("chunking_strategy") != AUTO_CHUNKING:
                settings["chunking_strategy"] = entry["chunking_strategy"]
            entries.append(settings if len(settings) > 1 else path)
        if entries:
            document["files"] = entries
        return document

    def export_contents(self, canonical: Canonical, document: dict[str, Any], name_of: Callable[[Reference], str | None]
                        ) -> tuple[dict[str, Any], dict[str, Reference]]:
        """Each document the exported store names, at its path: the content of the upload it was made from."""
        named = {entry if isinstance(entry, str) else entry["path"] for entry in document.get("files") or []}
        files = canonical.as_dict().get("files") or {}
        return document, {path: ("file", files[path]["content"]) for path in sorted(named) if path in files}



def _detach(api: ObjectApi, store_id: str, file_id: str) -> None:
    try:
        api.delete_object(f"vector_stores/{store_id}/files", file_id)
    except ApiError as exc:
        if exc.status != 404:  # already detached
            raise


def _processed(api: ObjectApi, store_id: str, batch_id: str, paths: Mapping[str, str],
               context: ApplyContext) -> list[str]:
    """Wait for a batch to be processed; what failed, as "path: code: message"."""
    path = f"vector_stores/{store_id}/file_batches/{batch_id}"
    stop = getattr(api, "stop", None)
    started = time.monotonic()
    for attempt in itertools.count():
        delay = _POLL_DELAYS[attempt] if attempt < len(_POLL_DELAYS) else _POLL_DELAY_MAX
        if delay and _paused(stop, delay):
            raise SyncError(f"interrupted while waiting for batch {batch_id} to be processed")
        batch = api.get_object(path, f"reading batch {batch_id}")
        counts = batch.get("file_counts") or {}
        if context.progress is not None:
            context.progress(f"vector store {store_id}: {counts.get('completed', 0)}/{counts.get('total', 0)} "
                             "files processed")
        if batch.get("status") != "in_progress":
            break
        if time.monotonic() - started > PROCESSING_TIMEOUT:
            raise SyncError(f"batch {batch_id} is still being processed after {PROCESSING_TIMEOUT / 60:.0f} minutes; "
                            "apply stops waiting (the files stay attached; plan shows what is left)")
    failed = [f for status in ("failed", "cancelled") if counts.get(status, 1)  # none: nothing to ask for
              for f in api.list_objects(f"{path}/files", f"{status} files of batch {batch_id}", params={"filter": status})]
    return [f"{paths.get(str(f['id']), f['id'])}: {_error_text(f)}" for f in failed]


def _paused(stop: Any, seconds: float) -> bool:
    """Sleep `seconds`; True if the client's stop event (Ctrl-C) was set meanwhile."""
    if stop is None:
        time.sleep(seconds)
        return False
    return bool(stop.wait(seconds))


def _error_text(attachment: Mapping[str, Any]) -> str:
    error = attachment.get("last_error") or {}
    if not error:
        return str(attachment.get("status"))
    return f"{error.get('code')}: {error.get('message')}"


def file_lines(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[tuple[str, str]]:
    """One line per document that changes: + added, - removed, ~ content, attributes, chunking or renamed."""
    lines: list[tuple[str, str]] = []
    old_paths = {entry.get("content"): path for path, entry in before.items() if entry.get("content")}
    renamed_from = {path: old_paths[entry["content"]] for path, entry in after.items()
                    if path not in before and entry.get("content") in old_paths
                    and old_paths[entry["content"]] not in after}
    unchanged = 0
    for path in sorted(before.keys() | after.keys()):
        old, new = before.get(path), after.get(path)
        if new is None:
            if path not in renamed_from.values():
                lines.append(("removed", f"- {path}"))
        elif old is None:
            origin = renamed_from.get(path)
            lines.append(("changed", f"~ {path} (renamed from {origin})") if origin else ("added", f"+ {path}"))
        elif old == new:
            unchanged += 1
        else:
            lines.append(("changed", f"~ {path} ({_what_changed(old, new)})"))
    title = [("plain", "files:")]
    if unchanged:
        lines.append(("note", f"({unchanged} unchanged file{'s' if unchanged != 1 else ''} hidden)"))
    return title + [(kind, f"  {text}") for kind, text in lines]


def _what_changed(old: Mapping[str, Any], new: Mapping[str, Any]) -> str:
    if old.get("processing"):
        return f"processing {old['processing']}: attached again"
    what = []
    if old.get("content") != new.get("content"):
        what.append("content changed")
    if old.get("chunking_strategy") != new.get("chunking_strategy"):
        what.append("chunking")
    if old.get("attributes") != new.get("attributes"):
        what.append("attributes")
    return ", ".join(what) or "changed"


VECTOR_STORE = VectorStoreKind()
