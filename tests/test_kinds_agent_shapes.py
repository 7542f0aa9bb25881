"""The `kind: agent` manifest model and the agent's canonical form.

The canonical form is checked against what the emulator (held to the official openai
package's shapes) answers, created through client.beta.agents: whatever the server fills
in must normalise away, and every real difference must stay visible.
"""

from __future__ import annotations

from typing import Any

import openai
import pytest
from pydantic import ValidationError

from assistants_sync.kinds.agent import (
    AgentManifest,
    canonical_from_api,
    canonical_from_manifest,
    effort_is_managed,
    manifest_request_fields,
)

PARAMETERS = {"type": "object", "properties": {"id": {"type": "string"}}, "required": ["id"]}
FUNCTION = {"type": "function", "name": "lookup_order", "description": "Look an order up.", "parameters": PARAMETERS}

EVERY_TOOL: list[dict[str, Any]] = [
    FUNCTION,
    {"type": "function", "name": "later", "description": "Found by search.", "parameters_file": "later.json",
     "defer_loading": True},
    {"type": "tool_search"},
    {"type": "programmatic_tool_calling"},
    {"type": "mcp", "server_label": "docs", "transport": {"type": "http", "server_url": "https://mcp.example"},
     "allowed_tools": ["search"]},
    {"type": "mcp", "server_label": "local", "transport": {"type": "stdio", "command": "srv", "cwd": "/srv"},
     "required": True},
    {"type": "web_search", "location": {"country": "FR"}},
    {"type": "computer_use"},
    {"type": "automations"},
]


def manifest(**fields: Any) -> AgentManifest:
    return AgentManifest.model_validate({"kind": "agent", "key": "support", "model": "gpt-5", **fields})


def created_and_read_back(sdk: openai.OpenAI, agent: AgentManifest, files: dict[str, Any] | None = None
                          ) -> dict[str, Any]:
    """The agent the service answers after a create with exactly the manifest's fields."""
    fields = manifest_request_fields(agent, files)
    created = sdk.post("/agents", body=fields, cast_to=dict, options={"headers": {"OpenAI-Beta": "agents=v1"}})
    return sdk.get(f"/agents/{created['id']}", cast_to=dict, options={"headers": {"OpenAI-Beta": "agents=v1"}})


# --- the manifest model -----------------------------------------------------------------------


def test_a_full_manifest_is_accepted() -> None:
    agent = manifest(
        name="Support", instructions="Be brief.", tools=EVERY_TOOL, metadata={"team": "care"},
        reasoning={"effort": "low", "summary": "auto"},
        text={"format": {"type": "json_schema", "schema": {"type": "object"}}, "verbosity": "low"},
        multi_agent={"enabled": True, "max_concurrent_subagents": 3}, service_tier="flex",
        compaction={"async": True}, experimental={"time_awareness": True},
        protect=True, ignore_changes=["instructions"], adopt="agent_abc123", previous_keys=["helpdesk"],
    )
    assert [t.type for t in agent.tools] == [t["type"] for t in EVERY_TOOL]


