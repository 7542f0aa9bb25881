"""Files and vector stores (with file batches) of the emulator, without HTTP.

Held to ``knowledge-openapi.yaml`` (requests validated against the official schemas) and
to the facts of ``shared/openapi/PROVENANCE.md``: a file object has no metadata; a store
answers no ``description`` and no ``chunking_strategy``; ``auto`` chunking comes back
resolved as static 800/400 on the vector store file; attributes take at most 16 pairs;
uploads are limited to 512 MB; batches take at most 2,000 files.

Processing "takes a moment", deterministically: an attached file is ``in_progress`` and
becomes terminal after `processing_polls` reads of its store (the store, its files, one
of them, its batches), or, with `processing_seconds`, once that much time has passed on
the injectable `clock`. A file whose content holds `fail_marker` fails processing.
"""

from __future__ import annotations

import copy
import re
import secrets
import string
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from io import BufferedIOBase
from typing import IO, Any

from .spec import KNOWLEDGE_SPEC, first_violation, openapi_document
from .store import EmulatorError, check_metadata, json_body

MAX_FILE_BYTES = 512 * 1024 * 1024
AUTO_CHUNKING = {"type": "static", "static": {"max_chunk_size_tokens": 800, "chunk_overlap_tokens": 400}}
FAIL_MARKER = b"EMULATOR:FAIL-PROCESSING"  # in a file's content: its processing fails (a test hook)
ATTRIBUTES_MAX_PAIRS = 16
ATTRIBUTE_KEY_MAX = 64
ATTRIBUTE_VALUE_MAX = 512
_ID_ALPHABET = string.ascii_letters + string.digits
_SPOOL_IN_MEMORY = 1024 * 1024  # larger uploads go to a temporary file, never whole into memory
_CHUNK = 64 * 1024
_FIELD_MAX = 64 * 1024
_KNOWLEDGE_PATH = re.compile(r"/(files|vector_stores)(/|$)")
_UPLOAD_PATH = re.compile(r"/files/?$")


def _new_id(prefix: str, length: int = 24) -> str:
    return prefix + "".join(secrets.choice(_ID_ALPHABET) for _ in range(length))


@dataclass(frozen=True)
class RawBody:
    """An answer that is not JSON (a file's content)."""

    data: bytes
    content_type: str = "application/octet-stream"


@dataclass
class Upload:
    """A multipart upload as read off the connection: its fields and its file, spooled."""

    fields: dict[str, str] = field(default_factory=dict)
    filename: str | None = None
    content: IO[bytes] | None = None
    size: int = 0
    too_large: bool = False
    marked: bool = False  # the content holds the fail marker
    error: str | None = None  # the body was not readable multipart


# ---------------------------------------------------------------- requests, paths, faults


def serves(path: str) -> bool:
    """Whether a path (after the API prefix) is one of files or vector stores."""
    return bool(_KNOWLEDGE_PATH.match(path))


def is_upload(method: str, path: str) -> bool:
    """`POST …/files`: its body is streamed off the connection by `read_upload`."""
    return method == "POST" and bool(_UPLOAD_PATH.search(path)) and "/vector_stores/" not in path


_OPERATIONS = [  # (method, path after the API prefix, the SDK's name of the call)
    ("POST", r"files", "files.create"),
    ("DELETE", r"files/[^/]+", "files.delete"),
    ("POST", r"vector_stores", "vector_stores.create"),
    ("POST", r"vector_stores/[^/]+", "vector_stores.update"),
    ("DELETE", r"vector_stores/[^/]+", "vector_stores.delete"),
    ("POST", r"vector_stores/[^/]+/files", "vector_stores.files.create"),
    ("POST", r"vector_stores/[^/]+/files/[^/]+", "vector_stores.files.update"),
    ("DELETE", r"vector_stores/[^/]+/files/[^/]+", "vector_stores.files.delete"),
    ("POST", r"vector_stores/[^/]+/file_batches", "vector_stores.file_batches.create"),
    ("POST", r"vector_stores/[^/]+/file_batches/[^/]+/cancel", "vector_stores.file_batches.cancel"),
]


