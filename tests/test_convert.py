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
    assert "# Changed: tools[2] lookup_order: strict dropped" in (out / "helper.yaml").read_text()  # in the file too
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


# --- the project file: convert sees what plan sees ---------------------------------------------------------------

PROJECT = """
    paths: [specs]
    defaults:
      model: ${MODEL:-gpt-4o}
      temperature: 0.2
      metadata: {team: care}
    environments:
      production:
        stack: production
        defaults:
          metadata: {tier: gold}
"""
FAQ = "key: faq\nname: FAQ\ninstructions: Answer briefly.\nmetadata: {owner: ana}\n"
SUPPORT = """
    key: support-${TEAM}
    model: gpt-4o
    name: "${NAME}"
    protect: ${PROTECT:-false}
    instructions: Sign as ${TEAM}; the lookup key is ${LOOKUP_KEY}. Prices are in $${CURRENCY}.
    tools:
      - type: function
        function: {name: lookup_order, description: "Look an order up in ${REGION:-eu}."}
    metadata: {region: "${REGION:-eu}"}
"""
LOOKUP_KEY = "lk-3b8e1f0c9d"  # a secret, known to the environment only


@pytest.fixture
def project(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """tmp_path as the working directory, with a project file whose defaults hold the model."""
    clean_env.delenv("ASSISTANTS_SYNC_ENV", raising=False)
    write(tmp_path / "assistants-sync.yaml", PROJECT)
    write(tmp_path / "specs" / "faq.yaml", FAQ)
    return tmp_path


def test_convert_writes_the_project_files_defaults_into_each_agent(project: Path, openai_like: EmulatorServer
                                                                   ) -> None:
    result = run("convert", "--to", "agent", "--env", "production", "--out", "agents")  # the project's paths
    assert result.exit_code == 0, result.output
    assert "from the project file's defaults: model, temperature, metadata" in result.output
    assert "lost: temperature: the Agents API has no sampling temperature" in result.output
    written = (project / "agents" / "faq.yaml").read_text()
    # Agents take no defaults: the environment's defaults are written in, ${VAR} as written.
    assert yaml.safe_load(written) == {
        "kind": "agent", "key": "faq", "model": "${MODEL:-gpt-4o}", "name": "FAQ", "instructions": "Answer briefly.",
        "metadata": {"team": "care", "tier": "gold", "owner": "ana"},
    }
    assert "# From the project file's defaults (assistants-sync.yaml): model, temperature, metadata\n" in written
    validated = run("validate", "agents")
    assert validated.exit_code == 0 and validated.stdout == "1 agent manifest valid.\n", validated.output
    assert run("apply", "--auto-approve", "--env", "production", "agents").exit_code == 0
    [agent] = openai_like.agents.list()["data"]
    assert agent["model"] == "gpt-4o"
    assert {k: v for k, v in agent["metadata"].items() if not k.startswith("assistants-sync")} == {
        "team": "care", "tier": "gold", "owner": "ana"}
    again = run("plan", "--env", "production", "agents")
    assert again.exit_code == 0 and "No changes." in again.output, again.output


def test_convert_fills_variables_in_to_check_but_writes_them_as_written(
        project: Path, openai_like: EmulatorServer, monkeypatch: pytest.MonkeyPatch) -> None:
    write(project / "specs" / "support.yaml", SUPPORT)
    monkeypatch.setenv("LOOKUP_KEY", LOOKUP_KEY)
    variables = ("--var", "TEAM=care", "--var", "NAME=2024")
    result = run("convert", "--to", "agent", "--out", "agents", *variables)
    assert result.exit_code == 0, result.output
    written = (project / "agents" / "support-care.yaml").read_text()  # named by the key plan sees
    assert LOOKUP_KEY not in written and "Sign as care" not in written and "2024" not in written
    assert yaml.safe_load(written) == {
        "kind": "agent", "key": "support-${TEAM}", "protect": "${PROTECT:-false}", "model": "gpt-4o",
        "name": "${NAME}",
        "instructions": "Sign as ${TEAM}; the lookup key is ${LOOKUP_KEY}. Prices are in $${CURRENCY}.",
        "metadata": {"team": "care", "region": "${REGION:-eu}"},
        "tools": [{"type": "function", "name": "lookup_order", "description": "Look an order up in ${REGION:-eu}.",
                   "parameters": {"type": "object", "properties": {}}}],
    }
    # A lone variable keeps its YAML type: a string stays quoted, a boolean stays plain.
    assert "name: '${NAME}'\n" in written and "protect: ${PROTECT:-false}\n" in written
    assert run("validate", "agents", *variables).exit_code == 0
    assert run("apply", "--auto-approve", "agents", *variables).exit_code == 0
    agent = {a["metadata"]["assistants-sync"]: a for a in openai_like.agents.list()["data"]}["default/support-care"]
    assert agent["name"] == "2024"
    assert agent["instructions"] == f"Sign as care; the lookup key is {LOOKUP_KEY}. Prices are in ${{CURRENCY}}."
    assert agent["tools"][0]["description"] == "Look an order up in eu."
    again = run("plan", "agents", *variables)
    assert again.exit_code == 0 and "No changes." in again.output, again.output


def test_convert_reads_the_project_file_given_by_config_and_refuses_an_unset_variable(
        clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    write(tmp_path / "ops" / "sync.yaml", "defaults: {model: gpt-4o-mini}\n")
    write(tmp_path / "specs" / "faq.yaml", "key: faq\nname: ${BOT_NAME}\n")
    refused = run("convert", "--to", "agent", "--config", "ops/sync.yaml", "specs", "--out", "agents")
    assert refused.exit_code == 1
    assert f"{Path('specs') / 'faq.yaml'}:2: variable BOT_NAME is not set" in refused.stderr
    assert not (tmp_path / "agents").exists()
    converted = run("convert", "--to", "agent", "--config", "ops/sync.yaml", "--var", "BOT_NAME=Faq", "specs",
                    "--out", "agents")
    assert converted.exit_code == 0, converted.output
    assert yaml.safe_load((tmp_path / "agents" / "faq.yaml").read_text()) == {
        "kind": "agent", "key": "faq", "model": "gpt-4o-mini", "name": "${BOT_NAME}"}
    assert "(ops/sync.yaml)" in (tmp_path / "agents" / "faq.yaml").read_text()


def test_convert_of_a_path_without_assistant_manifests_is_an_error_and_writes_nothing(tmp_path: Path) -> None:
    write(tmp_path / "agents" / "helper.yaml", "kind: agent\nkey: helper\nmodel: gpt-4o\n")
    result = run("convert", "--to", "agent", str(tmp_path / "agents"), "--out", str(tmp_path / "out"))
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: no assistant manifests (*.yaml or *.yml files) in {tmp_path / 'agents'}")
    assert not (tmp_path / "out").exists()


def test_convert_warns_of_the_manifests_of_other_kinds_it_leaves(tmp_path: Path) -> None:
    write(tmp_path / "specs" / "bot.yaml", "key: bot\nmodel: gpt-4o\n")
    write(tmp_path / "specs" / "kb.yaml", "kind: vector_store\nkey: kb\nfiles: [docs/a.md]\n")
    write(tmp_path / "specs" / "docs" / "a.md", "# A\n")
    result = run("convert", "--to", "agent", str(tmp_path / "specs"), "--out", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    assert f"Warning: not converted (not assistants): vector_store kb ({tmp_path / 'specs' / 'kb.yaml'}:1)" in (
        result.stderr)
