"""Saved plans of format_version 1 (before kinds) are still read; unknown versions are refused by name."""

from __future__ import annotations

import json
from pathlib import Path

from assistants_sync.emulator import EmulatorServer

from .conftest import run, write


def as_version_1(document: dict) -> dict:
    """What plan --out wrote before kinds: no kind, id or depends_on; the id in assistant_id."""
    changes = [{k: v for k, v in c.items() if k not in ("kind", "id", "depends_on")} for c in document["changes"]]
    return {**{k: v for k, v in document.items() if k != "kinds"}, "format_version": 1, "changes": changes}


def test_a_saved_plan_of_format_version_1_is_applied_as_it_was_written(env: EmulatorServer, tmp_path: Path) -> None:
    write(tmp_path / "specs" / "bot.yaml", "key: bot\nmodel: gpt-4o\nname: Bot\n")
    assert run("apply", "--auto-approve", str(tmp_path / "specs")).exit_code == 0
    write(tmp_path / "specs" / "bot.yaml", "key: bot\nmodel: gpt-4o\nname: Bot v2\n")
    assert run("plan", str(tmp_path / "specs"), "--out", str(tmp_path / "plan.json")).exit_code == 0
    old = as_version_1(json.loads((tmp_path / "plan.json").read_text()))
    assert old["changes"][0]["assistant_id"].startswith("asst_")
    write(tmp_path / "plan.json", json.dumps(old))
    result = run("apply", "--plan", str(tmp_path / "plan.json"))
    assert result.exit_code == 0, result.output
    assert "Apply complete: 0 created, 1 updated, 0 deleted." in result.stdout
    assert [a["name"] for a in env.store.list()["data"]] == ["Bot v2"]


def test_a_saved_plan_of_an_unknown_version_is_refused_naming_the_versions_read(env: EmulatorServer,
                                                                                  tmp_path: Path) -> None:
    write(tmp_path / "plan.json", '{"format_version": 3, "stack": "default"}')
    result = run("apply", "--plan", str(tmp_path / "plan.json"))
    assert result.exit_code == 1
    assert result.stderr == (f"Error: {tmp_path / 'plan.json'}: not a saved plan of this version of assistants-sync "
                             "(format_version 3; this version reads 1 and 2): make the plan again with this version\n")


def test_a_change_whose_id_and_assistant_id_differ_is_refused(env: EmulatorServer, tmp_path: Path) -> None:
    write(tmp_path / "specs" / "bot.yaml", "key: bot\nmodel: gpt-4o\nname: Bot\n")
    assert run("apply", "--auto-approve", str(tmp_path / "specs")).exit_code == 0
    write(tmp_path / "specs" / "bot.yaml", "key: bot\nmodel: gpt-4o\nname: Bot v2\n")
    assert run("plan", str(tmp_path / "specs"), "--out", str(tmp_path / "plan.json")).exit_code == 0
    document = json.loads((tmp_path / "plan.json").read_text())
    document["changes"][0]["assistant_id"] = "asst_someone_else"
    write(tmp_path / "plan.json", json.dumps(document))
    result = run("apply", "--plan", str(tmp_path / "plan.json"))
    assert result.exit_code == 1
    assert "not a saved plan of this version of assistants-sync (changes.0: Value error, id " in result.stderr
    assert "and assistant_id 'asst_someone_else' differ)" in result.stderr
    assert [a["name"] for a in env.store.list()["data"]] == ["Bot"]
