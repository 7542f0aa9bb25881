"""The examples of the README and the docs site stay true, and the README is what CI runs."""

from __future__ import annotations

import re
from pathlib import Path

from assistants_sync.desired.manifest import load_manifests

from .conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")
DOCS = ROOT / "docs"


def page(path: str) -> str:
    return (DOCS / path).read_text(encoding="utf-8")


def test_the_assistant_pages_full_example_is_valid(tmp_path: Path) -> None:
    example = re.search(r"```yaml\n(key: data-analyst.*?)```", page("kinds/assistant.md"), re.DOTALL)
    assert example is not None
    (tmp_path / "example.yaml").write_text(example.group(1), encoding="utf-8")
    [assistant] = load_manifests([tmp_path])
    assert assistant.key == "data-analyst" and assistant.protect
    assert assistant.ignore_changes == {"tool_resources"}


def test_the_vector_store_pages_example_is_valid(tmp_path: Path) -> None:
    example = re.search(r"```yaml\n(kind: vector_store\nkey: product-docs.*?)```", page("kinds/vector_store.md"),
                        re.DOTALL)
    assert example is not None
    (tmp_path / "docs").mkdir()
    for name in ("faq.md", "pricing.md"):
        (tmp_path / "docs" / name).write_text(f"# {name}\n", encoding="utf-8")
    (tmp_path / "store.yaml").write_text(example.group(1), encoding="utf-8")
    [store] = load_manifests([tmp_path])
    assert store.kind == "vector_store" and store.key == "product-docs"
    # The entry naming docs/pricing.md again gives it its settings; the glob gives docs/faq.md the default.
    files = store.request["files"]
    assert sorted(files) == ["docs/faq.md", "docs/pricing.md"]
    assert files["docs/pricing.md"]["attributes"] == {"section": "pricing", "public": True}
    assert files["docs/pricing.md"]["chunking_strategy"]["static"]["max_chunk_size_tokens"] == 400
    assert files["docs/faq.md"]["chunking_strategy"]["static"]["max_chunk_size_tokens"] == 800


def test_the_readme_test_command_is_what_ci_runs() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    command = next(line for line in ci.splitlines() if "pytest" in line)
    assert command in README
    # the tests and the strict docs build, with the extras both need
    assert "'.[test,docs]'" in command and "mkdocs build --strict" in command


def test_every_public_name_resolves() -> None:
    import assistants_sync

    for name in assistants_sync.__all__:
        assert getattr(assistants_sync, name) is not None, name


def test_help_does_not_import_the_heavy_pipeline() -> None:
    import subprocess
    import sys

    code = ("import sys, assistants_sync.cli; "
            "print(sorted(m for m in ('pydantic', 'httpx', 'jsonschema', 'deepdiff') if m in sys.modules))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"


def test_the_verbose_example_names_the_client_logger() -> None:
    from assistants_sync.actual import client

    [line] = [line for line in page("concepts/failures.md").splitlines() if " DEBUG " in line and "GET http" in line]
    assert f" DEBUG {client.log.name}: GET " in line


def test_the_readme_is_a_front_page() -> None:
    assert len(README.splitlines()) <= 200
    assert "pip install -e . && assistants-sync demo specs" in README and "mkdocs serve" in README

