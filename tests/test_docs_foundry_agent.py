"""The outputs docs/kinds/foundry_agent.md shows, produced by the tool against the emulator's Foundry project."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistants_sync.emulator import running_emulator

from .conftest import run, write
from .docs_outputs import check_shown
from .test_foundry import ENV_NAMES

SUPPORT = """
    kind: foundry_agent
    key: support
    description: Answers questions about orders
    model: gpt-4o
    instructions_file: instructions/support.md
    temperature: {temperature}
    keep_versions: 5
    tools:
      - type: function
        name: lookup_order
        description: Look an order up.
        parameters: {{type: object, properties: {{id: {{type: string}}}}, required: [id]}}
      - type: file_search
        vector_stores: [handbook]
    metadata: {{team: care}}
    ---
    kind: vector_store
    key: handbook
    name: Handbook
    files: [docs/*.md]
    """
INSTRUCTIONS = "You answer questions about orders.\nBe brief.\n"


def test_the_foundry_agent_page_shows_what_the_tool_prints(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "demo" / "support.yaml", SUPPORT.format(temperature=0.3))
    write(tmp_path / "demo" / "instructions" / "support.md", INSTRUCTIONS)
    write(tmp_path / "demo" / "docs" / "refunds.md", "# Refunds\nWithin 30 days.\n")
    plan = "assistants-sync plan --provider foundry demo"
    with running_emulator() as server:
        monkeypatch.setenv("AZURE_AI_PROJECT_ENDPOINT", server.project_url("demo"))
        monkeypatch.setenv("AZURE_AI_TOKEN", server.tokens.mint().token)
        check_shown("foundry-agent-plan", run("plan", "--provider", "foundry", "demo").stdout, command=plan)
        assert run("apply", "--provider", "foundry", "--auto-approve", "demo").exit_code == 0
        write(tmp_path / "demo" / "support.yaml", SUPPORT.format(temperature=0.2))
        check_shown("foundry-agent-new-version", run("plan", "--provider", "foundry", "demo").stdout, command=plan)
        assert run("apply", "--provider", "foundry", "--auto-approve", "demo").exit_code == 0
        # Version 3 comes from the portal: the same instructions, another temperature, no tag.
        server.foundry_agents.create_version("support", {"definition": {
            "kind": "prompt", "model": "gpt-4o", "instructions": INSTRUCTIONS, "temperature": 0.9}})
        drift = run("drift", "--provider", "foundry", "demo")
        assert drift.exit_code == 2
        check_shown("foundry-agent-drift", drift.stdout, command="assistants-sync drift --provider foundry demo")
        server.foundry_agents.create_version("billing", {"definition": {"kind": "prompt", "model": "gpt-4o"}})
        write(tmp_path / "demo" / "billing.yaml", "kind: foundry_agent\nkey: billing\nmodel: gpt-4o\n")
        taken = run("plan", "--provider", "foundry", "demo")
        assert taken.exit_code == 1
        check_shown("foundry-agent-name-taken", taken.stderr, command=plan)
