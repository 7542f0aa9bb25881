"""examples/github-actions/foundry.yml run: its shell steps against the emulator's Foundry shape.

azure/login is stood in for by an `az` on the PATH that answers as a signed-in Azure CLI
does, so the steps sign in through azure-identity's real DefaultAzureCredential.
"""

from __future__ import annotations

import json
import stat
import sys
from pathlib import Path

import pytest

from .conftest import sent_where_foundry_serves
import yaml

from assistants_sync.emulator import running_emulator

from .test_examples import EXAMPLES, project, run_steps, shell_env, workflow_steps  # noqa: F401 - fixture

WORKFLOW = EXAMPLES / "github-actions" / "foundry.yml"


def executable(path: Path, text: str) -> None:
    path.write_text(f"#!{sys.executable}\n{text}")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)


def signed_in_tools(bin_dir: Path, token_file: Path, comments: Path) -> None:
    """`az` as azure/login leaves it (serving the token in token_file), and a `gh` that keeps PR comments."""
    bin_dir.mkdir()
    executable(bin_dir / "az", f"""import json
token, expires_on = open({str(token_file)!r}).read().split()
print(json.dumps({{"accessToken": token, "expires_on": int(expires_on), "tokenType": "Bearer"}}))
""")
    executable(bin_dir / "gh", f"""import os, sys
args = sys.argv[1:]
comments = {str(comments)!r}
if "--edit-last" in args and not os.path.exists(comments):
    sys.exit("no comments found for current user")
body = open(args[args.index("--body-file") + 1]).read()
open(comments, "w").write(args[2] + "\\n" + body)
""")


def test_the_foundry_workflow_signs_in_with_oidc_and_keeps_no_secret() -> None:
    text = WORKFLOW.read_text()
    workflow = yaml.safe_load(text)
    assert "secrets." not in text
    assert workflow["permissions"]["id-token"] == "write"
    for job in ("plan", "apply"):
        [login] = [s for s in workflow["jobs"][job]["steps"] if s.get("uses", "").startswith("azure/login@")]
        assert set(login["with"]) == {"client-id", "tenant-id", "subscription-id"}


def test_pull_request_plan_is_commented_then_merge_applies_it_on_foundry(project: Path, tmp_path: Path  # noqa: F811
                                                                         ) -> None:
    pytest.importorskip("azure.identity")
    summary, comments, token_file = tmp_path / "summary.md", tmp_path / "comments.md", tmp_path / "token"
    signed_in_tools(tmp_path / "bin", token_file, comments)
    workflow = yaml.safe_load(WORKFLOW.read_text())
    workflow_env, plan_steps = workflow_steps("foundry.yml", "plan")
    _, apply_steps = workflow_steps("foundry.yml", "apply")
    [comment_step] = [s["run"] for s in workflow["jobs"]["plan"]["steps"] if "gh pr comment" in s.get("run", "")]
    assert len(plan_steps) == 2 and len(apply_steps) == 1
    with running_emulator() as emulator:
        token = emulator.tokens.mint(lifetime=3600)
        token_file.write_text(f"{token.token} {token.expires_on}")
        env = {**shell_env(None, summary), **workflow_env,
               "AZURE_AI_PROJECT_ENDPOINT": emulator.project_url("prod"), "PR_NUMBER": "42"}
        env["PATH"] = f"{tmp_path / 'bin'}:{env['PATH']}"
        assert workflow_env["ASSISTANTS_SYNC_PROVIDER"] == "foundry"
        for result in run_steps(plan_steps, project, env):
            assert result.returncode == 0, result.stderr
        [commented] = run_steps([comment_step], project, env)
        assert commented.returncode == 0, commented.stderr
        assert comments.read_text() == "42\n" + (project / "plan.md").read_text()
        assert "**Plan: 2 to create, 0 to update, 0 to delete.**" in comments.read_text()
        assert json.loads((project / "plan.json").read_text())["endpoint"] == f"{emulator.project_url('prod')} api-version=v1"
        [applied] = run_steps(apply_steps, project, env)
        assert applied.returncode == 0, applied.stderr
        assert "Apply complete: 2 created, 0 updated, 0 deleted." in applied.stdout
        assert all(sent_where_foundry_serves(r, "prod") for r in emulator.requests)
        texts = [summary.read_text(), comments.read_text(), (project / "plan.json").read_text(), applied.stdout,
                 applied.stderr]
        assert not any(token.token in text for text in texts)
