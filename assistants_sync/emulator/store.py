"""The emulator's state and server-side behaviour, without HTTP.

Behaviour follows ``shared/openapi``: requests are validated against the official
schemas, the server fills in defaults (``PROVENANCE.md``), modify replaces each field
it is sent, lists are cursor-paginated, errors have the official shape. Metadata
limits, stated by the spec only in prose, are enforced too. State lives in memory,
optionally mirrored to a JSON file after every change.
"""

from __future__ import annotations

import copy
import json
import os
import secrets
import string
import threading
import time
from pathlib import Path
from typing import Any

from .spec import first_violation

METADATA_MAX_PAIRS = 16
METADATA_KEY_MAX = 64
METADATA_VALUE_MAX = 512
DEFAULT_RANKING = {"ranker": "default_2024_08_21", "score_threshold": 0.0}
_ID_ALPHABET = string.ascii_letters + string.digits


class EmulatorError(Exception):
    """An API error: rendered as ``{"error": {message, type, param, code}}``."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        param: str | None = None,
        code: str | None = None,
        type: str = "invalid_request_error",
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.param = param
        self.code = code
        self.type = type

    def body(self) -> dict[str, Any]:
        return {"error": {"message": self.message, "type": self.type, "param": self.param, "code": self.code}}


class AssistantStore:
    """Assistants by id, in creation order; thread-safe.

    A stored assistant dict is never modified in place (modify stores a new one), so
    `list` may hand out the stored dicts themselves: callers must treat them as read-only.
    """

    def __init__(self, path: str | os.PathLike[str] | None = None, *, persist: bool = True) -> None:
        """State from `path` if it exists; with `persist`, every change is written back to it."""
        self._path = Path(path) if path is not None and persist else None
        self._lock = threading.Lock()
        self._assistants: dict[str, dict[str, Any]] = {}
        if path is not None and Path(path).exists():
            saved = json.loads(Path(path).read_text(encoding="utf-8"))
            self._assistants = {a["id"]: a for a in saved.get("assistants", [])}

    def dump(self, path: str | os.PathLike[str]) -> None:
        """Write the current state to `path` (the format `path=` loads)."""
        with self._lock:
            Path(path).write_text(json.dumps({"assistants": list(self._assistants.values())}), encoding="utf-8")

    def __len__(self) -> int:
        return len(self._assistants)

    def create(self, body: Any) -> dict[str, Any]:
        _validate("CreateAssistantRequest", body)
        assistant: dict[str, Any] = {
            "id": "asst_" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(24)),
            "object": "assistant",
            "created_at": int(time.time()),
            "name": None,
            "description": None,
            "model": body["model"],
            "instructions": None,
            "tools": [],
            "tool_resources": {},
            "metadata": {},
            "top_p": 1.0,
            "temperature": 1.0,
            "response_format": "auto",
            "reasoning_effort": None,
        }
        _assign(assistant, body)
        with self._lock:
            self._assistants[assistant["id"]] = assistant
            self._save()
            return copy.deepcopy(assistant)

    def retrieve(self, assistant_id: str) -> dict[str, Any]:
        with self._lock:
            return copy.deepcopy(self._get(assistant_id))

    def modify(self, assistant_id: str, body: Any) -> dict[str, Any]:
        _validate("ModifyAssistantRequest", body)
        with self._lock:
            assistant = self._get(assistant_id)
            updated = copy.deepcopy(assistant)
            _assign(updated, body)
            self._assistants[assistant_id] = updated
            self._save()
            return copy.deepcopy(updated)

    def delete(self, assistant_id: str) -> dict[str, Any]:
        with self._lock:
            self._get(assistant_id)
            del self._assistants[assistant_id]
            self._save()
        return {"id": assistant_id, "object": "assistant.deleted", "deleted": True}

    def list(self, *, limit: int = 20, order: str = "desc", after: str | None = None,
             before: str | None = None) -> dict[str, Any]:
        if not 1 <= limit <= 100:
            raise EmulatorError(400, f"Invalid 'limit': expected an integer between 1 and 100, got {limit}.", param="limit")
        if order not in ("asc", "desc"):
            raise EmulatorError(400, f"Invalid 'order': expected 'asc' or 'desc', got {order!r}.", param="order")
        with self._lock:
            ids = list(self._assistants)
            if order == "desc":
                ids.reverse()
            start, end = 0, len(ids)
            if after is not None:
                start = _cursor_index(ids, after, "after") + 1
            if before is not None:
                end = _cursor_index(ids, before, "before")
            window = ids[start:end]
            # `before` pages end at the cursor, so they take the last `limit` ids before it.
            page = window[-limit:] if before is not None and after is None else window[:limit]
            # Stored objects are replaced, never changed in place, so they can be served as they are.
            data = [self._assistants[i] for i in page]
        return {
            "object": "list",
            "data": data,
            # The real API answers null for an empty page (the spec says string).
            "first_id": data[0]["id"] if data else None,
            "last_id": data[-1]["id"] if data else None,
            "has_more": len(window) > len(page),
        }

    def _get(self, assistant_id: str) -> dict[str, Any]:
        try:
            return self._assistants[assistant_id]
        except KeyError:
            raise EmulatorError(404, f"No assistant found with id '{assistant_id}'.") from None

    def _save(self) -> None:
        if self._path is None:
            return
        temporary = self._path.with_name(self._path.name + ".tmp")
        temporary.write_text(json.dumps({"assistants": list(self._assistants.values())}, indent=1), encoding="utf-8")
        os.replace(temporary, self._path)


def _validate(component: str, body: Any) -> None:
    if not isinstance(body, dict):
        raise EmulatorError(400, "The request body must be a JSON object.")
    violation = first_violation(component, body)
    if violation is not None:
        param, message = violation
        raise EmulatorError(400, f"Invalid '{param or 'body'}': {message}", param=param)
    check_metadata(body.get("metadata") or {})


def json_body(body: bytes) -> Any:
    """A request's JSON body (None when empty), or the API's 400 for one that is not JSON."""
    try:
        return json.loads(body or b"null")
    except ValueError:
        raise EmulatorError(
            400, "We could not parse the JSON body of your request. (HINT: This likely means you aren't using "
            "your HTTP library correctly.)") from None


def check_metadata(metadata: dict[str, str]) -> None:
    """The metadata limits every API states in prose: 16 pairs, keys of 64, values of 512 characters."""
    if len(metadata) > METADATA_MAX_PAIRS:
        raise EmulatorError(
            400, f"Invalid 'metadata': too many properties. Expected an object with at most {METADATA_MAX_PAIRS} "
            f"properties, but got an object with {len(metadata)} properties instead.", param="metadata")
    for key, value in metadata.items():
        if len(key) > METADATA_KEY_MAX:
            raise EmulatorError(400, f"Invalid 'metadata': key is too long, at most {METADATA_KEY_MAX} characters.",
                                param=f"metadata.{key[:METADATA_KEY_MAX]}")
        if len(value) > METADATA_VALUE_MAX:
            raise EmulatorError(400, f"Invalid 'metadata.{key}': string too long. Expected a string with maximum "
                                f"length {METADATA_VALUE_MAX}, but got a string with length {len(value)} instead.",
                                param=f"metadata.{key}")


def _assign(assistant: dict[str, Any], body: dict[str, Any]) -> None:
    """Apply the fields of a create or modify body, filling what the server fills."""
    for name, value in body.items():
        if name == "tools":
            assistant["tools"] = [_filled_tool(t) for t in value]
        elif name == "tool_resources":
            assistant["tool_resources"] = _stored_resources(value or {})
        elif name in ("temperature", "top_p"):
            assistant[name] = 1.0 if value is None else float(value)
        elif name == "response_format":
            assistant[name] = "auto" if value is None else copy.deepcopy(value)
        elif name == "metadata":
            assistant[name] = dict(value or {})
        else:
            assistant[name] = copy.deepcopy(value)
    # A tool brings its (empty) resource list with it.
    resources = assistant["tool_resources"]
    kinds = {t["type"] for t in assistant["tools"]}
    if "code_interpreter" in kinds:
        resources.setdefault("code_interpreter", {}).setdefault("file_ids", [])
    if "file_search" in kinds:
        resources.setdefault("file_search", {}).setdefault("vector_store_ids", [])


def _filled_tool(tool: dict[str, Any]) -> dict[str, Any]:
    tool = copy.deepcopy(tool)
    if tool["type"] == "file_search":
        options = tool.setdefault("file_search", {})
        ranking = options.setdefault("ranking_options", dict(DEFAULT_RANKING))
        ranking.setdefault("ranker", DEFAULT_RANKING["ranker"])
    elif tool["type"] == "function":
        function = tool["function"]
        function.setdefault("strict", False)
        function.setdefault("parameters", {"type": "object", "properties": {}})
    return tool


def _stored_resources(resources: dict[str, Any]) -> dict[str, Any]:
    stored: dict[str, Any] = {}
    if "code_interpreter" in resources:
        stored["code_interpreter"] = {"file_ids": list(resources["code_interpreter"].get("file_ids", []))}
    if "file_search" in resources:
        file_search = resources["file_search"]
        ids = list(file_search.get("vector_store_ids", []))
        # The vector_stores helper creates a store; the emulator only mints its id.
        ids += ["vs_" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(24)) for _ in file_search.get("vector_stores", [])]
        stored["file_search"] = {"vector_store_ids": ids}
    return stored


def _cursor_index(ids: list[str], cursor: str, name: str) -> int:
    try:
        return ids.index(cursor)
    except ValueError:
        raise EmulatorError(400, f"Invalid '{name}': no assistant with id '{cursor}'.", param=name) from None
