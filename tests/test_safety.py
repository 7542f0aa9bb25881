"""The delete guards (protect, delete-all, --no-delete) and ignore_changes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import openai
import pytest

from assistants_sync.emulator import EmulatorServer

from .conftest import plan_json, run, write


def apply_ok(*args: str) -> str:
    result = run("apply", "--auto-approve", *args)
    assert result.exit_code == 0, result.output
    return result.stdout


class TestSafeDeletes:
    def test_a_plan_deleting_every_managed_assistant_needs_allow_delete_all(
        self, env: EmulatorServer, example_specs: Path, tmp_path: Path
    ) -> None:
        apply_ok(str(example_specs))
        mistyped = write(tmp_path / "other-project" / "other.yaml", "key: other\nmodel: gpt-4o\n").parent
        for command in (["plan"], ["apply", "--auto-approve"], ["plan", "--detailed-exitcode"]):
            result = run(*command, str(mistyped))
            assert result.exit_code == 1
            assert ('this plan would delete all 7 managed objects of stack "default". Is the manifests path '
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



def _saved_plan(specs: Path, plan_file: Path) -> dict:
    assert run("plan", str(specs), "--out", str(plan_file)).exit_code == 0
    return json.loads(plan_file.read_text())


@pytest.mark.parametrize(("edit", "message"), [
    pytest.param(lambda changes, bot: [*changes, changes[1]],
                 "2 changes for key 'new' (\"create new\" and \"create new\")", id="one-create-twice"),
    pytest.param(lambda changes, bot: [*changes, {"action": "delete", "key": "bot", "id": bot}],
                 '2 changes of {bot} ("update bot ({bot})" and "delete bot ({bot})")', id="update-and-delete-one-id"),
])
def test_a_saved_plan_changing_one_object_twice_is_refused_and_nothing_is_written(
    env: EmulatorServer, tmp_path: Path, edit: Any, message: str
) -> None:
    specs = write(tmp_path / "specs" / "bot.yaml", "key: bot\nmodel: gpt-4o\nname: Bot\n").parent
    write(specs / "keep.yaml", "key: keep\nmodel: gpt-4o\n")  # so that no edit trips the delete-all guard
    apply_ok(str(specs))
    bot = next(a["id"] for a in env.store.list()["data"] if a["name"] == "Bot")
    write(specs / "bot.yaml", "key: bot\nmodel: gpt-4o\nname: Bot v2\n")
    write(specs / "new.yaml", "key: new\nmodel: gpt-4o\n")
    plan_file = tmp_path / "plan.json"
    document = _saved_plan(specs, plan_file)
    assert [(c["action"], c["key"]) for c in document["changes"]] == [("update", "bot"), ("create", "new")]
    plan_file.write_text(json.dumps({**document, "changes": edit(document["changes"], bot)}))
    before = env.store.list(limit=100)["data"]

    result = run("apply", "--plan", str(plan_file))

    assert result.exit_code == 1
    assert result.stderr == (f"Error: refusing the saved plan: it holds {message.format(bot=bot)}, and a plan "
                             "changes each object once; nothing was changed. A saved plan is carried out only as "
                             "`plan` wrote it: run plan again\n")
    assert env.store.list(limit=100)["data"] == before


def test_a_saved_plan_keeping_one_of_duplicates_still_applies(env: EmulatorServer, tmp_path: Path) -> None:
    first = env.store.create({"model": "gpt-4o", "metadata": {"assistants-sync": "default/bot"}})
    second = env.store.create({"model": "gpt-4o", "metadata": {"assistants-sync": "default/bot"}})
    specs = write(tmp_path / "specs" / "bot.yaml", "key: bot\nmodel: gpt-4o\nname: Bot\n").parent
    document = _saved_plan(specs, tmp_path / "plan.json")
    assert [(c["action"], c["key"], c["id"]) for c in document["changes"]] == [
        ("update", "bot", first["id"]), ("delete", "bot", second["id"])]
    result = run("apply", "--plan", str(tmp_path / "plan.json"))
    assert result.exit_code == 0, result.output
    assert [a["id"] for a in env.store.list()["data"]] == [first["id"]]
