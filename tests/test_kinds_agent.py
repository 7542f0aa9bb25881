"""The agent kind (`kind: agent`, OpenAI's Agents API) through the whole engine, over
real HTTP against the emulator: an endpoint serving only agents (as OpenAI now does),
one serving only assistants (as an Azure AI Foundry project does), and one serving both.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openai
import pytest

from assistants_sync.emulator import EmulatorServer, running_emulator

from .conftest import API_KEY, official_sdk, point_cli_at, run, write

AGENT = """
    kind: agent
    key: support
    model: gpt-5
    name: Support
    instructions: Be brief.
    tools:
      - type: function
        name: lookup_order
        description: Look an order up.
        parameters_file: lookup.json
      - type: web_search
    metadata: {team: care}
"""
PARAMETERS = {"type": "object", "properties": {"id": {"type": "string"}}, "required": ["id"]}


def _pointed_at(server: EmulatorServer, monkeypatch: pytest.MonkeyPatch) -> EmulatorServer:
    point_cli_at(monkeypatch, server.base_url)
    return server


@pytest.fixture
def openai_like(monkeypatch: pytest.MonkeyPatch) -> Iterator[EmulatorServer]:
    """An endpoint that answers 404 on /v1/assistants, as OpenAI does since the sunset."""
    with running_emulator(api_key=API_KEY, serve_assistants=False) as server:
        yield _pointed_at(server, monkeypatch)


@pytest.fixture
def foundry_like(monkeypatch: pytest.MonkeyPatch) -> Iterator[EmulatorServer]:
    """An endpoint that serves assistants and answers 404 on /v1/agents."""
    with running_emulator(api_key=API_KEY, serve_agents=False) as server:
        yield _pointed_at(server, monkeypatch)


def agents_of(server: EmulatorServer) -> list[dict[str, Any]]:
    sdk = official_sdk(server.base_url)
    page = sdk.get("/agents", cast_to=dict, options={"headers": {"OpenAI-Beta": "agents=v1"}})
    return page["data"]  # type: ignore[no-any-return]


def specs(tmp_path: Path, text: str = AGENT) -> Path:
    root = tmp_path / "specs"
    write(root / "support.yaml", text)
    (root / "lookup.json").write_text(json.dumps(PARAMETERS), encoding="utf-8")
    return root


def plan(root: Path, *args: str) -> dict[str, Any]:
    result = run("plan", "--format", "json", str(root), *args)
    assert result.exit_code in (0, 2), result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def apply(root: Path) -> str:
    result = run("apply", "--auto-approve", str(root))
    assert result.exit_code == 0, result.output
    return result.output


def test_agents_only_endpoint_plans_applies_with_its_lock_and_a_second_plan_is_empty(
        openai_like: EmulatorServer, tmp_path: Path) -> None:
    root = specs(tmp_path)
    [change] = plan(root)["changes"]
    assert (change["action"], change["kind"], change["key"]) == ("create", "agent", "support")
    output = apply(root)
    assert "Apply complete: 1 created, 0 updated, 0 deleted." in output
    [agent] = agents_of(openai_like)  # the lock (an agent here) is gone again
    assert agent["name"] == "Support" and agent["tools"][0]["parameters"] == PARAMETERS
    # gpt-5's effort was left out: the server's default ("medium") is not a change.
    assert agent["reasoning"]["effort"] == "medium"
    again = run("plan", str(root))
    assert again.exit_code == 0, again.output
    assert "No changes. The 1 managed agent matches the manifests." in again.output


def test_the_lock_is_an_agent_where_neither_vector_stores_nor_assistants_are_served(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from assistants_sync.actual.client import AssistantsClient, Endpoint
    from assistants_sync.applying.apply_lock import EndpointLockObjects
    from assistants_sync.applying.lock import holding

    with running_emulator(api_key=API_KEY, serve_assistants=False, serve_knowledge=False) as server, \
            AssistantsClient(Endpoint(server.base_url, api_key=API_KEY)) as client:
        openai_like = _pointed_at(server, monkeypatch)
        with holding(EndpointLockObjects(client, "gpt-5"), "default", who="test", timeout=0):
            [lock] = agents_of(openai_like)
            assert lock["name"] == "assistants-sync lock" and "force-unlock" in lock["instructions"]
            busy = run("apply", "--auto-approve", "--lock-timeout", "0", str(specs(tmp_path)))
            assert busy.exit_code == 1 and "locked" in busy.output
        assert agents_of(openai_like) == []


@pytest.mark.parametrize(("field", "value", "shown"), [
    ("name", "name: Care", '"Care"'),
    ("instructions", "instructions: Be kind.", '"Be kind."'),
    ("tools", "tools: [{type: tool_search}]", "tool_search"),
    ("reasoning.effort", "reasoning: {effort: high}", '"high"'),
    ("reasoning.summary", "reasoning: {summary: concise}", '"concise"'),
    ("text", "text: {verbosity: low}", "low"),
    ("multi_agent", "multi_agent: {enabled: true}", "6"),
    ("service_tier", "service_tier: flex", '"flex"'),
    ("metadata", "metadata: {team: sales}", "sales"),
])
def test_each_field_is_updated_and_then_matches(openai_like: EmulatorServer, tmp_path: Path,
                                                field: str, value: str, shown: str) -> None:
    root = specs(tmp_path)
    apply(root)
    lines = [line for line in AGENT.splitlines() if not line.startswith("    " + value.split(":")[0] + ":")]
    changed = "\n".join(lines) + f"\n    {value}\n"
    if value.startswith("tools"):
        changed = "\n".join(line for line in changed.splitlines()
                            if not line.strip().startswith(("- type", "name: lookup", "description: Look",
                                                            "parameters_file")))
    write(root / "support.yaml", changed)
    [change] = plan(root)["changes"]
    assert change["action"] == "update" and field in change["fields"], change
    assert shown in json.dumps(change["fields"][field]["after"])
    apply(root)
    assert plan(root)["changes"] == []


def test_an_agent_changed_outside_is_drift(openai_like: EmulatorServer, tmp_path: Path) -> None:
    root = specs(tmp_path)
    apply(root)
    [agent] = agents_of(openai_like)
    sdk = openai.OpenAI(api_key=API_KEY, base_url=openai_like.base_url, max_retries=0)
    sdk.post(f"/agents/{agent['id']}", body={"service_tier": "priority"}, cast_to=dict,
             options={"headers": {"OpenAI-Beta": "agents=v1"}})
    drift = run("drift", str(root))
    assert drift.exit_code == 2, drift.output
    assert "agent support" in drift.output and "service_tier" in drift.output
    [change] = plan(root)["changes"]
    assert change["fields"]["service_tier"]["after"] == "auto"


def test_an_unmanaged_agent_is_exported_adopted_and_then_matches(openai_like: EmulatorServer,
                                                                 tmp_path: Path) -> None:
    sdk = openai.OpenAI(api_key=API_KEY, base_url=openai_like.base_url, max_retries=0)
    sdk.post("/agents", body={"model": "gpt-5", "name": "Legacy", "text": {"verbosity": "high"},
                              "tools": [{"type": "function", "name": "f", "description": "F.",
                                         "parameters": PARAMETERS}]},
             cast_to=dict, options={"headers": {"OpenAI-Beta": "agents=v1"}})
    out = tmp_path / "imported"
    exported = run("export", "--unmanaged", "--kind", "agent", "--out", str(out))
    assert exported.exit_code == 0, exported.output
    assert "Exported 1 agent (unmanaged)" in exported.output
    [change] = plan(out)["changes"]
    assert change["action"] == "adopt" and change["kind"] == "agent"
    apply(out)
    assert plan(out)["changes"] == []
    # and a managed agent exports to a manifest that plans empty (the round trip)
    again = tmp_path / "again"
    assert run("export", "--kind", "agent", "--out", str(again)).exit_code == 0
    assert plan(again)["changes"] == []


def test_an_agent_manifest_against_an_endpoint_without_agents_names_kind_and_endpoint(
        foundry_like: EmulatorServer, tmp_path: Path) -> None:
    result = run("plan", str(specs(tmp_path)))
    assert result.exit_code == 1
    assert "agent" in result.output and foundry_like.base_url in result.output
    assert "Traceback" not in result.output


def test_assistants_still_plan_and_apply_against_an_endpoint_without_agents(
        foundry_like: EmulatorServer, tmp_path: Path) -> None:
    root = tmp_path / "specs"
    write(root / "a.yaml", "key: helper\nmodel: gpt-4o\nname: Helper\n")
    apply(root)
    again = run("plan", str(root))
    assert again.exit_code == 0 and "No changes. The 1 managed assistant matches" in again.output


@pytest.mark.parametrize(("extra", "rule"), [
    ("temperature: 0.5", "temperature"),
    ("tools: [{type: code_interpreter}]", "code_interpreter"),
    ("tools: [{type: function, name: f, description: F.}]", "parameters"),
    ("tools: [{type: function, name: f, description: F., parameters: {}, strict: true}]", "strict"),
    ("service_tier: turbo", "service_tier"),
    ("reasoning: {effort: extreme}", "effort"),
    ("multi_agent: {enabled: true, max_concurrent_subagents: 0}", "max_concurrent_subagents"),
    ("text: {format: {type: json_object}}", "format"),
    ("metadata: {assistants-sync.x: y}", "reserved"),
    ("ignore_changes: [metadata]", "ignore_changes"),
])
def test_a_bad_agent_manifest_is_refused_with_file_and_line(tmp_path: Path, extra: str, rule: str) -> None:
    root = tmp_path / "specs"
    write(root / "bad.yaml", "kind: agent\nkey: support\nmodel: gpt-5\n" + extra + "\n")
    result = run("validate", str(root))
    assert result.exit_code == 1, result.output
    assert "bad.yaml:" in result.output and rule in result.output


def test_a_saved_agent_plan_is_applied_and_markdown_names_the_agent(openai_like: EmulatorServer,
                                                                    tmp_path: Path) -> None:
    root = specs(tmp_path)
    saved = tmp_path / "plan.json"
    assert run("plan", str(root), "--out", str(saved)).exit_code == 0
    markdown = run("plan", str(root), "--format", "markdown")
    assert markdown.exit_code == 0 and "support" in markdown.output and "agent" in markdown.output
    applied = run("apply", "--plan", str(saved))
    assert applied.exit_code == 0, applied.output
    assert [a["name"] for a in agents_of(openai_like)] == ["Support"]
    assert run("apply", "--plan", str(saved)).exit_code == 1  # stale now: the agent exists


def test_a_protected_agent_is_not_deleted_and_ignore_changes_leaves_a_field_alone(
        openai_like: EmulatorServer, tmp_path: Path) -> None:
    root = specs(tmp_path, AGENT + "    protect: true\n    ignore_changes: [name]\n")
    apply(root)
    [agent] = agents_of(openai_like)
    assert agent["metadata"]["assistants-sync.protect"] == "true"
    write(root / "support.yaml", AGENT.replace("name: Support", "name: Renamed") +
          "    protect: true\n    ignore_changes: [name]\n")
    assert plan(root)["changes"] == []  # the name is not managed
    (root / "support.yaml").unlink()
    write(root / "other.yaml", "kind: agent\nkey: other\nmodel: gpt-5\n")
    refused = run("plan", str(root))
    assert refused.exit_code == 1 and "protect" in refused.output


def test_changing_the_reasoning_summary_keeps_a_managed_effort(openai_like: EmulatorServer, tmp_path: Path) -> None:
    root = specs(tmp_path, AGENT + "    reasoning: {effort: high}\n")
    apply(root)
    write(root / "support.yaml", AGENT + "    reasoning: {effort: high, summary: concise}\n")
    [change] = plan(root)["changes"]
    # the effort is sent with the summary (the API replaces `reasoning` whole), unchanged
    assert change["fields"]["reasoning.effort"] == {"before": "high", "after": "high"}
    assert change["fields"]["reasoning.summary"]["after"] == "concise"
    apply(root)
    assert agents_of(openai_like)[0]["reasoning"] == {"effort": "high", "summary": "concise"}
    assert plan(root)["changes"] == []
