"""Renaming a key with `previous_keys`: the assistant keeps its id."""

from __future__ import annotations

import json
from pathlib import Path

from assistants_sync.emulator import EmulatorServer

from .conftest import plan_json, run, write


def owned(env: EmulatorServer) -> dict[str, str]:
    """{ownership tag: id} of every tagged assistant on the emulator."""
    return {a["metadata"]["assistants-sync"]: a["id"]
            for a in env.store.list(limit=100)["data"] if "assistants-sync" in (a.get("metadata") or {})}


def apply_ok(*args: str) -> str:
    result = run("apply", "--auto-approve", *args)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_a_renamed_key_is_updated_in_place_and_keeps_its_id(env: EmulatorServer, tmp_path: Path) -> None:
    write(tmp_path / "weather.yaml", "key: weather\nmodel: m\nname: Weather\n")
    apply_ok(str(tmp_path))
    [old_id] = owned(env).values()
    write(tmp_path / "weather.yaml", "key: weather-bot\nprevious_keys: [weather]\nmodel: m\nname: Weather\n")

    text = run("plan", str(tmp_path)).stdout
    assert f'  ~ weather-bot (was weather) ({old_id}) "Weather" will be updated in place (manifest changed)' in text
    assert '      metadata["assistants-sync"]: "default/weather" -> "default/weather-bot"' in text
    assert "Plan: 0 to create, 1 to update, 0 to delete." in text
    [change] = plan_json(str(tmp_path))["changes"]
    assert (change["action"], change["key"], change["previous_key"], change["assistant_id"]) == (
        "update", "weather-bot", "weather", old_id)
    markdown = run("plan", str(tmp_path), "--format", "markdown").stdout
    assert "weather-bot (was weather)" in markdown
    assert run("drift", str(tmp_path)).exit_code == 0  # a rename is a manifest change, not drift

    applied = apply_ok(str(tmp_path))
    assert f"~ weather-bot (was weather) ({old_id}): updated" in applied
    assert owned(env) == {"default/weather-bot": old_id}
    # The previous_keys line may stay: nothing is left to rename.
    assert plan_json(str(tmp_path))["changes"] == []
    assert run("drift", str(tmp_path)).exit_code == 0


def test_two_manifests_claiming_one_previous_key_is_an_error_naming_both(tmp_path: Path) -> None:
    write(tmp_path / "a.yaml", "key: a\nprevious_keys: [old]\nmodel: m\n")
    write(tmp_path / "b.yaml", "key: b\nprevious_keys: [old]\nmodel: m\n")
    result = run("validate", str(tmp_path))
    assert result.exit_code == 1
    assert (f"{tmp_path / 'b.yaml'}:1: key 'b': previous_keys: 'old' is also claimed by {tmp_path / 'a.yaml'}:1; "
            "one previous key can only be renamed to one key") in result.stderr


def test_a_previous_key_that_is_a_live_manifest_key_is_an_error(tmp_path: Path) -> None:
    write(tmp_path / "a.yaml", "key: a\nmodel: m\n---\nkey: b\nprevious_keys: [a]\nmodel: m\n")
    result = run("validate", str(tmp_path))
    assert result.exit_code == 1
    assert (f"{tmp_path / 'a.yaml'}:4: key 'b': previous_keys: 'a' is the key of the manifest at "
            f"{tmp_path / 'a.yaml'}:1; a previous key must no longer be in use") in result.stderr
    write(tmp_path / "a.yaml", "key: a\nprevious_keys: ['not a key']\nmodel: m\n")
    invalid = run("validate", str(tmp_path))
    assert invalid.exit_code == 1 and "previous_keys[0]: String should match pattern" in invalid.stderr


def test_when_old_and_new_keys_both_exist_the_new_key_wins_and_says_so(env: EmulatorServer, tmp_path: Path) -> None:
    write(tmp_path / "bots.yaml", "key: weather\nmodel: m\n---\nkey: weather-bot\nmodel: m\n")
    apply_ok(str(tmp_path))
    ids = owned(env)
    write(tmp_path / "bots.yaml", "key: weather-bot\nprevious_keys: [weather]\nmodel: m\n")
    text = run("plan", str(tmp_path)).stdout
    assert (f"  - weather ({ids['default/weather']}) will be deleted: no manifest for this key" in text)
    assert (f"Note: weather-bot: previous key 'weather' not renamed: 'weather-bot' already has an assistant "
            f"({ids['default/weather-bot']}), which is kept; the assistants under 'weather' are planned like any key "
            "without a manifest") in text
    document = plan_json(str(tmp_path))
    assert [(c["action"], c["key"]) for c in document["changes"]] == [("delete", "weather")]
    assert [n["kind"] for n in document["notes"]] == ["rename_skipped"]
    apply_ok(str(tmp_path))
    assert owned(env) == {"default/weather-bot": ids["default/weather-bot"]}


def test_a_rename_from_another_stacks_key_never_takes_its_assistant(env: EmulatorServer, tmp_path: Path) -> None:
    write(tmp_path / "theirs" / "bot.yaml", "key: weather\nmodel: m\n")
    apply_ok(str(tmp_path / "theirs"), "--stack", "team-b")
    write(tmp_path / "mine" / "bot.yaml", "key: weather-bot\nprevious_keys: [weather]\nmodel: m\n")
    document = json.loads(run("plan", str(tmp_path / "mine"), "--stack", "team-a", "--format", "json").stdout)
    assert [(c["action"], c["key"]) for c in document["changes"]] == [("create", "weather-bot")]
