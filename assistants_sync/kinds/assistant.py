"""The one canonical form of an assistant, shared by plan and apply.

Both sides are converted by the same function, `normalise`, from an API-shaped
mapping: the manifest side from the create request it would send, the remote side
from the object the server returned. In canonical form every way the API has of
saying "none" or "the default" is one value:

- ``None`` for name, description, instructions, temperature, top_p, response_format,
  reasoning_effort (``""``, ``null``, 1.0 and ``"auto"`` all become ``None``);
- ``[]`` / ``{}`` for tools, tool_resources, metadata; empty resource lists vanish;
- tools lose what the server fills in: file_search's default ranking options
  (either ranker with threshold 0), a function's ``strict: false``, empty
  ``description`` and an empty parameter list.

So a no-op is plain equality, and `request_body` turns canonical values back into
values the spec accepts (``tools: []``, never ``tools: null``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..ownership import APPLIED_KEY

# Every field assistants-sync manages, in display order.
FIELDS: tuple[str, ...] = (
    "model",
    "name",
    "description",
    "instructions",
    "tools",
    "tool_resources",
    "metadata",
    "temperature",
    "top_p",
    "response_format",
    "reasoning_effort",
)

# Canonical value meaning "the API default"; a create sends only what differs.
DEFAULTS: dict[str, Any] = {
    "model": "",
    "name": None,
    "description": None,
    "instructions": None,
    "tools": [],
    "tool_resources": {},
    "metadata": {},
    "temperature": None,
    "top_p": None,
    "response_format": None,
    "reasoning_effort": None,
}

# What the spec accepts to reset a field to its default (None is not always accepted).
_RESET_VALUES: dict[str, Any] = {
    "name": "",
    "description": "",
    "instructions": "",
    "temperature": 1.0,
    "top_p": 1.0,
    "response_format": "auto",
}

# reasoning_effort left out of a manifest is not managed, so it is never compared.
UNMANAGED_WHEN_UNSET: frozenset[str] = frozenset({"reasoning_effort"})

_RESOURCE_LISTS = (("code_interpreter", "file_ids"), ("file_search", "vector_store_ids"))


@dataclass(frozen=True, slots=True)
class CanonicalAssistant:
    """An assistant's managed fields, normalised so that equal means no change."""

    model: str
    name: str | None = None
    description: str | None = None
    instructions: str | None = None
    tools: list[dict[str, Any]] = field(default_factory=list)
    tool_resources: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, str] = field(default_factory=dict)
    temperature: float | None = None
    top_p: float | None = None
    response_format: str | dict[str, Any] | None = None
    reasoning_effort: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """Every field, in display order (shallow: values are shared, never mutate them)."""
        return {name: getattr(self, name) for name in FIELDS}


def normalise(obj: Mapping[str, Any]) -> CanonicalAssistant:
    """Canonical form of an API-shaped assistant (a create request or a server object)."""
    return CanonicalAssistant(
        model=str(obj.get("model") or ""),
        name=_text(obj.get("name")),
        description=_text(obj.get("description")),
        instructions=_text(obj.get("instructions")),
        tools=[_tool(t) for t in obj.get("tools") or []],
        tool_resources=_tool_resources(obj.get("tool_resources")),
        metadata={str(k): str(v) for k, v in sorted((obj.get("metadata") or {}).items())},
        temperature=_number_unless_default(obj.get("temperature")),
        top_p=_number_unless_default(obj.get("top_p")),
        response_format=_response_format(obj.get("response_format")),
        reasoning_effort=obj.get("reasoning_effort") or None,
    )


