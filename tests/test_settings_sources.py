"""Settings read from the environment, and errors that name where a bad setting came from."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from assistants_sync.emulator import EmulatorServer

from .conftest import ROOT, plan_json, run


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of examples/project as the working directory."""
    target = tmp_path / "repo"
    shutil.copytree(ROOT / "examples" / "project", target)
    monkeypatch.delenv("ASSISTANTS_SYNC_ENV", raising=False)
    monkeypatch.chdir(target)
    return target


def test_assistants_sync_env_chooses_the_environment(env: EmulatorServer, project: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSISTANTS_SYNC_ENV", "production")
    document = plan_json()
    assert document["stack"] == "production"
    assert {c["key"]: c["fields"]["model"]["after"] for c in document["changes"]}["faq"] == "gpt-4o"


def test_the_env_flag_wins_over_assistants_sync_env(env: EmulatorServer, project: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSISTANTS_SYNC_ENV", "production")
    assert plan_json("--env", "staging")["stack"] == "staging"


def test_an_unknown_assistants_sync_env_is_an_error_naming_the_variable(env: EmulatorServer, project: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSISTANTS_SYNC_ENV", "prod")
    result = run("plan")
    assert result.exit_code == 1
    assert result.stderr == ("Error: ASSISTANTS_SYNC_ENV=prod: no such environment in "
                             f"{project / 'assistants-sync.yaml'} (defined: production, staging)\n")
    assert env.requests == []


def test_assistants_sync_env_without_a_project_file_is_an_error(env: EmulatorServer, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ASSISTANTS_SYNC_ENV", "production")
    result = run("validate")
    assert result.exit_code == 1
    assert result.stderr == ("Error: ASSISTANTS_SYNC_ENV=production: there is no project file "
                             "(assistants-sync.yaml) to define it\n")
