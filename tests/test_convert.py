"""`convert --to agent`: agent manifests from assistant manifests, with the loss report;
the converted manifests validate and plan (and apply) against an agents-only endpoint."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from assistants_sync.emulator import EmulatorServer, running_emulator

from .conftest import API_KEY, point_cli_at, run, write

HELPER = """
    key: helper
    model: gpt-4o
    name: Helper
    description: Answers questions.
    instructions_file: instructions/helper.md
    temperature: 0.3
    tools:
      - type: code_interpreter
      - type: file_search
      - type: function
        function:
          name: lookup_order
          description: Look an order up.
          parameters: {type: object, properties: {id: {type: string}}}
          strict: true
    tool_resources: {file_search: {vector_store_ids: [vs_1]}}
    response_format:
      type: json_schema
      json_schema: {name: answer, schema: {type: object, properties: {text: {type: string}}}}
    reasoning_effort: low
    metadata: {team: care}
"""
PLAIN = "key: plain\nmodel: gpt-4o\nname: Plain\ninstructions: Hi.\nresponse_format: {type: json_object}\n"


@pytest.fixture
def assistants(tmp_path: Path) -> Path:
    root = tmp_path / "specs"
    write(root / "helper.yaml", HELPER)
    write(root / "plain.yaml", PLAIN)
    write(root / "instructions" / "helper.md", "Be helpful.\n")
    return root


@pytest.fixture
def openai_like(monkeypatch: pytest.MonkeyPatch) -> Iterator[EmulatorServer]:
    with running_emulator(api_key=API_KEY, serve_assistants=False) as server:
        point_cli_at(monkeypatch, server.base_url)
        yield server


def test_convert_carries_what_it_can_and_lists_each_loss(assistants: Path, tmp_path: Path) -> None:
    out = tmp_path / "agents"
    result = run("convert", "--to", "agent", str(assistants), "--out", str(out))
    assert result.exit_code == 0, result.output
    for loss in ("lost: description: agents have no description",
                 "lost: temperature: the Agents API has no sampling temperature",
                 "lost: tools[0] code_interpreter: the Agents API has no code interpreter tool",
                 "lost: tools[1] file_search:",
                 "lost: tool_resources:",
                 "changed: tools[2] lookup_order: strict dropped",
                 "lost: response_format json_object:"):
        assert loss in result.output
    assert "Converted 2 assistant manifests to agents" in result.output
    helper = yaml.safe_load((out / "helper.yaml").read_text())
    assert helper == {
        "kind": "agent", "key": "helper", "model": "gpt-4o", "name": "Helper",
        "instructions_file": "instructions/helper.md", "metadata": {"team": "care"},
        "tools": [{"type": "function", "name": "lookup_order", "description": "Look an order up.",
                   "parameters": {"type": "object", "properties": {"id": {"type": "string"}}}}],
        "reasoning": {"effort": "low"},
        "text": {"format": {"type": "json_schema",
                            "schema": {"type": "object", "properties": {"text": {"type": "string"}}}}},
    }
    assert (out / "instructions" / "helper.md").read_text() == "Be helpful.\n"
    assert "# Not carried over: temperature" in (out / "helper.yaml").read_text()
    assert run("validate", str(out)).exit_code == 0


def test_converted_manifests_plan_and_apply_where_only_agents_are_served(
        assistants: Path, tmp_path: Path, openai_like: EmulatorServer) -> None:
    out = tmp_path / "agents"
    assert run("convert", "--to", "agent", str(assistants), "--out", str(out)).exit_code == 0
    planned = run("plan", str(out))
    assert planned.exit_code == 0, planned.output
    assert "Plan: 2 to create, 0 to update, 0 to delete." in planned.output
    assert run("apply", "--auto-approve", str(out)).exit_code == 0
    again = run("plan", str(out))
    assert again.exit_code == 0 and "No changes." in again.output


def test_convert_refuses_to_overwrite_unless_forced(assistants: Path, tmp_path: Path) -> None:
    out = tmp_path / "agents"
    write(out / "plain.yaml", "# a hand edit\n")
    refused = run("convert", "--to", "agent", str(assistants), "--out", str(out))
    assert refused.exit_code == 1 and "would overwrite 1 existing file" in refused.output
    assert (out / "plain.yaml").read_text() == "# a hand edit\n" and not (out / "helper.yaml").exists()
    assert run("convert", "--to", "agent", str(assistants), "--out", str(out), "--force").exit_code == 0
    assert "kind: agent" in (out / "plain.yaml").read_text()


def test_an_invalid_assistant_manifest_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    write(tmp_path / "specs" / "bad.yaml", "key: bad\nmodel: gpt-4o\ntemprature: 0.3\n")
    result = run("convert", "--to", "agent", str(tmp_path / "specs"), "--out", str(tmp_path / "agents"))
    assert result.exit_code == 1 and "bad.yaml:3" in result.output
    assert not (tmp_path / "agents").exists()
