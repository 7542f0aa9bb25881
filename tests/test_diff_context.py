"""Long text diffs: --diff-context N, --full-diff, and hunk headers that survive every cut."""

from __future__ import annotations

import difflib
from pathlib import Path

from assistants_sync.emulator import EmulatorServer
from assistants_sync.render.plans import MARKDOWN_LIMIT

from .conftest import run, write

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
    from assistants_sync.planning.plan import Action, Change, FieldChange, Plan
    from assistants_sync.render.plans import render_markdown
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
