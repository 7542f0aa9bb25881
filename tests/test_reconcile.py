"""A path holding no manifest at all is a mistake, not an empty desired state."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistants_sync.emulator import EmulatorServer

from .conftest import run, write

NONE_IN = "Error: no assistant, agent, foundry agent or vector store manifests (*.yaml or *.yml files) in {path}"
HINT = ("; a plan from no manifests would delete every object the stack manages; "
        "if that is what you want, pass --allow-delete-all\n")


@pytest.fixture
def empty(tmp_path: Path) -> Path:
    """A folder with files, none of them a manifest."""
    write(tmp_path / "empty" / "README.md", "The manifests moved to ../specs.\n")
    return tmp_path / "empty"


def applied(root: Path) -> Path:
    for key in ("alpha", "beta"):
        write(root / f"{key}.yaml", f"key: {key}\nmodel: gpt-4o\n")
    result = run("apply", "--auto-approve", str(root))
    assert result.exit_code == 0, result.output
    return root


def test_validate_of_a_path_without_manifests_says_so_and_exits_1(empty: Path) -> None:
    result = run("validate", str(empty))
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == NONE_IN.format(path=empty) + "\n"


@pytest.mark.parametrize("flags", [pytest.param((), id="plain"), pytest.param(("--no-delete",), id="no-delete")])
def test_plan_of_a_path_without_manifests_says_so_and_exits_1(
    env: EmulatorServer, tmp_path: Path, empty: Path, flags: tuple[str, ...]
) -> None:
    applied(tmp_path / "specs")
    result = run("plan", str(empty), *flags)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == NONE_IN.format(path=empty) + HINT


def test_plan_of_an_empty_path_on_an_empty_endpoint_is_refused_too(env: EmulatorServer, empty: Path) -> None:
    result = run("plan", str(empty), "--detailed-exitcode")
    assert result.exit_code == 1
    assert result.stderr == NONE_IN.format(path=empty) + HINT


def test_apply_of_a_path_without_manifests_changes_nothing(env: EmulatorServer, tmp_path: Path, empty: Path) -> None:
    applied(tmp_path / "specs")
    result = run("apply", "--auto-approve", str(empty))
    assert result.exit_code == 1
    assert result.stderr == NONE_IN.format(path=empty) + HINT
    assert len(env.store) == 2


def test_drift_of_a_path_without_manifests_is_an_error_not_no_drift(
    env: EmulatorServer, tmp_path: Path, empty: Path
) -> None:
    applied(tmp_path / "specs")
    result = run("drift", str(empty))
    assert result.exit_code == 1
    assert "No drift" not in result.stdout
    assert result.stderr.startswith(NONE_IN.format(path=empty))


def test_allow_delete_all_is_the_one_way_to_plan_and_apply_deleting_everything(
    env: EmulatorServer, tmp_path: Path, empty: Path
) -> None:
    applied(tmp_path / "specs")
    planned = run("plan", str(empty), "--allow-delete-all")
    assert planned.exit_code == 0, planned.output
    assert "Plan: 0 to create, 0 to update, 2 to delete." in planned.stdout
    result = run("apply", "--auto-approve", "--allow-delete-all", str(empty))
    assert result.exit_code == 0, result.output
    assert "Apply complete: 0 created, 0 updated, 2 deleted." in result.stdout
    assert len(env.store) == 0
