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
    "ApplyResult": "apply", "Outcome": "apply", "apply_plan": "apply",
    "CanonicalAssistant": "canonical", "normalise": "canonical",
    "AssistantsClient": "client", "Endpoint": "client",
    "compute_plan": "diff",
    "ApiError": "errors", "BadResponseError": "errors", "ConfigError": "errors", "ManifestError": "errors",
    "PlanError": "errors", "Problem": "errors", "RemoteError": "errors", "SyncError": "errors",
    "ProjectFileError": "errors",
    "DesiredAssistant": "manifest", "load_manifests": "manifest",
    "Action": "plan", "Change": "plan", "FieldChange": "plan", "Plan": "plan",
    "check_saved_plan": "reconcile", "load_plan": "reconcile", "plan_from_manifests": "reconcile",
    "save_plan": "reconcile",
    "ActualState": "remote", "RemoteAssistant": "remote", "actual_state": "remote", "fetch_actual": "remote",
    "render_json": "render", "render_markdown": "render", "render_text": "render",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


if TYPE_CHECKING:
    from .apply import ApplyResult, Outcome, apply_plan
    from .canonical import CanonicalAssistant, normalise
    from .client import AssistantsClient, Endpoint
    from .diff import compute_plan
    from .errors import (ApiError, BadResponseError, ConfigError, ManifestError, PlanError, Problem, RemoteError,
                         SyncError)
    from .errors import ProjectFileError
    from .manifest import DesiredAssistant, load_manifests
    from .plan import Action, Change, FieldChange, Plan
    from .reconcile import check_saved_plan, load_plan, plan_from_manifests, save_plan
    from .remote import ActualState, RemoteAssistant, actual_state, fetch_actual
    from .render import render_json, render_markdown, render_text