def operation(method: str, path: str) -> str | None:
    """The SDK's name of a write (``files.create``, ``vector_stores.files.create`` …), for faults."""
    found = re.search(r"/(?:files|vector_stores)(?:/.*)?$", path)
    if found is None:
        return None
    rest = found.group(0).strip("/")
    return next((name for verb, pattern, name in _OPERATIONS if verb == method and re.fullmatch(pattern, rest)), None)


def read_upload(stream: IO[bytes] | BufferedIOBase, headers: Any, *, limit: int, marker: bytes) -> Upload:
    """Read a multipart body chunk by chunk: the file part is spooled (to disk when large)
    and counted; past `limit` bytes it is read on but no longer kept. Never raises: a
    problem is recorded on the Upload, so the connection stays usable for the answer."""
    content_type = headers.get("Content-Type", "")
    match = re.search(r'boundary="?([^";]+)"?', content_type)
    if "chunked" in headers.get("Transfer-Encoding", "").lower():
        source: Callable[[int], bytes] = _Dechunker(stream).read
    else:
        remaining = [int(headers.get("Content-Length") or 0)]

        def source(size: int) -> bytes:
            data = stream.read(min(size, remaining[0])) if remaining[0] > 0 else b""
            remaining[0] = remaining[0] - len(data) if data else 0
            return data

    reader = _Reader(source)
    upload = Upload()
    if not content_type.startswith("multipart/form-data") or match is None:
        reader.drain()
        upload.error = "Invalid request: expected a multipart/form-data body with a 'file' and a 'purpose'."
        return upload
    try:
        _parse_multipart(reader, match.group(1).encode("latin-1"), upload, limit, marker)
    except _MultipartError as exc:
        reader.drain()
        upload.error = f"Invalid multipart body: {exc}"
    return upload


class _MultipartError(Exception):
    pass


class _Reader:
    """A byte source with a small look-ahead buffer."""

    def __init__(self, source: Callable[[int], bytes]) -> None:
        self._source = source
        self.buffer = b""

    def fill(self) -> bool:
        chunk = self._source(_CHUNK)
        self.buffer += chunk
        return bool(chunk)

    def need(self, count: int) -> bytes:
        while len(self.buffer) < count and self.fill():
            pass
        return self.buffer[:count]

    def until(self, marker: bytes, sink: Callable[[bytes], None]) -> None:
        """Pass everything before `marker` to `sink` and consume the marker."""
        keep = len(marker) - 1
        while True:
            found = self.buffer.find(marker)
            if found >= 0:
                sink(self.buffer[:found])
                self.buffer = self.buffer[found + len(marker):]
                return
            if len(self.buffer) > keep:
                sink(self.buffer[:-keep])
                self.buffer = self.buffer[-keep:]
            if not self.fill():
                raise _MultipartError("the body ends before its closing boundary")

    def drain(self) -> None:
        while self.fill():
            self.buffer = b""


class _Dechunker:
    """Reads an HTTP/1.1 chunked body as a plain byte source."""

    def __init__(self, stream: IO[bytes] | BufferedIOBase) -> None:
        self._stream = stream
        self._left = 0
        self._done = False

    def read(self, size: int) -> bytes:
        if self._done:
            return b""
        if self._left == 0:
            line = self._stream.readline(1024)
            self._left = int(line.split(b";")[0].strip() or b"0", 16)
            if self._left == 0:
                while self._stream.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                self._done = True
                return b""
        data = self._stream.read(min(size, self._left))
        self._left -= len(data)
        if self._left == 0:
            self._stream.readline(1024)  # the CRLF after a chunk
        if not data:
            self._done = True
        return data


def _parse_multipart(reader: _Reader, boundary: bytes, upload: Upload, limit: int, marker: bytes) -> None:
    reader.until(b"--" + boundary, lambda _: None)
    while True:
        ending = reader.need(2)
        reader.buffer = reader.buffer[2:]
        if ending == b"--":
            reader.drain()
            return
        if ending != b"\r\n":
            raise _MultipartError("a boundary is not followed by a line break")
        head = bytearray()

        def keep_head(data: bytes) -> None:
            head.extend(data)
            if len(head) > _FIELD_MAX:
                raise _MultipartError("part headers too long")

        reader.until(b"\r\n\r\n", keep_head)
        disposition = re.search(rb'(?im)^content-disposition:[^\r\n]*?\bname="([^"]*)"', bytes(head))
        filename = re.search(rb'(?im)^content-disposition:[^\r\n]*?\bfilename="([^"]*)"', bytes(head))
        if disposition is None:
            raise _MultipartError("a part has no name")
        name = disposition.group(1).decode("utf-8", "replace")
        if filename is not None and name == "file":
            upload.filename = filename.group(1).decode("utf-8", "replace")
            reader.until(b"\r\n--" + boundary, _FileSink(upload, limit, marker))
        else:
            value = bytearray()

            def keep_value(data: bytes) -> None:
                value.extend(data)
                if len(value) > _FIELD_MAX:
                    raise _MultipartError(f"field {name!r} too long")

            reader.until(b"\r\n--" + boundary, keep_value)
            upload.fields[name] = value.decode("utf-8", "replace")


