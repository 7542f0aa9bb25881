"""The plan: plain data, no I/O, no rendering.

A `Plan` is what `plan` prints, what ``--out`` saves and what `apply` carries out,
change by change, without deciding anything new.
"""

from __future__ import annotations

import json
from enum import Enum
from typing import Any, Literal

from pydantic import (BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, computed_field, model_serializer,
                      model_validator)

from ..kinds.base import DEFAULT_KIND
from ..ownership import owner_of

FORMAT_VERSION: Literal[2] = 2
# Version 1 (before kinds): every change an assistant's, its id in `assistant_id`. Read as version 2.
READABLE_VERSIONS = (1, 2)


class Action(str, Enum):
    """What apply does for one key."""

    CREATE = "create"
    ADOPT = "adopt"  # tag an existing unmanaged assistant and update what differs
    UPDATE = "update"
    DELETE = "delete"


# How every view of a plan (text, Markdown, diagrams, apply's lines) marks each action.
SYMBOLS = {Action.CREATE: "+", Action.ADOPT: ">", Action.UPDATE: "~", Action.DELETE: "-"}

Cause = Literal["manifest", "drift", "both"]
# Why `drift` reports a change: what differs from the manifests that no manifest edit explains.
DriftKind = Literal["changed", "missing", "untracked", "duplicate"]
NoteKind = Literal["adopt_skipped", "rename_skipped", "unowned_match"]


class FieldChange(BaseModel):
    """One field's canonical value before and after (``None`` = the API default)."""

    model_config = ConfigDict(extra="forbid")

    before: Any = None
    after: Any = None


