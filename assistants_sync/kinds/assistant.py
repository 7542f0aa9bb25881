"""The assistant kind: ``kind: assistant`` (the default), at ``/assistants``.

Its manifest model carries every limit of the API: those of the official OpenAPI
description (CreateAssistantRequest and the schemas it references) plus the documented
metadata limits, which the spec states only in prose. Models are strict (no "1" for 1)
and forbid unknown fields, so a typo such as ``temprature`` is an error.

Its canonical form is shared by plan and apply. Both sides are converted by the same
function, `normalise`, from an API-shaped mapping: the manifest side from the create
request it would send, the remote side from the object the server returned. In
canonical form every way the API has of saying "none" or "the default" is one value:

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

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Annotated, Any, Literal, Union

from pydantic import (
    Discriminator,
    Field,
    StringConstraints,
    Tag,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError

from ..ownership import KEY_PATTERN
from .base import (Canonical, IdOf, KeyOf, Kind, LocalFile, ManifestChecks, Reference, ReferencedFiles, Strict,
                   combined_limit, defaults_model_of, exported_file_paths, instructions_to_file, local_entry, local_file_of,
                   read_parameters_file)
from .file import MAX_FILE_BYTES

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
# The stack's own objects named in tool_resources, by key: (resource, list of keys, kind, list of ids).
_KEYED_LISTS = (("code_interpreter", "files", "file", "file_ids"),
                ("file_search", "vector_stores", "vector_store", "vector_store_ids"))


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

    def with_metadata(self, metadata: dict[str, str]) -> CanonicalAssistant:
        return replace(self, metadata=metadata)


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
            body[name] = {resource: {ids: list(value.get(resource, {}).get(ids, [])),
                                     **({keys: value[resource][keys]} if keys in value.get(resource, {}) else {})}
                          for resource, keys, _, ids in _KEYED_LISTS}
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
    """Literal ids as given, and the stack's objects by key (sorted: their order means nothing to the API).

    A manifest's code_interpreter ``files`` are read in as ``{content: sha256, ...}``;
    canonically each is its upload's key, the content's sha256.
    """
    canonical: dict[str, Any] = {}
    if not resources:  # most assistants: nothing to look through
        return canonical
    for resource, keys, _, ids in _KEYED_LISTS:
        given = resources.get(resource) or {}
        values: dict[str, Any] = {}
        if given.get(ids):
            values[ids] = list(given[ids])
        named = sorted({k["content"] if isinstance(k, Mapping) else k for k in given.get(keys) or []})
        if named:
            values[keys] = named
        if values:
            canonical[resource] = values
    return canonical


def in_keys(canonical: CanonicalAssistant, key_of: KeyOf) -> CanonicalAssistant:
    """`canonical` with the ids of the stack's files and vector stores moved to their keyed lists."""
    if not canonical.tool_resources:
        return canonical
    resources: dict[str, Any] = {}
    for resource, keys, kind, ids in _KEYED_LISTS:
        given = canonical.tool_resources.get(resource)
        if not given:
            continue
        literal, named = [], set(given.get(keys, []))
        for object_id in given.get(ids, []):
            key = key_of(kind, object_id)
            if key is None:
                literal.append(object_id)
            else:
                named.add(key)
        values: dict[str, Any] = {ids: literal} if literal else {}
        if named:
            values[keys] = sorted(named)
        resources[resource] = values
    return replace(canonical, tool_resources=resources)


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


# The manifest model

NAME_MAX = 256
DESCRIPTION_MAX = 512
INSTRUCTIONS_MAX = 256_000
TOOLS_MAX = 128
FUNCTION_NAME_PATTERN = r"^[a-zA-Z0-9_-]{1,64}$"
METADATA_KEY_MAX = 64
METADATA_VALUE_MAX = 512
ASSISTANT_ID_PATTERN = r"^[A-Za-z0-9_-]{1,128}$"
# Fields a manifest may hand over to another process; metadata holds our tags, so it stays.
IGNORABLE_FIELDS = tuple(name for name in FIELDS if name != "metadata")
CODE_INTERPRETER_FILES_MAX = 20
VECTOR_STORES_MAX = 1
REASONING_EFFORTS = ("none", "minimal", "low", "medium", "high", "xhigh", "max")