class _FileSink:
    """Spools a file part, counts it, and watches for the fail marker across chunk edges."""

    def __init__(self, upload: Upload, limit: int, marker: bytes) -> None:
        self._upload = upload
        self._limit = limit
        self._marker = marker
        self._tail = b""
        upload.content = tempfile.SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY)  # noqa: SIM115 - kept with the file

    def __call__(self, data: bytes) -> None:
        upload = self._upload
        upload.size += len(data)
        if upload.size > self._limit:
            upload.too_large = True
            return
        if self._marker and self._marker in self._tail + data:
            upload.marked = True
        self._tail = (self._tail + data)[-len(self._marker):] if self._marker else b""
        assert upload.content is not None
        upload.content.write(data)


# ---------------------------------------------------------------- the store


@dataclass
class _StoredFile:
    file: dict[str, Any]
    content: IO[bytes]
    marked: bool
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass
class _Attachment:
    """A vector store file: the public object plus its processing progress."""

    file: dict[str, Any]
    bytes: int
    marked: bool
    polls_left: int
    started: float
    batch_id: str | None = None


class KnowledgeStore:
    """Uploaded files, vector stores, their files and batches, in memory; thread-safe."""

    def __init__(self, *, processing_polls: int = 2, processing_seconds: float | None = None,
                 clock: Callable[[], float] = time.time, max_file_bytes: int = MAX_FILE_BYTES,
                 fail_marker: bytes = FAIL_MARKER, downloads: bool = False) -> None:
        # OpenAI never gives back the content of a file of purpose assistants; other servers (self-hosted ones)
        # may: `downloads` serves it, as they do.
        self.downloads = downloads
        self.processing_polls = processing_polls  # reads of a store until its new files are processed
        self.processing_seconds = processing_seconds  # if set: processing time on `clock` instead of polls
        self.clock = clock
        self.max_file_bytes = max_file_bytes
        self.fail_marker = fail_marker
        self._lock = threading.RLock()
        self._files: dict[str, _StoredFile] = {}
        self._stores: dict[str, dict[str, Any]] = {}
        self._attached: dict[str, dict[str, _Attachment]] = {}  # store id -> file id -> attachment
        # batch id -> {id, vector_store_id, created_at, file_ids, cancelled}
        self._batches: dict[str, dict[str, Any]] = {}

    # -------------------------------------------------------- routing

    def route(self, method: str, path: str, query: dict[str, str], body: bytes | Upload) -> tuple[int, Any]:
        """Serve `method path` (path after the API prefix, e.g. ``/vector_stores/vs_1/files``)."""
        parts = path.strip("/").split("/")
        match (method, *parts):
            case ("POST", "files"):
                return 200, self.upload(body if isinstance(body, Upload) else Upload(error="Invalid request."))
            case ("GET", "files"):
                return 200, self.list_files(query)
            case ("GET", "files", file_id):
                return 200, self.retrieve_file(file_id)
            case ("DELETE", "files", file_id):
                return 200, self.delete_file(file_id)
            case ("GET", "files", file_id, "content"):
                return 200, self.file_content(file_id)
            case ("POST", "vector_stores"):
                return 200, self.create_store(_json(body))
            case ("GET", "vector_stores"):
                return 200, self.list_stores(query)
            case ("GET", "vector_stores", store_id):
                return 200, self.retrieve_store(store_id)
            case ("POST", "vector_stores", store_id):
                return 200, self.modify_store(store_id, _json(body))
            case ("DELETE", "vector_stores", store_id):
                return 200, self.delete_store(store_id)
            case ("POST", "vector_stores", store_id, "files"):
                return 200, self.attach(store_id, _json(body))
            case ("GET", "vector_stores", store_id, "files"):
                return 200, self.list_store_files(store_id, query)
            case ("GET", "vector_stores", store_id, "files", file_id):
                return 200, self.retrieve_store_file(store_id, file_id)
            case ("POST", "vector_stores", store_id, "files", file_id):
                return 200, self.update_store_file(store_id, file_id, _json(body))
            case ("DELETE", "vector_stores", store_id, "files", file_id):
                return 200, self.detach(store_id, file_id)
            case ("POST", "vector_stores", store_id, "file_batches"):
                return 200, self.create_batch(store_id, _json(body))
            case ("GET", "vector_stores", store_id, "file_batches", batch_id):
                return 200, self.retrieve_batch(store_id, batch_id)
            case ("POST", "vector_stores", store_id, "file_batches", batch_id, "cancel"):
                return 200, self.cancel_batch(store_id, batch_id)
            case ("GET", "vector_stores", store_id, "file_batches", batch_id, "files"):
                return 200, self.list_batch_files(store_id, batch_id, query)
        raise EmulatorError(404, f"Invalid URL ({method} {path})", code="unknown_url")

    # -------------------------------------------------------- files

    def upload(self, upload: Upload) -> dict[str, Any]:
        try:
            file = self._new_file(upload)
        except EmulatorError:
            if upload.content is not None:
                upload.content.close()  # a refused upload is not kept
            raise
        assert upload.content is not None
        with self._lock:
            self._files[file["id"]] = _StoredFile(file, upload.content, upload.marked)
        return copy.deepcopy(file)

    def _new_file(self, upload: Upload) -> dict[str, Any]:
        if upload.error:
            raise EmulatorError(400, upload.error)
        body: dict[str, Any] = dict(upload.fields)
        if upload.filename is not None:
            body["file"] = "<binary>"
        # The SDK sends nested fields as form fields named expires_after[anchor], expires_after[seconds].
        expires = {k[len("expires_after["):-1]: v for k, v in body.items() if k.startswith("expires_after[")}
        body = {k: v for k, v in body.items() if not k.startswith("expires_after[")}
        if expires:
            body["expires_after"] = {k: _number(v) for k, v in expires.items()}
        _validate("CreateFileRequest", body)
        if upload.too_large:
            raise EmulatorError(400, f"File is too large ({upload.size} bytes). The maximum file size is "
                                f"{self.max_file_bytes} bytes.", param="file", code="file_too_large")
        created = int(self.clock())
        file: dict[str, Any] = {"id": _new_id("file-", 22), "object": "file", "bytes": upload.size,
                                "created_at": created, "filename": upload.filename, "purpose": body["purpose"],
                                "status": "processed"}
        if "expires_after" in body:
            file["expires_at"] = created + int(body["expires_after"]["seconds"])
        return file

    def list_files(self, query: dict[str, str]) -> dict[str, Any]:
        limit = _limit(query, default=10_000, maximum=10_000)
        with self._lock:
            files = [s.file for s in self._files.values()
                     if "purpose" not in query or s.file["purpose"] == query["purpose"]]
            return _page(files, limit, _order(query), query.get("after"), None)

    def retrieve_file(self, file_id: str) -> dict[str, Any]:
        with self._lock:
            return copy.deepcopy(self._file(file_id).file)

    def delete_file(self, file_id: str) -> dict[str, Any]:
        with self._lock:
            stored = self._file(file_id)
            del self._files[file_id]
            for attached in self._attached.values():  # deleting a file removes it from every store
                attached.pop(file_id, None)
        stored.content.close()
        return {"id": file_id, "object": "file", "deleted": True}

    def file_content(self, file_id: str) -> RawBody:
        with self._lock:
            stored = self._file(file_id)
        if stored.file["purpose"] == "assistants" and not self.downloads:
            # As the real API: uploads for assistants can be used, not downloaded.
            raise EmulatorError(400, "Not allowed to download files of purpose: assistants.")
        with stored.lock:
            stored.content.seek(0)
            return RawBody(stored.content.read())

    # -------------------------------------------------------- vector stores

    def create_store(self, body: Any) -> dict[str, Any]:
        _validate("CreateVectorStoreRequest", body)
        now = int(self.clock())
        chunking = _resolved_chunking(body.get("chunking_strategy"))
        store: dict[str, Any] = {"id": _new_id("vs_"), "object": "vector_store", "created_at": now,
                                 "name": body.get("name") or "", "usage_bytes": 0, "last_active_at": now,
                                 "metadata": dict(body.get("metadata") or {}), "expires_at": None}
        # `description` and `chunking_strategy` are accepted but, as the real API, never answered.
        _set_expiry(store, body.get("expires_after"))
        with self._lock:
            for file_id in body.get("file_ids", []):
                self._file(file_id)
            self._stores[store["id"]] = store
            self._attached[store["id"]] = {}
            for file_id in body.get("file_ids", []):
                self._attach(store["id"], file_id, {}, chunking)
            return self._store_object(store["id"])

    def list_stores(self, query: dict[str, str]) -> dict[str, Any]:
        limit = _limit(query, default=20, maximum=100)
        with self._lock:
            stores = [self._store_object(i) for i in self._stores]
            return _page(stores, limit, _order(query), query.get("after"), query.get("before"))

    def retrieve_store(self, store_id: str) -> dict[str, Any]:
        with self._lock:
            self._store(store_id)
            self._poll(store_id)
            return self._store_object(store_id)

    def modify_store(self, store_id: str, body: Any) -> dict[str, Any]:
        _validate("UpdateVectorStoreRequest", body)
        with self._lock:
            store = self._store(store_id)
            if "name" in body:
                store["name"] = body["name"] or ""
            if "metadata" in body:
                store["metadata"] = dict(body["metadata"] or {})
            store["last_active_at"] = int(self.clock())
            if "expires_after" in body:
                _set_expiry(store, body["expires_after"])
            return self._store_object(store_id)

    def delete_store(self, store_id: str) -> dict[str, Any]:
        with self._lock:
            self._store(store_id)
            del self._stores[store_id]
            del self._attached[store_id]  # the uploads stay: deleting a store deletes no file
            for batch_id in [b for b, batch in self._batches.items() if batch["vector_store_id"] == store_id]:
                del self._batches[batch_id]
        return {"id": store_id, "object": "vector_store.deleted", "deleted": True}

    # -------------------------------------------------------- vector store files

    def attach(self, store_id: str, body: Any) -> dict[str, Any]:
        _validate("CreateVectorStoreFileRequest", body)
        with self._lock:
            self._store(store_id)
            self._file(body["file_id"])
            attachment = self._attach(store_id, body["file_id"], body.get("attributes") or {},
                                      _resolved_chunking(body.get("chunking_strategy")))
            return copy.deepcopy(attachment.file)

    def list_store_files(self, store_id: str, query: dict[str, str]) -> dict[str, Any]:
        return self._list_attachments(store_id, None, query)

    def retrieve_store_file(self, store_id: str, file_id: str) -> dict[str, Any]:
        with self._lock:
            self._poll(store_id)
            return copy.deepcopy(self._attachment(store_id, file_id).file)

    def update_store_file(self, store_id: str, file_id: str, body: Any) -> dict[str, Any]:
        _validate("UpdateVectorStoreFileAttributesRequest", body)
        with self._lock:
            attachment = self._attachment(store_id, file_id)
            attachment.file["attributes"] = dict(body["attributes"] or {})
            return copy.deepcopy(attachment.file)

    def detach(self, store_id: str, file_id: str) -> dict[str, Any]:
        with self._lock:
            self._attachment(store_id, file_id)
            del self._attached[store_id][file_id]  # the upload itself stays
        return {"id": file_id, "object": "vector_store.file.deleted", "deleted": True}

    # -------------------------------------------------------- file batches

    def create_batch(self, store_id: str, body: Any) -> dict[str, Any]:
        _validate("CreateVectorStoreFileBatchRequest", body)
        if "files" in body and "file_ids" in body:
            raise EmulatorError(400, "Invalid request: 'files' and 'file_ids' are mutually exclusive.", param="files")
        if "files" in body:
            entries = body["files"]
        else:  # the batch's attributes and chunking apply to each of its file_ids
            entries = [{"file_id": f, "attributes": body.get("attributes"),
                        "chunking_strategy": body.get("chunking_strategy")} for f in body["file_ids"]]
        for index, entry in enumerate(entries):
            _check_attributes(entry.get("attributes"), f"files.{index}.attributes")
            _check_chunking(entry.get("chunking_strategy"), f"files.{index}.chunking_strategy")
        with self._lock:
            self._store(store_id)
            for entry in entries:
                self._file(entry["file_id"])
            batch: dict[str, Any] = {"id": _new_id("vsfb_"), "vector_store_id": store_id,
                                     "created_at": int(self.clock()), "file_ids": [e["file_id"] for e in entries],
                                     "cancelled": False}
            self._batches[batch["id"]] = batch
            for entry in entries:
                attachment = self._attach(store_id, entry["file_id"], entry.get("attributes") or {},
                                          _resolved_chunking(entry.get("chunking_strategy")))
                attachment.batch_id = batch["id"]
            return self._batch_object(batch)

    def retrieve_batch(self, store_id: str, batch_id: str) -> dict[str, Any]:
        with self._lock:
            self._poll(store_id)
            return self._batch_object(self._batch(store_id, batch_id))

    def cancel_batch(self, store_id: str, batch_id: str) -> dict[str, Any]:
        with self._lock:
            batch = self._batch(store_id, batch_id)
            pending = [a for a in self._batch_attachments(batch) if a.file["status"] == "in_progress"]
            if not pending:
                raise EmulatorError(400, f"Cannot cancel batch '{batch_id}': it is no longer in progress.")
            for attachment in pending:
                attachment.file["status"] = "cancelled"
            batch["cancelled"] = True
            return self._batch_object(batch)

    def list_batch_files(self, store_id: str, batch_id: str, query: dict[str, str]) -> dict[str, Any]:
        return self._list_attachments(store_id, batch_id, query)

    # -------------------------------------------------------- helpers (called with the lock held)

    def _attach(self, store_id: str, file_id: str, attributes: dict[str, Any],
                chunking: dict[str, Any]) -> _Attachment:
        existing = self._attached[store_id].get(file_id)
        if existing is not None:
            return existing  # attaching an attached file changes nothing
        stored = self._files[file_id]
        attachment = _Attachment(
            file={"id": file_id, "object": "vector_store.file", "usage_bytes": 0, "created_at": int(self.clock()),
                  "vector_store_id": store_id, "status": "in_progress", "last_error": None,
                  "chunking_strategy": chunking, "attributes": dict(attributes)},
            bytes=stored.file["bytes"], marked=stored.marked, polls_left=self.processing_polls, started=self.clock())
        self._attached[store_id][file_id] = attachment
        self._stores[store_id]["last_active_at"] = int(self.clock())
        self._advance(attachment, poll=False)
        return attachment

    def _poll(self, store_id: str) -> None:
        """One read of a store: its files' processing moves on."""
        for attachment in self._attached.get(store_id, {}).values():
            self._advance(attachment, poll=True)

    def _advance(self, attachment: _Attachment, *, poll: bool) -> None:
        if attachment.file["status"] != "in_progress":
            return
        if self.processing_seconds is not None:
            done = self.clock() - attachment.started >= self.processing_seconds
        else:
            attachment.polls_left -= 1 if poll else 0
            done = attachment.polls_left <= 0
        if not done:
            return
        if attachment.marked:
            attachment.file["status"] = "failed"
            attachment.file["last_error"] = {"code": "invalid_file",
                                             "message": "The file could not be parsed for file_search."}
        else:
            attachment.file["status"] = "completed"
            attachment.file["usage_bytes"] = attachment.bytes

    def _list_attachments(self, store_id: str, batch_id: str | None, query: dict[str, str]) -> dict[str, Any]:
        limit = _limit(query, default=20, maximum=100)
        wanted = query.get("filter")
        if wanted is not None and wanted not in ("in_progress", "completed", "failed", "cancelled"):
            raise EmulatorError(400, f"Invalid 'filter': expected one of in_progress, completed, failed, cancelled, "
                                f"got {wanted!r}.", param="filter")
        with self._lock:
            self._store(store_id)
            self._poll(store_id)
            if batch_id is None:
                attachments = list(self._attached[store_id].values())
            else:
                attachments = self._batch_attachments(self._batch(store_id, batch_id))
            files = [copy.deepcopy(a.file) for a in attachments if wanted is None or a.file["status"] == wanted]
            return _page(files, limit, _order(query), query.get("after"), query.get("before"))

    def _store_object(self, store_id: str) -> dict[str, Any]:
        store = copy.deepcopy(self._stores[store_id])
        attachments = list(self._attached[store_id].values())
        store["file_counts"] = _counts(attachments)
        store["status"] = "in_progress" if store["file_counts"]["in_progress"] else "completed"
        store["usage_bytes"] = sum(a.file["usage_bytes"] for a in attachments)
        return store

    def _batch_attachments(self, batch: dict[str, Any]) -> list[_Attachment]:
        attached = self._attached[batch["vector_store_id"]]
        return [attached[f] for f in batch["file_ids"] if f in attached and attached[f].batch_id == batch["id"]]

    def _batch_object(self, batch: dict[str, Any]) -> dict[str, Any]:
        counts = _counts(self._batch_attachments(batch))
        status = "cancelled" if batch["cancelled"] else "in_progress" if counts["in_progress"] else "completed"
        return {"id": batch["id"], "object": "vector_store.files_batch", "created_at": batch["created_at"],
                "vector_store_id": batch["vector_store_id"], "status": status, "file_counts": counts}

    def _file(self, file_id: str) -> _StoredFile:
        try:
            return self._files[file_id]
        except KeyError:
            raise EmulatorError(404, f"No such File object: {file_id}", param="id") from None

    def _store(self, store_id: str) -> dict[str, Any]:
        try:
            return self._stores[store_id]
        except KeyError:
            raise EmulatorError(404, f"No vector store found with id '{store_id}'.") from None

    def _attachment(self, store_id: str, file_id: str) -> _Attachment:
        self._store(store_id)
        try:
            return self._attached[store_id][file_id]
        except KeyError:
            raise EmulatorError(404, f"No file found with id '{file_id}' in vector store '{store_id}'.") from None

    def _batch(self, store_id: str, batch_id: str) -> dict[str, Any]:
        self._store(store_id)
        batch = self._batches.get(batch_id)
        if batch is None or batch["vector_store_id"] != store_id:
            raise EmulatorError(404, f"No file batch found with id '{batch_id}' in vector store '{store_id}'.")
        return batch


