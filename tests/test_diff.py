"""The canonical form and the diff: server-filled defaults never show as changes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from unittest.mock import ANY

import openai
import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from assistants_sync.actual.remote import actual_state
from assistants_sync.applying.apply import body_for
from assistants_sync.desired.manifest import DesiredAssistant
from assistants_sync.emulator import EmulatorServer, running_emulator
from assistants_sync.kinds.assistant import normalise, request_body
from assistants_sync.planning.diff import compute_plan, desired_form
from assistants_sync.planning.plan import Action

from .conftest import API_KEY, plan_json, run, write


SERVER_FILLED = {
    "id": "asst_1",
    "object": "assistant",
    "created_at": 1,
    "name": None,
    "description": None,
    "model": "gpt-4o",
    "instructions": None,
    "tools": [
        {"type": "code_interpreter"},
        {"type": "file_search", "file_search": {"ranking_options": {"ranker": "default_2024_08_21", "score_threshold": 0.0}}},
        {"type": "function", "function": {"name": "f", "description": "", "strict": False,
                                          "parameters": {"type": "object", "properties": {}}}},
    ],
    "tool_resources": {"code_interpreter": {"file_ids": []}, "file_search": {"vector_store_ids": []}},
    "metadata": {"assistants-sync": "default/bot"},
    "temperature": 1.0,
    "top_p": 1.0,
    "response_format": "auto",
    "reasoning_effort": None,
}
MINIMAL_REQUEST = {
    "model": "gpt-4o",
    "tools": [{"type": "code_interpreter"}, {"type": "file_search"}, {"type": "function", "function": {"name": "f"}}],
}


def desired(key: str = "bot", **request: Any) -> DesiredAssistant:
    return DesiredAssistant(key=key, source="test.yaml:1", request={"model": "gpt-4o", **request})


def remote(assistant_id: str, key: str = "bot", stack: str = "default", created_at: int = 1, **fields: Any) -> dict[str, Any]:
    return {**SERVER_FILLED, "id": assistant_id, "created_at": created_at,
            "metadata": {"assistants-sync": f"{stack}/{key}"}, "tools": [], "tool_resources": {}, **fields}


def test_what_the_server_fills_in_equals_what_was_left_out() -> None:
    wanted = desired_form(desired(**MINIMAL_REQUEST), "default")
    assert wanted == normalise({**SERVER_FILLED, "metadata": wanted.metadata})


@pytest.mark.parametrize(
    ("left", "right"),
    [
        pytest.param({"name": ""}, {"name": None}, id="empty-name-is-none"),
        pytest.param({"temperature": 1}, {}, id="temperature-1-is-unset"),
        pytest.param({"top_p": 1.0}, {"top_p": None}, id="top-p-1-is-unset"),
        pytest.param({"response_format": "auto"}, {}, id="auto-is-unset"),
        pytest.param({"tools": None}, {"tools": []}, id="null-tools-is-empty"),
        pytest.param({"tool_resources": {"file_search": {"vector_store_ids": []}}}, {"tool_resources": None}, id="empty-resources"),
        pytest.param({"tools": [{"type": "file_search", "file_search": {"ranking_options": {"ranker": "auto", "score_threshold": 0}}}]},
                     {"tools": [{"type": "file_search"}]}, id="auto-ranker-default"),
        pytest.param({"tools": [{"type": "function", "function": {"name": "f", "parameters": {"b": 1, "a": {"y": 2, "x": 1}}}}]},
                     {"tools": [{"type": "function", "function": {"name": "f", "parameters": {"a": {"x": 1, "y": 2}, "b": 1}}}]},
                     id="parameters-compared-as-data"),
        pytest.param({"response_format": {"type": "json_schema", "json_schema": {"name": "n", "strict": False}}},
                     {"response_format": {"type": "json_schema", "json_schema": {"name": "n"}}}, id="schema-strict-false"),
    ],
)
def test_equivalent_spellings_normalise_equal(left: dict[str, Any], right: dict[str, Any]) -> None:
    assert normalise({"model": "m", **left}) == normalise({"model": "m", **right})


@pytest.mark.parametrize(
    ("left", "right"),
    [
        pytest.param({"temperature": 0.9}, {}, id="temperature"),
        pytest.param({"response_format": {"type": "text"}}, {}, id="text-is-not-auto"),
        pytest.param({"tools": [{"type": "file_search", "file_search": {"ranking_options": {"score_threshold": 0.3}}}]},
                     {"tools": [{"type": "file_search"}]}, id="threshold"),
        pytest.param({"tools": [{"type": "function", "function": {"name": "f", "strict": True}}]},
                     {"tools": [{"type": "function", "function": {"name": "f"}}]}, id="strict-true"),
        pytest.param({"tools": [{"type": "code_interpreter"}, {"type": "file_search"}]},
                     {"tools": [{"type": "file_search"}, {"type": "code_interpreter"}]}, id="tool-order"),
    ],
)
def test_real_differences_stay_different(left: dict[str, Any], right: dict[str, Any]) -> None:
    assert normalise({"model": "m", **left}) != normalise({"model": "m", **right})


def test_normalising_twice_changes_nothing() -> None:
    once = normalise(SERVER_FILLED)
    assert normalise(once.as_dict()) == once


def test_plan_against_server_defaults_is_empty() -> None:
    applied = {**SERVER_FILLED, "metadata": desired_form(desired(**MINIMAL_REQUEST), "default").metadata}
    plan = compute_plan([desired(**MINIMAL_REQUEST)], actual_state([applied], "default"), "e")
    assert plan.changes == []


def test_update_lists_only_differing_fields_and_reset_values_the_spec_accepts() -> None:
    drifted = remote("asst_1", name="Renamed", temperature=0.2, tools=[{"type": "code_interpreter"}],
                     instructions="old")
    plan = compute_plan([desired(instructions="new")], actual_state([drifted], "default"), "e")
    [change] = plan.changes
    assert change.action is Action.UPDATE and change.assistant_id == "asst_1"
    after_metadata = change.fields["metadata"].after
    assert {name: (f.before, f.after) for name, f in change.fields.items()} == {
        "name": ("Renamed", None),
        "instructions": ("old", "new"),
        "tools": ([{"type": "code_interpreter"}], []),
        "metadata": ({"assistants-sync": "default/bot"}, after_metadata),  # with the new applied record
        "temperature": (0.2, None),
    }
    assert body_for(change) == {"name": "", "instructions": "new", "tools": [], "metadata": after_metadata,
                                "temperature": 1.0}


def test_reasoning_effort_left_out_is_not_managed() -> None:
    applied = desired_form(desired(), "default").metadata
    plan = compute_plan([desired()], actual_state([remote("asst_1", reasoning_effort="high", metadata=applied)],
                                                  "default"), "e")
    assert plan.changes == []
    plan = compute_plan([desired(reasoning_effort="low")], actual_state([remote("asst_1", reasoning_effort="high")], "default"), "e")
    assert plan.changes[0].fields["reasoning_effort"].after == "low"


def test_create_lists_every_field_it_sets_and_no_defaults() -> None:
    plan = compute_plan([desired(name="Bot", temperature=1.0, tools=[])], actual_state([], "ops"), "e")
    [change] = plan.changes
    assert change.action is Action.CREATE and change.assistant_id is None
    assert {n: (f.before, f.after) for n, f in change.fields.items()} == {
        "model": (None, "gpt-4o"),
        "name": (None, "Bot"),
        "metadata": (None, {"assistants-sync": "ops/bot", "assistants-sync.applied": ANY}),
    }


def test_assistants_of_other_stacks_and_unmanaged_ones_are_never_planned() -> None:
    objects = [
        remote("asst_other", key="bot", stack="other"),
        {**SERVER_FILLED, "id": "asst_unmanaged", "metadata": {"team": "x"}},
        {**SERVER_FILLED, "id": "asst_bad_tag", "metadata": {"assistants-sync": "no-slash"}},
    ]
    plan = compute_plan([], actual_state(objects, "default"), "e")
    assert plan.changes == []


def test_duplicates_keep_the_oldest_and_delete_the_rest() -> None:
    objects = [remote("asst_new", created_at=30), remote("asst_old", created_at=10, name="drifted"),
               remote("asst_mid", created_at=20)]
    plan = compute_plan([desired()], actual_state(objects, "default"), "e")
    assert [(c.action, c.assistant_id) for c in plan.changes] == [
        (Action.UPDATE, "asst_old"), (Action.DELETE, "asst_mid"), (Action.DELETE, "asst_new")]
    assert plan.changes[1].reason == "duplicate of asst_old (the oldest is kept)"


def test_changes_are_sorted_by_key_and_summarised() -> None:
    objects = [remote("asst_b", key="b", name="x"), remote("asst_z", key="z")]
    plan = compute_plan([desired("c"), desired("b"), desired("a")], actual_state(objects, "default"), "e")
    assert [(c.key, c.action.value) for c in plan.changes] == [
        ("a", "create"), ("b", "update"), ("c", "create"), ("z", "delete")]
    assert plan.summary.model_dump() == {"create": 2, "update": 1, "delete": 1, "adopt": 0}


@pytest.fixture(scope="module")
def request_schema(openapi: dict[str, Any]) -> Any:
    registry: Registry[Any] = Registry().with_resource("urn:spec", Resource.from_contents(openapi, DRAFT202012))
    return lambda name: Draft202012Validator({"$ref": f"urn:spec#/components/schemas/{name}"}, registry=registry)


def test_every_body_apply_sends_satisfies_the_official_request_schemas(request_schema: Any) -> None:
    full = desired(
        name="n", description="d", instructions="i", temperature=0.5, top_p=0.5, reasoning_effort="low",
        tools=[{"type": "file_search", "file_search": {"max_num_results": 5, "ranking_options": {"score_threshold": 0.5}}},
               {"type": "function", "function": {"name": "f", "parameters": {"type": "object"}, "strict": True}},
               {"type": "code_interpreter"}],
        tool_resources={"code_interpreter": {"file_ids": ["f1"]}},
        metadata={"a": "b"},
        response_format={"type": "json_schema", "json_schema": {"name": "r", "schema": {"type": "object"}}},
    )
    create = compute_plan([full], actual_state([], "default"), "e").changes[0]
    request_schema("CreateAssistantRequest").validate(body_for(create))
    everything_set = remote("asst_1", **{k: v for k, v in body_for(create).items() if k != "metadata"})
    reset = compute_plan([desired()], actual_state([everything_set], "default"), "e").changes[0]
    assert set(reset.fields) >= {"name", "description", "instructions", "tools", "tool_resources", "temperature",
                                 "top_p", "response_format"}
    body = body_for(reset)
    request_schema("ModifyAssistantRequest").validate(body)
    assert body["tools"] == [] and body["tool_resources"] == {
        "code_interpreter": {"file_ids": []}, "file_search": {"vector_store_ids": []}}


def test_request_body_never_sends_null_for_list_fields() -> None:
    assert request_body({"tools": [], "metadata": {}}, replace=True) == {"tools": [], "metadata": {}}


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



def test_an_agent_adopting_an_assistant_of_this_stack_is_told_it_is_another_kind(
    env: EmulatorServer, tmp_path: Path
) -> None:
    write(tmp_path / "bot.yaml", "key: bot\nmodel: m\n")
    apply_ok(str(tmp_path))
    [managed] = [a["id"] for a in env.store.list()["data"]]
    write(tmp_path / "helper.yaml", f"kind: agent\nkey: helper\nmodel: gpt-5\nadopt: {managed}\n")
    result = run("plan", str(tmp_path))
    assert result.exit_code == 1
    assert result.stderr == (f"Error: {tmp_path / 'helper.yaml'}:1: adopt: {managed} is an assistant (managed by "
                             "this stack as key 'bot'), and cannot be adopted as an agent: a manifest adopts an "
                             "object of its own kind\n")
    assert "previous_keys" not in result.stderr


def test_an_agent_adopting_an_unmanaged_assistant_is_skipped_saying_it_is_another_kind(
    env: EmulatorServer, tmp_path: Path, sdk: openai.OpenAI
) -> None:
    legacy = sdk.beta.assistants.create(model="m", name="Legacy")
    write(tmp_path / "helper.yaml", f"kind: agent\nkey: helper\nmodel: gpt-5\nadopt: {legacy.id}\n")
    result = run("plan", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert (f"Note: helper: adopt: {legacy.id} skipped: {legacy.id} is an assistant, and cannot be adopted as an "
            "agent: a manifest adopts an object of its own kind; planned as if the adopt line were not there"
            ) in result.stdout
