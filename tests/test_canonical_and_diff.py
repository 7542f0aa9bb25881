"""The canonical form and the diff: server-filled defaults never show as changes."""

from __future__ import annotations

from typing import Any
from unittest.mock import ANY

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from assistants_sync.applying.apply import body_for
from assistants_sync.kinds.assistant import normalise, request_body
from assistants_sync.planning.diff import compute_plan
from assistants_sync.desired.manifest import DesiredAssistant
from assistants_sync.planning.plan import Action
from assistants_sync.actual.remote import actual_state

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
    wanted = desired(**MINIMAL_REQUEST).canonical("default")
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
    applied = {**SERVER_FILLED, "metadata": desired(**MINIMAL_REQUEST).canonical("default").metadata}
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
    applied = desired().canonical("default").metadata
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