class Ref(BaseModel):
    """Another object that a change names, by kind and key.

    `id` is its id when the plan was made; None when this plan creates it (apply uses
    the id it gets then), or when it is not the stack's (a key naming nothing listed).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: str
    key: str
    id: str | None = None


# A versioned kind's; other kinds' JSON stays as it was.
_SAID_WHEN_SET = ("version", "kept", "keep_versions", "deletes_versions")


class Change(BaseModel):
    """One action on one object of one kind (`kind`, keys are unique per kind).

    `id` is the remote object's id (`assistant_id` is another name for it, for the
    default kind, as in format_version 1).
    `depends_on` names objects this one names: apply makes a create, adopt or update
    after the changes of those, and a delete before the deletes of those.
    - create: `id` is None; `fields` holds every field it sets, `before` None.
    - adopt: `id` is the unmanaged object taken over; `fields` holds what
      differs, always including metadata (the tags are added).
    - update: `fields` holds only the fields that differ; apply sends exactly those.
      `cause` says whether the manifest changed, the object was changed outside
      assistants-sync (drift), or both.
    - delete: `fields` is empty; `reason` says why (no manifest, or a duplicate).
    `previous_key` marks an update that renames the key (the ownership tag is rewritten,
    the id is kept). `drift` is None when the manifests explain the change (an edited or
    removed manifest); otherwise why `drift` reports it: changed outside assistants-sync,
    missing (deleted outside, or never applied), tagged with this stack outside
    assistants-sync (untracked), or a duplicate.
    `reason`, `name`, `unchanged`, `cause`, `previous_key`, `version` and `drift` are for
    people: apply never reads them.
    A kind whose every change is a new version (`Kind.versioned`) adds, to an update or
    adopt: `version`, the version it replaces; `kept`, the current values of the fields
    that do not change, which the new version carries as they are; `keep_versions`, how
    many of the newest versions the object keeps; and with it `deletes_versions`, the
    stack's versions the new one leaves older than that many (read with the plan), which
    apply deletes after making it. These four are in JSON only when set.
    """

    model_config = ConfigDict(extra="forbid")

    action: Action
    kind: str = DEFAULT_KIND
    key: str
    id: str | None = None
    fields: dict[str, FieldChange] = Field(default_factory=dict)
    reason: str | None = None
    cause: Cause | None = None
    name: str | None = None  # the assistant's name (after the change), to recognise it
    unchanged: int = 0  # managed fields compared and found equal
    protected: bool = False  # a delete of an assistant whose manifest said protect: true
    previous_key: str | None = None
    drift: DriftKind | None = None
    depends_on: list[Ref] = Field(default_factory=list)
    version: str | None = None
    kept: dict[str, Any] = Field(default_factory=dict)
    keep_versions: int | None = None
    deletes_versions: list[str] | None = None

    def metadata_written(self) -> Any:
        """The metadata the change sends: a changed field's, else what a new version carries as it is (`kept`);
        None when it sends none (the object keeps its own)."""
        return self.fields["metadata"].after if "metadata" in self.fields else self.kept.get("metadata")

    def tagging_stack(self) -> str | None:
        """The stack whose tag the object carries after the change, if the change writes it."""
        owner = owner_of(self.metadata_written())
        return owner[0] if owner is not None else None

    @model_validator(mode="before")
    @classmethod
    def _assistant_id_is_the_id(cls, data: Any) -> Any:
        """`assistant_id` (format_version 1, or beside `id`) names the same object as `id`."""
        if isinstance(data, dict) and "assistant_id" in data:
            data = dict(data)
            given = data.pop("assistant_id")
            if data.get("kind", DEFAULT_KIND) != DEFAULT_KIND and given is not None:
                raise ValueError(f"assistant_id names an assistant, and this change is of kind {data['kind']}")
            if "id" in data and data["id"] != given:
                raise ValueError(f"id {data['id']!r} and assistant_id {given!r} differ")
            data["id"] = given
        return data

    @model_serializer(mode="wrap")
    def _with_assistant_id(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        for name in _SAID_WHEN_SET:
            if data.get(name) in (None, {}):
                data.pop(name, None)
        if self.kind != DEFAULT_KIND:
            return data
        ordered: dict[str, Any] = {}
        for name, value in data.items():
            ordered[name] = value
            if name == "id":
                ordered["assistant_id"] = value
        return ordered

    @property
    def assistant_id(self) -> str | None:
        """The remote id (the name format_version 1 gave it)."""
        return self.id

    @property
    def ref(self) -> Ref:
        return Ref(kind=self.kind, key=self.key)


class Note(BaseModel):
    """Something a reviewer should know that is not a change, e.g. an adopt that was skipped."""

    model_config = ConfigDict(extra="forbid")

    key: str
    kind: NoteKind
    text: str
    object_kind: str = DEFAULT_KIND  # the kind of the object the note is about; in JSON only when not the default

    @model_serializer(mode="wrap")
    def _default_kind_unsaid(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        if self.object_kind == DEFAULT_KIND:
            data.pop("object_kind", None)
        return data


class Summary(BaseModel):
    create: int = 0
    update: int = 0
    delete: int = 0
    adopt: int = 0


class Plan(BaseModel):
    """Every change for one stack on one endpoint, sorted by kind (the default kind first) and key.

    `endpoint` and `remote_fingerprint` let a saved plan refuse to run anywhere else or
    after the remote side changed. Never holds secrets.

    `targets` (from ``--target``) makes the plan partial: only those keys were planned,
    and the fingerprint covers only their assistants. Empty: the whole desired state.
    `unmatched_targets`, for people, names targets with neither a manifest nor an assistant.
    `skipped_deletes`, for people, counts the deletes ``--no-delete`` left out.
    """

    model_config = ConfigDict(extra="ignore")  # a saved plan's summary is recomputed

    format_version: Literal[2] = FORMAT_VERSION
    stack: str
    endpoint: str
    remote_fingerprint: str
    managed_count: int = 0  # managed remote assistants of the stack when planned
    targets: list[str] = Field(default_factory=list)
    unmatched_targets: list[str] = Field(default_factory=list)
    changes: list[Change] = Field(default_factory=list)
    notes: list[Note] = Field(default_factory=list)  # for people; never a change
    kinds: list[str] = Field(default_factory=lambda: [DEFAULT_KIND])  # the kinds planned (listed on the endpoint)
    skipped_deletes: int = 0  # deletes --no-delete left out; for people

    @model_validator(mode="before")
    @classmethod
    def _read_version_1(cls, data: Any) -> Any:
        """A saved plan of format_version 1 is read as version 2: the same assistants' changes."""
        if isinstance(data, dict) and data.get("format_version") == 1:
            data = {**data, "format_version": FORMAT_VERSION}
        return data

    @computed_field  # type: ignore[prop-decorator]
    @property
    def summary(self) -> Summary:
        counts = {action: 0 for action in Action}
        for change in self.changes:
            counts[change.action] += 1
        return Summary(
            create=counts[Action.CREATE], update=counts[Action.UPDATE], delete=counts[Action.DELETE],
            adopt=counts[Action.ADOPT],
        )

    @property
    def is_empty(self) -> bool:
        return not self.changes


def plan_document(plan: Plan) -> dict[str, Any]:
    """The plan's JSON document (format_version first, then summary, changes, notes): what --format json
    prints and what a saved plan holds."""
    data = plan.model_dump(mode="json")
    return {
        "format_version": data["format_version"],
        "summary": data["summary"],
        "changes": data["changes"],
        "notes": data["notes"],
        **{k: v for k, v in data.items() if k not in ("format_version", "summary", "changes", "notes")},
    }


def plan_json(plan: Plan) -> str:
    """`plan_document` as JSON text."""
    return json.dumps(plan_document(plan), indent=2, ensure_ascii=False) + "\n"
