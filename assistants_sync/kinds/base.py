"""What a kind of object supplies to the engine, and nothing more.

The engine (loading, diff, plan, render, saved plans, drift, guards, apply, export)
works on every kind alike. A kind is one module defining a `Kind` subclass:

- `name` (the manifest's ``kind:``), `noun` / `plural` (for messages) and `path`
  (the API collection: list and create at ``path``, modify and delete at ``path/ID``);
- `manifest_model`: the pydantic model of one manifest document. Besides its own
  fields it has the engine's: ``key``, ``previous_keys``, ``protect``,
  ``ignore_changes`` and ``adopt`` (`ManifestBase` has them for a new kind);
- `fields` (one list, in display order; ``metadata`` among them, where the engine
  keeps its tags) and `defaults` (each field's canonical "API default");
- `defaults_model`: the manifest fields it takes from the project file's
  ``defaults:`` (`defaults_model_of` makes one; None: it takes none);
- `normalise`: the canonical form of an API-shaped mapping (a create request or a
  server object), where every way of saying "the default" is one value;
- `request_body`: canonical values -> the JSON a create or modify sends;
- `complete_request`: files a manifest references, read into its request;
- `references`: which other objects (kind, key or id) an object names, so that apply
  creates them first and deletes them last; `in_keys` rewrites the ids of the stack's
  own objects in a canonical form as their keys (so both sides compare by key), and
  `resolve` turns keys back into ids when apply sends a body; `key_references` names
  the references by key that must name a manifest of the stack;
- `local_files` / `derive`: objects made from the repository's files (uploads), derived
  from what the other objects use rather than declared in manifests (`declared`);
- `create` / `update` / `delete`: the API calls (by default the collection at `path`);
  an `ApplyContext` gives them the ids of referenced objects and the plan's values;
- `field_lines` / `group_title`: how a plan shows a field, or a whole group of changes;
- `export_document` / `export_files`: a manifest reproducing a remote object;
  `export_contents`: the repository files it names whose content is another object of
  the stack (a store's documents), which `download` (of that object's kind) writes back;
- `tool_identity`: what names one of its tools in a diff (so tools match by it, not position);
- `named` / `named_id`: for a kind whose objects the client names (a Foundry agent: its name is its
  id), the id an object gets from its values: a change of it is a replacement, and a
  name held by an object that is not the stack's is a plan error;
- `versioned` / `version_of` / `retention` / `versions_to_delete` / `delete_version`: for a
  kind whose every change is a new immutable version: an update carries every field (the
  unchanged ones as they are), the plan names the version it replaces and the stack's
  older versions beyond the number a manifest keeps, and apply deletes exactly those.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, Protocol

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationInfo, create_model, field_validator

from pydantic_core import PydanticCustomError

from ..errors import ContentUnavailable
from ..ownership import KEY_PATTERN, METADATA_MAX_PAIRS, TAG_KEY, KeyOf, is_reserved, tags_added

# The kind of a manifest without ``kind:``, shown without a prefix; JSON plans also
# name its changes' ids `assistant_id`, as format_version 1 did.
DEFAULT_KIND = "assistant"
OBJECT_ID_PATTERN = r"^[A-Za-z0-9_-]{1,128}$"


class Canonical(Protocol):
    """A kind's canonical form: managed fields, normalised so that equal means no change."""

    @property
    def name(self) -> str | None: ...
    @property
    def metadata(self) -> dict[str, str]: ...
    def as_dict(self) -> dict[str, Any]: ...
    def with_metadata(self, metadata: dict[str, str]) -> Canonical: ...