# ---------------------------------------------------------------- pure helpers


def _counts(attachments: list[_Attachment]) -> dict[str, int]:
    counts = {"in_progress": 0, "completed": 0, "failed": 0, "cancelled": 0, "total": len(attachments)}
    for attachment in attachments:
        counts[attachment.file["status"]] += 1
    return counts


def _set_expiry(store: dict[str, Any], expires_after: dict[str, Any] | None) -> None:
    if expires_after is None:
        store.pop("expires_after", None)
        store["expires_at"] = None
    else:
        store["expires_after"] = dict(expires_after)
        store["expires_at"] = store["last_active_at"] + 86_400 * int(expires_after["days"])


def _resolved_chunking(strategy: dict[str, Any] | None) -> dict[str, Any]:
    """What a vector store file answers: `auto` (or nothing) is static 800/400."""
    if strategy is None or strategy.get("type") == "auto":
        return copy.deepcopy(AUTO_CHUNKING)
    return {"type": "static", "static": dict(strategy["static"])}


def _validate(component: str, body: Any) -> None:
    """The official schema, plus the limits the spec states only in prose."""
    if not isinstance(body, dict):
        raise EmulatorError(400, "The request body must be a JSON object.")
    _check_attributes(body.get("attributes"), "attributes")  # before the schema: its anyOf words it poorly
    nullable = _nullable_properties(component)
    violation = first_violation(component, {k: v for k, v in body.items() if v is not None or k not in nullable},
                                KNOWLEDGE_SPEC)
    if violation is not None:
        param, message = violation
        raise EmulatorError(400, f"Invalid '{param or 'body'}': {message}", param=param)
    check_metadata(body.get("metadata") or {})
    _check_chunking(body.get("chunking_strategy"), "chunking_strategy")


