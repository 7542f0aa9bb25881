"""demo reads the project file as plan does: paths, defaults, variables, environments."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from .conftest import ROOT, run, write


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of examples/project as the working directory, with no endpoint settings inherited."""
    target = tmp_path / "repo"
    shutil.copytree(ROOT / "examples" / "project", target)
    for name in ("ASSISTANTS_SYNC_STACK", "ASSISTANTS_SYNC_PARALLELISM", "TEAM", "PRODUCT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(target)
    return target


def test_demo_uses_the_project_files_defaults(project: Path) -> None:
    result = run("demo")
    assert result.exit_code == 0, result.output
    assert 'Stack "default" at http://127.0.0.1:' in result.stdout
    assert '  + faq "FAQ (web)" will be created\n      model: "gpt-4o-mini"\n' in result.stdout
    assert '"owner": "platform-team"' in result.stdout
    assert "Apply complete: 2 created, 0 updated, 0 deleted." in result.stdout


def test_demo_uses_the_environment_and_variables(project: Path) -> None:
    result = run("demo", "--env", "production", "--var", "TEAM=search")
    assert result.exit_code == 0, result.output
    assert 'Stack "production" at http://127.0.0.1:' in result.stdout
    assert '  + faq "FAQ (search)" will be created\n      model: "gpt-4o"\n' in result.stdout
    assert '"env": "production"' in result.stdout


def test_demo_reads_the_project_files_paths(project: Path) -> None:
    (project / "specs").rename(project / "assistants")
    write(project / "assistants-sync.yaml", "paths: [assistants]\ndefaults:\n  model: gpt-4o-mini\n")
    result = run("demo")
    assert result.exit_code == 0, result.output
    assert "Plan: 2 to create, 0 to update, 0 to delete." in result.stdout


def test_demo_shows_an_agent_beside_the_assistants(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no project file
    monkeypatch.delenv("ASSISTANTS_SYNC_STACK", raising=False)
    result = run("demo", str(ROOT / "specs"), str(ROOT / "examples" / "agents"))
    assert result.exit_code == 0, result.output
    assert '  + agent support-agent "Support Agent" will be created' in result.stdout
    assert "  + agent support-agent: created agent_" in result.stdout
    assert "Apply complete: 8 created, 0 updated, 0 deleted." in result.stdout
    assert result.stdout.endswith("No changes. The 8 managed objects match the manifests.\n\n"
                                  "Plan: 0 to create, 0 to update, 0 to delete.\n")
