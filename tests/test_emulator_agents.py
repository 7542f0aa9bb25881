"""The emulator's Agents API, driven by the official openai client (client.beta.agents).

The wire truth is the SDK itself: its request types are checked against the emulator's
schemas, and every answer must carry exactly the fields of its response types.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest
from openai.types.beta import agent_create_params, agent_update_params
from openai.types.beta.agent import Agent
from openai.types.beta.persisted_agent_tool import PersistedAgentTool

from assistants_sync.emulator import EmulatorServer, Faults, running_emulator
from assistants_sync.emulator.agent_schema import AGENT_CREATE_PARAMS, AGENT_UPDATE_PARAMS

from .conftest import API_KEY, LOOPBACK_TLS

AGENTS_HEADERS = {"Authorization": f"Bearer {API_KEY}", "OpenAI-Beta": "agents=v1"}
FUNCTION = {"type": "function", "name": "lookup", "description": "Look an order up.",
            "parameters": {"type": "object", "properties": {"id": {"type": "string"}}}}


def raw(emulator: EmulatorServer, method: str, path: str, **kwargs: Any) -> httpx.Response:
    headers = {**AGENTS_HEADERS, **kwargs.pop("headers", {})}
    return httpx.request(method, emulator.base_url + path, headers=headers, verify=LOOPBACK_TLS, **kwargs)


def response_fields(model: Any) -> set[str]:
    """The JSON names of a response model's fields (aliases such as `async` included)."""
    return {info.alias or name for name, info in model.model_fields.items()}


# --- the emulator's schemas against the SDK's request types -------------------------------------


def _unwrap(annotation: Any) -> Any:
    """Strip Required/NotRequired/Annotated/Optional down to the value type."""
    while True:
        origin = typing.get_origin(annotation)
        if origin in (typing.Required, typing.NotRequired, typing.Annotated):
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType) and type(None) in typing.get_args(annotation):
            rest = [a for a in typing.get_args(annotation) if a is not type(None)]
            annotation = rest[0] if len(rest) == 1 else typing.Union[tuple(rest)]
        else:
            return annotation


def _json_name(typed_dict: Any, name: str) -> str:
    hints = typing.get_type_hints(typed_dict, include_extras=True)
    for meta in getattr(hints[name], "__metadata__", ()):
        if getattr(meta, "alias", None):
            return str(meta.alias)
    return name


def _branch(schema: dict[str, Any], tag: str) -> dict[str, Any]:
    return next(b["then"] for b in schema["allOf"] if b["if"]["properties"]["type"]["const"] == tag)


def _assert_matches(typed_dict: Any, schema: dict[str, Any], where: str) -> None:
    hints = typing.get_type_hints(typed_dict, include_extras=True)
    names = {_json_name(typed_dict, n): n for n in hints}
    assert set(schema["properties"]) == set(names), where
    # Required[...] is read from the hints: with postponed annotations __required_keys__ misses it.
    required = {_json_name(typed_dict, n) for n, hint in hints.items()
                if typing.get_origin(hint) is typing.Required
                or (typed_dict.__total__ and typing.get_origin(hint) is not typing.NotRequired)}
    assert set(schema["required"]) == required, where
    for json_name, name in names.items():
        _assert_value_matches(_unwrap(hints[name]), schema["properties"][json_name], f"{where}.{json_name}")


def _assert_value_matches(annotation: Any, schema: dict[str, Any], where: str) -> None:
    origin = typing.get_origin(annotation)
    if origin is typing.Literal:
        allowed = [v for v in schema.get("enum", [schema.get("const")]) if v is not None]
        assert set(allowed) == set(typing.get_args(annotation)), where
    elif typing.is_typeddict(annotation):
        _assert_matches(annotation, schema, where)
    elif origin in (typing.Union, types.UnionType):  # a union of TypedDicts tagged by `type`
        for member in typing.get_args(annotation):
            (tag,) = typing.get_args(_unwrap(typing.get_type_hints(member, include_extras=True)["type"]))
            _assert_matches(member, _branch(schema, tag), f"{where}[{tag}]")
        assert len(schema["allOf"]) == len(typing.get_args(annotation)), where
    elif origin is not None and typing.get_args(annotation) and origin is not dict:  # Iterable / SequenceNotStr
        _assert_value_matches(_unwrap(typing.get_args(annotation)[0]), schema["items"], where + "[]")


