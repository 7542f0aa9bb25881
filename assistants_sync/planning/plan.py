"""The plan: plain data, no I/O, no rendering.

A `Plan` is what `plan` prints, what ``--out`` saves and what `apply` carries out,
change by change, without deciding anything new.
"""

from __future__ import annotations

from enum import Enum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field

FORMAT_VERSION: Literal[1] = 1


class Action(str, Enum):
    """What apply does for one key."""

    CREATE = "create"
    ADOPT = "adopt"  # tag an existing unmanaged assistant and update what differs
    UPDATE = "update"
    DELETE = "delete"


Cause = Literal["manifest", "drift", "both"]
# Why `drift` reports a change: what differs from the manifests that no manifest edit explains.
DriftKind = Literal["changed", "missing", "untracked", "duplicate"]
NoteKind = Literal["adopt_skipped", "rename_skipped", "unowned_match"]


class FieldChange(BaseModel):
    """One field's canonical value before and after (``None`` = the API default)."""

    model_config = ConfigDict(extra="forbid")

    before: Any = None
    after: Any = None


class Change(BaseModel):
    """One action on one assistant.

    - create: `assistant_id` is None; `fields` holds every field it sets, `before` None.
    - adopt: `assistant_id` is the unmanaged assistant taken over; `fields` holds what
      differs, always including metadata (the tags are added).
    - update: `fields` holds only the fields that differ; apply sends exactly those.
      `cause` says whether the manifest changed, the assistant was changed outside
      assistants-sync (drift), or both.
    - delete: `fields` is empty; `reason` says why (no manifest, or a duplicate).
    `previous_key` marks an update that renames the key (the ownership tag is rewritten,
    the id is kept). `drift` is None when the manifests explain the change (an edited or
    removed manifest); otherwise why `drift` reports it: changed outside assistants-sync,
    missing (deleted outside, or never applied), tagged with this stack outside
    assistants-sync (untracked), or a duplicate.
    `reason`, `name`, `unchanged`, `cause`, `previous_key` and `drift` are for people:
    apply never reads them.
    """

    model_config = ConfigDict(extra="forbid")

    action: Action
    key: str
    assistant_id: str | None = None
    fields: dict[str, FieldChange] = Field(default_factory=dict)
    reason: str | None = None
    cause: Cause | None = None
    name: str | None = None  # the assistant's name (after the change), to recognise it
    unchanged: int = 0  # managed fields compared and found equal
    protected: bool = False  # a delete of an assistant whose manifest said protect: true
    previous_key: str | None = None
    drift: DriftKind | None = None


class Note(BaseModel):
    """Something a reviewer should know that is not a change, e.g. an adopt that was skipped."""

    model_config = ConfigDict(extra="forbid")

    key: str
    kind: NoteKind
    text: str


class Summary(BaseModel):
    create: int = 0
    update: int = 0
    delete: int = 0
    adopt: int = 0


class Plan(BaseModel):
    """Every change for one stack on one endpoint, sorted by key.

    `endpoint` and `remote_fingerprint` let a saved plan refuse to run anywhere else or
    after the remote side changed. Never holds secrets.

    `targets` (from ``--target``) makes the plan partial: only those keys were planned,
    and the fingerprint covers only their assistants. Empty: the whole desired state.
    `unmatched_targets`, for people, names targets with neither a manifest nor an assistant.
    """

    model_config = ConfigDict(extra="ignore")  # a saved plan's summary is recomputed

    format_version: Literal[1] = FORMAT_VERSION
    stack: str
    endpoint: str
    remote_fingerprint: str
    managed_count: int = 0  # managed remote assistants of the stack when planned
    targets: list[str] = Field(default_factory=list)
    unmatched_targets: list[str] = Field(default_factory=list)
    changes: list[Change] = Field(default_factory=list)
    notes: list[Note] = Field(default_factory=list)  # for people; never a change

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
