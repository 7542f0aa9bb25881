"""docs/guides/adopting.md: each output it shows is what export and plan print."""

from __future__ import annotations

from pathlib import Path

import openai

from assistants_sync.emulator import EmulatorServer

from .conftest import API_KEY, write
from .docs_outputs import check_shown
from .test_docs_site import applied, here, ran

__all__ = ["applied", "here"]  # fixtures


def test_an_export_of_the_stack_and_its_plan(applied: Path, env: EmulatorServer) -> None:
    env.knowledge.downloads = True  # an endpoint that gives uploads back
    check_shown("export-stack", **ran("assistants-sync export --out exported", exit_code=0))
    check_shown("export-stack-plan", **ran("assistants-sync plan exported", exit_code=0))


def test_an_export_where_the_endpoint_keeps_the_documents(applied: Path) -> None:
    check_shown("export-missing", **ran("assistants-sync export --out exported --kind vector_store", exit_code=0))


def test_an_unmanaged_export_and_its_adoption(env: EmulatorServer, here: Path) -> None:
    sdk = openai.OpenAI(api_key=API_KEY, base_url=env.base_url, max_retries=0)
    sdk.beta.assistants.create(model="gpt-4o", name="Legacy FAQ bot", instructions="Answer FAQ questions.",
                               metadata={"owner": "web"})
    check_shown("export-unmanaged", **ran("assistants-sync export --unmanaged --out imported", exit_code=0))
    check_shown("export-unmanaged-plan", **ran("assistants-sync plan imported --no-delete", exit_code=0))
    check_shown("export-refuses-overwrite", **ran("assistants-sync export --unmanaged --out imported"))


def test_an_adopt_of_another_stacks_object_is_skipped(applied: Path, env: EmulatorServer) -> None:
    sdk = openai.OpenAI(api_key=API_KEY, base_url=env.base_url, max_retries=0)
    legacy = sdk.beta.assistants.create(model="gpt-4o", name="Legacy", instructions="Old.")
    write(applied / "legacy.yaml", f"key: legacy\nadopt: {legacy.id}\nmodel: gpt-4o\nname: Legacy\ninstructions: Old.\n")
    assert ran("assistants-sync apply specs --auto-approve", exit_code=0)
    check_shown("adopt-skipped", **ran("assistants-sync plan specs/legacy.yaml --stack staging", exit_code=0))