@pytest.mark.parametrize(
    ("params", "schema"),
    [
        pytest.param(agent_create_params.AgentCreateParams, AGENT_CREATE_PARAMS, id="create"),
        pytest.param(agent_update_params.AgentUpdateParams, AGENT_UPDATE_PARAMS, id="update"),
    ],
)
def test_request_schemas_name_exactly_the_sdks_fields_and_values(params: Any, schema: dict[str, Any]) -> None:
    _assert_matches(params, schema, params.__name__)


# --- create, read, update, list, delete through client.beta.agents ------------------------------


def test_create_answers_every_setting_resolved_as_the_sdk_types_require(sdk: openai.OpenAI,
                                                                       emulator: EmulatorServer) -> None:
    created = sdk.beta.agents.create(model="gpt-5", name="support", instructions="Be brief.")
    body = raw(emulator, "GET", f"/agents/{created.id}").json()
    assert set(body) == response_fields(Agent)
    assert body["object"] == "agent" and body["id"].startswith("agent_") and body["updated_at"] >= body["created_at"]
    assert body["name"] == "support" and body["instructions"] == "Be brief." and body["model"] == "gpt-5"
    assert body["tools"] == [] and body["metadata"] == {}
    assert body["reasoning"] == {"effort": "medium", "summary": None}
    assert body["text"] == {"format": {"type": "text"}, "verbosity": "medium"}
    assert body["multi_agent"] == {"enabled": False, "max_concurrent_subagents": None}
    assert body["service_tier"] == "auto"
    assert body["compaction"] == {"async": False} and body["experimental"] == {"time_awareness": False}


def test_a_model_without_reasoning_resolves_a_null_effort(sdk: openai.OpenAI) -> None:
    assert sdk.beta.agents.create(model="gpt-4.1").reasoning.effort is None


def test_enabled_multi_agent_gets_six_concurrent_subagents_by_default(sdk: openai.OpenAI) -> None:
    agent = sdk.beta.agents.create(model="gpt-5", multi_agent={"enabled": True})
    assert agent.multi_agent.enabled is True and agent.multi_agent.max_concurrent_subagents == 6


def test_every_tool_comes_back_with_its_defaults_and_exactly_the_sdks_fields(sdk: openai.OpenAI,
                                                                            emulator: EmulatorServer) -> None:
    tools: list[Any] = [
        FUNCTION,
        {"type": "tool_search"},
        {"type": "programmatic_tool_calling"},
        {"type": "mcp", "server_label": "docs", "transport": {"type": "http", "server_url": "https://mcp.example"}},
        {"type": "mcp", "server_label": "local", "transport": {"type": "stdio", "command": "srv", "cwd": "/srv"}},
        {"type": "web_search", "location": {"country": "FR"}},
        {"type": "computer_use"},
        {"type": "automations"},
    ]
    created = sdk.beta.agents.create(model="gpt-5", tools=tools)
    answered = raw(emulator, "GET", f"/agents/{created.id}").json()["tools"]
    models = {typing.get_args(m.model_fields["type"].annotation)[0]: m
              for m in typing.get_args(typing.get_args(PersistedAgentTool)[0])}
    for tool in answered:
        assert set(tool) == response_fields(models[tool["type"]]), tool["type"]
    function, _, programmatic, http_mcp, stdio_mcp, web_search, computer_use, _ = answered
    assert function == {**FUNCTION, "defer_loading": False, "async": None}
    assert programmatic == {"type": "programmatic_tool_calling", "enabled": True}
    assert http_mcp["transport"] == {"type": "http", "server_url": "https://mcp.example", "headers": {}}
    assert stdio_mcp["transport"] == {"type": "stdio", "command": "srv", "cwd": "/srv", "args": [], "env_vars": []}
    assert {k: http_mcp[k] for k in ("allowed_tools", "connection_origin", "credential_id", "request_metadata",
                                     "required")} == {"allowed_tools": None, "connection_origin": "service",
                                                      "credential_id": None, "request_metadata": {}, "required": False}
    assert web_search == {"type": "web_search", "allowed_domains": None, "context_size": "medium", "mode": "live",
                          "location": {"city": None, "country": "FR", "region": None, "timezone": None}}
    assert computer_use == {"type": "computer_use", "include_screenshots": False}


