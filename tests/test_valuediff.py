"""Readable diffs of long texts and JSON values (render/valuediff), as plans show them."""

from __future__ import annotations

import difflib
import re
from pathlib import Path

import pytest

from assistants_sync import cli as cli_module
from assistants_sync.emulator import EmulatorServer
from assistants_sync.planning.plan import Action, Change, FieldChange, Plan
from assistants_sync.render.plans import MARKDOWN_LIMIT, render_markdown

from .conftest import run, write


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

    @pytest.mark.parametrize("kind, function", [
        ("", "  - type: function\n    function: {{name: {name}}}\n"),
        ("kind: agent\n", "  - type: function\n    name: {name}\n    description: d\n"
                           "    parameters: {{type: object, properties: {{}}}}\n"),
    ], ids=["assistant", "agent"])
    def test_inserting_a_function_before_others_shows_one_insert_named_by_the_function(
        self, env: EmulatorServer, tmp_path: Path, kind: str, function: str
    ) -> None:
        def tools(*names: str) -> str:
            return f"{kind}key: bot\nmodel: m\ntools:\n" + "".join(function.format(name=n) for n in names)

        write(tmp_path / "bot.yaml", tools("alpha", "beta"))
        apply_ok(str(tmp_path))
        write(tmp_path / "bot.yaml", tools("gamma", "alpha", "beta"))
        block = field_block(run("plan", str(tmp_path)).stdout, "tools")
        assert len(block) == 2, block
        assert block[1].startswith("        + tools[0] (function gamma): {")
        assert '"name": "gamma"' in block[1]

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


def test_a_one_line_text_block_is_one_line(env: EmulatorServer, tmp_path: Path) -> None:
    write(tmp_path / "bot.yaml", "key: bot\nmodel: gpt-4o\ninstructions: |\n  Be brief.\n")
    assert "      instructions: (1 line)\n        | Be brief.\n" in run("plan", str(tmp_path)).stdout


LINES = 5000


def rules(edited: dict[int, str] | None = None) -> list[str]:
    """A 5,000-line prompt, with some lines replaced."""
    lines = [f"Rule {i}: be helpful in situation {i}." for i in range(LINES)]
    for number, text in (edited or {}).items():
        lines[number] = text
    return lines


