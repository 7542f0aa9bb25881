"""Plans rendered as text, Markdown and JSON: summaries, warnings, cuts, wording."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from assistants_sync.emulator import EmulatorServer
from assistants_sync.planning.plan import Action, Change, FieldChange, Plan
from assistants_sync.render.plans import MARKDOWN_LIMIT, render_markdown, render_text

from .conftest import run, write


def _many_changes(count: int) -> Plan:
    changes = [Change(action=Action.UPDATE, key=f"bot-{i:04d}", assistant_id=f"asst_{i}", cause="drift",
                      fields={"instructions": FieldChange(before="a\n" * 50, after="b\n" * 50)})
               for i in range(count)]
    changes.append(Change(action=Action.DELETE, key="zz-old", assistant_id="asst_old", reason="no manifest for this key"))
    return Plan(stack="default", endpoint="https://x/v1", remote_fingerprint="f", managed_count=count + 1, changes=changes)


class TestMarkdown:
    def test_markdown_has_summary_warning_and_one_collapsible_section_per_change(self) -> None:
        markdown = render_markdown(_many_changes(2))
        assert markdown.startswith(
            "### assistants-sync plan: stack `default`\n\n**Plan: 0 to create, 2 to update, 1 to delete.**\n\n"
            "> [!WARNING]\n> **1 assistant will be deleted:** `zz-old` (asst_old)\n")
        assert markdown.count("<details><summary>") == 3
        assert "<summary><code>~ update</code> bot-0000 (asst_0) will be updated in place (changed outside assistants-sync)</summary>" in markdown
        assert "```diff\n  instructions: (line diff)\n@@ -1,50 +1,50 @@\n-   a\n" in markdown

    def test_markdown_is_cut_at_the_limit_with_the_summary_kept(self) -> None:
        plan = _many_changes(1000)
        full_text = render_text(plan)
        assert len(full_text) > MARKDOWN_LIMIT
        markdown = render_markdown(plan)
        assert len(markdown) <= MARKDOWN_LIMIT
        assert "**Plan: 0 to create, 1000 to update, 1 to delete.**" in markdown
        assert re.search(r"_… \d+ more changes not shown: the report is cut at 65,536 characters", markdown)
        assert markdown.count("<details>") == markdown.count("</details>")

    def test_markdown_fences_survive_backticks_in_values(self) -> None:
        plan = Plan(stack="s", endpoint="e", remote_fingerprint="f", changes=[Change(
            action=Action.UPDATE, key="k", assistant_id="a",
            fields={"instructions": FieldChange(before="use ```code```\nx", after="use ```code```\ny")})])
        markdown = render_markdown(plan)
        assert "````diff\n" in markdown and "\n````\n" in markdown


@pytest.fixture
def one_applied(env: EmulatorServer, tmp_path: Path) -> Path:
    specs = write(tmp_path / "specs" / "bot.yaml", "key: bot\nmodel: gpt-4o\n").parent
    assert run("apply", "--auto-approve", str(specs)).exit_code == 0
    return specs


def test_an_empty_drift_report_says_no_drift_once(one_applied: Path, env: EmulatorServer) -> None:
    result = run("drift", str(one_applied))
    assert result.exit_code == 0
    assert result.stdout == (f'Stack "default" at {env.base_url}\n\n'
                             "The 1 managed assistant is as last applied.\n\nNo drift.\n")
    markdown = run("drift", str(one_applied), "--format", "markdown").stdout
    assert markdown.count("No drift.") == 1


def test_one_managed_assistant_matches(one_applied: Path) -> None:
    result = run("plan", str(one_applied))
    assert "No changes. The 1 managed assistant matches the manifests.\n" in result.stdout



def test_an_empty_plan_says_what_no_delete_left_out(env: EmulatorServer, tmp_path: Path) -> None:
    specs = write(tmp_path / "specs" / "bot.yaml", "key: bot\nmodel: gpt-4o\n").parent
    write(specs / "old.yaml", "key: old\nmodel: gpt-4o\n")
    assert run("apply", "--auto-approve", str(specs)).exit_code == 0
    (specs / "old.yaml").unlink()

    result = run("plan", str(specs), "--no-delete")

    assert result.exit_code == 0, result.output
    assert ("No changes. --no-delete left out 1 delete; plan without --no-delete to see it. "
            "The other managed assistant matches the manifests.\n") in result.stdout
    assert "match the manifests" not in result.stdout.replace("matches the manifests", "")
    assert "--no-delete left out 1 delete" in run("plan", str(specs), "--no-delete", "--format", "markdown").stdout
    assert json.loads(run("plan", str(specs), "--no-delete", "--format", "json").stdout)["skipped_deletes"] == 1
    assert json.loads(run("plan", str(specs), "--format", "json").stdout)["skipped_deletes"] == 0
    targeted = run("plan", str(specs), "--no-delete", "--target", "old")
    assert "No changes for the targeted keys; --no-delete left out 1 delete.\n" in targeted.stdout
    untouched = run("plan", str(specs), "--no-delete", "--target", "bot")
    assert "No changes for the targeted keys.\n" in untouched.stdout


def test_an_empty_plan_from_no_manifests_with_no_delete_says_every_delete_was_left_out(
        env: EmulatorServer, one_applied: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    result = run("plan", str(empty), "--allow-delete-all", "--no-delete")
    assert result.exit_code == 0, result.output
    assert "No changes. --no-delete left out 1 delete; plan without --no-delete to see it.\n" in result.stdout
    assert "match" not in result.stdout
