"""The `kind: foundry_agent` manifest and the canonical form of a Microsoft Foundry agent (prompt agents).

The successor of Foundry's classic agents (the Assistants protocol, the `assistant` kind on
``--provider foundry``): named agents whose every change is a new immutable version. Shapes
come from the official ``azure-ai-projects`` 2.10.0 package (`foundry_shapes`, checked
against it by the emulator's tests); requests go to ``{project}/agents?api-version=v1``.

- An agent's id is its name (unique in the project, chosen by the client): `named_id`.
  A changed name is a new agent, so the engine plans a replacement.
- The listing gives each agent with its latest version; the kind flattens that into one
  object: the version's `description`, `metadata` (where the tags are) and definition
  fields, the agent's name as its id, and the version's number (`version_of`).
- The stack owns an agent whose latest version carries its tag. When the latest version
  was made outside (no tag), the agent's earlier versions are read (one request) and the
  newest tagged one says whose it is: the agent is that stack's, changed outside (its tags,
  the applied one too, stand in for the latest's).
- `versioned`: a change is a new version carrying every field; with ``keep_versions``, the
  plan names the stack's older versions that go (`versions_to_delete`) and apply deletes them.

Canonical form, in display order: `name`, `description`, `model`, `instructions`,
`tools`, `tool_choice`, `temperature`, `top_p`, `reasoning`, `text`,
`structured_inputs`, `rai_config`, `metadata`. Every way of saying the default is one
value: null for "", {} and the service's defaults (temperature and top_p 1,
tool_choice "auto", text format "text"); null members of objects are left out.
Tools are flat (Responses-style). ``file_search`` names the stack's vector stores by
key (`vector_stores`) and others by id (`vector_store_ids`); ``code_interpreter``
names repository files (`files`, canonically their sha256, uploaded by the file kind)
and ids (`file_ids`), sent as the container's ``{"type": "auto", "file_ids": [...]}``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Annotated, Any, ClassVar, Literal, Union

from pydantic import ConfigDict, Field, StringConstraints, model_validator
from pydantic_core import PydanticCustomError

from ..errors import ApiError, SyncError
from ..foundry_shapes import FOUNDRY_AGENTS_COLLECTION, NAME_MAX, NAME_RE, REASONING_CHOICES, TOOL_FIELDS
from ..ownership import APPLIED_KEY, KEY_PATTERN, PROTECT_KEY, TAG_KEY, KeyOf, owner_of
from .base import (ApplyContext, Canonical, CanonicalFields, IdOf, Kind, LocalFile, ManifestChecks, ObjectApi,
                   ObjectListing, Reference, ReferencedFiles, Strict, defaults_model_of, exported_file_paths,
                   flat_tool_identity, instructions_to_file, local_entry, local_file_of, read_flat_references)
from .file import MAX_FILE_BYTES

KIND = "foundry_agent"
FIELDS: tuple[str, ...] = ("name", "description", "model", "instructions", "tools", "tool_choice", "temperature",
                           "top_p", "reasoning", "text", "structured_inputs", "rai_config", "metadata")
IGNORABLE_FIELDS: tuple[str, ...] = tuple(f for f in FIELDS if f not in ("metadata", "name"))
# The definition's fields (the rest, name aside, are the version's own: description and metadata).
DEFINITION_FIELDS: tuple[str, ...] = ("model", "instructions", "tools", "tool_choice", "temperature", "top_p",
                                      "reasoning", "text", "structured_inputs", "rai_config")
METADATA_KEY_MAX = 64
METADATA_VALUE_MAX = 512
FUNCTION_NAME_PATTERN = r"^[a-zA-Z0-9_-]{1,64}$"  # the Responses API's rule for function names
FILE_SEARCH_RESULTS_MAX = 50  # the Responses API's range for max_num_results
CODE_INTERPRETER_FILES_MAX = 20  # as classic agents: a container starts with at most 20 files
VECTOR_STORES_MAX = 1  # a file_search tool searches one vector store, as classic agents' did
PAGE_SIZE = 100
REASONING_EFFORTS = ("none", "minimal", "low", "medium", "high", "xhigh")
REASONING_SUMMARIES = REASONING_CHOICES["summary"]
# The tool types that have a model of their own below; every other type of the package's Tool union is checked
# against its field table (`TOOL_FIELDS`).
_MODELLED_TOOLS = ("function", "file_search", "code_interpreter")
OTHER_TOOL_TYPES: tuple[str, ...] = tuple(sorted(t for t in TOOL_FIELDS if t not in _MODELLED_TOOLS))
# Fields of the other definition kinds (hosted, workflow, ...), to say so rather than "unknown field".
OTHER_DEFINITION_FIELDS = frozenset({"container_protocol_versions", "cpu", "memory", "environment_variables", "image",
                                     "workflow", "agent_endpoint", "agent_card", "voice", "protocols"})

# An MCP tool's `authorization` is a secret: never in a manifest, and never read into a plan (a new version made by
# assistants-sync does not carry one set outside; a project connection keeps it instead).
SECRET_TOOL_FIELD = "authorization"

NonEmpty = Annotated[str, StringConstraints(min_length=1)]
AgentName = Annotated[str, StringConstraints(max_length=NAME_MAX, pattern=NAME_RE.pattern)]


def is_agent_name(text: str) -> bool:
    """Whether `text` is a valid Foundry agent name (1-63 letters, digits, hyphens; alphanumeric at both ends)."""
    return len(text) <= NAME_MAX and NAME_RE.match(text) is not None


# --- the manifest -------------------------------------------------------------------------------


class FunctionTool(Strict):
    """A flat function tool: ``{"type": "function", "name", "description", "parameters", "strict"}``."""

    type: Literal["function"]
    name: Annotated[str, StringConstraints(pattern=FUNCTION_NAME_PATTERN)]
    description: str | None = None
    parameters: dict[str, Any] | None = None
    parameters_file: NonEmpty | None = None
    strict_: bool | None = Field(default=None, alias="strict")

    @model_validator(mode="after")
    def _one_parameters_source(self) -> FunctionTool:
        if self.parameters is not None and self.parameters_file is not None:
            raise PydanticCustomError("exclusive", "give either parameters or parameters_file, not both")
        return self


class FileSearchTool(Strict):
    type: Literal["file_search"]
    vector_stores: list[Annotated[str, StringConstraints(pattern=KEY_PATTERN)]] = Field(default_factory=list)
    vector_store_ids: list[NonEmpty] = Field(default_factory=list)
    max_num_results: int | None = Field(default=None, ge=1, le=FILE_SEARCH_RESULTS_MAX)
    ranking_options: dict[str, Any] | None = None
    filters: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _one_store(self) -> FileSearchTool:
        total = len(self.vector_stores) + len(self.vector_store_ids)
        if total == 0:
            raise PydanticCustomError("no_store", "a file_search tool names a vector store: vector_stores (keys of "
                                                  "the stack's vector_store manifests) or vector_store_ids")
        if total > VECTOR_STORES_MAX:
            raise PydanticCustomError("too_many", f"vector_stores and vector_store_ids name {total} vector stores "
                                                  f"together; at most {VECTOR_STORES_MAX}")
        return self


class CodeInterpreterTool(Strict):
    type: Literal["code_interpreter"]
    files: list[NonEmpty] = Field(default_factory=list)  # repository files, uploaded by the stack
    file_ids: list[NonEmpty] = Field(default_factory=list)

    @model_validator(mode="after")
    def _within_limit(self) -> CodeInterpreterTool:
        total = len(self.files) + len(self.file_ids)
        if total > CODE_INTERPRETER_FILES_MAX:
            raise PydanticCustomError("too_many", f"files and file_ids name {total} files together; at most "
                                                  f"{CODE_INTERPRETER_FILES_MAX}")
        return self


class OtherTool(Strict):
    """Any other tool of the package's Tool union (web_search, mcp, openapi, azure_ai_search, ...), as the package
    shapes it: its required fields, and only its known ones."""

    model_config = ConfigDict(extra="allow", strict=True)

    type: Literal[OTHER_TOOL_TYPES]  # type: ignore[valid-type]

    @model_validator(mode="after")
    def _package_fields(self) -> OtherTool:
        required, optional = TOOL_FIELDS[self.type]
        given = {"type", *(self.model_extra or {})}
        if SECRET_TOOL_FIELD in given:
            raise PydanticCustomError(
                "secret", f"{SECRET_TOOL_FIELD!r} holds a secret, which a manifest, a plan and a saved plan never "
                          "hold: give the tool a project connection (project_connection_id) that keeps it")
        unknown = sorted(given - required - optional)
        if unknown:
            raise PydanticCustomError("unknown_field", f"a {self.type} tool has no field {unknown[0]!r} (it has: "
                                                       f"{', '.join(sorted(required | optional))})")
        missing = sorted(required - given)
        if missing:
            raise PydanticCustomError("missing", f"a {self.type} tool needs {', '.join(missing)}")
        return self


FoundryTool = Annotated[Union[FunctionTool, FileSearchTool, CodeInterpreterTool, OtherTool],
                        Field(discriminator="type")]


class Reasoning(Strict):
    effort: Literal[REASONING_EFFORTS] | None = None  # type: ignore[valid-type]
    summary: Literal[REASONING_SUMMARIES] | None = None  # type: ignore[valid-type]


class TextFormatText(Strict):
    type: Literal["text"]


class TextFormatJsonObject(Strict):
    type: Literal["json_object"]


class TextFormatJsonSchema(Strict):
    type: Literal["json_schema"]
    name: NonEmpty
    schema_: dict[str, Any] = Field(alias="schema")
    description: str | None = None
    strict_: bool | None = Field(default=None, alias="strict")


class Text(Strict):
    format: Annotated[Union[TextFormatText, TextFormatJsonObject, TextFormatJsonSchema],
                      Field(discriminator="type")] | None = None


class StructuredInput(Strict):
    description: str | None = None
    default_value: Any = None
    schema_: dict[str, Any] | None = Field(default=None, alias="schema")
    required: bool | None = None


class RaiConfig(Strict):
    rai_policy_name: NonEmpty
    invocations_moderation: Any = None


MetadataKey = Annotated[str, StringConstraints(min_length=1, max_length=METADATA_KEY_MAX)]
MetadataValue = Annotated[str, StringConstraints(max_length=METADATA_VALUE_MAX)]


class FoundryAgentManifest(ManifestChecks):
    """One YAML document of `kind: foundry_agent`: one desired Foundry (prompt) agent."""

    kind: Literal["foundry_agent"] = "foundry_agent"
    key: Annotated[str, StringConstraints(pattern=KEY_PATTERN)]
    previous_keys: list[Annotated[str, StringConstraints(pattern=KEY_PATTERN)]] = Field(default_factory=list)
    protect: bool = False  # before metadata: its pair budget depends on protect
    ignore_changes: list[Literal[IGNORABLE_FIELDS]] = Field(default_factory=list)  # type: ignore[valid-type]
    adopt: AgentName | None = None
    keep_versions: int | None = Field(default=None, ge=1)
    name: AgentName | None = None
    description: str | None = None
    model: NonEmpty
    instructions: str | None = None
    instructions_file: NonEmpty | None = None
    tools: list[FoundryTool] = Field(default_factory=list)
    tool_choice: Literal["none", "auto", "required"] | dict[str, Any] | None = None
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, ge=0, le=1)
    reasoning: Reasoning | None = None
    text: Text | None = None
    structured_inputs: dict[NonEmpty, StructuredInput] | None = None
    rai_config: RaiConfig | None = None
    metadata: dict[MetadataKey, MetadataValue] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _prompt_fields_only(cls, data: Any) -> Any:
        if isinstance(data, dict):
            other = sorted(set(data) & OTHER_DEFINITION_FIELDS)
            if other:
                raise PydanticCustomError(
                    "other_definition", f"{other[0]!r} is a field of another kind of Foundry agent (hosted, workflow, "
                                        "...); kind: foundry_agent manages prompt agents")
        return data

    @model_validator(mode="after")
    def _has_a_name(self) -> FoundryAgentManifest:
        if self.name is None and not is_agent_name(self.key):
            raise PydanticCustomError(
                "name_required", f"the key {self.key!r} is not a valid agent name (1-{NAME_MAX} letters, digits and "
                                 "hyphens, starting and ending with a letter or digit): give the agent a name")
        if self.name is None:
            self.name = self.key  # the key names the agent when it can
        return self


# `defaults:` in assistants-sync.yaml: the settings a project shares (never name nor description).
FoundryAgentDefaults = defaults_model_of(
    "FoundryAgentDefaults", FoundryAgentManifest,
    ("protect", "ignore_changes", "keep_versions", "model", "tool_choice", "temperature", "top_p", "reasoning",
     "text", "rai_config", "metadata"))


# --- canonical form -----------------------------------------------------------------------------


def _compact(value: Any) -> Any:
    """`value` without null members (nested), as the service keeps what it was sent."""
    if isinstance(value, Mapping):
        return {str(k): _compact(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_compact(v) for v in value]
    return value


def _default_number(value: Any) -> float | None:
    return None if value is None or float(value) == 1.0 else float(value)


def _tool(tool: Mapping[str, Any]) -> dict[str, Any]:
    kind = tool.get("type")
    if kind == "function":
        canonical = {"type": "function", "name": tool.get("name"), **({"description": tool["description"]}
                                                                       if tool.get("description") else {}),
                     "parameters": dict(tool.get("parameters") or {})}
        if tool.get("strict") is not None:
            canonical["strict"] = bool(tool["strict"])
        return {**canonical, **_compact({k: v for k, v in tool.items() if k not in canonical and k not in
                                         ("description", "strict", "parameters", "parameters_file")})}
    if kind == "file_search":
        canonical = {"type": "file_search"}
        if tool.get("vector_store_ids"):
            canonical["vector_store_ids"] = sorted(tool["vector_store_ids"])
        if tool.get("vector_stores"):
            canonical["vector_stores"] = sorted(tool["vector_stores"])
        return {**canonical, **_compact({k: v for k, v in tool.items()
                                         if k not in ("type", "vector_store_ids", "vector_stores")})}
    if kind == "code_interpreter":
        return _code_interpreter(tool)
    return _compact({k: v for k, v in tool.items() if k != SECRET_TOOL_FIELD})


def _code_interpreter(tool: Mapping[str, Any]) -> dict[str, Any]:
    container = tool.get("container")
    canonical: dict[str, Any] = {"type": "code_interpreter"}
    ids = list(tool.get("file_ids") or [])
    if isinstance(container, Mapping) and container.get("type") in (None, "auto"):
        ids += list(container.get("file_ids") or [])
        rest = _compact({k: v for k, v in container.items() if k not in ("type", "file_ids")})
        if rest:
            canonical["container"] = {"type": "auto", **rest}
    elif container is not None:
        canonical["container"] = _compact(container)  # a container id, or one this version does not know
    if ids:
        canonical["file_ids"] = sorted(ids)
    named = sorted({f["content"] if isinstance(f, Mapping) else f for f in tool.get("files") or []})
    if named:
        canonical["files"] = named
    return canonical


def _text(value: Any) -> dict[str, Any] | None:
    form = (value or {}).get("format") if isinstance(value, Mapping) else None
    if not isinstance(form, Mapping) or form.get("type") in (None, "text"):
        return None
    return {"format": _compact(form)}


def canonical_values(obj: Mapping[str, Any]) -> dict[str, Any]:
    """The canonical form of a flat, API-shaped agent (a manifest's request, or a listed agent flattened)."""
    reasoning = _compact(obj.get("reasoning") or {})
    return {
        "name": obj.get("name") or None,
        "description": obj.get("description") or None,
        "model": str(obj.get("model") or ""),
        "instructions": obj.get("instructions") or None,
        "tools": [_tool(t) for t in obj.get("tools") or []],
        "tool_choice": None if obj.get("tool_choice") in (None, "auto") else _compact(obj["tool_choice"]),
        "temperature": _default_number(obj.get("temperature")),
        "top_p": _default_number(obj.get("top_p")),
        "reasoning": reasoning or None,
        "text": _text(obj.get("text")),
        "structured_inputs": _compact(obj.get("structured_inputs")) or None,
        "rai_config": _compact(obj.get("rai_config")) or None,
        "metadata": {str(k): str(v) for k, v in sorted((obj.get("metadata") or {}).items())},
    }


DEFAULTS: dict[str, Any] = canonical_values({})


def flattened(agent: Mapping[str, Any]) -> dict[str, Any]:
    """A listed agent (AgentDetails) as one object: its name as id, its latest version's fields and number."""
    latest = (agent.get("versions") or {}).get("latest") or {}
    definition = latest.get("definition") or {}
    return {
        **{name: definition[name] for name in DEFINITION_FIELDS if name in definition},
        "id": str(agent["id"]),
        "name": agent.get("name") or latest.get("name"),
        "version": str(latest.get("version") or ""),
        "created_at": latest.get("created_at") or 0,
        "description": latest.get("description"),
        "metadata": dict(latest.get("metadata") or {}),
    }


def inherited_owner(latest: Mapping[str, Any], versions: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """The tags of the newest version that carries them (for an agent whose latest version has none): the agent is
    that stack's, and its applied tag tells the engine what that stack last applied, so the latest is drift."""
    for version in versions:  # newest first
        metadata = version.get("metadata") or {}
        if version.get("version") != latest.get("version") and owner_of(metadata) is not None:
            return {k: v for k, v in metadata.items() if k in (TAG_KEY, APPLIED_KEY, PROTECT_KEY)}
    return {}


def wire_tool(tool: Mapping[str, Any]) -> dict[str, Any]:
    """A canonical tool (its keys resolved to ids) as the API takes it."""
    if tool.get("type") == "function":
        return {**tool, "parameters": tool.get("parameters") or {}, "strict": tool.get("strict")}
    if tool.get("type") == "code_interpreter":
        container = dict(tool.get("container") or {"type": "auto"}) if not isinstance(tool.get("container"), str) \
            else tool["container"]
        if isinstance(container, dict) and tool.get("file_ids"):
            container["file_ids"] = list(tool["file_ids"])
        return {"type": "code_interpreter", "container": container}
    return dict(tool)


def version_request(values: Mapping[str, Any]) -> dict[str, Any]:
    """The create-version body for an agent's canonical values (keys resolved)."""
    definition: dict[str, Any] = {"kind": "prompt", "model": values.get("model")}
    for name in DEFINITION_FIELDS[1:]:
        value = values.get(name)
        if name == "tools":
            value = [wire_tool(t) for t in value or []] or None
        if value is not None:
            definition[name] = value
    body: dict[str, Any] = {"definition": definition, "metadata": dict(values.get("metadata") or {})}
    if values.get("description"):
        body["description"] = values["description"]
    return body


def _tagged_by(stack: str, metadata: Any) -> bool:
    owner = owner_of(metadata)
    return owner is not None and owner[0] == stack


def _version_number(version: str | None) -> int:
    try:
        return int(version or 0)
    except ValueError:
        return 0


# --- the kind -------------------------------------------------------------------------------------


class FoundryAgentKind(Kind):
    """Microsoft Foundry's agents (prompt agents, ``{project}/agents``, GA ``api-version=v1``)."""

    name = KIND
    noun = "foundry agent"
    plural = "foundry agents"
    path = FOUNDRY_AGENTS_COLLECTION
    manifest_model = FoundryAgentManifest
    defaults_model = FoundryAgentDefaults
    fields = FIELDS
    defaults = DEFAULTS
    versioned: ClassVar[bool] = True
    named: ClassVar[bool] = True
    known_field_names = frozenset(
        name for model in (FoundryAgentManifest, FunctionTool, FileSearchTool, CodeInterpreterTool, Reasoning, Text,
                           TextFormatJsonSchema, StructuredInput, RaiConfig)
        for name in (*model.model_fields, *(f.alias for f in model.model_fields.values() if f.alias)))
    manifest_only = frozenset({"instructions_file", "kind", "keep_versions"})

    def normalise(self, obj: Mapping[str, Any]) -> CanonicalFields:
        values = canonical_values(obj)
        return CanonicalFields(tuple((name, values[name]) for name in FIELDS))

    def named_id(self, values: Mapping[str, Any]) -> str | None:
        name = values.get("name")
        return str(name) if name else None

    def version_of(self, obj: Mapping[str, Any]) -> str | None:
        return str(obj.get("version") or "") or None

    def retention(self, request: Mapping[str, Any]) -> int | None:
        keep = request.get("keep_versions")
        return int(keep) if keep is not None else None

    def complete_request(self, request: dict[str, Any], files: ReferencedFiles) -> None:
        read_flat_references(request, files)
        for index, tool in enumerate(request.get("tools", [])):
            if tool.get("type") == "code_interpreter" and tool.get("files"):
                read = []
                for at_index, reference in enumerate(tool["files"]):
                    local = files.local_file(reference, ["tools", index, "files", at_index], max_bytes=MAX_FILE_BYTES)
                    if local is not None:
                        read.append(local_entry(local))
                tool["files"] = read

    def in_keys(self, canonical: Canonical, key_of: KeyOf) -> Canonical:
        values = canonical.as_dict()
        tools = [self._tool_in_keys(t, key_of) for t in values["tools"]]
        if tools == values["tools"]:
            return canonical
        return CanonicalFields(tuple((n, tools if n == "tools" else values[n]) for n in FIELDS))

    @staticmethod
    def _tool_in_keys(tool: dict[str, Any], key_of: KeyOf) -> dict[str, Any]:
        lists = {"file_search": ("vector_store_ids", "vector_stores", "vector_store"),
                 "code_interpreter": ("file_ids", "files", "file")}.get(str(tool.get("type")))
        if lists is None or not tool.get(lists[0]):
            return tool
        ids, keys, kind = lists
        literal = [i for i in tool[ids] if key_of(kind, i) is None]
        named = sorted({*tool.get(keys, []), *(k for i in tool[ids] if (k := key_of(kind, i)) is not None)})
        moved = {k: v for k, v in tool.items() if k not in (ids, keys)}
        return {**moved, **({ids: literal} if literal else {}), **({keys: named} if named else {})}

    def resolve(self, body: dict[str, Any], id_of: IdOf) -> dict[str, Any]:
        if not body.get("tools"):
            return body
        tools = []
        for tool in body["tools"]:
            for ids, keys, kind in (("vector_store_ids", "vector_stores", "vector_store"),
                                    ("file_ids", "files", "file")):
                if tool.get(keys):
                    tool = {**{k: v for k, v in tool.items() if k != keys},
                            ids: [*tool.get(ids, []), *(id_of(kind, key) for key in tool[keys])]}
            tools.append(tool)
        return {**body, "tools": tools}

    def references(self, values: Mapping[str, Any]) -> Iterable[Reference]:
        found: list[Reference] = []
        for tool in values.get("tools") or []:
            if tool.get("type") == "file_search":
                found += [("vector_store", k) for k in tool.get("vector_stores") or []]
                found += [("vector_store", i) for i in tool.get("vector_store_ids") or []]
            elif tool.get("type") == "code_interpreter":
                found += [("file", f["content"] if isinstance(f, Mapping) else f) for f in tool.get("files") or []]
                found += [("file", i) for i in tool.get("file_ids") or []]
                container = tool.get("container")
                if isinstance(container, Mapping):
                    found += [("file", i) for i in container.get("file_ids") or []]
        return found

    def key_references(self, request: Mapping[str, Any]) -> Iterable[tuple[str, str, str]]:
        return [("vector_store", key, f"tools[{index}].vector_stores[{at}]")
                for index, tool in enumerate(request.get("tools") or []) if tool.get("type") == "file_search"
                for at, key in enumerate(tool.get("vector_stores") or [])]

    def local_files(self, request: Mapping[str, Any], unmanaged: frozenset[str] = frozenset()) -> Iterable[LocalFile]:
        if "tools" in unmanaged:
            return []
        return [local for tool in request.get("tools") or [] if tool.get("type") == "code_interpreter"
                for entry in tool.get("files") or [] if (local := local_file_of(entry)) is not None]

    def export_document(self, canonical: Canonical, unmanaged: frozenset[str]) -> dict[str, Any]:
        return {name: value for name, value in super().export_document(canonical, unmanaged).items()
                if value != DEFAULTS.get(name)}

    def export_files(self, key: str, document: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
        return instructions_to_file(key, document)

    def export_contents(self, canonical: Canonical, document: dict[str, Any], name_of: Callable[[Reference], str | None]
                        ) -> tuple[dict[str, Any], dict[str, Reference]]:
        """code_interpreter's files of the stack (canonically their contents' sha256) as ``files/NAME`` paths."""
        found: dict[str, Reference] = {}
        tools = []
        for tool in document.get("tools") or []:
            if tool.get("type") == "code_interpreter" and tool.get("files"):
                paths = exported_file_paths([("file", sha256) for sha256 in tool["files"]], name_of)
                found.update(paths)
                tool = {**tool, "files": list(paths)}
            tools.append(tool)
        return ({**document, "tools": tools} if found else document), found

    def tool_identity(self, tool: Mapping[str, Any]) -> str:
        return flat_tool_identity(tool) or super().tool_identity(tool)

    def versions_to_delete(self, api: ObjectListing, object_id: str, keep: int, stack: str) -> list[str]:
        """The versions of the agent tagged by `stack` that its next version leaves older than the newest `keep`
        (never one without the stack's tag): one listing of its versions. An agent's name is one manifest's, so
        every version the stack tagged is that manifest's, under its key now or a previous one."""
        versions = api.list_objects(f"{self.path}/{object_id}/versions", f"versions of {object_id}", beta=self.beta,
                                    params={"order": "desc"})
        ordered = sorted(versions, key=lambda v: _version_number(v.get("version")), reverse=True)
        older = ordered[max(1, keep) - 1:]  # the next version is the newest
        return sorted((str(v.get("version")) for v in older if _tagged_by(stack, v.get("metadata"))),
                      key=_version_number)

    def delete_version(self, api: ObjectApi, object_id: str, version: str) -> bool:
        try:
            api.delete_object(f"{self.path}/{object_id}/versions", version, beta=self.beta)
        except ApiError as exc:
            if exc.status != 404:
                raise
            return False
        return True

    # --- requests: one listing; a version per change --------------------------------------------

    def list(self, api: ObjectListing) -> list[dict[str, Any]]:
        """Every prompt agent, flattened; an agent whose latest version has no tag (and has earlier versions)
        takes the ownership tags of its newest tagged version (one request for it)."""
        agents = []
        for agent in api.list_objects(self.path, self.plural, beta=self.beta, params={"kind": "prompt"}):
            flat = flattened(agent)
            if owner_of(flat["metadata"]) is None and _version_number(flat["version"]) > 1:
                versions = api.list_objects(f"{self.path}/{flat['id']}/versions", f"versions of {flat['id']}",
                                            beta=self.beta, params={"order": "desc"})
                flat["metadata"] = {**flat["metadata"], **inherited_owner({"version": flat["version"]}, versions)}
            agents.append(flat)
        return agents

    def create(self, api: ObjectApi, body: dict[str, Any], context: ApplyContext | None = None) -> dict[str, Any]:
        """The agent's first version, once the name is found free: a version is never added to an agent that is
        not the stack's (the name may have been taken since the plan)."""
        name = str(body["name"])
        try:
            taken = api.get_object(f"{self.path}/{name}", f"looking up the foundry agent {name}", beta=self.beta)
        except ApiError as exc:
            if exc.status != 404:
                raise
        else:
            owner = owner_of(((taken.get("versions") or {}).get("latest") or {}).get("metadata"))
            whose = f"stack {owner[0]!r}" if owner else "no stack (it has no assistants-sync tag)"
            raise SyncError(f"the foundry agent name {name!r} was taken since the plan was made, by an agent of "
                            f"{whose}; nothing was added to it")
        made = self._new_version(api, name, body)
        return {**made, "id": name}

    def update(self, api: ObjectApi, object_id: str, body: dict[str, Any],
               context: ApplyContext | None = None) -> dict[str, Any]:
        return self._new_version(api, object_id, body)

    def _new_version(self, api: ObjectApi, name: str, body: Mapping[str, Any]) -> dict[str, Any]:
        return api.post_object(f"{self.path}/{name}/versions", f"creating a version of foundry agent {name}",
                               version_request(body), beta=self.beta, idempotent=False)


FOUNDRY_AGENT = FoundryAgentKind()