def fingerprint(assistant: CanonicalAssistant, unmanaged: Iterable[str]) -> str:
    """A short hash of the managed fields (the applied tag itself left out).

    Equal canonical forms give equal fingerprints, whatever the key order or spelling
    the server used, because it is computed from the canonical form.
    """
    skipped = set(unmanaged)
    values = {name: value for name, value in assistant.as_dict().items() if name not in skipped}
    if "metadata" in values:
        values["metadata"] = {k: v for k, v in values["metadata"].items() if k != APPLIED_KEY}
    encoded = json.dumps(values, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(encoded.encode()).hexdigest()[:32]


def request_body(fields: Mapping[str, Any], *, replace: bool) -> dict[str, Any]:
    """The JSON body that sets `fields` (canonical values) on the server.

    With `replace` (a modify), resource kinds absent from tool_resources are sent as
    empty lists, so the result is the same whether the server replaces or merges.
    """
    body: dict[str, Any] = {}
    for name, value in fields.items():
        if value is None and name in _RESET_VALUES:
            body[name] = _RESET_VALUES[name]
        elif name == "tool_resources" and replace:
            body[name] = {kind: {ids: list(value.get(kind, {}).get(ids, []))} for kind, ids in _RESOURCE_LISTS}
        else:
            body[name] = value
    return body


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value != "" else None


def _number_unless_default(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    number = float(value)
    return None if number == 1.0 else number


def _tool(tool: Mapping[str, Any]) -> dict[str, Any]:
    kind = tool.get("type")
    if kind == "file_search":
        return _file_search_tool(tool.get("file_search") or {})
    if kind == "function":
        return {"type": "function", "function": _function(tool.get("function") or {})}
    if kind == "code_interpreter":
        return {"type": "code_interpreter"}
    return dict(tool)  # a tool type this version does not know: compared as given


def _file_search_tool(options: Mapping[str, Any]) -> dict[str, Any]:
    canonical: dict[str, Any] = {}
    if options.get("max_num_results") is not None:
        canonical["max_num_results"] = int(options["max_num_results"])
    # The API's two rankers are "auto" and "default_2024_08_21" (what auto resolves to);
    # the server fills one in, so only a non-zero threshold is a real setting.
    threshold = float((options.get("ranking_options") or {}).get("score_threshold") or 0.0)
    if threshold:
        canonical["ranking_options"] = {"score_threshold": threshold}
    if canonical:
        return {"type": "file_search", "file_search": canonical}
    return {"type": "file_search"}


def _function(function: Mapping[str, Any]) -> dict[str, Any]:
    canonical: dict[str, Any] = {"name": function.get("name")}
    if function.get("description"):
        canonical["description"] = function["description"]
    parameters = function.get("parameters")
    if parameters and not _is_empty_parameter_list(parameters):
        canonical["parameters"] = parameters
    if function.get("strict"):
        canonical["strict"] = True
    return canonical


def _is_empty_parameter_list(parameters: Mapping[str, Any]) -> bool:
    # Omitted parameters mean "no parameters"; servers may answer with the explicit form.
    return (
        set(parameters) <= {"type", "properties", "required"}
        and parameters.get("type", "object") == "object"
        and not parameters.get("properties")
        and not parameters.get("required")
    )


def _tool_resources(resources: Mapping[str, Any] | None) -> dict[str, Any]:
    canonical: dict[str, Any] = {}
    for kind, ids in _RESOURCE_LISTS:
        values = ((resources or {}).get(kind) or {}).get(ids) or []
        if values:
            canonical[kind] = {ids: list(values)}
    return canonical


def _response_format(value: Any) -> str | dict[str, Any] | None:
    if value is None or value == "auto":
        return None
    if not isinstance(value, Mapping):
        return value
    if value.get("type") != "json_schema":
        return {"type": value.get("type")}
    schema = value.get("json_schema") or {}
    canonical: dict[str, Any] = {"name": schema.get("name")}
    if schema.get("description"):
        canonical["description"] = schema["description"]
    if schema.get("schema"):
        canonical["schema"] = schema["schema"]
    if schema.get("strict"):
        canonical["strict"] = True
    return {"type": "json_schema", "json_schema": canonical}