@pytest.mark.parametrize(
    ("fields", "place"),
    [
        pytest.param({"temperature": 0.2}, ("temperature",), id="unknown-field"),
        pytest.param({"model": ""}, ("model",), id="empty-model"),
        pytest.param({"kind": "assistant"}, ("kind",), id="wrong-kind"),
        pytest.param({"name": 3}, ("name",), id="name-not-a-string"),
        pytest.param({"tools": [{"type": "function", "function": {"name": "f"}}]}, ("tools", 0, "function", "function"),
                     id="nested-function-shape"),
        pytest.param({"tools": [{**FUNCTION, "strict": True}]}, ("tools", 0, "function", "strict"),
                     id="function-strict"),
        pytest.param({"tools": [{k: v for k, v in FUNCTION.items() if k != "description"}]},
                     ("tools", 0, "function", "description"), id="function-without-description"),
        pytest.param({"tools": [{**FUNCTION, "name": "has space"}]}, ("tools", 0, "function", "name"),
                     id="function-name"),
        pytest.param({"tools": [{k: v for k, v in FUNCTION.items() if k != "parameters"}]},
                     ("tools", 0, "function"), id="function-without-parameters"),
        pytest.param({"tools": [{**FUNCTION, "parameters_file": "p.json"}]}, ("tools", 0, "function"),
                     id="parameters-and-parameters-file"),
        pytest.param({"tools": [{**FUNCTION, "defer_loading": "yes"}]}, ("tools", 0, "function", "defer_loading"),
                     id="bool-as-string"),
        pytest.param({"tools": [{"type": "code_interpreter"}]}, ("tools", 0), id="code-interpreter"),
        pytest.param({"tools": [{"type": "file_search"}]}, ("tools", 0), id="file-search"),
        pytest.param({"tools": [{"type": "mcp", "server_label": "s", "transport": {"type": "http"}}]},
                     ("tools", 0, "mcp", "transport", "http", "server_url"), id="mcp-without-url"),
        pytest.param({"tools": [{"type": "web_search", "mode": "offline"}]}, ("tools", 0, "web_search", "mode"),
                     id="web-search-mode"),
        pytest.param({"tools": [{**FUNCTION, "description": "d" * (3 * 1024 * 1024)}]}, ("tools",),
                     id="tools-over-3-MiB"),
        pytest.param({"reasoning": {"effort": "extreme"}}, ("reasoning", "effort"), id="reasoning-effort"),
        pytest.param({"text": {"format": {"type": "json_schema", "name": "x", "schema": {}}}},
                     ("text", "format", "json_schema", "name"), id="json-schema-with-name"),
        pytest.param({"text": {"format": {"type": "json_object"}}}, ("text", "format"), id="json-object-format"),
        pytest.param({"multi_agent": {"max_concurrent_subagents": 2}}, ("multi_agent", "enabled"),
                     id="multi-agent-without-enabled"),
        pytest.param({"multi_agent": {"enabled": True, "max_concurrent_subagents": 0}},
                     ("multi_agent", "max_concurrent_subagents"), id="no-subagents"),
        pytest.param({"service_tier": "scale"}, ("service_tier",), id="service-tier"),
        pytest.param({"metadata": {str(i): "v" for i in range(15)}}, ("metadata",), id="15-metadata-pairs"),
        pytest.param({"metadata": {"assistants-sync.x": "v"}}, ("metadata",), id="reserved-metadata-key"),
        pytest.param({"metadata": {"k" * 65: "v"}}, ("metadata", "k" * 65, "[key]"), id="metadata-key-65"),
        pytest.param({"metadata": {"k": "v" * 513}}, ("metadata", "k"), id="metadata-value-513"),
        pytest.param({"ignore_changes": ["metadata"]}, ("ignore_changes", 0), id="ignore-metadata"),
        pytest.param({"adopt": "agent/1"}, ("adopt",), id="adopt-not-an-id"),
        pytest.param({"instructions": "a", "instructions_file": "b.md"}, ("instructions_file",),
                     id="instructions-and-file"),
    ],
)
def test_every_bad_input_is_refused_at_its_place(fields: dict[str, Any], place: tuple[Any, ...]) -> None:
    with pytest.raises(ValidationError) as caught:
        manifest(**fields)
    assert place in [error["loc"] for error in caught.value.errors()]


def test_a_protected_agent_keeps_13_metadata_pairs() -> None:
    manifest(metadata={str(i): "v" for i in range(14)})
    with pytest.raises(ValidationError, match="at most 13 pairs"):
        manifest(protect=True, metadata={str(i): "v" for i in range(14)})


def test_referenced_files_are_taken_from_what_was_read() -> None:
    agent = manifest(instructions_file="support.md", tools=[
        {"type": "function", "name": "f", "description": "d", "parameters_file": "f.json"}])
    fields = manifest_request_fields(agent, {"support.md": "Be brief.", "f.json": PARAMETERS})
    assert fields["instructions"] == "Be brief."
    assert fields["tools"] == [{"type": "function", "name": "f", "description": "d", "parameters": PARAMETERS}]
    assert "instructions_file" not in fields and "key" not in fields and "kind" not in fields


