"""The examples/ run: pre-commit entries, and the workflows' shell steps against the emulator."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from assistants_sync.emulator import EmulatorServer, running_emulator

from .conftest import ROOT, run

EXAMPLES = ROOT / "examples"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of examples/project, as a repository root."""
    target = tmp_path / "repo"
    shutil.copytree(EXAMPLES / "project", target)
    return target


def shell_env(emulator: EmulatorServer | None, summary: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "ASSISTANTS_SYNC_", "AZURE_"))}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["GITHUB_STEP_SUMMARY"] = str(summary)
    if emulator is not None:
        env.update(OPENAI_API_KEY="sk-ci", OPENAI_BASE_URL=emulator.base_url)
    return env


def workflow_steps(name: str, job: str) -> tuple[dict[str, str], list[str]]:
    """The workflow's plain env values and the job's `run:` scripts that call assistants-sync."""
    workflow = yaml.safe_load((EXAMPLES / "github-actions" / name).read_text())
    env = {k: v for k, v in workflow.get("env", {}).items() if "${{" not in str(v)}
    scripts = [step["run"] for step in workflow["jobs"][job]["steps"]
               if "run" in step and "assistants-sync " in step["run"] and not step["run"].startswith("pip ")]
    return env, scripts


def run_steps(scripts: list[str], cwd: Path, env: dict[str, str]) -> list[subprocess.CompletedProcess[str]]:
    return [subprocess.run(["bash", "-e", "-c", script], cwd=cwd, env=env, capture_output=True, text=True)
            for script in scripts]


@pytest.mark.parametrize("hooks_file", [ROOT / ".pre-commit-hooks.yaml", EXAMPLES / "pre-commit-config.yaml"])
def test_the_pre_commit_hook_entry_runs_and_catches_bad_manifests(project: Path, tmp_path: Path, hooks_file: Path
                                                                  ) -> None:
    document: Any = yaml.safe_load(hooks_file.read_text())
    hooks = document if isinstance(document, list) else [h for r in document["repos"] for h in r["hooks"]]
    [hook] = [h for h in hooks if h["id"] == "assistants-sync-validate"]
    assert hook["pass_filenames"] is False
    command = shlex.split(hook["entry"]) + hook.get("args", [])
    env = shell_env(None, tmp_path / "summary.md")
    ok = subprocess.run(command, cwd=project, env=env, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout == "2 assistant manifests valid.\n"
    (project / "specs" / "faq.yaml").write_text("key: faq\ntemprature: 1\n")
    broken = subprocess.run(command, cwd=project, env=env, capture_output=True, text=True)
    assert broken.returncode == 1
    assert "temprature: unknown field 'temprature'; did you mean 'temperature'?" in broken.stderr


def test_pull_request_plan_then_merge_applies_the_reviewed_plan(project: Path, tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    workflow_env, plan_steps = workflow_steps("assistants-sync.yml", "plan")
    _, apply_steps = workflow_steps("assistants-sync.yml", "apply")
    assert len(plan_steps) == 2 and len(apply_steps) == 1
    with running_emulator() as emulator:
        env = {**shell_env(emulator, summary), **workflow_env}
        for result in run_steps(plan_steps, project, env):
            assert result.returncode == 0, result.stderr
        assert summary.read_text().startswith("### assistants-sync plan: stack `production`\n")
        assert "**Plan: 2 to create, 0 to update, 0 to delete.**" in summary.read_text()
        assert json.loads((project / "plan.json").read_text())["stack"] == "production"
        [applied] = run_steps(apply_steps, project, env)  # plan.json arrives as the artifact would
        assert applied.returncode == 0, applied.stderr
        assert "Apply complete: 2 created, 0 updated, 0 deleted." in applied.stdout
        models = sorted(a["model"] for a in emulator.store.list()["data"])
        assert models == ["gpt-4.1-mini", "gpt-4o"]  # production's default model for the FAQ
        stale = run_steps(apply_steps, project, env)[0]
        assert stale.returncode == 1 and "have changed since the plan was made" in stale.stderr


def test_the_scheduled_drift_check_fails_on_drift_and_reports_it(project: Path, tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    workflow_env, [check] = workflow_steps("drift.yml", "drift")
    with running_emulator() as emulator:
        env = {**shell_env(emulator, summary), **workflow_env}
        assert subprocess.run(["assistants-sync", "apply", "--auto-approve", "--env", "production"], cwd=project,
                              env=env, capture_output=True).returncode == 0
        [clean] = run_steps([check], project, env)
        assert clean.returncode == 0, clean.stderr
        assert "No drift." in summary.read_text()
        faq = next(a for a in emulator.store.list()["data"] if a["name"].startswith("FAQ"))
        emulator.store.modify(faq["id"], {"temperature": 1.5})
        [drifted] = run_steps([check], project, env)
        assert drifted.returncode == 2
        assert "::error::assistants were changed outside assistants-sync" in drifted.stdout
        assert "**Drift: 1 assistant changed outside assistants-sync.**" in summary.read_text()


@pytest.mark.parametrize(("file", "kind"), [("assistants-sync.schema.json", "manifest"),
                                             ("assistants-sync.config.schema.json", "config")])
def test_the_schemas_in_examples_are_the_generated_ones(file: str, kind: str) -> None:
    generated = run("schema", "--kind", kind)
    assert json.loads((EXAMPLES / file).read_text()) == json.loads(generated.stdout), (
        f"regenerate with: assistants-sync schema --kind {kind} > examples/{file}")