@cache
def _nullable_properties(component: str) -> frozenset[str]:
    """Properties the spec marks with OpenAPI 3.0's `nullable: true`, which JSON Schema ignores."""
    properties = openapi_document(KNOWLEDGE_SPEC)["components"]["schemas"][component].get("properties", {})
    return frozenset(name for name, schema in properties.items()
                     if schema.get("nullable") or any(part.get("nullable") for part in schema.get("allOf", [])))


def _check_attributes(attributes: Any, param: str) -> None:
    if not isinstance(attributes, dict):
        return  # null, or a wrong type the schema names
    if len(attributes) > ATTRIBUTES_MAX_PAIRS:
        raise EmulatorError(
            400, f"Invalid '{param}': too many properties. Expected an object with at most {ATTRIBUTES_MAX_PAIRS} "
            f"properties, but got an object with {len(attributes)} properties instead.", param=param)
    for key, value in attributes.items():
        if len(key) > ATTRIBUTE_KEY_MAX:
            raise EmulatorError(400, f"Invalid '{param}': key is too long, at most {ATTRIBUTE_KEY_MAX} characters.",
                                param=f"{param}.{key[:ATTRIBUTE_KEY_MAX]}")
        if not isinstance(value, str | int | float | bool) or value is None:
            raise EmulatorError(400, f"Invalid '{param}.{key}': expected a string, number or boolean.",
                                param=f"{param}.{key}")
        if isinstance(value, str) and len(value) > ATTRIBUTE_VALUE_MAX:
            raise EmulatorError(400, f"Invalid '{param}.{key}': string too long. Expected a string with maximum "
                                f"length {ATTRIBUTE_VALUE_MAX}, but got a string with length {len(value)} instead.",
                                param=f"{param}.{key}")