@dataclass(frozen=True, slots=True)
class CanonicalFields:
    """A ready-made canonical form: the field values in display order (`as_dict`)."""

    values: tuple[tuple[str, Any], ...]

    @property
    def name(self) -> str | None:
        value = dict(self.values).get("name")
        return value if isinstance(value, str) else None

    @property
    def metadata(self) -> dict[str, str]:
        return dict(dict(self.values).get("metadata") or {})

    def as_dict(self) -> dict[str, Any]:
        return dict(self.values)

    def with_metadata(self, metadata: dict[str, str]) -> CanonicalFields:
        return CanonicalFields(tuple((n, metadata if n == "metadata" else v) for n, v in self.values))


class ObjectListing(Protocol):
    """Lists a collection (the client, or a wrapper masking what it lists)."""

    def list_objects(self, path: str, noun: str, *, beta: str = ...,
                     params: Mapping[str, str] | None = None) -> list[dict[str, Any]]: ...


class ObjectApi(ObjectListing, Protocol):
    """The calls a kind makes: the generic requests of the client."""

    def create_object(self, path: str, noun: str, body: dict[str, Any], *, beta: str = ...) -> dict[str, Any]: ...
    def modify_object(self, path: str, object_id: str, body: dict[str, Any], *,
                      beta: str = ...) -> dict[str, Any]: ...
    def delete_object(self, path: str, object_id: str, *, beta: str = ...) -> dict[str, Any]: ...
    def get_object(self, path: str, operation: str, *, beta: str = ...) -> dict[str, Any]: ...
    def post_object(self, path: str, operation: str, body: dict[str, Any], *, beta: str = ...,
                    idempotent: bool = ...) -> dict[str, Any]: ...
    def upload_file(self, path: str, source: str, filename: str, fields: Mapping[str, str]) -> dict[str, Any]: ...
    def download(self, path: str, operation: str, destination: str) -> dict[str, Any]: ...


@dataclass(frozen=True)
class LocalFile:
    """A file of the repository whose content an object uses (uploaded by apply)."""

    source: str  # its path as apply opens it: the manifest's directory as the user named it, joined
    sha256: str  # hex digest of its bytes: what identifies the content
    size: int
    name: str  # its base name (the API guesses a file's type from its extension)


class ReferencedFiles(Protocol):
    """The files one manifest document references, read inside the manifests' root."""

    def read(self, reference: str, at: list[int | str]) -> str | None:
        """The file's text, or None (the problem is reported at `at`, the field naming it)."""
        ...

    def read_data(self, reference: str, at: list[int | str]) -> Any:
        """The file's data (JSON for ``*.json``, else YAML), or None (reported at `at`; also when it is empty)."""
        ...

    def local_file(self, reference: str, at: list[int | str], *, max_bytes: int) -> LocalFile | None:
        """The file's digest and size (read in chunks, never whole), or None (reported at `at`)."""
        ...

    def glob(self, pattern: str, at: list[int | str]) -> list[str] | None:
        """The files matching `pattern` (relative to the manifest, ``**`` for any depth), as paths relative to
        the manifest with ``/``, sorted; None (reported at `at`) when it matches none or leaves the root."""
        ...

    def report(self, at: list[int | str], message: str) -> None:
        """A problem with the field at `at`."""
        ...


def checked_metadata(value: dict[str, str], protect: bool) -> dict[str, str]:
    """A manifest's metadata, if it leaves room for the engine's tags and uses none of their keys.

    Every kind keeps its tags in metadata (16 pairs at most on every API here), so every
    manifest model's metadata validator is this one.
    """
    reserved = sorted(k for k in value if is_reserved(k))
    if reserved:
        raise PydanticCustomError(
            "reserved_key",
            f"metadata key {reserved[0]!r} is reserved: keys starting with {TAG_KEY!r} belong to assistants-sync",
        )
    most = METADATA_MAX_PAIRS - tags_added(protect)
    if len(value) > most:
        raise PydanticCustomError(
            "too_many_pairs",
            f"at most {most} pairs ({len(value)} given): the API allows {METADATA_MAX_PAIRS} and "
            f"assistants-sync uses {tags_added(protect)} for its tags"
            + (" (ownership, last applied, protect)" if protect else " (ownership, last applied)"),
        )
    return value