def test_update_changes_only_what_it_is_sent(sdk: openai.OpenAI) -> None:
    created = sdk.beta.agents.create(
        model="gpt-5", name="a", instructions="i", tools=[FUNCTION], metadata={"team": "x"},
        reasoning={"effort": "low"}, text={"verbosity": "high"}, service_tier="flex",
    )
    updated = sdk.beta.agents.update(created.id, name="b")
    assert updated.name == "b" and updated.instructions == "i" and updated.metadata == {"team": "x"}
    assert updated.reasoning.effort == "low" and updated.text.verbosity == "high" and updated.service_tier == "flex"
    assert [t.type for t in updated.tools] == ["function"]
    assert sdk.beta.agents.retrieve(created.id).name == "b"


@pytest.mark.parametrize(
    ("change", "field", "expected"),
    [
        pytest.param({"model": "gpt-4.1"}, "model", "gpt-4.1", id="model"),
        pytest.param({"name": None}, "name", None, id="name-cleared"),
        pytest.param({"instructions": "new"}, "instructions", "new", id="instructions"),
        pytest.param({"tools": None}, "tools", [], id="tools-cleared"),
        pytest.param({"tools": [{"type": "tool_search"}]}, "tools", [{"type": "tool_search"}], id="tools-replaced"),
        pytest.param({"reasoning": None}, "reasoning", {"effort": "medium", "summary": None}, id="reasoning-reset"),
        pytest.param({"reasoning": {"summary": "auto"}}, "reasoning", {"effort": "medium", "summary": "auto"},
                     id="reasoning-replaced-not-merged"),
        pytest.param({"text": {"format": {"type": "json_schema", "schema": {"type": "object"}}}}, "text",
                     {"format": {"type": "json_schema", "schema": {"type": "object"}}, "verbosity": "medium"},
                     id="text-replaced-not-merged"),
        pytest.param({"multi_agent": {"enabled": True, "max_concurrent_subagents": 2}}, "multi_agent",
                     {"enabled": True, "max_concurrent_subagents": 2}, id="multi-agent"),
        pytest.param({"service_tier": None}, "service_tier", "auto", id="service-tier-reset"),
        pytest.param({"experimental": {"time_awareness": True}}, "experimental", {"time_awareness": True},
                     id="experimental"),
        pytest.param({"compaction": {"async": True}}, "compaction", {"async": True}, id="compaction"),
        pytest.param({"metadata": {"b": "2"}}, "metadata", {"b": "2"}, id="metadata-replaced-whole"),
        pytest.param({"metadata": None}, "metadata", {}, id="metadata-cleared"),
    ],
)
def test_update_of_each_field(emulator: EmulatorServer, change: dict[str, Any], field: str, expected: Any) -> None:
    created = raw(emulator, "POST", "/agents", json={
        "model": "gpt-5", "name": "a", "tools": [FUNCTION], "metadata": {"a": "1"}, "service_tier": "priority",
        "reasoning": {"effort": "high"}, "text": {"verbosity": "low"},
    }).json()
    updated = raw(emulator, "POST", f"/agents/{created['id']}", json=change)
    assert updated.status_code == 200, updated.text
    assert updated.json()[field] == expected
    assert raw(emulator, "GET", f"/agents/{created['id']}").json()[field] == expected


def test_an_omitted_effort_follows_a_change_of_model(sdk: openai.OpenAI) -> None:
    created = sdk.beta.agents.create(model="gpt-5")
    assert created.reasoning.effort == "medium"
    assert sdk.beta.agents.update(created.id, model="gpt-4.1").reasoning.effort is None


