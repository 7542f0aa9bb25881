"""docs/guides/migrating-to-foundry-agents.md walked on the emulator: export, convert, plan, apply, delete."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistants_sync.emulator import running_emulator

from .conftest import run, write
from .docs_outputs import check_shown
from .test_foundry import ENV_NAMES

CLASSIC = """
    key: support
    name: Support Bot
    model: gpt-4o
    instructions: You answer questions about orders. Be brief.
    tools:
      - type: function
        function: {name: lookup_order, description: Look an order up., parameters: {type: object, properties: {id: {type: string}}, required: [id]}}
      - type: file_search
    tool_resources:
      file_search: {vector_stores: [handbook]}
    metadata: {team: care}
    ---
    kind: vector_store
    key: handbook
    name: Handbook
    files: [docs/refunds.md]
    """


def test_the_migration_guide_walks_from_classic_agents_to_foundry_agents(monkeypatch: pytest.MonkeyPatch,
                                                                         tmp_path: Path) -> None:
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "made-elsewhere" / "support.yaml", CLASSIC)
    write(tmp_path / "made-elsewhere" / "docs" / "refunds.md", "# Refunds\nWithin 30 days.\n")
    plan = "assistants-sync plan --provider foundry classic foundry"
    with running_emulator() as server:
        server.knowledge.downloads = True  # as the guide's --downloads
        monkeypatch.setenv("AZURE_AI_PROJECT_ENDPOINT", server.project_url("demo"))
        monkeypatch.setenv("AZURE_AI_TOKEN", server.tokens.mint().token)
        assert run("apply", "--provider", "foundry", "--auto-approve", "made-elsewhere").exit_code == 0
        exported = run("export", "--provider", "foundry", "--out", "classic")
        assert exported.exit_code == 0, exported.output
        check_shown("foundry-migration-export", exported.stdout,
                    command="assistants-sync export --provider foundry --out classic")
        converted = run("convert", "--to", "foundry_agent", "classic", "--out", "foundry")
        assert converted.exit_code == 0, converted.output
        check_shown("foundry-migration-convert", converted.stdout,
                    command="assistants-sync convert --to foundry_agent classic --out foundry")
        check_shown("foundry-migration-plan", run("plan", "--provider", "foundry", "classic", "foundry").stdout,
                    command=plan)
        assert run("apply", "--provider", "foundry", "--auto-approve", "classic", "foundry").exit_code == 0
        again = run("plan", "--provider", "foundry", "--detailed-exitcode", "classic", "foundry")
        assert again.exit_code == 0
        check_shown("foundry-migration-check", again.stdout,
                    command="assistants-sync plan --provider foundry --detailed-exitcode classic foundry")
        version = server.foundry_agents.get("support-bot")["versions"]["latest"]
        [store] = server.knowledge.list_stores({"limit": "100"})["data"]
        assert version["definition"]["tools"][1] == {"type": "file_search", "vector_store_ids": [store["id"]]}
        assert version["definition"]["tools"][0]["name"] == "lookup_order"  # flat, not nested
        (tmp_path / "classic" / "support.yaml").unlink()
        check_shown("foundry-migration-delete-plan",
                    run("plan", "--provider", "foundry", "classic", "foundry").stdout, command=plan)
        deleted = run("apply", "--provider", "foundry", "--auto-approve", "classic", "foundry")
        assert deleted.exit_code == 0 and "Apply complete: 0 created, 0 updated, 1 deleted." in deleted.stdout
        assert len(server.store) == 0
        assert run("plan", "--provider", "foundry", "--detailed-exitcode", "classic", "foundry").exit_code == 0