class RankingOptions(Strict):
    ranker: Literal["auto", "default_2024_08_21"] | None = None
    score_threshold: float = Field(ge=0, le=1)


class FileSearchOptions(Strict):
    max_num_results: int | None = Field(default=None, ge=1, le=50)
    ranking_options: RankingOptions | None = None


class CodeInterpreterTool(Strict):
    type: Literal["code_interpreter"]


class FileSearchTool(Strict):
    type: Literal["file_search"]
    file_search: FileSearchOptions | None = None


class FunctionDefinition(Strict):
    name: Annotated[str, StringConstraints(pattern=FUNCTION_NAME_PATTERN)]
    description: str | None = None
    parameters: dict[str, Any] | None = None
    parameters_file: str | None = Field(default=None, min_length=1)
    strict: bool | None = None

    @field_validator("parameters_file")
    @classmethod
    def _not_both_parameters(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None and info.data.get("parameters") is not None:
            raise PydanticCustomError("exclusive", "give either parameters or parameters_file, not both")
        return value


class FunctionTool(Strict):
    type: Literal["function"]
    function: FunctionDefinition


Tool = Annotated[
    Union[CodeInterpreterTool, FileSearchTool, FunctionTool],
    Field(discriminator="type"),
]


class CodeInterpreterResources(Strict):
    file_ids: list[str] = Field(default_factory=list, max_length=CODE_INTERPRETER_FILES_MAX)
    # Files of the repository (relative to the manifest), uploaded by the stack.
    files: list[Annotated[str, StringConstraints(min_length=1)]] = Field(default_factory=list,
                                                                        max_length=CODE_INTERPRETER_FILES_MAX)

    @field_validator("files")
    @classmethod
    def _within_limit(cls, value: list[str], info: ValidationInfo) -> list[str]:
        return combined_limit(value, info.data.get("file_ids"), CODE_INTERPRETER_FILES_MAX, "file_ids and files",
                              "files for code_interpreter")


class FileSearchResources(Strict):
    vector_store_ids: list[str] = Field(default_factory=list, max_length=VECTOR_STORES_MAX)
    # Keys of vector_store manifests of this stack.
    vector_stores: list[Annotated[str, StringConstraints(pattern=KEY_PATTERN)]] = Field(
        default_factory=list, max_length=VECTOR_STORES_MAX)

    @field_validator("vector_stores")
    @classmethod
    def _within_limit(cls, value: list[str], info: ValidationInfo) -> list[str]:
        return combined_limit(value, info.data.get("vector_store_ids"), VECTOR_STORES_MAX,
                              "vector_store_ids and vector_stores", "vector stores for file_search")


class ToolResources(Strict):
    code_interpreter: CodeInterpreterResources | None = None
    file_search: FileSearchResources | None = None


class TextFormat(Strict):
    type: Literal["text"]


class JsonObjectFormat(Strict):
    type: Literal["json_object"]


class JsonSchemaDefinition(Strict):
    name: Annotated[str, StringConstraints(pattern=FUNCTION_NAME_PATTERN)]
    description: str | None = None
    schema_: dict[str, Any] | None = Field(default=None, alias="schema")
    strict: bool | None = None


class JsonSchemaFormat(Strict):
    type: Literal["json_schema"]
    json_schema: JsonSchemaDefinition


def _response_format_tag(value: Any) -> str | None:
    if isinstance(value, str):
        return "auto"
    if isinstance(value, dict):
        return value.get("type")  # type: ignore[no-any-return]
    return getattr(value, "type", None)  # a model instance, when serialising


ResponseFormat = Annotated[
    Union[
        Annotated[Literal["auto"], Tag("auto")],
        Annotated[TextFormat, Tag("text")],
        Annotated[JsonObjectFormat, Tag("json_object")],
        Annotated[JsonSchemaFormat, Tag("json_schema")],
    ],
    Discriminator(
        _response_format_tag,
        custom_error_type="response_format",
        custom_error_message=(
            "must be 'auto' or a mapping whose type is text, json_object or json_schema"
        ),
    ),
]

MetadataKey = Annotated[str, StringConstraints(min_length=1, max_length=METADATA_KEY_MAX)]
MetadataValue = Annotated[str, StringConstraints(max_length=METADATA_VALUE_MAX)]


class AssistantManifest(ManifestChecks):
    """One YAML document: one desired assistant."""

    key: Annotated[str, StringConstraints(pattern=KEY_PATTERN)]
    # Keys this assistant was managed under before a rename: its assistant is kept, not replaced.
    previous_keys: list[Annotated[str, StringConstraints(pattern=KEY_PATTERN)]] = Field(default_factory=list)
    # Before metadata: its pair budget depends on protect.
    protect: bool = False
    ignore_changes: list[Literal[IGNORABLE_FIELDS]] = Field(default_factory=list)  # type: ignore[valid-type]
    adopt: Annotated[str, StringConstraints(pattern=ASSISTANT_ID_PATTERN)] | None = None
    model: Annotated[str, StringConstraints(min_length=1)]
    name: Annotated[str, StringConstraints(max_length=NAME_MAX)] | None = None
    description: Annotated[str, StringConstraints(max_length=DESCRIPTION_MAX)] | None = None
    instructions: Annotated[str, StringConstraints(max_length=INSTRUCTIONS_MAX)] | None = None
    instructions_file: Annotated[str, StringConstraints(min_length=1)] | None = None
    tools: list[Tool] = Field(default_factory=list, max_length=TOOLS_MAX)
    tool_resources: ToolResources | None = None
    metadata: dict[MetadataKey, MetadataValue] = Field(default_factory=dict)
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, ge=0, le=1)
    response_format: ResponseFormat | None = None
    reasoning_effort: Literal[REASONING_EFFORTS] | None = None  # type: ignore[valid-type]


