"""assistants-sync: declarative plan/apply for OpenAI-compatible Assistants.

The library is usable without the CLI::

    from assistants_sync import AssistantsClient, Endpoint, plan_from_manifests, apply_plan
    with AssistantsClient(Endpoint(api_key=key)) as client:
        plan = plan_from_manifests(["specs"], client, stack="default")
        print(render_text(plan))
        apply_plan(plan, client)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# Where each public name lives. Imported on first use (PEP 562), so that
# `assistants-sync --help` does not pay for pydantic, httpx and jsonschema.
_EXPORTS = {
    "ApplyResult": "applying.apply", "Outcome": "applying.apply", "apply_plan": "applying.apply",
    "CanonicalAssistant": "kinds.assistant", "normalise": "kinds.assistant",
    "AssistantsClient": "actual.client", "Endpoint": "actual.client",
    "compute_plan": "planning.diff",
    "ApiError": "errors", "BadResponseError": "errors", "ConfigError": "errors", "ManifestError": "errors",
    "PlanError": "errors", "Problem": "errors", "RemoteError": "errors", "SyncError": "errors",
    "ProjectFileError": "errors",
    "DesiredAssistant": "desired.manifest", "load_manifests": "desired.manifest",
    "Action": "planning.plan", "Change": "planning.plan", "FieldChange": "planning.plan", "Plan": "planning.plan",
    "check_saved_plan": "planning.reconcile", "load_plan": "planning.reconcile", "plan_from_manifests": "planning.reconcile",
    "save_plan": "planning.reconcile",
    "ActualState": "actual.remote", "RemoteAssistant": "actual.remote", "actual_state": "actual.remote", "fetch_actual": "actual.remote",
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
    from .applying.apply import ApplyResult, Outcome, apply_plan
    from .kinds.assistant import CanonicalAssistant, normalise
    from .actual.client import AssistantsClient, Endpoint
    from .planning.diff import compute_plan
    from .errors import (ApiError, BadResponseError, ConfigError, ManifestError, PlanError, Problem, RemoteError,
                         SyncError)
    from .errors import ProjectFileError
    from .desired.manifest import DesiredAssistant, load_manifests
    from .planning.plan import Action, Change, FieldChange, Plan
    from .planning.reconcile import check_saved_plan, load_plan, plan_from_manifests, save_plan
    from .actual.remote import ActualState, RemoteAssistant, actual_state, fetch_actual
    from .render.plans import render_json, render_markdown, render_text