def manifest(tmp_path: Path, lines: list[str]) -> Path:
    write(tmp_path / "specs" / "bot.yaml", "key: bot\nmodel: gpt-4o\ninstructions_file: prompt.md\n")
    (tmp_path / "specs" / "prompt.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return tmp_path / "specs"


def applied_then_edited(tmp_path: Path, edited: dict[int, str]) -> Path:
    specs = manifest(tmp_path, rules())
    assert run("apply", "--auto-approve", str(specs)).exit_code == 0
    return manifest(tmp_path, rules(edited))


# Twenty edited lines near the top fill the default 40-line diff; the edit in the middle comes after.
TOP_AND_MIDDLE = {**{i: f"Rule {i}: be brief." for i in range(10, 30)}, 2500: "Rule 2500: be VERY helpful."}


def test_the_hunk_of_an_edit_past_the_cut_is_still_shown(env: EmulatorServer, tmp_path: Path) -> None:
    specs = applied_then_edited(tmp_path, TOP_AND_MIDDLE)
    result = run("plan", str(specs))
    assert result.exit_code == 0, result.output
    assert result.stdout.count("\n") < 70
    assert ("        ... diff cut: 11 more lines (--full-diff shows them, --format json the whole text); "
            "the hunks past the cut:\n"
            "        @@ -2499,5 +2499,5 @@\n") in result.stdout
    assert "+Rule 2500: be VERY helpful." not in result.stdout


def test_full_diff_shows_every_line_of_every_hunk(env: EmulatorServer, tmp_path: Path) -> None:
    specs = applied_then_edited(tmp_path, TOP_AND_MIDDLE)
    result = run("plan", str(specs), "--full-diff")
    assert result.exit_code == 0, result.output
    assert "diff cut" not in result.stdout
    assert ("        @@ -2499,5 +2499,5 @@\n"
            "         Rule 2498: be helpful in situation 2498.\n"
            "         Rule 2499: be helpful in situation 2499.\n"
            "        -Rule 2500: be helpful in situation 2500.\n"
            "        +Rule 2500: be VERY helpful.\n"
            "         Rule 2501: be helpful in situation 2501.\n"
            "         Rule 2502: be helpful in situation 2502.\n") in result.stdout
    assert "        +Rule 29: be brief.\n" in result.stdout


def test_diff_context_sets_the_unchanged_lines_around_a_change(env: EmulatorServer, tmp_path: Path) -> None:
    specs = applied_then_edited(tmp_path, {2500: "Rule 2500: be VERY helpful."})
    none = run("plan", str(specs), "--diff-context", "0").stdout
    assert ("        @@ -2501 +2501 @@\n"
            "        -Rule 2500: be helpful in situation 2500.\n"
            "        +Rule 2500: be VERY helpful.\n"
            "      (") in none
    five = run("plan", str(specs), "--diff-context", "5").stdout
    assert "        @@ -2496,11 +2496,11 @@\n         Rule 2495: be helpful in situation 2495.\n" in five
    assert "         Rule 2505: be helpful in situation 2505.\n" in five


def test_drift_and_apply_take_the_diff_options(env: EmulatorServer, tmp_path: Path) -> None:
    specs = applied_then_edited(tmp_path, TOP_AND_MIDDLE)
    applied = run("apply", str(specs), "--auto-approve", "--full-diff")
    assert applied.exit_code == 0, applied.output
    assert "        +Rule 2500: be VERY helpful.\n" in applied.stdout
    assert run("drift", str(specs), "--diff-context", "0", "--full-diff").exit_code == 0


def test_markdown_cut_at_its_size_cap_still_lists_every_hunk_header(env: EmulatorServer, tmp_path: Path) -> None:
    edited = {i: f"Rule {i}: be helpful, briefly." for i in range(5, LINES, 10)}  # 500 hunks
    specs = applied_then_edited(tmp_path, edited)
    headers = [line for line in difflib.unified_diff(rules(), rules(edited), lineterm="", n=2)
               if line.startswith("@@")]
    assert len(headers) == 500

    for options in ((), ("--full-diff",)):
        result = run("plan", str(specs), "--format", "markdown", *options)
        assert result.exit_code == 0, result.output
        assert len(result.stdout) <= MARKDOWN_LIMIT
        shown = [line for line in result.stdout.splitlines() if line.startswith("@@")]
        assert shown == headers, options
        assert result.stdout.rstrip().endswith("</details>")


def test_a_small_markdown_cap_lists_the_headers_that_fit_and_counts_the_rest() -> None:
    from assistants_sync.render.valuediff import DiffStyle

    edited = {i: f"Rule {i}: be helpful, briefly." for i in range(5, LINES, 10)}
    change = Change(action=Action.UPDATE, key="bot", assistant_id="asst_1", cause="manifest",
                    fields={"instructions": FieldChange(before="\n".join(rules()), after="\n".join(rules(edited)))})
    plan = Plan(stack="s", endpoint="e", remote_fingerprint="f", changes=[change])
    text = render_markdown(plan, limit=4000, diff=DiffStyle.full())
    assert len(text) <= 4000
    shown = [line for line in text.splitlines() if line.startswith("@@")]
    assert shown and shown[0] == "@@ -4,5 +4,5 @@"
    assert f"… and {500 - len(shown)} more hunks" in text
    assert text.endswith("```\n\n</details>\n\n")


def test_full_diff_shows_the_whole_text_of_a_create(env: EmulatorServer, tmp_path: Path) -> None:
    specs = manifest(tmp_path, rules()[:30])
    cut = run("plan", str(specs)).stdout
    assert "        | Rule 19: be helpful in situation 19.\n        ... 10 more lines (--full-diff or" in cut
    whole = run("plan", str(specs), "--full-diff").stdout
    assert "        | Rule 29: be helpful in situation 29.\n" in whole and "more lines" not in whole



def test_agent_mcp_tools_are_matched_by_their_server_label() -> None:
    from assistants_sync.render.plans import render_text

    def mcp(label: str) -> dict[str, object]:
        return {"type": "mcp", "server_label": label, "transport": {"type": "http", "server_url": f"https://{label}"}}

    change = Change(action=Action.UPDATE, kind="agent", key="bot", id="agent_1", cause="manifest",
                    fields={"tools": FieldChange(before=[mcp("docs"), mcp("crm")],
                                                 after=[mcp("crm"), {**mcp("docs"), "required": True}])})
    text = render_text(Plan(stack="s", endpoint="e", remote_fingerprint="f", changes=[change]))
    assert "        tools[1] (mcp docs):\n          + tools[1].required: true\n" in text
    assert "        tools order: mcp docs, mcp crm -> mcp crm, mcp docs\n" in text
