"""`adopt:` is harmless once done: where it cannot apply, the plan is what it would be without it, and says so."""

from __future__ import annotations

import json
from pathlib import Path

import openai
import pytest

from assistants_sync.emulator import EmulatorServer, running_emulator

from .conftest import API_KEY, plan_json, run, write


def apply_ok(*args: str) -> str:
    result = run("apply", "--auto-approve", *args)
    assert result.exit_code == 0, result.output
    return result.stdout


def tag_of(env: EmulatorServer, assistant_id: str) -> str | None:
    return (env.store.retrieve(assistant_id).get("metadata") or {}).get("assistants-sync")


def test_an_adopt_already_done_plans_nothing_and_says_nothing(
    env: EmulatorServer, tmp_path: Path, sdk: openai.OpenAI
) -> None:
    legacy = sdk.beta.assistants.create(model="m", name="Legacy")
    write(tmp_path / "bot.yaml", f"key: bot\nadopt: {legacy.id}\nmodel: m\nname: Legacy\n")
    apply_ok(str(tmp_path))
    document = plan_json(str(tmp_path))
    assert document["changes"] == [] and document["notes"] == []
    assert "Note:" not in run("plan", str(tmp_path)).stdout


def test_an_adopt_of_a_key_managed_by_another_assistant_is_skipped(
    env: EmulatorServer, tmp_path: Path, sdk: openai.OpenAI
) -> None:
    write(tmp_path / "bot.yaml", "key: bot\nmodel: m\nname: Bot\n")
    apply_ok(str(tmp_path))
    [managed] = [a["id"] for a in env.store.list()["data"]]
    other = sdk.beta.assistants.create(model="m", name="Someone else's")
    write(tmp_path / "bot.yaml", f"key: bot\nadopt: {other.id}\nmodel: m\nname: Bot v2\n")
    result = run("plan", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert f'  ~ bot ({managed}) "Bot v2" will be updated in place (manifest changed)' in result.stdout
    note = (f"bot: adopt: {other.id} skipped: the key is already managed by this stack as {managed}; "
            f"{other.id} is left alone")
    assert f"Note: {note}" in result.stdout
    document = plan_json(str(tmp_path))
    assert [(c["action"], c["assistant_id"]) for c in document["changes"]] == [("update", managed)]
    assert document["notes"] == [{"key": "bot", "kind": "adopt_skipped", "text": note.removeprefix("bot: ")}]
    markdown = run("plan", str(tmp_path), "--format", "markdown").stdout
    assert f"> [!NOTE]\n> `bot`: adopt: {other.id} skipped:" in markdown
    apply_ok(str(tmp_path))
    assert tag_of(env, other.id) is None  # never taken
    assert env.store.retrieve(managed)["name"] == "Bot v2"


def test_a_skip_with_nothing_to_change_still_shows_the_note(
    env: EmulatorServer, tmp_path: Path, sdk: openai.OpenAI
) -> None:
    write(tmp_path / "bot.yaml", "key: bot\nmodel: m\n")
    apply_ok(str(tmp_path))
    other = sdk.beta.assistants.create(model="m")
    write(tmp_path / "bot.yaml", f"key: bot\nadopt: {other.id}\nmodel: m\n")
    result = run("plan", str(tmp_path), "--detailed-exitcode")
    assert result.exit_code == 0, result.output  # a note is not a change
    assert "No changes." in result.stdout and f"Note: bot: adopt: {other.id} skipped:" in result.stdout


def test_an_adopted_assistant_deleted_since_is_created_again(
    env: EmulatorServer, tmp_path: Path, sdk: openai.OpenAI
) -> None:
    legacy = sdk.beta.assistants.create(model="m", name="Legacy")
    write(tmp_path / "bot.yaml", f"key: bot\nadopt: {legacy.id}\nmodel: m\nname: Legacy\n")
    apply_ok(str(tmp_path))
    sdk.beta.assistants.delete(legacy.id)
    result = run("plan", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert '  + bot "Legacy" will be created' in result.stdout
    assert (f"Note: bot: adopt: {legacy.id} skipped: no assistant {legacy.id} on this endpoint (deleted since, or "
            "the manifest was written for another endpoint); planned as if the adopt line were not there"
            in result.stdout)
    apply_ok(str(tmp_path))
    assert plan_json(str(tmp_path))["changes"] == []


def test_the_same_manifests_for_another_stack_never_take_the_adopted_assistant(
    env: EmulatorServer, tmp_path: Path, sdk: openai.OpenAI
) -> None:
    legacy = sdk.beta.assistants.create(model="m", name="Legacy")
    write(tmp_path / "bot.yaml", f"key: bot\nadopt: {legacy.id}\nmodel: m\nname: Legacy\n")
    apply_ok(str(tmp_path), "--stack", "production")
    result = run("plan", str(tmp_path), "--stack", "staging")
    assert result.exit_code == 0, result.output
    assert '  + bot "Legacy" will be created' in result.stdout
    assert (f"Note: bot: adopt: {legacy.id} skipped: it belongs to stack 'production', not 'staging', and an "
            "assistant is never taken from another stack; planned as if the adopt line were not there"
            in result.stdout)
    document = json.loads(run("plan", str(tmp_path), "--stack", "staging", "--format", "json").stdout)
    assert [c["action"] for c in document["changes"]] == ["create"]
    assert [n["kind"] for n in document["notes"]] == ["adopt_skipped"]
    apply_ok(str(tmp_path), "--stack", "staging")
    assert tag_of(env, legacy.id) == "production/bot"
    assert len(env.store) == 2


def test_the_same_manifests_for_another_endpoint_create_instead(
    env: EmulatorServer, tmp_path: Path, sdk: openai.OpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    legacy = sdk.beta.assistants.create(model="m", name="Legacy")
    write(tmp_path / "bot.yaml", f"key: bot\nadopt: {legacy.id}\nmodel: m\nname: Legacy\n")
    apply_ok(str(tmp_path))
    with running_emulator(api_key=API_KEY) as other:
        monkeypatch.setenv("OPENAI_BASE_URL", other.base_url)
        result = run("plan", str(tmp_path))
        assert result.exit_code == 0, result.output
        assert '  + bot "Legacy" will be created' in result.stdout
        assert f"Note: bot: adopt: {legacy.id} skipped: no assistant {legacy.id} on this endpoint" in result.stdout
        apply_ok(str(tmp_path))
        assert len(other.store) == 1


def test_many_skip_notes_keep_the_markdown_report_within_githubs_limit() -> None:
    from assistants_sync.planning.plan import Note, Plan
    from assistants_sync.render.plans import MARKDOWN_LIMIT, render_markdown

    notes = [Note(key=f"bot-{i:04d}", kind="adopt_skipped", text="adopt: asst_x skipped: " + "why " * 40)
             for i in range(3000)]
    markdown = render_markdown(Plan(stack="s", endpoint="e", remote_fingerprint="f", notes=notes))
    assert len(markdown) <= MARKDOWN_LIMIT
    assert "> `bot-0000`: adopt: asst_x skipped:" in markdown
    assert "more notes not shown; `--format json` lists them all._" in markdown
