"""The `kind: agent` manifest and the canonical form of an agent (OpenAI's Agents API, beta).

The kind (`AGENT`, at the end) adapts this to the engine. The wire shapes are those of the official openai package
3.54.0 (``emulator/AGENTS-PROVENANCE.md`` lists each source file and every default).

The manifest model is as strict as the assistant one: unknown fields, wrong types and
the API's limits are errors before any request. Where the Agents API states no limit,
none is invented, except the rules noted at each constant.

The canonical form (`canonical_from_manifest`, `canonical_from_api`) is a plain dict of
the managed fields in display order, in which every way of saying "the default" is one
value, so that a no-op is plain equality:

- `name`, `instructions`: null for null or "".
- `metadata`: a sorted dict; null is {}.
- top-level settings are *resolved*, as the server answers them: `service_tier` "auto";
  `text` {"format": {"type": "text"}, "verbosity": "medium"}; `multi_agent`
  {"enabled": false, "max_concurrent_subagents": null}, 6 subagents when enabled and
  none given, and null whenever disabled (the server drops it); `compaction`
  {"async": false}; `experimental` {"time_awareness": false}.
- `reasoning` is {"effort", "summary"}; the server resolves an omitted effort to the
  model's default, which no source lists, so an effort the manifest leaves out is not
  managed: pass ``manage_effort=False`` to `canonical_from_api` and both sides say null.
- tools are *minimal*: each keeps its required fields and only the settings that differ
  from what the server fills in (a function's `defer_loading: false` and `async: null`,
  `enabled: true`, `connection_origin: "service"`, empty `request_metadata`, MCP
  `headers`, `args`, `env_vars`, `required: false`, web search `context_size: "medium"`,
  `mode: "live"`, null location keys, `include_screenshots: false` all vanish).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Annotated, Any, Literal, Union

from pydantic import Field, StringConstraints, field_validator, model_validator
from pydantic_core import PydanticCustomError

from ..ownership import KEY_PATTERN
from .base import (CanonicalFields, Kind, ManifestChecks, ReferencedFiles, Strict, defaults_model_of,
                   flat_tool_identity, instructions_to_file, read_flat_references)

KIND = "agent"
# Every field the agent kind manages, in display order.
AGENT_FIELDS: tuple[str, ...] = (
    "model", "name", "instructions", "tools", "reasoning", "text", "multi_agent", "service_tier",
    "compaction", "experimental", "metadata",
)
# Fields a manifest may hand over to another process; metadata holds our tags, so it stays.
# The engine's fields split `reasoning` in two, so that an effort left out is not managed
# while the summary is (an effort is a field of its own, as assistants' reasoning_effort).
KIND_FIELDS: tuple[str, ...] = tuple(
    part for f in AGENT_FIELDS for part in (("reasoning.effort", "reasoning.summary") if f == "reasoning" else (f,)))
AGENT_IGNORABLE_FIELDS: tuple[str, ...] = tuple(f for f in KIND_FIELDS if f != "metadata")

SERVICE_TIERS = ("auto", "default", "flex", "priority", "fast", "ultrafast")
REASONING_EFFORTS = ("none", "minimal", "low", "medium", "high", "xhigh", "max")
REASONING_SUMMARIES = ("concise", "detailed", "auto")
VERBOSITIES = ("low", "medium", "high")
METADATA_KEY_MAX = 64
METADATA_VALUE_MAX = 512
TOOLS_MAX_BYTES = 3 * 1024 * 1024  # stated: the tool list fits in 3 MiB of compact UTF-8 JSON
DEFAULT_MAX_CONCURRENT_SUBAGENTS = 6  # stated: "Defaults to 6"
# Not stated by the Agents API: the function-name rule of every other OpenAI API.
FUNCTION_NAME_PATTERN = r"^[a-zA-Z0-9_-]{1,64}$"
# Not stated: an id is letters, digits, '_' and '-' (the emulator answers agent_...).
AGENT_ID_PATTERN = r"^[A-Za-z0-9_-]{1,128}$"

NonEmpty = Annotated[str, StringConstraints(min_length=1)]




# --- tools (persisted_agent_tool_param.py) --------------------------------------------------------


class FunctionTool(Strict):
    """A flat function tool: no nested `function`, no `strict`."""

    type: Literal["function"]
    name: Annotated[str, StringConstraints(pattern=FUNCTION_NAME_PATTERN)]
    description: str  # required by the Agents API
    parameters: dict[str, Any] | None = None
    parameters_file: NonEmpty | None = None
    defer_loading: bool | None = None
    async_: bool | None = Field(default=None, alias="async")

    @model_validator(mode="after")
    def _one_parameters_source(self) -> FunctionTool:
        if self.parameters is not None and self.parameters_file is not None:
            raise PydanticCustomError("exclusive", "give either parameters or parameters_file, not both")
        if self.parameters is None and self.parameters_file is None:
            raise PydanticCustomError("missing_parameters",
                                      "a function tool needs parameters or parameters_file (the Agents API "
                                      "requires a JSON Schema; use {type: object, properties: {}} for none)")
        return self


class ToolSearchTool(Strict):
    type: Literal["tool_search"]


class ProgrammaticToolCallingTool(Strict):
    type: Literal["programmatic_tool_calling"]
    enabled: bool | None = None


class HttpTransport(Strict):
    type: Literal["http"]
    server_url: NonEmpty
    headers: dict[str, str] | None = None  # non-secret headers only: the API stores them


class StdioTransport(Strict):
    type: Literal["stdio"]
    command: NonEmpty
    cwd: NonEmpty
    args: list[str] | None = None
    env_vars: list[str] | None = None


McpTransport = Annotated[Union[HttpTransport, StdioTransport], Field(discriminator="type")]


class McpTool(Strict):
    type: Literal["mcp"]
    server_label: NonEmpty
    transport: McpTransport
    allowed_tools: list[str] | None = None
    connection_origin: Literal["service", "environment"] | None = None
    credential_id: str | None = None
    request_metadata: dict[str, Any] | None = None
    required: bool | None = None


class WebSearchLocation(Strict):
    city: str | None = None
    country: str | None = None
    region: str | None = None
    timezone: str | None = None


class WebSearchTool(Strict):
    type: Literal["web_search"]
    allowed_domains: list[str] | None = None
    context_size: Literal["low", "medium", "high"] | None = None
    location: WebSearchLocation | None = None
    mode: Literal["disabled", "cached", "live"] | None = None


class ComputerUseTool(Strict):
    type: Literal["computer_use"]
    include_screenshots: bool | None = None


class AutomationsTool(Strict):
    type: Literal["automations"]


AgentTool = Annotated[
    Union[FunctionTool, ToolSearchTool, ProgrammaticToolCallingTool, McpTool, WebSearchTool, ComputerUseTool,
          AutomationsTool],
    Field(discriminator="type"),
]


# --- settings -----------------------------------------------------------------------------------


class Reasoning(Strict):
    effort: Literal[REASONING_EFFORTS] | None = None  # type: ignore[valid-type]
    summary: Literal[REASONING_SUMMARIES] | None = None  # type: ignore[valid-type]


class TextFormatText(Strict):
    type: Literal["text"]


class TextFormatJsonSchema(Strict):
    """Only `type` and `schema`: the Agents API has no `name` or `strict` here."""

    type: Literal["json_schema"]
    schema_: dict[str, Any] = Field(alias="schema")


class Text(Strict):
    format: Annotated[Union[TextFormatText, TextFormatJsonSchema], Field(discriminator="type")] | None = None
    verbosity: Literal[VERBOSITIES] | None = None  # type: ignore[valid-type]


class MultiAgent(Strict):
    enabled: bool
    # Not stated: a range. Fewer than one concurrent subagent cannot run any.
    max_concurrent_subagents: int | None = Field(default=None, ge=1)


class Compaction(Strict):
    async_: bool | None = Field(default=None, alias="async")


class Experimental(Strict):
    time_awareness: bool | None = None


MetadataKey = Annotated[str, StringConstraints(min_length=1, max_length=METADATA_KEY_MAX)]
MetadataValue = Annotated[str, StringConstraints(max_length=METADATA_VALUE_MAX)]


class AgentManifest(ManifestChecks):
    """One YAML document of `kind: agent`: one desired reusable agent."""

    kind: Literal["agent"] = "agent"
    key: Annotated[str, StringConstraints(pattern=KEY_PATTERN)]
    previous_keys: list[Annotated[str, StringConstraints(pattern=KEY_PATTERN)]] = Field(default_factory=list)
    # Before metadata: its pair budget depends on protect.
    protect: bool = False
    ignore_changes: list[Literal[AGENT_IGNORABLE_FIELDS]] = Field(default_factory=list)  # type: ignore[valid-type]
    adopt: Annotated[str, StringConstraints(pattern=AGENT_ID_PATTERN)] | None = None
    model: NonEmpty
    name: str | None = None
    instructions: str | None = None
    instructions_file: NonEmpty | None = None
    tools: list[AgentTool] = Field(default_factory=list)
    reasoning: Reasoning | None = None
    text: Text | None = None
    multi_agent: MultiAgent | None = None
    service_tier: Literal[SERVICE_TIERS] | None = None  # type: ignore[valid-type]
    compaction: Compaction | None = None
    experimental: Experimental | None = None
    metadata: dict[MetadataKey, MetadataValue] = Field(default_factory=dict)

    @field_validator("tools")
    @classmethod
    def _tools_fit(cls, value: list[Any]) -> list[Any]:
        size = len(_compact_json([t.model_dump(by_alias=True, exclude_none=True) for t in value]))
        if size > TOOLS_MAX_BYTES:
            raise PydanticCustomError(
                "tools_too_large",
                f"the tool list takes {size} bytes of compact JSON; the API allows {TOOLS_MAX_BYTES}")
        return value


# `defaults:` in assistants-sync.yaml: any manifest field but the identity ones (and `kind`).
AgentDefaults = defaults_model_of("AgentDefaults", AgentManifest, ("protect", "ignore_changes", *AGENT_FIELDS))


# --- canonical form -----------------------------------------------------------------------------


def effort_is_managed(manifest: AgentManifest) -> bool:
    """Whether the manifest sets a reasoning effort (else the server's model default is not compared)."""
    return manifest.reasoning is not None and manifest.reasoning.effort is not None


def manifest_request_fields(manifest: AgentManifest, files: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The API-shaped fields a manifest asks for, with referenced files read.

    `files` maps each path the manifest references (`instructions_file`, a function's
    `parameters_file`) to its content: the text, or the parsed JSON Schema object.
    """
    loaded = files or {}
    fields = manifest.model_dump(
        by_alias=True, exclude_none=True,
        exclude={"kind", "key", "previous_keys", "protect", "ignore_changes", "adopt", "instructions_file"},
    )
    if manifest.instructions_file is not None:
        fields["instructions"] = _referenced(loaded, manifest.instructions_file)
    for tool in fields.get("tools", []):
        if "parameters_file" in tool:
            tool["parameters"] = _referenced(loaded, tool.pop("parameters_file"))
    return fields


def canonical_from_manifest(manifest: AgentManifest, files: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The canonical form of what a manifest asks for (see the module docstring)."""
    return _canonical(manifest_request_fields(manifest, files), manage_effort=True)


def canonical_from_api(obj: Mapping[str, Any], *, manage_effort: bool = True) -> dict[str, Any]:
    """The canonical form of an agent as the server answers it (or of a create body)."""
    return _canonical(obj, manage_effort=manage_effort)


def _canonical(obj: Mapping[str, Any], *, manage_effort: bool) -> dict[str, Any]:
    reasoning = obj.get("reasoning") or {}
    text = obj.get("text") or {}
    multi_agent = obj.get("multi_agent") or {}
    enabled = bool(multi_agent.get("enabled"))
    concurrent = multi_agent.get("max_concurrent_subagents")
    return {
        "model": str(obj.get("model") or ""),
        "name": obj.get("name") or None,
        "instructions": obj.get("instructions") or None,
        "tools": [_tool(t) for t in obj.get("tools") or []],
        "reasoning": {"effort": (reasoning.get("effort") or None) if manage_effort else None,
                      "summary": reasoning.get("summary") or None},
        "text": {"format": _text_format(text.get("format")), "verbosity": text.get("verbosity") or "medium"},
        "multi_agent": {
            "enabled": enabled,
            "max_concurrent_subagents":
                (DEFAULT_MAX_CONCURRENT_SUBAGENTS if concurrent is None else int(concurrent)) if enabled else None,
        },
        "service_tier": obj.get("service_tier") or "auto",
        "compaction": {"async": bool((obj.get("compaction") or {}).get("async"))},
        "experimental": {"time_awareness": bool((obj.get("experimental") or {}).get("time_awareness"))},
        "metadata": {str(k): str(v) for k, v in sorted((obj.get("metadata") or {}).items())},
    }


def _text_format(value: Any) -> dict[str, Any]:
    if not isinstance(value, Mapping) or value.get("type") in (None, "text"):
        return {"type": "text"}
    if value.get("type") == "json_schema":
        return {"type": "json_schema", "schema": value.get("schema") or {}}
    return dict(value)  # a format this version does not know: compared as given


def _tool(tool: Mapping[str, Any]) -> dict[str, Any]:
    kind = tool.get("type")
    if kind == "function":
        canonical = {"type": "function", "name": tool.get("name"), "description": tool.get("description") or "",
                     "parameters": tool.get("parameters") or {}}
        return {**canonical, **_set_flags(tool, "defer_loading", "async")}
    if kind == "programmatic_tool_calling":
        return {"type": kind, **({"enabled": False} if tool.get("enabled") is False else {})}
    if kind == "mcp":
        return _mcp_tool(tool)
    if kind == "web_search":
        return _web_search_tool(tool)
    if kind == "computer_use":
        return {"type": kind, **_set_flags(tool, "include_screenshots")}
    if kind in ("tool_search", "automations"):
        return {"type": kind}
    return dict(tool)  # a tool type this version does not know: compared as given


def _set_flags(tool: Mapping[str, Any], *names: str) -> dict[str, bool]:
    """The boolean settings that are on (off and null are the server's default)."""
    return {name: True for name in names if tool.get(name) is True}


def _mcp_tool(tool: Mapping[str, Any]) -> dict[str, Any]:
    canonical: dict[str, Any] = {"type": "mcp", "server_label": tool.get("server_label"),
                                 "transport": _transport(tool.get("transport") or {})}
    if tool.get("allowed_tools") is not None:
        canonical["allowed_tools"] = list(tool["allowed_tools"])  # [] allows none; null allows all
    if tool.get("connection_origin") == "environment":
        canonical["connection_origin"] = "environment"
    if tool.get("credential_id"):
        canonical["credential_id"] = tool["credential_id"]
    if tool.get("request_metadata"):
        canonical["request_metadata"] = dict(tool["request_metadata"])
    return {**canonical, **_set_flags(tool, "required")}


def _transport(transport: Mapping[str, Any]) -> dict[str, Any]:
    if transport.get("type") == "http":
        canonical: dict[str, Any] = {"type": "http", "server_url": transport.get("server_url")}
        if transport.get("headers"):
            canonical["headers"] = dict(sorted(transport["headers"].items()))
        return canonical
    if transport.get("type") == "stdio":
        canonical = {"type": "stdio", "command": transport.get("command"), "cwd": transport.get("cwd")}
        for name in ("args", "env_vars"):
            if transport.get(name):
                canonical[name] = list(transport[name])
        return canonical
    return dict(transport)


def _web_search_tool(tool: Mapping[str, Any]) -> dict[str, Any]:
    canonical: dict[str, Any] = {"type": "web_search"}
    if tool.get("allowed_domains") is not None:
        canonical["allowed_domains"] = list(tool["allowed_domains"])
    if tool.get("context_size") not in (None, "medium"):
        canonical["context_size"] = tool["context_size"]
    location = {k: v for k, v in (tool.get("location") or {}).items() if v is not None}
    if location:
        canonical["location"] = dict(sorted(location.items()))
    if tool.get("mode") not in (None, "live"):
        canonical["mode"] = tool["mode"]
    return canonical


def _referenced(files: Mapping[str, Any], path: str) -> Any:
    try:
        return files[path]
    except KeyError:
        raise KeyError(f"{path}: referenced by the manifest but not read") from None


def _compact_json(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


# --- the kind -------------------------------------------------------------------------------------

_REASONING_PARTS = ("effort", "summary")
# The canonical value of each field when nothing is said (what the server fills in).
KIND_DEFAULTS: dict[str, Any] = {
    name: value for name, value in _canonical({}, manage_effort=True).items() if name != "reasoning"
} | {"reasoning.effort": None, "reasoning.summary": None}


def _nested(obj: Mapping[str, Any]) -> dict[str, Any]:
    """`obj` with `reasoning.effort` / `reasoning.summary` (the kind's fields) put back into `reasoning`."""
    parts = {p: obj[f"reasoning.{p}"] for p in _REASONING_PARTS if f"reasoning.{p}" in obj}
    nested = {k: v for k, v in obj.items() if not k.startswith("reasoning.")}
    if parts:
        nested["reasoning"] = {**(obj.get("reasoning") or {}), **parts}
    return nested


def _flat(canonical: Mapping[str, Any]) -> dict[str, Any]:
    reasoning = canonical.get("reasoning") or {}
    values = {}
    for name, value in canonical.items():
        if name == "reasoning":
            values.update({f"reasoning.{p}": reasoning.get(p) for p in _REASONING_PARTS})
        else:
            values[name] = value
    return values


def _without_nulls(value: Any) -> Any:
    """A setting as sent: null members left out (the server's default), nested too."""
    if isinstance(value, Mapping):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    return value


class AgentKind(Kind):
    """Reusable agents: ``/agents`` of OpenAI's Agents API (beta, ``OpenAI-Beta: agents=v1``)."""

    name = "agent"
    noun = "agent"
    plural = "agents"
    path = "agents"
    beta = "agents=v1"
    manifest_model = AgentManifest
    defaults_model = AgentDefaults
    fields = KIND_FIELDS
    defaults = KIND_DEFAULTS
    unmanaged_when_unset = frozenset({"reasoning.effort"})
    known_field_names = frozenset(
        name for model in (AgentManifest, FunctionTool, McpTool, HttpTransport, StdioTransport, WebSearchTool,
                           WebSearchLocation, ComputerUseTool, ProgrammaticToolCallingTool, Reasoning, Text,
                           TextFormatJsonSchema, MultiAgent, Compaction, Experimental)
        for name in (*model.model_fields, *(f.alias for f in model.model_fields.values() if f.alias)))
    manifest_only = frozenset({"instructions_file", "kind"})

    def normalise(self, obj: Mapping[str, Any]) -> CanonicalFields:
        canonical = _flat(_canonical(_nested(obj), manage_effort=True))
        return CanonicalFields(tuple((name, canonical[name]) for name in KIND_FIELDS))

    def request_body(self, fields: Mapping[str, Any], *, replace: bool) -> dict[str, Any]:
        body = _nested(fields)
        if "reasoning" in body:
            reasoning = _without_nulls(body["reasoning"])
            body["reasoning"] = reasoning or None
        for name in ("text", "multi_agent", "compaction", "experimental"):
            if name in body:
                body[name] = _without_nulls(body[name])
        if "tools" in body:
            body["tools"] = [_without_nulls(t) for t in body["tools"]]
        return body

    def complete_request(self, request: dict[str, Any], files: ReferencedFiles) -> None:
        read_flat_references(request, files)
        reasoning = request.pop("reasoning", None) or {}
        for part in _REASONING_PARTS:
            if reasoning.get(part) is not None:
                request[f"reasoning.{part}"] = reasoning[part]

    def export_document(self, canonical: Any, unmanaged: frozenset[str]) -> dict[str, Any]:
        values = canonical.as_dict()
        left_unset = unmanaged & self.unmanaged_when_unset
        document = {name: values[name] for name in self.fields
                    if name not in left_unset and values[name] not in (None, [], {}, "")
                    and values[name] != KIND_DEFAULTS[name]}
        return _nested(document) if "reasoning" not in document else document

    def export_files(self, key: str, document: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
        return instructions_to_file(key, document)

    def tool_identity(self, tool: Mapping[str, Any]) -> str:
        return flat_tool_identity(tool) or super().tool_identity(tool)


AGENT = AgentKind()