# `defaults:` in assistants-sync.yaml: any manifest field but the identity ones.
AssistantDefaults = defaults_model_of("AssistantDefaults", AssistantManifest, ("protect", "ignore_changes", *FIELDS))


KNOWN_FIELD_NAMES: frozenset[str] = frozenset(
    name
    for model in (
        AssistantManifest,
        FunctionDefinition,
        FileSearchOptions,
        RankingOptions,
        ToolResources,
        CodeInterpreterResources,
        FileSearchResources,
        JsonSchemaDefinition,
        FunctionTool,
        FileSearchTool,
    )
    for name in (*model.model_fields, *(f.alias for f in model.model_fields.values() if f.alias))
)


# The kind



class AssistantKind(Kind):
    """Assistants: ``/assistants`` of the Assistants API (v2)."""

    name = "assistant"
    noun = "assistant"
    plural = "assistants"
    path = "assistants"
    manifest_model = AssistantManifest
    defaults_model = AssistantDefaults
    fields = FIELDS
    defaults = DEFAULTS
    unmanaged_when_unset = UNMANAGED_WHEN_UNSET
    known_field_names = KNOWN_FIELD_NAMES
    manifest_only = frozenset({"instructions_file"})

    def normalise(self, obj: Mapping[str, Any]) -> CanonicalAssistant:
        return normalise(obj)

    def request_body(self, fields: Mapping[str, Any], *, replace: bool) -> dict[str, Any]:
        return request_body(fields, replace=replace)

    def in_keys(self, canonical: Canonical, key_of: KeyOf) -> Canonical:
        assert isinstance(canonical, CanonicalAssistant)
        return in_keys(canonical, key_of)

    def resolve(self, body: dict[str, Any], id_of: IdOf) -> dict[str, Any]:
        """tool_resources naming the stack's files and vector stores by key, given by id."""
        resources = body.get("tool_resources")
        if not resources:
            return body
        resolved: dict[str, Any] = {}
        for resource, keys, kind, ids in _KEYED_LISTS:
            if resource not in resources:
                continue
            given = resources[resource]
            resolved[resource] = {ids: [*given.get(ids, []), *(id_of(kind, k) for k in given.get(keys, []))]}
        return {**body, "tool_resources": resolved}

    def references(self, values: Mapping[str, Any]) -> Iterable[Reference]:
        resources = values.get("tool_resources") or {}
        found: list[Reference] = []
        for resource, keys, kind, ids in _KEYED_LISTS:
            given = resources.get(resource) or {}
            found += [(kind, k["content"] if isinstance(k, Mapping) else k) for k in given.get(keys) or []]
            found += [(kind, i) for i in given.get(ids) or []]
        return found

    def key_references(self, request: Mapping[str, Any]) -> Iterable[tuple[str, str, str]]:
        search = ((request.get("tool_resources") or {}).get("file_search") or {})
        return [("vector_store", key, f"tool_resources.file_search.vector_stores[{index}]")
                for index, key in enumerate(search.get("vector_stores") or [])]

    def local_files(self, request: Mapping[str, Any], unmanaged: frozenset[str] = frozenset()) -> Iterable[LocalFile]:
        if "tool_resources" in unmanaged:
            return []
        interpreter = ((request.get("tool_resources") or {}).get("code_interpreter") or {})
        return [local for entry in interpreter.get("files") or [] if (local := local_file_of(entry)) is not None]

    def complete_request(self, request: dict[str, Any], files: ReferencedFiles) -> None:
        reference = request.pop("instructions_file", None)
        if reference is not None:
            at: list[int | str] = ["instructions_file"]
            text = files.read(reference, at)
            if text is not None and len(text) > INSTRUCTIONS_MAX:
                files.report(at, f"the file holds {len(text):,} characters; instructions allow at most "
                                 f"{INSTRUCTIONS_MAX:,}")
            elif text is not None:
                request["instructions"] = text
        for index, tool in enumerate(request.get("tools", [])):
            function = tool.get("function") or {}
            if "parameters_file" in function:
                at = ["tools", index, "function", "parameters_file"]
                function["parameters"] = read_parameters_file(function.pop("parameters_file"), at, files)
        interpreter = (request.get("tool_resources") or {}).get("code_interpreter") or {}
        if interpreter.get("files"):
            read = []
            for index, reference in enumerate(interpreter["files"]):
                at = ["tool_resources", "code_interpreter", "files", index]
                local = files.local_file(reference, at, max_bytes=MAX_FILE_BYTES)
                if local is not None:
                    read.append(local_entry(local))
            interpreter["files"] = read

    def export_files(self, key: str, document: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
        return instructions_to_file(key, document)

    def export_contents(self, canonical: Canonical, document: dict[str, Any], name_of: Callable[[Reference], str | None]
                        ) -> tuple[dict[str, Any], dict[str, Reference]]:
        """code_interpreter's files of the stack (canonically their contents' sha256) as ``files/NAME`` paths."""
        interpreter = (document.get("tool_resources") or {}).get("code_interpreter") or {}
        if not interpreter.get("files"):
            return document, {}
        paths = exported_file_paths([("file", sha256) for sha256 in interpreter["files"]], name_of)
        resources = {**document["tool_resources"], "code_interpreter": {**interpreter, "files": list(paths)}}
        return {**document, "tool_resources": resources}, paths

    def tool_identity(self, tool: Mapping[str, Any]) -> str:
        if tool.get("type") == "function":  # {"type": "function", "function": {"name": ...}}
            return f"function {(tool.get('function') or {}).get('name')}"
        return super().tool_identity(tool)


ASSISTANT = AssistantKind()