# --- the canonical form against the service's answers -----------------------------------------


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param({}, id="minimal"),
        pytest.param({"tools": EVERY_TOOL}, id="every-tool"),
        pytest.param({"name": "Support", "instructions": "Be brief.", "metadata": {"b": "2", "a": "1"}}, id="texts"),
        pytest.param({"reasoning": {"summary": "auto"}}, id="summary-without-effort"),
        pytest.param({"reasoning": {"effort": "low"}}, id="effort"),
        pytest.param({"text": {"verbosity": "high"}}, id="verbosity"),
        pytest.param({"text": {"format": {"type": "json_schema", "schema": {"type": "object"}}}}, id="json-schema"),
        pytest.param({"multi_agent": {"enabled": True}}, id="subagents-default-six"),
        pytest.param({"multi_agent": {"enabled": False, "max_concurrent_subagents": 3}}, id="subagents-disabled"),
        pytest.param({"service_tier": "auto", "compaction": {}, "experimental": {}}, id="defaults-spelled-out"),
        pytest.param({"service_tier": "priority", "compaction": {"async": True},
                      "experimental": {"time_awareness": True}}, id="settings"),
    ],
)
def test_what_the_server_fills_in_normalises_away(sdk: openai.OpenAI, fields: dict[str, Any]) -> None:
    agent = manifest(**fields)
    files = {"later.json": PARAMETERS}
    answered = created_and_read_back(sdk, agent, files)
    remote = canonical_from_api(answered, manage_effort=effort_is_managed(agent))
    assert remote == canonical_from_manifest(agent, files)


def test_normalising_twice_changes_nothing(sdk: openai.OpenAI) -> None:
    answered = created_and_read_back(sdk, manifest(tools=EVERY_TOOL, multi_agent={"enabled": True}),
                                     {"later.json": PARAMETERS})
    once = canonical_from_api(answered)
    assert canonical_from_api(once) == once


def test_an_unset_effort_is_not_managed_but_a_set_one_is(sdk: openai.OpenAI) -> None:
    unset = manifest()
    answered = created_and_read_back(sdk, unset)
    assert answered["reasoning"]["effort"] == "medium"  # the model's default, filled in by the server
    assert canonical_from_api(answered, manage_effort=effort_is_managed(unset))["reasoning"]["effort"] is None
    wanted = manifest(reasoning={"effort": "high"})
    assert canonical_from_api(answered, manage_effort=effort_is_managed(wanted))["reasoning"] != \
        canonical_from_manifest(wanted)["reasoning"]


@pytest.mark.parametrize(
    ("manifest_fields", "changed_remotely"),
    [
        pytest.param({}, {"name": "renamed"}, id="name"),
        pytest.param({"tools": [FUNCTION]}, {"tools": [{**FUNCTION, "defer_loading": True}]}, id="defer-loading"),
        pytest.param({"tools": [{"type": "web_search"}]}, {"tools": [{"type": "web_search", "mode": "cached"}]},
                     id="web-search-mode"),
        pytest.param({"tools": [{"type": "mcp", "server_label": "s", "transport": {"type": "http",
                                                                                     "server_url": "https://a"}}]},
                     {"tools": [{"type": "mcp", "server_label": "s", "allowed_tools": [],
                                 "transport": {"type": "http", "server_url": "https://a"}}]},
                     id="mcp-allows-no-tools"),
        pytest.param({}, {"text": {"verbosity": "low"}}, id="verbosity"),
        pytest.param({}, {"multi_agent": {"enabled": True}}, id="subagents"),
        pytest.param({}, {"service_tier": "flex"}, id="service-tier"),
        pytest.param({}, {"metadata": {"a": "1"}}, id="metadata"),
    ],
)
def test_a_change_made_outside_stays_visible(sdk: openai.OpenAI, manifest_fields: dict[str, Any],
                                             changed_remotely: dict[str, Any]) -> None:
    agent = manifest(**manifest_fields)
    answered = created_and_read_back(sdk, agent)
    changed = sdk.post(f"/agents/{answered['id']}", body=changed_remotely, cast_to=dict,
                       options={"headers": {"OpenAI-Beta": "agents=v1"}})
    assert canonical_from_api(changed, manage_effort=False) != canonical_from_manifest(agent)