Reference = tuple[str, str]  # (kind, key or remote id) of an object another one names
IdOf = Callable[[str, str], str]  # (kind, key) -> the remote id of the stack's object (KeyError: none yet)


@dataclass(frozen=True)
class ApplyContext:
    """What a kind's create and update may need beyond the body.

    `id_of` gives the ids of the objects a change names (made earlier in the same apply,
    or listed when planned); `wait` whether to wait for server-side processing;
    `progress` reports what is awaited.
    """

    id_of: IdOf
    wait: bool = True
    progress: Callable[[str], None] | None = None


@dataclass(frozen=True)
class Derived:
    """A desired object that no manifest declares: a kind derives it from what other objects use."""

    key: str
    source: str  # "path/to/file.yaml:LINE" of the first manifest using it
    request: dict[str, Any]
    ignore_changes: frozenset[str] = frozenset()


class PlannedValue(Protocol):
    """What `Kind.group_title` reads of a planned field change (planning.plan.FieldChange)."""

    @property
    def after(self) -> Any: ...


class PlannedChange(Protocol):
    """What `Kind.group_title` reads of a planned change (planning.plan.Change)."""

    @property
    def fields(self) -> Mapping[str, PlannedValue]: ...


class DesiredView(Protocol):
    """What `Kind.derive` reads of a desired object (desired.manifest.Desired)."""

    @property
    def kind(self) -> str: ...
    @property
    def source(self) -> str: ...
    @property
    def request(self) -> dict[str, Any]: ...
    @property
    def unmanaged(self) -> frozenset[str]: ...


class Strict(BaseModel):
    """A part of a manifest: unknown fields are errors, and values are never coerced."""

    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=True)


class ManifestChecks(Strict):
    """The checks every kind's manifest model shares, for the fields it has."""

    @field_validator("instructions_file", check_fields=False)
    @classmethod
    def _not_both_instructions(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None and info.data.get("instructions") is not None:
            raise PydanticCustomError("exclusive", "give either instructions or instructions_file, not both")
        return value

    @field_validator("metadata", check_fields=False)
    @classmethod
    def _metadata_budget(cls, value: dict[str, str], info: ValidationInfo) -> dict[str, str]:
        return checked_metadata(value, bool(info.data.get("protect")))


class ManifestBase(BaseModel):
    """The fields the engine reads from every kind's manifest."""

    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=True)

    key: Annotated[str, StringConstraints(pattern=KEY_PATTERN)]
    previous_keys: list[Annotated[str, StringConstraints(pattern=KEY_PATTERN)]] = Field(default_factory=list)
    protect: bool = False
    ignore_changes: list[str] = Field(default_factory=list)
    adopt: Annotated[str, StringConstraints(pattern=OBJECT_ID_PATTERN)] | None = None


