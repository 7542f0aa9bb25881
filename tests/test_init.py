"""The public names (`assistants_sync.__all__`) are complete: each resolves, and each stage's main
classes and functions are among them."""

from __future__ import annotations

import importlib
import inspect
import subprocess
import sys

import pytest

import assistants_sync
from assistants_sync import errors

# Each stage's entry points: what a user of the library calls or receives.
MAIN_NAMES = {
    "desired.manifest": ["Desired", "load_manifests"],
    "actual.client": ["AssistantsClient", "Endpoint"],
    "actual.remote": ["ActualState", "RemoteObject", "actual_state", "fetch_actual"],
    "planning.diff": ["compute_plan"],
    "planning.plan": ["Action", "Change", "FieldChange", "Plan", "Ref"],
    "planning.reconcile": ["drift_from_manifests", "plan_from_manifests"],
    "planning.saved": ["check_saved_plan", "load_plan", "save_plan"],
    "render.plans": ["render_json", "render_markdown", "render_text"],
    "render.export": ["export_manifests"],
    "applying.apply": ["ApplyResult", "Outcome", "apply_plan"],
    "applying.report": ["render_apply_summary", "render_outcome"],
    "kinds": ["get_kind", "register", "unregister"],
    "kinds.base": ["DEFAULT_KIND", "Kind", "ManifestBase"],
}


@pytest.mark.parametrize("name", assistants_sync.__all__)
def test_every_public_name_resolves(name: str) -> None:
    assert getattr(assistants_sync, name) is not None


@pytest.mark.parametrize("module", sorted(MAIN_NAMES))
def test_each_stage_exports_its_main_names_from_where_they_live(module: str) -> None:
    loaded = importlib.import_module(f"assistants_sync.{module}")
    for name in MAIN_NAMES[module]:
        assert name in assistants_sync.__all__, f"{module}.{name} is not in assistants_sync.__all__"
        assert getattr(assistants_sync, name) is getattr(loaded, name)


def test_every_error_of_the_exception_tree_is_public_and_under_sync_error() -> None:
    defined = [value for name, value in vars(errors).items()
               if inspect.isclass(value) and issubclass(value, Exception) and value.__module__ == errors.__name__]
    assert all(issubclass(error, errors.SyncError) for error in defined)
    missing = sorted(e.__name__ for e in defined if e.__name__ not in assistants_sync.__all__)
    assert missing == []


def test_importing_the_package_loads_no_stage() -> None:
    code = ("import sys, assistants_sync; "
            "print(sorted(m for m in sys.modules if m.startswith('assistants_sync.')))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"


@pytest.mark.parametrize(("module", "never"), [
    pytest.param("assistants_sync.render.plans", "assistants_sync.applying", id="render-does-not-import-apply"),
    pytest.param("assistants_sync.planning.reconcile", "httpx", id="planning-does-not-import-httpx"),
    pytest.param("assistants_sync.planning.saved", "assistants_sync.render", id="saving-a-plan-does-not-render"),
    pytest.param("assistants_sync.desired.manifest", "assistants_sync.planning", id="desired-does-not-import-planning"),
    pytest.param("assistants_sync.kinds.assistant", "assistants_sync.planning", id="kinds-do-not-import-planning"),
])
def test_no_stage_imports_a_later_one(module: str, never: str) -> None:
    code = (f"import sys, {module}; "
            f"print(sorted(m for m in sys.modules if m == {never!r} or m.startswith({never + '.'!r})))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"