def test_list_pages_with_the_sdks_auto_pager_newest_first_by_default(sdk: openai.OpenAI,
                                                                     emulator: EmulatorServer) -> None:
    ids = [sdk.beta.agents.create(model="gpt-5", name=str(i)).id for i in range(7)]
    assert [a.id for a in sdk.beta.agents.list(limit=3)] == ids[::-1]
    assert [a.id for a in sdk.beta.agents.list(limit=3, order="asc")] == ids
    page = sdk.beta.agents.list(limit=2, order="asc", after=ids[2])
    assert [a.id for a in page.data] == ids[3:5] and page.has_more is True
    requests = [r for r in emulator.requests if r.path == "/v1/agents" and r.method == "GET"]
    assert [r.query.get("after") for r in requests[:3]] == [None, ids[4], ids[1]]


def test_delete_answers_the_deleted_object_and_the_agent_is_gone(sdk: openai.OpenAI) -> None:
    created = sdk.beta.agents.create(model="gpt-5")
    deleted = sdk.beta.agents.delete(created.id)
    assert (deleted.id, deleted.object, deleted.deleted) == (created.id, "agent.deleted", True)
    with pytest.raises(openai.NotFoundError, match=f"No agent found with id '{created.id}'"):
        sdk.beta.agents.retrieve(created.id)
    assert list(sdk.beta.agents.list()) == []


# --- bad requests -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "param", "message"),
    [
        pytest.param({"name": "no model"}, "model", "Missing required parameter: 'model'.", id="model-missing"),
        pytest.param({"model": "gpt-5", "temperature": 0.2}, "temperature", "Unknown parameter: 'temperature'.",
                     id="unknown-field"),
        pytest.param({"model": "gpt-5", "tools": [{**FUNCTION, "strict": True}]}, "tools.0.strict",
                     "Unknown parameter: 'tools.0.strict'.", id="function-strict"),
        pytest.param({"model": "gpt-5", "tools": [{"type": "function", "function": {"name": "f"}}]},
                     "tools.0.description", "Missing required parameter", id="nested-function-shape"),
        pytest.param({"model": "gpt-5", "tools": [{"type": "code_interpreter"}]}, "tools.0.type",
                     "expected one of", id="code-interpreter"),
        pytest.param({"model": "gpt-5", "reasoning": {"effort": "extreme"}}, "reasoning.effort",
                     'got "extreme"', id="reasoning-effort"),
        pytest.param({"model": "gpt-5", "text": {"format": {"type": "json_schema"}}}, "text.format.schema",
                     "Missing required parameter", id="json-schema-without-schema"),
        pytest.param({"model": "gpt-5", "multi_agent": {"max_concurrent_subagents": 2}}, "multi_agent.enabled",
                     "Missing required parameter", id="multi-agent-without-enabled"),
        pytest.param({"model": "gpt-5", "service_tier": "scale"}, "service_tier", 'got "scale"', id="service-tier"),
        pytest.param({"model": "gpt-5", "name": 7}, "name", "expected string, got 7", id="name-not-a-string"),
        pytest.param({"model": "gpt-5", "metadata": {str(i): "v" for i in range(17)}}, "metadata",
                     "at most 16 properties", id="17-metadata-pairs"),
        pytest.param({"model": "gpt-5", "metadata": {"k" * 65: "v"}}, "metadata." + "k" * 64, "key is too long",
                     id="metadata-key-65"),
        pytest.param({"model": "gpt-5", "metadata": {"k": "v" * 513}}, "metadata.k", "maximum length 512",
                     id="metadata-value-513"),
        pytest.param({"model": "gpt-5", "tools": [{**FUNCTION, "description": "d" * (3 * 1024 * 1024)}]}, "tools",
                     "at most 3145728", id="tools-over-3-MiB"),
    ],
)
def test_bad_create_is_a_400_with_the_openai_error_shape_and_stores_nothing(
    sdk: openai.OpenAI, emulator: EmulatorServer, body: dict[str, Any], param: str, message: str,
) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        sdk.post("/agents", body=body, cast_to=Agent, options={"headers": {"OpenAI-Beta": "agents=v1"}})
    error = caught.value.body
    assert isinstance(error, dict) and set(error) == {"message", "type", "param", "code"}
    assert error["type"] == "invalid_request_error" and error["param"] == param and message in error["message"]
    assert len(emulator.agents) == 0


