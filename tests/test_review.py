"""Plans a reviewer can trust: readable diffs, drift attribution, safe deletes, adoption, export."""

from __future__ import annotations

import json
import re
from pathlib import Path

import openai
import pytest

from assistants_sync import cli as cli_module
from assistants_sync.emulator import EmulatorServer
from assistants_sync.planning.plan import Action, Change, FieldChange, Plan
from assistants_sync.render.plans import MARKDOWN_LIMIT, render_markdown, render_text

from .conftest import plan_json, run, write

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def apply_ok(*args: str) -> str:
    result = run("apply", "--auto-approve", *args)
    assert result.exit_code == 0, result.output
    return result.stdout


def field_block(output: str, field: str) -> list[str]:
    """The lines a text plan prints for one field of one change."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"      {field}:"))
    block = [lines[start]]
    for line in lines[start + 1:]:
        if not line.startswith("        "):
            break
        block.append(line)
    return block


class TestReadableDiffs:
    def test_one_line_edit_in_5000_line_instructions_prints_a_short_line_diff(
        self, env: EmulatorServer, tmp_path: Path
    ) -> None:
        text = "".join(f"Rule {i}: be helpful in situation {i}.\n" for i in range(5000))
        write(tmp_path / "prompt.md", text)
        write(tmp_path / "bot.yaml", "key: bot\nmodel: gpt-4o\ninstructions_file: prompt.md\n")
        apply_ok(str(tmp_path))
        (tmp_path / "prompt.md").write_text(text.replace("Rule 2500: be helpful", "Rule 2500: be VERY helpful"))
        output = run("plan", str(tmp_path)).stdout
        block = field_block(output, "instructions")
        assert len(block) <= 15
        assert block == [
            "      instructions: (line diff)",
            "        @@ -2499,5 +2499,5 @@",
            "         Rule 2498: be helpful in situation 2498.",
            "         Rule 2499: be helpful in situation 2499.",
            "        -Rule 2500: be helpful in situation 2500.",
            "        +Rule 2500: be VERY helpful in situation 2500.",
            "         Rule 2501: be helpful in situation 2501.",
            "         Rule 2502: be helpful in situation 2502.",
        ]
        assert len(output) < 1000

    def test_a_very_large_text_change_is_cut_with_a_note(self, env: EmulatorServer, tmp_path: Path) -> None:
        write(tmp_path / "bot.yaml", "key: bot\nmodel: m\ninstructions: |\n" + "".join(f"  a{i}\n" for i in range(300)))
        apply_ok(str(tmp_path))
        write(tmp_path / "bot.yaml", "key: bot\nmodel: m\ninstructions: |\n" + "".join(f"  b{i}\n" for i in range(300)))
        block = field_block(run("plan", str(tmp_path)).stdout, "instructions")
        assert len(block) == 42
        assert block[-1] == "        ... diff cut: 561 more lines (--full-diff shows them, --format json the whole text)"

    def test_a_long_single_line_shows_only_what_differs(self, env: EmulatorServer, tmp_path: Path) -> None:
        write(tmp_path / "bot.yaml", f"key: bot\nmodel: m\ninstructions: {'x' * 500}OLD{'y' * 500}\n")
        apply_ok(str(tmp_path))
        write(tmp_path / "bot.yaml", f"key: bot\nmodel: m\ninstructions: {'x' * 500}NEW{'y' * 500}\n")
        [line] = field_block(run("plan", str(tmp_path)).stdout, "instructions")
        x, y = "x" * 30, "y" * 30
        assert line == f'      instructions: "…{x}OLD{y}…" -> "…{x}NEW{y}…"'

    def test_json_fields_show_path_level_changes_and_tools_match_by_identity(
        self, env: EmulatorServer, tmp_path: Path
    ) -> None:
        write(tmp_path / "bot.yaml", """
            key: bot
            model: m
            name: Bot
            tools:
              - type: code_interpreter
              - type: file_search
              - type: function
                function:
                  name: get_weather
                  parameters: {type: object, properties: {city: {type: string}}}
            """)
        apply_ok(str(tmp_path))
        write(tmp_path / "bot.yaml", """
            key: bot
            model: m
            name: Bot
            tools:
              - type: file_search
              - type: code_interpreter
              - type: function
                function:
                  name: get_weather
                  parameters: {type: object, properties: {city: {type: integer}}}
            """)
        output = run("plan", str(tmp_path)).stdout
        assert '"Bot" will be updated in place (manifest changed)' in output  # identity shown, name unchanged
        assert field_block(output, "tools") == [
            "      tools:",
            "        tools[2] (function get_weather):",
            '          tools[2].function.parameters.properties.city.type: "string" -> "integer"',
            "        tools order: code_interpreter, file_search, function get_weather -> "
            "file_search, code_interpreter, function get_weather",
        ]
        assert "      (8 unchanged fields hidden)" in output.splitlines()

    def test_inserting_one_tool_shows_only_that_tool(self, env: EmulatorServer, tmp_path: Path) -> None:
        write(tmp_path / "bot.yaml", "key: bot\nmodel: m\ntools:\n  - type: function\n    function: {name: a}\n"
                                     "  - type: function\n    function: {name: b}\n")
        apply_ok(str(tmp_path))
        write(tmp_path / "bot.yaml", "key: bot\nmodel: m\ntools:\n  - type: code_interpreter\n"
                                     "  - type: function\n    function: {name: a}\n  - type: function\n    function: {name: b}\n")
        lines = run("plan", str(tmp_path)).stdout.splitlines()
        start = lines.index("      tools:")
        assert lines[start + 1] == '        + tools[0] (code_interpreter): {"type": "code_interpreter"}'
        assert lines[start + 2] == "      (8 unchanged fields hidden)"  # metadata (the new applied record) is not shown

    def test_colour_on_a_terminal_and_off_with_no_color(
        self, env: EmulatorServer, example_specs: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(cli_module, "_stdout_is_terminal", lambda: True)
        coloured = run("plan", str(example_specs)).stdout
        assert "\x1b[32m" in coloured and "\x1b[1m" in coloured  # green creates, bold summary
        assert "\x1b[" not in run("plan", str(example_specs), "--no-color").stdout
        monkeypatch.setenv("NO_COLOR", "1")
        plain = run("plan", str(example_specs)).stdout
        assert "\x1b[" not in plain and plain == ANSI.sub("", coloured)


class TestDriftAttribution:
    @pytest.fixture
    def applied(self, env: EmulatorServer, example_specs: Path, sdk: openai.OpenAI) -> dict[str, str]:
        apply_ok(str(example_specs))
        return {a.name or "": a.id for a in sdk.beta.assistants.list()}

    def test_manifest_drift_and_both_are_told_apart(
        self, applied: dict[str, str], example_specs: Path, sdk: openai.OpenAI
    ) -> None:
        sdk.beta.assistants.update(applied["Weather"], temperature=0.1)  # drift only
        sdk.beta.assistants.update(applied["Support Bot"], name="Support Bot v2")  # drift ...
        support = example_specs / "support.yaml"
        support.write_text(support.read_text().replace("temperature: 0.3", "temperature: 0.4"))  # ... and manifest
        analyst = example_specs / "tools.yaml"
        analyst.write_text(analyst.read_text().replace("top_p: 0.9", "top_p: 0.8"))  # manifest only
        document = plan_json(str(example_specs))
        causes = {c["key"]: c["cause"] for c in document["changes"]}
        assert causes == {"data-analyst": "manifest", "support-bot": "both", "weather": "drift"}
        text = run("plan", str(example_specs)).stdout
        assert "will be updated in place (changed outside assistants-sync)" in text
        assert "will be updated in place (manifest changed, and changed outside assistants-sync)" in text

    def test_drift_command_reports_only_drift_with_exit_codes(
        self, applied: dict[str, str], example_specs: Path, sdk: openai.OpenAI
    ) -> None:
        none = run("drift", str(example_specs))
        assert none.exit_code == 0 and "No drift." in none.stdout
        analyst = example_specs / "tools.yaml"
        analyst.write_text(analyst.read_text().replace("top_p: 0.9", "top_p: 0.8"))
        assert run("drift", str(example_specs)).exit_code == 0  # a manifest change is not drift
        sdk.beta.assistants.update(applied["Weather"], instructions="Be terse.")
        found = run("drift", str(example_specs))
        assert found.exit_code == 2
        assert "Drift: 1 assistant changed outside assistants-sync." in found.stdout
        assert "data-analyst" not in found.stdout
        as_json = json.loads(run("drift", str(example_specs), "--format", "json").stdout)
        assert [(c["key"], c["cause"]) for c in as_json["changes"]] == [("weather", "drift")]
        markdown = run("drift", str(example_specs), "--format", "markdown").stdout
        assert markdown.startswith("### assistants-sync drift report: stack `default`")
        assert run("drift", str(example_specs / "missing")).exit_code == 1

    def test_a_drifted_field_the_manifest_does_not_manage_is_not_drift(
        self, applied: dict[str, str], example_specs: Path, sdk: openai.OpenAI
    ) -> None:
        sdk.beta.assistants.update(applied["Weather"], reasoning_effort="high")  # weather leaves it unmanaged
        assert run("drift", str(example_specs)).exit_code == 0
        assert plan_json(str(example_specs))["changes"] == []


class TestSafeDeletes:
    def test_a_plan_deleting_every_managed_assistant_needs_allow_delete_all(
        self, env: EmulatorServer, example_specs: Path, tmp_path: Path
    ) -> None:
        apply_ok(str(example_specs))
        mistyped = write(tmp_path / "other-project" / "other.yaml", "key: other\nmodel: gpt-4o\n").parent
        for command in (["plan"], ["apply", "--auto-approve"], ["plan", "--detailed-exitcode"]):
            result = run(*command, str(mistyped))
            assert result.exit_code == 1
            assert ('this plan would delete all 3 managed assistants of stack "default". Is the manifests path '
                    "empty or mistyped? If this is really intended, pass --allow-delete-all") in result.stderr
        assert len(env.store) == 3
        apply_ok(str(mistyped), "--allow-delete-all")
        assert len(env.store) == 1  # only "other"

    def test_a_wrong_key_is_an_error_not_an_empty_listing(
        self, env: EmulatorServer, example_specs: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        apply_ok(str(example_specs))
        monkeypatch.setenv("OPENAI_API_KEY", "sk-not-the-right-one")
        result = run("apply", "--auto-approve", str(example_specs))
        assert result.exit_code == 1 and "HTTP 401" in result.stderr
        assert len(env.store) == 3

    def test_no_delete_plans_creates_and_updates_only(self, env: EmulatorServer, example_specs: Path) -> None:
        apply_ok(str(example_specs))
        (example_specs / "support.yaml").unlink()
        write(example_specs / "new.yaml", "key: new\nmodel: m\n")
        document = plan_json(str(example_specs), "--no-delete")
        assert [(c["action"], c["key"]) for c in document["changes"]] == [("create", "new")]
        apply_ok(str(example_specs), "--no-delete")
        assert len(env.store) == 4

    def test_protect_blocks_the_delete_and_says_how_to_release(self, env: EmulatorServer, tmp_path: Path) -> None:
        write(tmp_path / "keep.yaml", "key: keep\nmodel: m\nprotect: true\n")
        write(tmp_path / "other.yaml", "key: other\nmodel: m\n")
        apply_ok(str(tmp_path))
        kept_id = next(a["id"] for a in env.store.list()["data"] if a["metadata"]["assistants-sync"] == "default/keep")
        assert env.store.retrieve(kept_id)["metadata"]["assistants-sync.protect"] == "true"
        (tmp_path / "keep.yaml").unlink()
        result = run("plan", str(tmp_path))
        assert result.exit_code == 1
        assert (f"refusing to delete protected assistant keep ({kept_id}): the manifest said protect: true. "
                "To delete, restore the manifest with protect: false, apply, then remove the manifest") in result.stderr
        assert run("plan", str(tmp_path), "--no-delete").exit_code == 0
        write(tmp_path / "keep.yaml", "key: keep\nmodel: m\nprotect: false\n")
        apply_ok(str(tmp_path))
        (tmp_path / "keep.yaml").unlink()
        apply_ok(str(tmp_path))
        assert len(env.store) == 1

    def test_ignore_changes_fields_are_neither_compared_nor_sent(
        self, env: EmulatorServer, tmp_path: Path, sdk: openai.OpenAI
    ) -> None:
        write(tmp_path / "bot.yaml", "key: bot\nmodel: m\ninstructions: v1\n"
                                     "tool_resources: {code_interpreter: {file_ids: [f1]}}\n"
                                     "ignore_changes: [tool_resources]\n")
        apply_ok(str(tmp_path))
        [assistant] = env.store.list()["data"]
        assert assistant["tool_resources"] == {"code_interpreter": {"file_ids": ["f1"]}}  # create still sets it
        sdk.beta.assistants.update(assistant["id"], tool_resources={"code_interpreter": {"file_ids": ["f2", "f3"]}})
        assert plan_json(str(tmp_path))["changes"] == []
        assert run("drift", str(tmp_path)).exit_code == 0
        write(tmp_path / "bot.yaml", (tmp_path / "bot.yaml").read_text().replace("v1", "v2"))
        [change] = plan_json(str(tmp_path))["changes"]
        assert set(change["fields"]) == {"instructions", "metadata"}
        modifies = lambda: len([r for r in env.requests if r.method == "POST" and r.path.startswith("/v1/assistants/")])  # noqa: E731
        writes_before = modifies()  # (creates are the apply's lock object)
        apply_ok(str(tmp_path))
        assert modifies() == writes_before + 1
        assert env.store.retrieve(assistant["id"])["tool_resources"] == {"code_interpreter": {"file_ids": ["f2", "f3"]}}


class TestExportAndAdopt:
    def test_export_of_managed_assistants_plans_no_changes(
        self, env: EmulatorServer, example_specs: Path, tmp_path: Path, sdk: openai.OpenAI
    ) -> None:
        apply_ok(str(example_specs))
        weather = next(a for a in sdk.beta.assistants.list() if a.name == "Weather")
        sdk.beta.assistants.update(weather.id, temperature=0.2)  # drifted: the export captures it as it is now
        out = tmp_path / "exported"
        result = run("export", "--out", str(out))
        assert result.exit_code == 0, result.output
        assert "Exported 3 assistants (stack \"default\")" in result.stdout
        assert sorted(p.name for p in out.glob("*.yaml")) == ["data-analyst.yaml", "support-bot.yaml", "weather.yaml"]
        assert (out / "instructions" / "support-bot.md").read_text() == (example_specs / "prompts" / "support.md").read_text()
        assert "instructions_file: instructions/support-bot.md" in (out / "support-bot.yaml").read_text()
        assert plan_json(str(out))["changes"] == []

    def test_unmanaged_export_then_apply_adopts_everything_with_zero_content_changes(
        self, env: EmulatorServer, tmp_path: Path, sdk: openai.OpenAI
    ) -> None:
        created = [
            sdk.beta.assistants.create(model="gpt-4o", name="Legal Helper", instructions="Line 1\nLine 2",
                                       tools=[{"type": "file_search"}], temperature=0.4, metadata={"owner": "legal"}),
            sdk.beta.assistants.create(model="gpt-4o-mini", name="Legal Helper", reasoning_effort="low"),
            sdk.beta.assistants.create(model="gpt-4o", response_format={"type": "json_object"}),
        ]
        before = {a.id: env.store.retrieve(a.id) for a in created}
        out = tmp_path / "imported"
        assert run("export", "--unmanaged", "--out", str(out)).exit_code == 0
        keys = sorted(p.stem for p in out.glob("*.yaml"))
        assert keys == sorted(["legal-helper", "legal-helper-2", created[2].id.lower()])
        assert f"adopt: {created[0].id}" in (out / "legal-helper.yaml").read_text()
        document = plan_json(str(out))
        assert document["summary"] == {"create": 0, "update": 0, "delete": 0, "adopt": 3}
        assert all(set(c["fields"]) == {"metadata"} for c in document["changes"])
        assert "> legal-helper (" in run("plan", str(out)).stdout
        apply_ok(str(out))
        for assistant_id, old in before.items():
            new = env.store.retrieve(assistant_id)
            assert {k: v for k, v in new.items() if k != "metadata"} == {k: v for k, v in old.items() if k != "metadata"}
            assert new["metadata"]["assistants-sync"].startswith("default/")
        assert plan_json(str(out))["changes"] == []

    def test_adopt_refuses_another_stacks_assistant(self, env: EmulatorServer, tmp_path: Path) -> None:
        write(tmp_path / "theirs" / "bot.yaml", "key: bot\nmodel: m\n")
        apply_ok(str(tmp_path / "theirs"), "--stack", "team-b")
        theirs = env.store.list()["data"][0]["id"]
        write(tmp_path / "mine" / "bot.yaml", f"key: mine\nmodel: m\nadopt: {theirs}\n")
        result = run("plan", str(tmp_path / "mine"), "--stack", "team-a")
        assert result.exit_code == 0  # skipped, with a note: the plan creates instead
        assert (f"adopt: {theirs} skipped: it belongs to stack 'team-b', not 'team-a', and an assistant is never "
                "taken from another stack") in result.stdout
        assert "Plan: 1 to create, 0 to update, 0 to delete." in result.stdout
        write(tmp_path / "mine" / "bot.yaml", "key: mine\nmodel: m\nadopt: asst_nothere\n")
        skipped = run("plan", str(tmp_path / "mine")).stdout
        assert "adopt: asst_nothere skipped: no assistant asst_nothere on this endpoint" in skipped


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