class Kind:
    """One kind of remote object; subclasses fill in what differs (see the module docstring)."""

    name: ClassVar[str]
    noun: ClassVar[str]
    plural: ClassVar[str]
    path: ClassVar[str]
    manifest_model: ClassVar[type[BaseModel]]
    # The `OpenAI-Beta` header of this kind's API, sent with each of its requests.
    beta: ClassVar[str] = "assistants=v2"
    # The model of the project file's `defaults:` for this kind; None: it takes none.
    defaults_model: ClassVar[type[BaseModel] | None] = None
    fields: ClassVar[tuple[str, ...]]
    defaults: ClassVar[Mapping[str, Any]]
    # Fields left out of a manifest that are then not managed (never compared nor sent).
    unmanaged_when_unset: ClassVar[frozenset[str]] = frozenset()
    # Field names of the manifest model and its parts, to suggest one for a typo.
    known_field_names: ClassVar[frozenset[str]] = frozenset()
    # Manifest fields that are not the object's (the engine's, and file references).
    manifest_only: ClassVar[frozenset[str]] = frozenset()
    # False for a kind no manifest declares (its desired objects are derived, see `derive`).
    declared: ClassVar[bool] = True
    # False for a kind `export` leaves out (its objects are made from files of the repository).
    exported: ClassVar[bool] = True
    # Why an object of the stack without a desired object is deleted, as a plan says it.
    unused_reason: ClassVar[str] = "no manifest for this key"
    # True when a change is a new immutable version of the object (see the module docstring).
    versioned: ClassVar[bool] = False
    # True when the client names the objects (their id is `named_id`), so the engine asks for it.
    named: ClassVar[bool] = False

    def named_id(self, values: Mapping[str, Any]) -> str | None:
        """The id an object made from `values` (a request, or canonical values) gets, for a kind whose objects the
        client names; None where the server chooses ids."""
        return None

    def version_of(self, obj: Mapping[str, Any]) -> str | None:
        """The version a listed object is at (a versioned kind), else None."""
        return None

    def retention(self, request: Mapping[str, Any]) -> int | None:
        """How many of its newest versions a desired object keeps (a versioned kind); None: all."""
        return None

    def versions_to_delete(self, api: ObjectListing, object_id: str, keep: int, stack: str) -> list[str]:
        """The versions of `object_id` tagged by `stack` (under any key: a rename's previous ones too) that its
        next version leaves older than its newest `keep`, oldest first (read when planning a change of a versioned
        kind; after a change, with `keep` one more)."""
        return []

    def delete_version(self, api: ObjectApi, object_id: str, version: str) -> bool:
        """Delete one version of `object_id`; False when it was gone already."""
        raise NotImplementedError(f"{self.name} has no versions")

    def normalise(self, obj: Mapping[str, Any]) -> Canonical:
        """Canonical form of an API-shaped object (a create request or a server object)."""
        values = {name: obj.get(name, self.defaults.get(name)) for name in self.fields}
        if "metadata" in values:
            values["metadata"] = {str(k): str(v) for k, v in sorted((values["metadata"] or {}).items())}
        return CanonicalFields(tuple(values.items()))

    def request_body(self, fields: Mapping[str, Any], *, replace: bool) -> dict[str, Any]:
        """The JSON body that sets `fields` (canonical values); `replace` for a modify."""
        return dict(fields)

    def complete_request(self, request: dict[str, Any], files: ReferencedFiles) -> None:
        """Read the files a manifest references (named in `request`, its manifest's dump) into it."""

    def references(self, values: Mapping[str, Any]) -> Iterable[Reference]:
        """The objects that an object (its request or canonical values) names."""
        return ()

    def stale(self, body: Mapping[str, Any]) -> str | None:
        """Why a create planned with `body` can no longer be made as planned (a local file changed since), or None.

        Apply asks before its first request, so a stale saved plan changes nothing."""
        return None

    def read_content(self, api: ObjectApi | ObjectListing, obj: dict[str, Any]) -> dict[str, Any]:
        """A listed object with what a listing leaves out (a vector store's files), read for the objects the stack
        owns and those it adopts or exports only."""
        return obj

    def key_references(self, request: Mapping[str, Any]) -> Iterable[tuple[str, str, str]]:
        """(kind, key, field) of each reference by key in a manifest's request: each must name a manifest."""
        return ()

    def in_keys(self, canonical: Canonical, key_of: KeyOf) -> Canonical:
        """`canonical` with the ids of the stack's own objects written as their keys."""
        return canonical

    def resolve(self, body: dict[str, Any], id_of: IdOf) -> dict[str, Any]:
        """A request body with the keys `in_keys` wrote turned back into ids."""
        return body

    def local_files(self, request: Mapping[str, Any], unmanaged: frozenset[str] = frozenset()) -> Iterable[LocalFile]:
        """The repository files whose content a desired object uses (uploaded before it is applied); none for a
        field it leaves `unmanaged` (ignore_changes)."""
        return ()

    def derive(self, desired: Sequence[DesiredView]) -> list[Derived]:
        """The desired objects of this kind that follow from the others (for a kind not `declared`)."""
        return []

    def field_lines(self, name: str, before: Any, after: Any) -> list[tuple[str, str]] | None:
        """How a plan shows one field's change as (line kind, text) lines, or None for the usual value diff.

        Line kinds are those of a plan's diff: added, removed, changed, note, plain.
        """
        return None

    def group_title(self, action: str, changes: Sequence[PlannedChange]) -> str | None:
        """One line standing for all of `changes` (one action: create, adopt, update, delete) in a plan, or None
        to show each."""
        return None

    def export_document(self, canonical: Canonical, unmanaged: frozenset[str]) -> dict[str, Any]:
        """The manifest fields reproducing `canonical` (metadata without the engine's tags; defaults left out)."""
        values = canonical.as_dict()
        left_unset = unmanaged & self.unmanaged_when_unset  # the manifest did not manage them; nor does the export
        return {name: values[name] for name in self.fields
                if name not in left_unset and values[name] not in (None, [], {}, "")}

    def export_files(self, key: str, document: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
        """`document` with long values moved to files of their own: (document, {relative path: text})."""
        return document, {}

    def export_contents(self, canonical: Canonical, document: dict[str, Any], name_of: Callable[[Reference], str | None]
                        ) -> tuple[dict[str, Any], dict[str, Reference]]:
        """The repository files an exported `document` names whose content is an object of the stack: `document`
        with each such reference written as a path relative to the manifest, and the object each path must hold.

        `name_of` gives such an object's file name (None: not one of the stack's)."""
        return document, {}

    def download(self, api: ObjectApi, object_id: str, key: str, destination: str) -> None:
        """Write the content of this kind's object `object_id` (the stack's, under `key`) to `destination`.

        ContentUnavailable when the endpoint does not give it back."""
        raise ContentUnavailable(f"a {self.noun} has no content to read back")

    def tool_identity(self, tool: Mapping[str, Any]) -> str:
        """What names one of an object's tools in a diff, e.g. "function get_weather".

        Tools are matched by it, so inserting or reordering one shows just that. Here the
        tool type; a kind whose tools of one type differ by a name says how to read it.
        """
        return str(tool.get("type"))

    # How objects are listed, created, updated and deleted: the collection at `path`.
    def list(self, api: ObjectListing) -> list[dict[str, Any]]:
        return api.list_objects(self.path, self.plural, beta=self.beta)

    def create(self, api: ObjectApi, body: dict[str, Any], context: ApplyContext | None = None) -> dict[str, Any]:
        return api.create_object(self.path, self.noun, body, beta=self.beta)

    def update(self, api: ObjectApi, object_id: str, body: dict[str, Any],
               context: ApplyContext | None = None) -> dict[str, Any]:
        return api.modify_object(self.path, object_id, body, beta=self.beta)

    def delete(self, api: ObjectApi, object_id: str) -> dict[str, Any]:
        return api.delete_object(self.path, object_id, beta=self.beta)

    def counted(self, count: int) -> str:
        """"1 assistant", "3 assistants"."""
        return f"{count} {self.noun if count == 1 else self.plural}"


def read_parameters_file(reference: str, at: list[int | str], files: ReferencedFiles) -> Any:
    """A function tool's `parameters_file` (JSON, or YAML), or None with the problem reported at `at`."""
    value = files.read_data(reference, at)
    if value is None:
        return None
    if not isinstance(value, dict):
        files.report(at, f"{reference}: parameters must be a JSON Schema object (a mapping)")
        return None
    return value


def read_flat_references(request: dict[str, Any], files: ReferencedFiles) -> None:
    """A request's ``instructions_file`` and its flat function tools' ``parameters_file`` read in (the kinds whose
    tools are flat, Responses-style: agents and Foundry agents)."""
    request.pop("kind", None)
    reference = request.pop("instructions_file", None)
    if reference is not None:
        text = files.read(reference, ["instructions_file"])
        if text is not None:
            request["instructions"] = text
    for index, tool in enumerate(request.get("tools", [])):
        if "parameters_file" in tool:
            tool["parameters"] = read_parameters_file(tool.pop("parameters_file"), ["tools", index, "parameters_file"],
                                                      files)


def flat_tool_identity(tool: Mapping[str, Any]) -> str | None:
    """What names a flat tool in a diff: a function by its name, an MCP tool by its server; None for the others."""
    if tool.get("type") == "function":
        return f"function {tool.get('name')}"
    if tool.get("type") == "mcp":
        return f"mcp {tool.get('server_label')}"
    return None


def defaults_model_of(name: str, manifest_model: type[BaseModel], fields: Iterable[str]) -> type[BaseModel]:
    """A kind's `defaults_model`: these `fields` of its manifest, each optional, with its type and limits."""
    def optional(field_name: str) -> Any:
        field = manifest_model.model_fields[field_name]
        constrained: Any = Annotated[field.annotation, *field.metadata] if field.metadata else field.annotation
        return (constrained | None, Field(default=None, alias=field.alias))

    return create_model(name, __base__=Strict, **{f: optional(f) for f in fields})  # type: ignore[call-overload,no-any-return]


INLINE_INSTRUCTIONS_MAX = 200  # longer, or multi-line, instructions are exported to their own file
INSTRUCTIONS_DIR = "instructions"


def instructions_to_file(key: str, document: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """An exported document with long or multi-line instructions moved to ``instructions/KEY.md``, which its
    ``instructions_file`` names (for every kind whose manifest takes ``instructions_file``)."""
    instructions = document.get("instructions")
    if not instructions or ("\n" not in instructions and len(instructions) <= INLINE_INSTRUCTIONS_MAX):
        return document, {}
    reference = f"{INSTRUCTIONS_DIR}/{key}.md"
    moved = {("instructions_file" if name == "instructions" else name): (reference if name == "instructions" else value)
             for name, value in document.items()}
    return moved, {reference: instructions}


EXPORTED_FILES_DIR = "files"


def exported_file_paths(references: Sequence[Reference], name_of: Callable[[Reference], str | None]
                        ) -> dict[str, Reference]:
    """Where an export puts the content of each referenced upload: ``files/NAME``, or ``files/SHA8-NAME`` when two
    contents share a name (a path relative to the manifest)."""
    names = {reference: _plain_name(name_of(reference)) or reference[1] for reference in references}
    shared = {name for name in names.values() if list(names.values()).count(name) > 1}
    return {f"{EXPORTED_FILES_DIR}/{f'{ref[1][:8]}-{name}' if name in shared else name}": ref
            for ref, name in names.items()}


def _plain_name(name: str | None) -> str:
    """A remote file name usable as one local file name ("" when it is none: empty, hidden, or a path)."""
    plain = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    return "" if plain.startswith(".") else plain


def local_entry(local: LocalFile) -> dict[str, Any]:
    """How a manifest's request keeps a repository file it uploads: its content, and where apply reads it."""
    return {"content": local.sha256, "bytes": local.size, "source": local.source, "name": local.name}


def local_file_of(entry: Any) -> LocalFile | None:
    """The repository file a request entry made by `local_entry` stands for (None for anything else)."""
    if not isinstance(entry, Mapping) or "source" not in entry:
        return None
    return LocalFile(entry["source"], entry["content"], entry["bytes"], entry["name"])


def combined_limit(value: list[Any], other: list[Any] | None, limit: int, names: str, what: str) -> list[Any]:
    """`value`, unless it and the `other` list of the same resource name more than `limit` together."""
    total = len(value) + len(other or [])
    if total > limit:
        raise PydanticCustomError("too_many", f"{names} name {total} {what} together; at most {limit}")
    return value
