"""The docs site: each command output its pages (and the README) show is what the tool prints.

Each test sets up what the page describes, runs exactly the command the page shows
against a real emulator on loopback, and holds the output to the page (`check_shown`).
The generated references are checked here too: every kind, field and default appears.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shlex
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import openai
import pytest
from assistants_sync.emulator import EmulatorServer, running_emulator

from .conftest import API_KEY, ROOT, official_sdk, point_cli_at, run, write
from .docs_outputs import check_shown

AGENT_ID = (r"\bagent_[A-Za-z0-9]{8,}", "agent_…")


def ran(command: str, exit_code: int = 1, extra: list[tuple[str, str]] | None = None) -> dict[str, Any]:
    """Run `command` (split as a shell would; what precedes `assistants-sync` is the test's to set up),
    check it exits `exit_code`, and give `check_shown` what it printed on stdout and stderr."""
    words = shlex.split(command, comments=True)
    result = run(*words[words.index("assistants-sync") + 1:])
    assert result.exit_code == exit_code, result.output
    return {"output": result.output, "command": command, "extra": extra or []}


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """`tmp_path` as the working directory, with no inherited settings."""
    for variable in ("ASSISTANTS_SYNC_ENV", "ASSISTANTS_SYNC_PROVIDER", "OPENAI_API_VERSION", "AZURE_AI_TOKEN",
                     "AZURE_AI_PROJECT_ENDPOINT", "TEAM", "MODEL", "CUSTOMER"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def applied(env: EmulatorServer, here: Path) -> Path:
    """A copy of the example specs/ in the working directory, applied to the emulator."""
    shutil.copytree(ROOT / "specs", here / "specs")
    result = run("apply", "specs", "--auto-approve")
    assert result.exit_code == 0, result.output
    return here / "specs"


def _sdk(server: EmulatorServer) -> openai.OpenAI:
    return official_sdk(server.base_url)


def _assistant(server: EmulatorServer, key: str) -> Any:
    return next(a for a in _sdk(server).beta.assistants.list(limit=100)
                if a.metadata.get("assistants-sync") == f"default/{key}")


# --- README.md --------------------------------------------------------------------------------

def test_the_readme_example_and_its_plan(env: EmulatorServer, here: Path) -> None:
    shutil.copytree(ROOT / "specs", here / "specs")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    example = re.search(r"```yaml\n# specs/support.yaml\n(.*?)```", readme, re.DOTALL)
    assert example is not None and example.group(1) in (ROOT / "specs" / "support.yaml").read_text(encoding="utf-8")
    check_shown("readme-plan", **ran("assistants-sync plan specs --target support-bot", exit_code=0))


# --- getting started ----------------------------------------------------------------------------

def test_the_demo_of_one_agent(here: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    point_cli_at(monkeypatch, None)
    shutil.copytree(ROOT / "examples", here / "examples")
    check_shown("demo-agent", **ran("assistants-sync demo examples/agents", exit_code=0, extra=[AGENT_ID]))


# --- concepts -----------------------------------------------------------------------------------

def test_every_manifest_problem_at_once(here: Path) -> None:
    write(here / "bad" / "bot.yaml", "key: bot\nmodel: gpt-4o\nname: Bot\ntemprature: 0.5\n")
    write(here / "bad" / "tools.yaml", """\
        key: weather
        model: gpt-4o
        tools:
          - type: code_interpreter
          - type: function
            function:
              name: get weather
        """)
    check_shown("validate-problems", **ran("assistants-sync validate bad"))


@pytest.fixture
def edited(applied: Path, env: EmulatorServer) -> Path:
    """specs/ applied, then: data-analyst's manifest removed, support-bot's temperature edited, and
    weather's temperature changed outside assistants-sync."""
    tools = (applied / "tools.yaml").read_text(encoding="utf-8")
    (applied / "tools.yaml").write_text(tools[:tools.index("\n---")] + "\n", encoding="utf-8")
    support = applied / "support.yaml"
    support.write_text(support.read_text(encoding="utf-8").replace("temperature: 0.3", "temperature: 0.5"),
                       encoding="utf-8")
    _sdk(env).beta.assistants.update(_assistant(env, "weather").id, temperature=1.6)
    return applied


def test_reading_a_plan(edited: Path) -> None:
    check_shown("plan-read", **ran("assistants-sync plan specs", exit_code=0))


def test_a_partial_plan(edited: Path) -> None:
    check_shown("plan-target", **ran("assistants-sync plan specs --target support-bot", exit_code=0))


def test_a_saved_plan_edited_to_reach_beyond_the_stack_is_refused(edited: Path) -> None:
    assert run("plan", "specs", "--target", "support-bot", "--out", "plan.json").exit_code == 0
    saved = json.loads(Path("plan.json").read_text(encoding="utf-8"))
    [change] = saved["changes"]
    change["fields"]["metadata"]["after"]["assistants-sync"] = "staging/support-bot"
    Path("plan.json").write_text(json.dumps(saved), encoding="utf-8")
    check_shown("saved-plan-refused", **ran("assistants-sync apply --plan plan.json"))


def test_drift_reports_only_what_no_manifest_edit_explains(edited: Path) -> None:
    check_shown("drift-report", **ran("assistants-sync drift specs", exit_code=2))


def test_an_empty_path_is_never_an_empty_desired_state(env: EmulatorServer, here: Path) -> None:
    (here / "empty").mkdir()
    check_shown("plan-empty", **ran("assistants-sync plan empty --no-delete"))


def test_a_plan_that_deletes_every_managed_object_is_refused(applied: Path) -> None:
    write(applied.parent / "other-team" / "specs" / "faq.yaml", "key: faq\nmodel: gpt-4o\n")
    check_shown("delete-all", **ran("assistants-sync plan other-team/specs"))


def test_the_connection_refused_error(env: EmulatorServer, here: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copytree(ROOT / "specs", here / "specs")
    with socket.socket() as closed:  # a port nothing listens on once this closes
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    monkeypatch.setenv("OPENAI_BASE_URL", f"http://127.0.0.1:{port}/v1")
    check_shown("unreachable", **ran("OPENAI_BASE_URL=http://127.0.0.1:18799/v1 assistants-sync plan specs"))


def test_every_unset_variable_at_once(here: Path) -> None:
    write(here / "specs" / "support.yaml", "key: support-${TEAM}\nmodel: ${MODEL}\nname: Support for ${CUSTOMER}\n")
    check_shown("unset-variables", **ran("assistants-sync validate specs"))


def test_an_unknown_environment_says_where_it_came_from(here: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(here / "assistants-sync.yaml", "paths: [specs]\nenvironments:\n  staging: {stack: staging}\n"
                                         "  production: {stack: production}\n")
    write(here / "specs" / "faq.yaml", "key: faq\nmodel: gpt-4o\n")
    monkeypatch.setenv("ASSISTANTS_SYNC_ENV", "prod")
    check_shown("unknown-env", **ran("ASSISTANTS_SYNC_ENV=prod assistants-sync plan",
                                     extra=[(re.escape(str(here)), "/tmp/repo")]))


# --- kinds --------------------------------------------------------------------------------------

def test_an_unknown_kind(here: Path) -> None:
    write(here / "specs" / "bad.yaml", "kind: widget\nkey: docs\n")
    check_shown("unknown-kind", **ran("assistants-sync validate specs"))


@pytest.fixture
def agents_only(here: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[EmulatorServer]:
    """An endpoint serving agents and no assistants (as OpenAI does now), and demo/support.yaml."""
    write(here / "demo" / "support.yaml", (ROOT / "docs" / "kinds" / "agent.md").read_text(encoding="utf-8")
          .split("```yaml\n# demo/support.yaml\n")[1].split("```")[0])
    with running_emulator(api_key=API_KEY, serve_assistants=False) as server:
        point_cli_at(monkeypatch, server.base_url)
        yield server


def test_an_agent_planned_applied_and_planned_again(agents_only: EmulatorServer) -> None:
    check_shown("agent-plan", **ran("assistants-sync plan demo", exit_code=0))
    assert run("apply", "--auto-approve", "demo").exit_code == 0
    check_shown("agent-plan-again", **ran("assistants-sync plan demo --detailed-exitcode", exit_code=0))


def test_agents_against_an_endpoint_that_serves_none(here: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(here / "demo" / "support.yaml", "kind: agent\nkey: support\nmodel: gpt-5\n")
    with running_emulator(api_key=API_KEY, serve_agents=False) as server:
        point_cli_at(monkeypatch, server.base_url)
        check_shown("agent-not-served", **ran("assistants-sync plan demo"))


def test_one_edited_document_is_one_upload(applied: Path) -> None:
    pricing = applied / "docs" / "pricing.md"
    pricing.write_text(pricing.read_text(encoding="utf-8").replace("$", "USD ", 1), encoding="utf-8")
    check_shown("store-edit", **ran("assistants-sync plan specs", exit_code=0))


def test_the_rules_of_a_stores_documents(here: Path) -> None:
    write(here / "bad" / "docs" / "a.md", "# Same\n")
    write(here / "bad" / "docs" / "b.md", "# Same\n")
    write(here / "bad" / "store.yaml", """\
        kind: vector_store
        key: handbook
        files:
          - docs/*.md
          - guides/**/*.pdf
        """)
    check_shown("store-invalid", **ran("assistants-sync validate bad"))


# --- providers ----------------------------------------------------------------------------------

def test_foundry_classic_against_the_emulator(here: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copytree(ROOT / "specs", here / "specs")
    point_cli_at(monkeypatch, None)
    monkeypatch.delenv("OPENAI_API_KEY")
    with running_emulator() as server:
        monkeypatch.setenv("AZURE_AI_PROJECT_ENDPOINT", server.project_url("demo"))
        monkeypatch.setenv("AZURE_AI_TOKEN", server.tokens.mint(lifetime=3600).token)
        assert run("apply", "--provider", "foundry", "--auto-approve", "specs").exit_code == 0
        check_shown("foundry-plan", **ran("assistants-sync plan --provider foundry specs", exit_code=0))


def test_a_foundry_endpoint_that_is_not_a_project(here: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copytree(ROOT / "specs", here / "specs")
    monkeypatch.setenv("AZURE_AI_PROJECT_ENDPOINT", "https://contoso.openai.azure.com")
    check_shown("foundry-not-a-project", **ran(
        "AZURE_AI_PROJECT_ENDPOINT=https://contoso.openai.azure.com assistants-sync plan --provider foundry specs"))


def test_a_base_url_with_a_query(env: EmulatorServer, here: Path) -> None:
    shutil.copytree(ROOT / "specs", here / "specs")
    check_shown("base-url-query", **ran(
        'assistants-sync plan specs --base-url "https://gw.example.com/v1?api-version=2024-05-01-preview"'))


def test_azure_openai_shape_against_the_emulator(emulator: EmulatorServer, here: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    write(here / "specs" / "faq.yaml", "key: faq\nmodel: gpt-4o-mini-deployment\nname: FAQ\n")
    point_cli_at(monkeypatch, None)
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", emulator.root_url)
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", API_KEY)
    monkeypatch.setenv("OPENAI_API_VERSION", "2024-05-01-preview")
    check_shown("azure-plan", **ran("assistants-sync plan --provider azure specs", exit_code=0))


# --- guides -------------------------------------------------------------------------------------

def test_renaming_a_key_keeps_the_assistant(applied: Path) -> None:
    tools = (applied / "tools.yaml").read_text(encoding="utf-8")
    (applied / "tools.yaml").write_text(tools.replace("key: weather\n", "key: weather-bot\nprevious_keys: [weather]\n"),
                                        encoding="utf-8")
    check_shown("rename-plan", **ran("assistants-sync plan specs", exit_code=0))


def test_converting_an_assistant_to_an_agent(here: Path) -> None:
    write(here / "asst" / "helper.yaml", """\
        key: helper
        model: gpt-4o
        name: Helper
        description: Looks orders up.
        instructions: Answer questions about orders.
        tools:
          - type: code_interpreter
          - type: function
            function:
              name: lookup_order
              parameters: {type: object, properties: {id: {type: string}}, required: [id]}
              strict: true
        temperature: 0.2
        """)
    check_shown("convert-agent", **ran("assistants-sync convert --to agent asst --out out", exit_code=0))


# --- the generated references -------------------------------------------------------------------

def _hook() -> ModuleType:
    spec = importlib.util.spec_from_file_location("docs_reference_hook", ROOT / "docs_hooks" / "reference.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_manifest_reference_has_every_kind_and_field() -> None:
    from assistants_sync.kinds import kinds

    page = _hook().manifest_reference()
    for kind in kinds():
        assert f"## `{kind.name}` {{#{kind.name}}}" in page
        if kind.declared:
            for field in set(kind.manifest_model.model_json_schema(by_alias=True)["properties"]) - {"kind"}:
                assert f"| `{field}` |" in page, (kind.name, field)
    assert "| `temperature` | number | `null` | ≥ 0; ≤ 2 |" in page
    assert "| `key` | string | **required** | matches `^[a-z0-9._-]{1,128}$` |" in page


def test_a_kind_registered_later_appears_in_the_reference_without_an_edit() -> None:
    from assistants_sync.kinds import register, unregister

    from .test_kinds import TOY

    register(TOY)
    try:
        page = _hook().manifest_reference()
        table = _hook().defaults_by_kind()
    finally:
        unregister(TOY.name)
    assert f"## `{TOY.name}` {{#{TOY.name}}}" in page
    if TOY.defaults_model is not None:
        assert f"| `{TOY.name}` |" in table


def test_the_defaults_table_lists_what_each_kind_takes() -> None:
    from assistants_sync.kinds import default_fields, kinds

    table = _hook().defaults_by_kind()
    for kind in kinds():
        row = re.search(rf"^\| `{kind.name}` \| (.*) \|$", table, re.MULTILINE)
        listed = set(re.findall(r"`([a-z_]+)`", row.group(1))) if row else set()  # a kind not listed takes none
        assert listed == default_fields(kind), kind.name


def test_the_project_file_reference_has_every_field() -> None:
    from assistants_sync.config import ProjectConfig

    page = _hook().project_file_reference()
    for field in ProjectConfig.model_json_schema(by_alias=True)["properties"]:
        assert f"| `{field}` |" in page, field


def test_an_unknown_generated_part_fails_the_build() -> None:
    class Page:
        class file:  # noqa: N801 - the shape of mkdocs' Page.file
            src_path = "reference/x.md"

    with pytest.raises(ValueError, match="reference/x.md: no generated part 'nonsense'"):
        _hook().on_page_markdown("# X\n<!-- generated: nonsense -->\n", Page(), None, None)


def test_the_cli_reference_shows_each_commands_examples_as_code() -> None:
    from types import SimpleNamespace

    hook = _hook()
    rendered = ("<p>Make the endpoint match.</p>\n<p>Example:\n  assistants-sync apply specs   # asks\n"
                "  assistants-sync apply --plan plan.json\nHolds the stack's lock.</p>")
    page = SimpleNamespace(file=SimpleNamespace(src_path=hook.CLI_PAGE))

    assert hook.on_page_content(rendered, page, None, None) == (
        "<p>Make the endpoint match.</p>\n<p>Example:</p>\n<pre><code>assistants-sync apply specs   # asks\n"
        "assistants-sync apply --plan plan.json</code></pre>\n<p>Holds the stack's lock.</p>")
    other = SimpleNamespace(file=SimpleNamespace(src_path="index.md"))
    assert hook.on_page_content(rendered, other, None, None) == rendered