def _check_chunking(strategy: Any, param: str) -> None:
    static = strategy.get("static") if isinstance(strategy, dict) and strategy.get("type") == "static" else None
    if not isinstance(static, dict):
        return
    size, overlap = static.get("max_chunk_size_tokens"), static.get("chunk_overlap_tokens")
    if isinstance(size, int) and isinstance(overlap, int) and not 0 <= overlap <= size // 2:
        raise EmulatorError(400, f"Invalid '{param}.static.chunk_overlap_tokens': must be between 0 and half of "
                            f"max_chunk_size_tokens ({size // 2}), got {overlap}.",
                            param=f"{param}.static.chunk_overlap_tokens")


def _limit(query: dict[str, str], *, default: int, maximum: int) -> int:
    text = query.get("limit", str(default))
    try:
        limit = int(text)
    except ValueError:
        raise EmulatorError(400, f"Invalid 'limit': expected an integer, got {text!r}.", param="limit") from None
    if not 1 <= limit <= maximum:
        raise EmulatorError(400, f"Invalid 'limit': expected an integer between 1 and {maximum}, got {limit}.",
                            param="limit")
    return limit


def _order(query: dict[str, str]) -> str:
    order = query.get("order", "desc")
    if order not in ("asc", "desc"):
        raise EmulatorError(400, f"Invalid 'order': expected 'asc' or 'desc', got {order!r}.", param="order")
    return order


