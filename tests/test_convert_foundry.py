"""convert --to foundry_agent: what each assistant setting becomes, names made valid and unique, what is lost."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistants_sync.desired.manifest import load_manifests

from .conftest import run, write

FULL = """
    key: support
    name: Support Bot (EU)
    description: Answers support questions
    model: gpt-4o
    instructions_file: prompts/support.md
    temperature: 0.4
    top_p: 0.9
    reasoning_effort: low
    protect: true
    ignore_changes: [temperature, reasoning_effort, name]
    response_format:
      type: json_schema
      json_schema: {name: answer, schema: {type: object}, strict: true}
    tools:
      - type: function
        function: {name: get_order, description: Look up an order, parameters_file: get_order.json, strict: true}
      - type: file_search
        file_search: {max_num_results: 8}
      - type: code_interpreter
    tool_resources:
      file_search: {vector_stores: [handbook]}
      code_interpreter: {files: [data/prices.csv]}
    metadata: {team: care}
    adopt: asst_abc123
    ---
    kind: vector_store
    key: handbook
    name: Handbook
    files: [docs/*.md]
    """


@pytest.fixture
def specs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "specs" / "bots.yaml", FULL)
    write(tmp_path / "specs" / "prompts" / "support.md", "Help.\n")
    write(tmp_path / "specs" / "get_order.json", '{"type": "object", "properties": {}}')
    write(tmp_path / "specs" / "data" / "prices.csv", "a,b\n")
    write(tmp_path / "specs" / "docs" / "r.md", "# R\n")
    return tmp_path / "specs"


def test_every_mapped_setting_is_written_and_the_losses_said(specs: Path, tmp_path: Path) -> None:
    result = run("convert", "--to", "foundry_agent", "specs", "--out", "foundry")
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        f"  {Path('foundry') / 'support.yaml'}  (from {Path('specs') / 'bots.yaml'}:1)\n"
        "      changed: name: 'Support Bot (EU)' -> 'support-bot-eu' (a Foundry agent's name has only letters, "
        "digits and hyphens)\n"
        "      changed: ignore_changes: name dropped (a Foundry agent's name is its identity)\n"
        "      lost: adopt: it names a classic assistant's id, not a Foundry agent's name\n"
        "Converted 1 assistant manifest to Foundry agents in foundry; 1 loses settings Foundry's agents do not "
        "have.\n")
    body = (tmp_path / "foundry" / "support.yaml").read_text()
    assert body.split("\n", 4)[4] == """\
kind: foundry_agent
key: support
name: support-bot-eu
protect: true
description: Answers support questions
model: gpt-4o
instructions_file: prompts/support.md
temperature: 0.4
top_p: 0.9
metadata:
  team: care
tools:
- type: function
  name: get_order
  description: Look up an order
  parameters_file: get_order.json
  strict: true
- type: file_search
  vector_stores:
  - handbook
  max_num_results: 8
- type: code_interpreter
  files:
  - data/prices.csv
reasoning:
  effort: low
text:
  format:
    type: json_schema
    name: answer
    schema:
      type: object
    strict: true
ignore_changes:
- temperature
- reasoning
"""
    for copied in ("prompts/support.md", "get_order.json", "data/prices.csv"):
        assert (tmp_path / "foundry" / copied).is_file()
    # What convert writes is valid: it loads as plan loads it, with the store manifest beside it.
    [agent] = [d for d in load_manifests(["foundry", "specs/bots.yaml"]) if d.kind == "foundry_agent"]
    assert agent.request["tools"][1] == {"type": "file_search", "vector_stores": ["handbook"],
                                         "vector_store_ids": [], "max_num_results": 8}


def test_names_are_made_valid_cut_to_63_and_unique(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    long = "A" * 70
    write(tmp_path / "specs" / "bots.yaml", f"""
        key: one
        name: help_desk.bot
        model: gpt-4o
        ---
        key: two
        name: Help Desk Bot
        model: gpt-4o
        ---
        key: three
        name: {long}
        model: gpt-4o
        ---
        key: four
        name: "!!!"
        model: gpt-4o
        """)
    result = run("convert", "--to", "foundry_agent", "specs", "--out", "foundry")
    assert result.exit_code == 0, result.output
    names = {d.key: d.request["name"] for d in load_manifests(["foundry"])}
    assert names == {"one": "help-desk-bot", "two": "help-desk-bot-2", "three": "a" * 63, "four": "four"}
    assert "'Help Desk Bot' -> 'help-desk-bot-2' (taken by another converted manifest)" in result.stdout
    assert f"'{long}' -> '{'a' * 63}' (cut to 63 characters)" in result.stdout


def test_accented_names_keep_their_letters(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "specs" / "bots.yaml", """
        key: cafe
        name: Café Crème
        model: gpt-4o
        ---
        key: street
        name: Straße Müller
        model: gpt-4o
        ---
        key: tokyo
        name: 東京
        model: gpt-4o
        ---
        key: nordic
        name: Søren Łódź Æsir
        model: gpt-4o
        ---
        key: styled
        name: 𝐒𝐮𝐩𝐩𝐨𝐫𝐭
        model: gpt-4o
        """)
    result = run("convert", "--to", "foundry_agent", "specs", "--out", "foundry")
    assert result.exit_code == 0, result.output
    names = {d.key: d.request["name"] for d in load_manifests(["foundry"])}
    # Letters without their accents, not dropped; a name of no Latin letters falls back to the key.
    assert names == {"cafe": "cafe-creme", "street": "strasse-muller", "tokyo": "tokyo", "nordic": "soren-lodz-aesir",
                     "styled": "support"}
    assert "'Café Crème' -> 'cafe-creme' (a Foundry agent's name has only letters, digits and hyphens)" in result.stdout


def test_a_file_search_without_a_store_is_a_loss(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "specs" / "bot.yaml", "key: bot\nmodel: gpt-4o\ntools:\n  - type: file_search\n")
    result = run("convert", "--to", "foundry_agent", "specs", "--out", "foundry")
    assert result.exit_code == 0
    assert ("lost: tools[0] file_search: it names no vector store (tool_resources.file_search), and a Foundry "
            "agent's file_search needs one") in result.stdout
    assert [d.request["tools"] for d in load_manifests(["foundry"])] == [[]]


def test_an_effort_foundry_agents_do_not_have_is_a_loss(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "specs" / "bot.yaml", "key: bot\nmodel: gpt-5\nreasoning_effort: max\n")
    result = run("convert", "--to", "foundry_agent", "specs", "--out", "foundry")
    assert result.exit_code == 0
    assert "lost: reasoning_effort: 'max' has no counterpart" in result.stdout
    assert [d.request.get("reasoning") for d in load_manifests(["foundry"])] == [None]