def test_bad_update_is_a_400_and_changes_nothing(sdk: openai.OpenAI) -> None:
    created = sdk.beta.agents.create(model="gpt-5", name="kept")
    with pytest.raises(openai.BadRequestError, match="Unknown parameter: 'description'"):
        sdk.beta.agents.update(created.id, name="lost", extra_body={"description": "assistants had one"})
    with pytest.raises(openai.BadRequestError, match="Invalid 'model'"):
        sdk.beta.agents.update(created.id, extra_body={"model": None})
    assert sdk.beta.agents.retrieve(created.id).name == "kept"


def test_bad_list_parameters_are_400(sdk: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError, match="between 1 and 100"):
        sdk.beta.agents.list(limit=101)
    with pytest.raises(openai.BadRequestError, match="no agent with id 'agent_missing'"):
        sdk.beta.agents.list(after="agent_missing")


# --- headers and kinds served ------------------------------------------------------------------


@pytest.mark.parametrize("beta", [None, "assistants=v2"], ids=["missing", "assistants-beta"])
def test_agents_need_their_own_beta_header(emulator: EmulatorServer, beta: str | None) -> None:
    headers = {"Authorization": f"Bearer {API_KEY}", **({"OpenAI-Beta": beta} if beta else {})}
    response = httpx.get(emulator.base_url + "/agents", headers=headers)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_beta"
    assert "'OpenAI-Beta: agents=v1'" in response.json()["error"]["message"]


def test_agents_need_the_api_key(emulator: EmulatorServer) -> None:
    response = httpx.get(emulator.base_url + "/agents", headers={"OpenAI-Beta": "agents=v1",
                                                                 "Authorization": "Bearer sk-wrong"})
    assert response.status_code == 401 and "sk-wrong" not in response.text


@pytest.fixture
def openai_today() -> Iterator[openai.OpenAI]:
    """An emulator that, like OpenAI since the sunset, serves agents but no assistants."""
    with running_emulator(api_key=API_KEY, serve_assistants=False) as server:
        yield openai.OpenAI(api_key=API_KEY, base_url=server.base_url, max_retries=0)


@pytest.fixture
def foundry_like() -> Iterator[openai.OpenAI]:
    """An emulator that, like an Azure AI Foundry project, serves assistants but no agents."""
    with running_emulator(api_key=API_KEY, serve_agents=False) as server:
        yield openai.OpenAI(api_key=API_KEY, base_url=server.base_url, max_retries=0)


def test_an_endpoint_without_assistants_answers_404_there_and_serves_agents(openai_today: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError, match=r"Invalid URL \(GET /v1/assistants\)"):
        openai_today.beta.assistants.list()
    with pytest.raises(openai.NotFoundError):
        openai_today.beta.assistants.create(model="gpt-4o")
    assert openai_today.beta.agents.create(model="gpt-5").object == "agent"


def test_an_endpoint_without_agents_answers_404_there_and_serves_assistants(foundry_like: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError, match=r"Invalid URL \(GET /v1/agents\)"):
        foundry_like.beta.agents.list()
    with pytest.raises(openai.NotFoundError):
        foundry_like.beta.agents.create(model="gpt-5")
    assert foundry_like.beta.assistants.create(model="gpt-4o").object == "assistant"


def test_the_agents_api_is_not_served_under_azure_and_foundrys_path_holds_its_own_agents(
        emulator: EmulatorServer) -> None:
    response = httpx.get(emulator.root_url + "/openai/agents?api-version=v1", headers=AGENTS_HEADERS)
    assert response.status_code == 404
    # {project}/agents is Foundry's versioned agents (tests/test_emulator_foundry_agents.py): Entra tokens only.
    foundry = httpx.get(emulator.project_url("p") + "/agents?api-version=v1", headers=AGENTS_HEADERS)
    assert foundry.status_code == 401 and "Access token is missing" in foundry.json()["error"]["message"]


def test_a_dropped_agent_create_is_stored_though_never_answered() -> None:
    # The same fault as for assistants, so retries of agent creates can be tested alike.
    with running_emulator(api_key=API_KEY, faults=Faults(drop_create_rate=1.0)) as server:
        client = openai.OpenAI(api_key=API_KEY, base_url=server.base_url, max_retries=0)
        with pytest.raises(openai.APIConnectionError):
            client.beta.agents.create(model="gpt-5", name="orphan")
        assert [a.name for a in client.beta.agents.list()] == ["orphan"]
