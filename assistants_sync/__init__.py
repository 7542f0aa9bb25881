"""assistants-sync: declarative plan/apply for OpenAI-compatible Assistants.

The library is usable without the CLI::

    from assistants_sync import AssistantsClient, Endpoint, plan_from_manifests, apply_plan
    with AssistantsClient(Endpoint(api_key=key)) as client:
        plan = plan_from_manifests(["specs"], client, stack="default")
        print(render_text(plan))
        apply_plan(plan, client)
"""

from .apply import ApplyResult, Outcome, apply_plan
from .canonical import CanonicalAssistant, normalise
from .client import AssistantsClient, Endpoint
from .diff import compute_plan
from .errors import ApiError, BadResponseError, ConfigError, ManifestError, PlanError, Problem, RemoteError, SyncError
from .manifest import DesiredAssistant, load_manifests
from .plan import Action, Change, FieldChange, Plan
from .reconcile import check_saved_plan, load_plan, plan_from_manifests, save_plan
from .remote import ActualState, RemoteAssistant, actual_state, fetch_actual
from .render import render_json, render_text

__all__ = [
    "Action",
    "ActualState",
    "ApiError",
    "ApplyResult",
    "AssistantsClient",
    "BadResponseError",
    "CanonicalAssistant",
    "Change",
    "ConfigError",
    "DesiredAssistant",
    "Endpoint",
    "FieldChange",
    "ManifestError",
    "Outcome",
    "Plan",
    "PlanError",
    "Problem",
    "RemoteAssistant",
    "RemoteError",
    "SyncError",
    "actual_state",
    "apply_plan",
    "check_saved_plan",
    "compute_plan",
    "fetch_actual",
    "load_manifests",
    "load_plan",
    "normalise",
    "plan_from_manifests",
    "render_json",
    "render_text",
    "save_plan",
]
