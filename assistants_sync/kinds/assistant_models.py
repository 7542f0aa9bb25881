"""Pydantic models of one manifest document, carrying every limit of the API.

The limits are those of the official OpenAPI description (CreateAssistantRequest and
the schemas it references) plus the documented metadata limits, which the spec states
only in prose. Models are strict (no "1" for 1) and forbid unknown fields, so a typo
such as ``temprature`` is an error, never silently dropped.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Optional, Union

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    StringConstraints,
    Tag,
    ValidationInfo,
    create_model,
    field_validator,
)
from pydantic_core import PydanticCustomError

from ..ownership import KEY_PATTERN, METADATA_MAX_PAIRS, TAG_KEY, is_reserved, tags_added

NAME_MAX = 256
DESCRIPTION_MAX = 512
INSTRUCTIONS_MAX = 256_000
TOOLS_MAX = 128
FUNCTION_NAME_PATTERN = r"^[a-zA-Z0-9_-]{1,64}$"
METADATA_KEY_MAX = 64
METADATA_VALUE_MAX = 512
ASSISTANT_ID_PATTERN = r"^[A-Za-z0-9_-]{1,128}$"
# Fields a manifest may hand over to another process; metadata holds our tags, so it stays.
IGNORABLE_FIELDS = (
    "model", "name", "description", "instructions", "tools", "tool_resources",
    "temperature", "top_p", "response_format", "reasoning_effort",
)
CODE_INTERPRETER_FILES_MAX = 20
VECTOR_STORES_MAX = 1
REASONING_EFFORTS = ("none", "minimal", "low", "medium", "high", "xhigh", "max")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=True)


class RankingOptions(_Strict):
    ranker: Literal["auto", "default_2024_08_21"] | None = None
    score_threshold: float = Field(ge=0, le=1)


class FileSearchOptions(_Strict):
    max_num_results: int | None = Field(default=None, ge=1, le=50)
    ranking_options: RankingOptions | None = None


class CodeInterpreterTool(_Strict):
    type: Literal["code_interpreter"]


class FileSearchTool(_Strict):
    type: Literal["file_search"]
    file_search: FileSearchOptions | None = None


class FunctionDefinition(_Strict):
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


class FunctionTool(_Strict):
    type: Literal["function"]
    function: FunctionDefinition


Tool = Annotated[
    Union[CodeInterpreterTool, FileSearchTool, FunctionTool],
    Field(discriminator="type"),
]


class CodeInterpreterResources(_Strict):
    file_ids: list[str] = Field(default_factory=list, max_length=CODE_INTERPRETER_FILES_MAX)


class FileSearchResources(_Strict):
    vector_store_ids: list[str] = Field(default_factory=list, max_length=VECTOR_STORES_MAX)


class ToolResources(_Strict):
    code_interpreter: CodeInterpreterResources | None = None
    file_search: FileSearchResources | None = None


class TextFormat(_Strict):
    type: Literal["text"]


class JsonObjectFormat(_Strict):
    type: Literal["json_object"]


class JsonSchemaDefinition(_Strict):
    name: Annotated[str, StringConstraints(pattern=FUNCTION_NAME_PATTERN)]
    description: str | None = None
    schema_: dict[str, Any] | None = Field(default=None, alias="schema")
    strict: bool | None = None


class JsonSchemaFormat(_Strict):
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


class AssistantManifest(_Strict):
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

    @field_validator("instructions_file")
    @classmethod
    def _not_both_instructions(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None and info.data.get("instructions") is not None:
            raise PydanticCustomError("exclusive", "give either instructions or instructions_file, not both")
        return value

    @field_validator("metadata")
    @classmethod
    def _metadata_budget(cls, value: dict[str, str], info: ValidationInfo) -> dict[str, str]:
        reserved = sorted(k for k in value if is_reserved(k))
        if reserved:
            raise PydanticCustomError(
                "reserved_key",
                f"metadata key {reserved[0]!r} is reserved: keys starting with {TAG_KEY!r} belong to assistants-sync",
            )
        protect = bool(info.data.get("protect"))
        most = METADATA_MAX_PAIRS - tags_added(protect)
        if len(value) > most:
            raise PydanticCustomError(
                "too_many_pairs",
                f"at most {most} pairs ({len(value)} given): the API allows {METADATA_MAX_PAIRS} and "
                f"assistants-sync uses {tags_added(protect)} for its tags"
                + (" (ownership, last applied, protect)" if protect else " (ownership, last applied)"),
            )
        return value


# `defaults:` in assistants-sync.yaml: any manifest field but the identity ones, all optional.
_DEFAULTABLE = ("protect", "ignore_changes", "model", "name", "description", "instructions", "tools",
                "tool_resources", "metadata", "temperature", "top_p", "response_format", "reasoning_effort")


def _optional(name: str) -> Any:
    """A manifest field's type and constraints, made optional."""
    field = AssistantManifest.model_fields[name]
    constrained = Annotated[field.annotation, *field.metadata] if field.metadata else field.annotation
    return (Optional[constrained], None)


ManifestDefaults = create_model(  # type: ignore[call-overload]
    "ManifestDefaults", __base__=_Strict, **{name: _optional(name) for name in _DEFAULTABLE}
)


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
