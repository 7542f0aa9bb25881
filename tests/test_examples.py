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
        assert stale.stdout.startswith("::error::The reviewed plan was not (fully) applied; the reason is above.")
        assert "To go on, open a pull request (an empty commit will do), review its new plan, and merge it." in (
            stale.stdout)


def test_every_pull_request_commit_gets_a_plan_the_merge_can_apply() -> None:
    """The apply job downloads the plan of the pull request's last commit: no commit may skip the plan job."""
    workflow = yaml.safe_load((EXAMPLES / "github-actions" / "assistants-sync.yml").read_text())
    triggers = workflow[True]  # YAML 1.1 reads the key `on` as true
    assert "paths" not in (triggers["pull_request"] or {}) and "paths-ignore" not in (triggers["pull_request"] or {})
    assert "paths" not in (triggers["push"] or {}) and "paths-ignore" not in (triggers["push"] or {})
    assert workflow["jobs"]["plan"]["if"] == "github.event_name == 'pull_request'"
    download = next(s for s in workflow["jobs"]["apply"]["steps"] if "download-artifact" in s.get("uses", ""))
    assert download["with"]["pr"] == "${{ steps.pr.outputs.number }}"


@pytest.mark.parametrize(("file", "kind"), [("assistants-sync.schema.json", "manifest"),
                                             ("assistants-sync.config.schema.json", "config")])
def test_the_schemas_in_examples_are_the_generated_ones(file: str, kind: str) -> None:
    generated = run("schema", "--kind", kind)
    assert json.loads((EXAMPLES / file).read_text()) == json.loads(generated.stdout), (
        f"regenerate with: assistants-sync schema --kind {kind} > examples/{file}")