def _page(objects: list[dict[str, Any]], limit: int, order: str, after: str | None,
          before: str | None) -> dict[str, Any]:
    """A cursor page of `objects` (given in creation order), as the assistants list pages."""
    ids = [o["id"] for o in objects]
    by_id = dict(zip(ids, objects, strict=True))
    if order == "desc":
        ids.reverse()
    start, end = 0, len(ids)
    if after is not None:
        start = _cursor(ids, after, "after") + 1
    if before is not None:
        end = _cursor(ids, before, "before")
    window = ids[start:end]
    page = window[-limit:] if before is not None and after is None else window[:limit]
    data = [copy.deepcopy(by_id[i]) for i in page]
    return {"object": "list", "data": data, "first_id": data[0]["id"] if data else None,
            "last_id": data[-1]["id"] if data else None, "has_more": len(window) > len(page)}


def _cursor(ids: list[str], cursor: str, name: str) -> int:
    try:
        return ids.index(cursor)
    except ValueError:
        raise EmulatorError(400, f"Invalid '{name}': no object with id '{cursor}' in this list.", param=name) from None


def _number(text: str) -> Any:
    try:
        return int(text)
    except ValueError:
        return text


def _json(body: bytes | Upload) -> Any:
    if isinstance(body, Upload):
        raise EmulatorError(400, "Expected a JSON body.")
    return json_body(body)
