"""assistants-sync: declarative plan/apply for OpenAI-compatible Assistants (and other kinds).

The library is usable without the CLI::

    from assistants_sync import AssistantsClient, Endpoint, plan_from_manifests, apply_plan
    with AssistantsClient(Endpoint(api_key=key)) as client:
        plan = plan_from_manifests(["specs"], client, stack="default")
        print(render_text(plan))
        apply_plan(plan, client)

The pipeline, a folder per stage: ``desired/`` (manifests) and ``actual/`` (the
endpoint) meet in ``planning/`` (the plan), which ``render/`` shows and ``applying/``
carries out; ``kinds/`` holds what differs between kinds of objects, a module each.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# Where each public name lives. Imported on first use (PEP 562), so that
# `assistants-sync --help` does not pay for pydantic, httpx and jsonschema.
_EXPORTS = {
    "Endpoint": "actual.client", "AssistantsClient": "actual.client",
    "ActualState": "actual.remote", "RemoteObject": "actual.remote", "RemoteAssistant": "actual.remote",
    "actual_state": "actual.remote", "fetch_actual": "actual.remote",
    "ApplyResult": "applying.apply", "Outcome": "applying.apply", "apply_plan": "applying.apply",
    "render_apply_summary": "applying.report", "render_outcome": "applying.report",
    "Desired": "desired.manifest", "DesiredAssistant": "desired.manifest", "load_manifests": "desired.manifest",
    "ApiError": "errors", "BadResponseError": "errors", "ConfigError": "errors", "LockError": "errors",
    "LockHeldError": "errors", "ManifestError": "errors", "NoManifestsError": "errors", "PlanError": "errors",
    "Problem": "errors", "ProjectFileError": "errors", "RemoteError": "errors", "SyncError": "errors",
    "UnservedKindError": "errors", "AmbiguousRequestError": "errors", "UnreadableFile": "errors",
    "VariableError": "errors", "ContentUnavailable": "errors", "LockLostError": "errors",
    "Kind": "kinds.base", "ManifestBase": "kinds.base", "DEFAULT_KIND": "kinds.base",
    "register": "kinds", "unregister": "kinds", "get_kind": "kinds",
    "CanonicalAssistant": "kinds.assistant", "normalise": "kinds.assistant", "ASSISTANT": "kinds.assistant",
    "compute_plan": "planning.diff",
    "Action": "planning.plan", "Change": "planning.plan", "FieldChange": "planning.plan", "Plan": "planning.plan",
    "Ref": "planning.plan",
    "drift_from_manifests": "planning.reconcile", "plan_from_manifests": "planning.reconcile",
    "check_saved_plan": "planning.saved", "load_plan": "planning.saved", "save_plan": "planning.saved",
    "export_manifests": "render.export",
    "render_json": "render.plans", "render_markdown": "render.plans", "render_text": "render.plans",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


if TYPE_CHECKING:
    from .actual.client import AssistantsClient, Endpoint
    from .actual.remote import ActualState, RemoteAssistant, RemoteObject, actual_state, fetch_actual
    from .applying.apply import ApplyResult, Outcome, apply_plan
    from .applying.report import render_apply_summary, render_outcome
    from .desired.manifest import Desired, DesiredAssistant, load_manifests
    from .errors import (AmbiguousRequestError, ApiError, BadResponseError, ConfigError, ContentUnavailable, LockError,
                         LockHeldError, LockLostError,
                         ManifestError, NoManifestsError, PlanError, Problem, ProjectFileError, RemoteError,
                         SyncError, UnreadableFile, UnservedKindError, VariableError)
    from .kinds import get_kind, register, unregister
    from .kinds.assistant import ASSISTANT, CanonicalAssistant, normalise
    from .kinds.base import DEFAULT_KIND, Kind, ManifestBase
    from .planning.diff import compute_plan
    from .planning.plan import Action, Change, FieldChange, Plan, Ref
    from .planning.reconcile import drift_from_manifests, plan_from_manifests
    from .planning.saved import check_saved_plan, load_plan, save_plan
    from .render.export import export_manifests
    from .render.plans import render_json, render_markdown, render_text
