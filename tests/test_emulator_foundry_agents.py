"""The emulator's Foundry agents (`{project}/agents`), driven by azure-ai-projects' own AIProjectClient.

The package is the wire truth: its models name the fields the emulator's tables hold, its
request builders make the paths and queries, and its deserialisers read every answer.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from azure.ai.projects import AIProjectClient
from azure.ai.projects import models as m
from azure.ai.projects.operations._operations import AgentsOperations  # the generated wire operations
from azure.core.credentials import AccessToken
from azure.core.exceptions import ClientAuthenticationError, HttpResponseError, ResourceNotFoundError

from assistants_sync.emulator import EmulatorError, EmulatorServer, running_emulator
from assistants_sync.emulator import foundry_agents as fa

from .conftest import LOOPBACK_TLS

SCOPE = "https://ai.azure.com/.default"
HTTP = {"enforce_https": False}  # the emulator is plain http on loopback; azure-core refuses tokens over it otherwise


class ProjectCredential:
    """A token credential of the test's: azure-core's get_token, tokens signed by the emulator."""

    def __init__(self, emulator: EmulatorServer) -> None:
        self.emulator = emulator
        self.scopes: list[tuple[str, ...]] = []

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        self.scopes.append(scopes)
        token = self.emulator.tokens.mint(audience=scopes[0].removesuffix("/.default"))
        return AccessToken(token.token, token.expires_on)


@pytest.fixture
def foundry() -> Iterator[EmulatorServer]:
    with running_emulator() as server:
        yield server


@pytest.fixture
def project(foundry: EmulatorServer) -> AIProjectClient:
    return AIProjectClient(endpoint=foundry.project_url("sales"), credential=ProjectCredential(foundry))


def prompt(**fields: Any) -> m.PromptAgentDefinition:
    return m.PromptAgentDefinition(model=fields.pop("model", "gpt-4o"), **fields)


def raw(foundry: EmulatorServer, method: str, path: str, *, token: bool = True, **kwargs: Any) -> httpx.Response:
    params = {"api-version": "v1", **kwargs.pop("params", {})}
    headers = {"Authorization": f"Bearer {foundry.tokens.mint().token}"} if token else {}
    return httpx.request(method, foundry.project_url("sales") + path, params=params, headers=headers,
                         verify=LOOPBACK_TLS, **kwargs)


# --- the emulator's tables against the package's models ------------------------------------------


def json_fields(model: type[Any]) -> tuple[set[str], set[str]]:
    """(required, optional) JSON names of a package model: required where the type is not Optional."""
    instance = model.__new__(model)
    model.__init__(instance, {})
    annotations: dict[str, Any] = {}
    for cls in reversed(model.__mro__):
        annotations.update(getattr(cls, "__annotations__", {}))
    required, optional = set(), set()
    for attr, rest_field in instance._attr_to_rest_field.items():
        optional_type = type(None) in typing.get_args(annotations[attr])
        (optional if optional_type else required).add(rest_field._rest_name)
    return required, optional


def test_every_tool_type_of_the_package_has_its_fields_in_the_emulator() -> None:
    assert set(fa.TOOL_FIELDS) == set(m.Tool.__mapping__)
    for tag, model in m.Tool.__mapping__.items():
        assert tuple(map(set, fa.TOOL_FIELDS[tag])) == json_fields(model), tag


def test_the_definition_text_and_request_tables_are_the_packages() -> None:
    assert tuple(map(set, fa.PROMPT_FIELDS)) == json_fields(m.PromptAgentDefinition)
    assert fa.REASONING_FIELDS == set().union(*json_fields(m.Reasoning))
    assert fa.TEXT_FIELDS == set().union(*json_fields(m.PromptAgentDefinitionTextOptions))
    assert fa.STRUCTURED_INPUT_FIELDS == set().union(*json_fields(m.StructuredInputDefinition))
    assert tuple(map(set, fa.RAI_CONFIG_FIELDS)) == json_fields(m.RaiConfig)
    assert set(fa.TEXT_FORMATS) == set(m.TextResponseFormat.__mapping__)
    for tag, model in m.TextResponseFormat.__mapping__.items():
        assert tuple(map(set, fa.TEXT_FORMATS[tag])) == json_fields(model), tag
    assert set(fa.AGENT_KINDS) == {k.value for k in m.AgentKind}
    assert set(fa.TOOL_CHOICE_OPTIONS) == {o.value for o in m.ToolChoiceOptions}
    keywords = inspect.signature(AgentsOperations.create_version).parameters
    assert fa.VERSION_REQUEST_FIELDS == {n for n, p in keywords.items() if p.kind is p.KEYWORD_ONLY} - {"content_type"}


def test_answers_carry_every_required_field_of_the_packages_models_and_no_unknown_one(
        project: AIProjectClient, foundry: EmulatorServer) -> None:
    project.agents.create_version("support", definition=prompt(), **HTTP)
    version = raw(foundry, "GET", "/agents/support/versions/1").json()
    required, optional = json_fields(m.AgentVersionDetails)
    assert required <= set(version) <= required | optional
    agent = raw(foundry, "GET", "/agents/support").json()
    required, optional = json_fields(m.AgentDetails)
    assert required <= set(agent) <= required | optional
    deleted = raw(foundry, "DELETE", "/agents/support/versions/1").json()
    assert set(deleted) == set().union(*json_fields(m.DeleteAgentVersionResponse))



@pytest.mark.parametrize("tag", sorted(m.Tool.__mapping__))
def test_each_tool_type_needs_exactly_its_required_fields(foundry: EmulatorServer, tag: str) -> None:
    required, _ = json_fields(m.Tool.__mapping__[tag])
    # Values of the right outer type; nested values are not what this checks.
    values = {"vector_store_ids": [], "tools": [], "name": "n", "parameters": {}, "strict": True}
    tool = {name: values.get(name, {}) for name in required}
    tool["type"] = tag
    store = foundry.foundry_agents
    store.create_version("bot", {"definition": {"kind": "prompt", "model": "m", "tools": [tool]}})
    for name in sorted(required - {"type"}):
        with pytest.raises(EmulatorError, match=f"Missing required parameter: 'definition.tools.0.{name}'"):
            store.create_version("bot", {"definition": {"kind": "prompt", "model": "m", "tools": [
                {k: v for k, v in tool.items() if k != name}]}})
    with pytest.raises(EmulatorError, match="Unknown parameter: 'definition.tools.0.not_a_field'"):
        store.create_version("bot", {"definition": {"kind": "prompt", "model": "m", "tools": [
            {**tool, "not_a_field": 1}]}})

# --- versions through client.agents --------------------------------------------------------------


def test_a_first_version_creates_the_agent_and_each_change_is_a_new_immutable_version(
        project: AIProjectClient, foundry: EmulatorServer) -> None:
    first = project.agents.create_version(
        "support", definition=prompt(instructions="Be brief.", tools=[
            m.FunctionTool(name="lookup", parameters={"type": "object", "properties": {}}, strict=True),
            m.FileSearchTool(vector_store_ids=["vs_1"], max_num_results=5),
            m.CodeInterpreterTool(container=m.AutoCodeInterpreterToolParam(file_ids=["file-1"]))]),
        description="Answers customers.", metadata={"managed-by": "assistants-sync"}, **HTTP)
    assert (first.id, first.name, first.version, first.object) == ("support:1", "support", "1", "agent.version")
    assert first.metadata == {"managed-by": "assistants-sync"} and first.description == "Answers customers."
    assert isinstance(first.definition, m.PromptAgentDefinition) and first.definition.instructions == "Be brief."
    assert [type(t) for t in first.definition.tools] == [m.FunctionTool, m.FileSearchTool, m.CodeInterpreterTool]
    second = project.agents.create_version("support", definition=prompt(instructions="Be kind."), **HTTP)
    assert (second.id, second.version, second.metadata, second.description) == ("support:2", "2", {}, "")
    agent = project.agents.get("support", **HTTP)
    assert (agent.id, agent.name, agent.object) == ("support", "support", "agent")
    assert agent.versions.latest.version == "2" and agent.versions.latest.definition.instructions == "Be kind."
    assert project.agents.get_version("support", "1", **HTTP).definition.instructions == "Be brief."
    assert {r.path for r in foundry.requests} == {"/api/projects/sales/agents/support/versions",
                                                 "/api/projects/sales/agents/support",
                                                 "/api/projects/sales/agents/support/versions/1"}


def test_versions_list_newest_first_and_deleting_the_latest_falls_back_without_reusing_its_number(
        project: AIProjectClient) -> None:
    for text in ("one", "two", "three"):
        project.agents.create_version("support", definition=prompt(instructions=text), **HTTP)
    assert [v.version for v in project.agents.list_versions("support", **HTTP)] == ["3", "2", "1"]
    assert [v.version for v in project.agents.list_versions("support", order="asc", limit=2, **HTTP)] == ["1", "2", "3"]
    deleted = project.agents.delete_version("support", "3", **HTTP)
    assert (deleted.object, deleted.name, deleted.version, deleted.deleted) == ("agent.version.deleted", "support",
                                                                                "3", True)
    assert project.agents.get("support", **HTTP).versions.latest.version == "2"
    assert project.agents.create_version("support", definition=prompt(), **HTTP).version == "4"
    with pytest.raises(ResourceNotFoundError):
        project.agents.get_version("support", "3", **HTTP)


def test_deleting_the_agent_deletes_every_version(project: AIProjectClient) -> None:
    project.agents.create_version("support", definition=prompt(), **HTTP)
    project.agents.create_version("support", definition=prompt(), **HTTP)
    deleted = project.agents.delete("support", **HTTP)
    assert (deleted.object, deleted.name, deleted.deleted) == ("agent.deleted", "support", True)
    with pytest.raises(ResourceNotFoundError):
        project.agents.get("support", **HTTP)
    with pytest.raises(ResourceNotFoundError):
        project.agents.delete("support", **HTTP)
    # A new agent of that name starts again at version 1.
    assert project.agents.create_version("support", definition=prompt(), **HTTP).id == "support:1"


# --- listing ----------------------------------------------------------------------------------------


def test_the_package_pages_through_every_agent_of_a_kind_in_creation_order(project: AIProjectClient,
                                                                           foundry: EmulatorServer) -> None:
    for index in range(5):
        project.agents.create_version(f"bot-{index}", definition=prompt(), **HTTP)
    preview = AIProjectClient(endpoint=foundry.project_url("sales"), credential=ProjectCredential(foundry),
                              allow_preview=True)
    preview.agents.create_version("flow", definition=m.WorkflowAgentDefinition(workflow="kind: workflow"), **HTTP)
    foundry.requests.clear()
    listed = list(project.agents.list(kind="prompt", limit=2, order="asc", **HTTP))
    assert [a.name for a in listed] == [f"bot-{i}" for i in range(5)]
    assert all(a.versions.latest.version == "1" for a in listed)
    pages = [r.query for r in foundry.requests]
    assert pages[0] == {"kind": "prompt", "limit": "2", "order": "asc", "api-version": "v1"}
    assert [p.get("after") for p in pages] == [None, "bot-1", "bot-3", "bot-4"]  # the package follows last_id
    assert [a.name for a in project.agents.list(**HTTP)] == ["flow"] + [f"bot-{i}" for i in reversed(range(5))]


def test_a_page_says_where_it_starts_and_ends_and_whether_more_follow(project: AIProjectClient,
                                                                      foundry: EmulatorServer) -> None:
    for index in range(3):
        project.agents.create_version(f"bot-{index}", definition=prompt(), **HTTP)
    page = raw(foundry, "GET", "/agents", params={"kind": "prompt", "limit": 2, "order": "asc"}).json()
    assert {k: v for k, v in page.items() if k != "data"} == {"object": "list", "first_id": "bot-0",
                                                                "last_id": "bot-1", "has_more": True}
    last = raw(foundry, "GET", "/agents", params={"limit": 2, "order": "asc", "after": "bot-1"}).json()
    assert ([a["id"] for a in last["data"]], last["has_more"]) == (["bot-2"], False)
    before = raw(foundry, "GET", "/agents", params={"limit": 1, "order": "asc", "before": "bot-2"}).json()
    assert ([a["id"] for a in before["data"]], before["has_more"]) == (["bot-1"], True)
    empty = raw(foundry, "GET", "/agents", params={"order": "asc", "after": "bot-2"}).json()
    assert (empty["data"], empty["first_id"], empty["last_id"], empty["has_more"]) == ([], None, None, False)


def test_a_thousand_agents_list_in_ten_pages_of_a_hundred(foundry: EmulatorServer) -> None:
    store = foundry.foundry_agents
    for index in range(1000):
        store.create_version(f"bot-{index}", {"definition": {"kind": "prompt", "model": "gpt-4o"}})
    names, after, pages = [], None, 0
    while True:
        page = store.list({"limit": "100", "order": "asc", "kind": "prompt", **({"after": after} if after else {})})
        pages += 1
        names += [a["name"] for a in page["data"]]
        if not page["has_more"]:
            break
        after = page["last_id"]
    assert pages == 10 and names == [f"bot-{i}" for i in range(1000)]


# --- refusals --------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["-support", "support-", "sup_port", "sup port", "a" * 64, "ünï"])
def test_a_name_outside_the_rule_is_refused(project: AIProjectClient, name: str) -> None:
    with pytest.raises(HttpResponseError) as caught:
        project.agents.create_version(name, definition=prompt(), **HTTP)
    assert caught.value.status_code == 400
    assert "1 to 63 characters, letters, digits and hyphens" in str(caught.value)


def test_the_longest_and_shortest_names_are_accepted(project: AIProjectClient) -> None:
    for name in ("a" * 63, "7", "a-b-9"):
        assert project.agents.create_version(name, definition=prompt(), **HTTP).name == name


@pytest.mark.parametrize(("body", "message"), [
    ({"definition": {"kind": "prompt"}}, "Missing required parameter: 'definition.model'."),
    ({"description": "no definition"}, "Missing required parameter: 'definition'."),
    ({"definition": {"kind": "prompt", "model": "m", "image": "x"}}, "Unknown parameter: 'definition.image'."),
    ({"definition": {"kind": "chat", "model": "m"}}, "Invalid 'definition.kind': expected one of prompt"),
    ({"definition": {"kind": "prompt", "model": "m", "tools": [{"type": "retrieval"}]}},
     "Invalid 'definition.tools.0.type': unknown tool type 'retrieval'."),
    ({"definition": {"kind": "prompt", "model": "m", "tools": [{"type": "function", "function": {"name": "f"}}]}},
     "Unknown parameter: 'definition.tools.0.function'."),
    ({"definition": {"kind": "prompt", "model": "m", "tools": [{"type": "function", "name": "f", "strict": True}]}},
     "Missing required parameter: 'definition.tools.0.parameters'."),
    ({"definition": {"kind": "prompt", "model": "m", "tools": [{"type": "file_search"}]}},
     "Missing required parameter: 'definition.tools.0.vector_store_ids'."),
    ({"definition": {"kind": "prompt", "model": "m", "temperature": 2.5}},
     "Invalid 'definition.temperature': expected between 0 and 2, got 2.5."),
    ({"definition": {"kind": "prompt", "model": "m", "text": {"format": {"type": "json_schema", "schema": {}}}}},
     "Missing required parameter: 'definition.text.format.name'."),
    ({"definition": {"kind": "prompt", "model": "m", "reasoning": {"summary": "long"}}},
     "Invalid 'definition.reasoning.summary'"),
    ({"definition": {"kind": "prompt", "model": "m"}, "metadata": {f"k{i}": "v" for i in range(17)}},
     "Invalid 'metadata': too many properties."),
    ({"definition": {"kind": "prompt", "model": "m"}, "metadata": {"k" * 65: "v"}},
     "Invalid 'metadata': key is too long, at most 64 characters."),
    ({"definition": {"kind": "prompt", "model": "m"}, "metadata": {"k": "v" * 513}},
     "Invalid 'metadata.k': string too long."),
    ({"definition": {"kind": "prompt", "model": "m"}, "tags": {}}, "Unknown parameter: 'tags'."),
], ids=["no-model", "no-definition", "field-of-another-kind", "unknown-kind", "unknown-tool", "nested-function",
        "function-without-parameters", "file-search-without-stores", "temperature", "json-schema-without-name",
        "reasoning-summary", "metadata-pairs", "metadata-key", "metadata-value", "unknown-field"])
def test_an_invalid_version_is_refused_and_nothing_is_stored(project: AIProjectClient, foundry: EmulatorServer,
                                                             body: dict[str, Any], message: str) -> None:
    with pytest.raises(HttpResponseError) as caught:
        project.agents.create_version("support", body, **HTTP)
    assert caught.value.status_code == 400
    assert caught.value.error is not None and caught.value.error.message.startswith(message)
    assert caught.value.error.code == "invalid_payload"
    assert len(foundry.foundry_agents) == 0


def test_a_preview_kind_without_its_opt_in_is_forbidden_as_the_package_expects(project: AIProjectClient) -> None:
    with pytest.raises(HttpResponseError) as caught:
        project.agents.create_version("flow", definition=m.WorkflowAgentDefinition(workflow="kind: workflow"), **HTTP)
    assert caught.value.status_code == 403
    # The package recognises the service's code and tells its users how to opt in.
    assert "allow_preview=True" in str(caught.value) and "WorkflowAgents=V1Preview" in str(caught.value)


def test_the_limits_themselves_are_accepted(project: AIProjectClient) -> None:
    metadata = {f"{i:02d}" + "k" * 62: "v" * 512 for i in range(16)}
    created = project.agents.create_version("support", definition=prompt(temperature=2, top_p=0), metadata=metadata,
                                            **HTTP)
    assert created.metadata == metadata


def test_without_a_token_the_service_answers_401(foundry: EmulatorServer, project: AIProjectClient) -> None:
    project.agents.create_version("support", definition=prompt(), **HTTP)
    answer = raw(foundry, "GET", "/agents", token=False)
    assert answer.status_code == 401
    assert answer.json()["error"]["message"].startswith("Access token is missing, invalid")
    other_audience = foundry.tokens.mint(audience="https://cognitiveservices.azure.com").token
    refused = httpx.get(foundry.project_url("sales") + "/agents/support", params={"api-version": "v1"},
                        headers={"Authorization": f"Bearer {other_audience}"})
    assert refused.status_code == 401


def test_the_package_asks_for_the_foundry_scope_and_a_refused_token_raises_its_authentication_error(
        foundry: EmulatorServer) -> None:
    credential = ProjectCredential(foundry)
    project = AIProjectClient(endpoint=foundry.project_url("sales"), credential=credential)
    with pytest.raises(ResourceNotFoundError):
        project.agents.get("support", **HTTP)
    assert credential.scopes == [(SCOPE,)]
    foundry.tokens.audience = "https://another.example"
    with pytest.raises(ClientAuthenticationError):
        project.agents.get("support", **HTTP)


def test_the_api_version_is_required_and_must_be_v1(foundry: EmulatorServer) -> None:
    preview = AIProjectClient(endpoint=foundry.project_url("sales"), credential=ProjectCredential(foundry),
                              api_version="2025-05-15-preview")
    with pytest.raises(HttpResponseError) as caught:
        list(preview.agents.list(**HTTP))
    assert caught.value.status_code == 400 and "api-version '2025-05-15-preview' is not supported" in str(caught.value)
    missing = raw(foundry, "GET", "/agents", params={"api-version": ""})
    assert missing.status_code == 400 and missing.json()["error"]["code"] == "MissingApiVersionParameter"


def test_a_bad_list_query_is_refused(foundry: EmulatorServer) -> None:
    for params, param in (({"limit": "101"}, "limit"), ({"order": "up"}, "order"), ({"kind": "bot"}, "kind"),
                          ({"after": "nobody"}, "after")):
        answer = raw(foundry, "GET", "/agents", params=params)
        assert (answer.status_code, answer.json()["error"]["param"]) == (400, param)


def test_a_dropped_create_answer_still_stores_the_version(foundry: EmulatorServer) -> None:
    foundry.faults.drop_answers["agents.create_version"] = 1
    with pytest.raises(httpx.HTTPError):
        raw(foundry, "POST", "/agents/support/versions", json={"definition": {"kind": "prompt", "model": "m"}})
    assert foundry.foundry_agents.get("support")["versions"]["latest"]["version"] == "1"


# --- files and vector stores on Foundry's OpenAI-compatible surface ---------------------------------


def test_the_packages_openai_client_keeps_files_and_stores_at_the_project_openai_v1(
        project: AIProjectClient, foundry: EmulatorServer) -> None:
    openai_client = project.get_openai_client()
    assert str(openai_client.base_url) == foundry.project_url("sales") + "/openai/v1/"
    uploaded = openai_client.files.create(file=("faq.md", b"# FAQ\n"), purpose="assistants")
    store = openai_client.vector_stores.create(name="faq", file_ids=[uploaded.id], metadata={"k": "v"})
    assert [s.id for s in openai_client.vector_stores.list()] == [store.id]
    assert [f.id for f in openai_client.vector_stores.files.list(store.id)] == [uploaded.id]
    paths = {(r.method, r.path) for r in foundry.requests}
    assert paths >= {("POST", "/api/projects/sales/openai/v1/files"),
                     ("POST", "/api/projects/sales/openai/v1/vector_stores"),
                     ("GET", "/api/projects/sales/openai/v1/vector_stores")}
    assert all("api-version" not in r.query for r in foundry.requests)
    # A version's file_search tool names the store by that id.
    version = project.agents.create_version("support", definition=prompt(
        tools=[m.FileSearchTool(vector_store_ids=[store.id])]), **HTTP)
    assert version.definition.tools[0].vector_store_ids == [store.id]


def test_the_openai_v1_surface_takes_a_token_and_no_api_key(foundry: EmulatorServer) -> None:
    url = foundry.project_url("sales") + "/openai/v1/vector_stores"
    assert httpx.get(url).status_code == 401
    assert httpx.get(url, headers={"Authorization": "Bearer sk-an-openai-key"}).status_code == 401
    signed = httpx.get(url, headers={"Authorization": f"Bearer {foundry.tokens.mint().token}"})
    assert signed.status_code == 200 and signed.json()["data"] == []


def test_the_classic_and_openai_v1_surfaces_show_one_knowledge_store(project: AIProjectClient,
                                                                     foundry: EmulatorServer) -> None:
    store = project.get_openai_client().vector_stores.create(name="faq")
    classic = raw(foundry, "GET", f"/vector_stores/{store.id}")  # {project}/vector_stores?api-version=v1
    assert classic.status_code == 200 and classic.json()["name"] == "faq"
