"""End to end: the CLI against the emulator over real loopback HTTP."""

from __future__ import annotations

import json
import re
import socket
from pathlib import Path

import openai
import pytest

from assistants_sync import cli as cli_module
from assistants_sync.cli import cli
from assistants_sync.desired.manifest import DesiredAssistant
from assistants_sync.emulator import EmulatorServer, running_emulator
from assistants_sync.planning.diff import desired_form

from .conftest import API_KEY, KIND_PATHS, plan_json, run, write


def apply_ok(*args: str) -> str:
    result = run("apply", "--auto-approve", *args)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_first_apply_creates_everything_and_a_second_plan_is_empty(env: EmulatorServer, example_specs: Path) -> None:
    output = apply_ok(str(example_specs))
    assert "Plan: 7 to create, 0 to update, 0 to delete." in output
    assert "Apply complete: 7 created, 0 updated, 0 deleted." in output
    assert len(env.store) == 3
    # The examples use file_search with options, functions (one from a file, one strict), code_interpreter,
    # tool_resources, a json_schema response_format, metadata, temperature and top_p.
    again = run("plan", str(example_specs), "--detailed-exitcode")
    assert again.exit_code == 0, again.output
    assert "No changes. The 7 managed objects match the manifests." in again.stdout
    assert plan_json(str(example_specs))["changes"] == []


def test_json_plan_of_a_create_has_the_documented_shape(env: EmulatorServer, tmp_path: Path) -> None:
    write(tmp_path / "bot.yaml", "key: bot\nmodel: gpt-4o\nname: Bot\ntemperature: 0.5\n")
    document = plan_json(str(tmp_path))
    assert list(document)[:3] == ["format_version", "summary", "changes"]
    assert document["format_version"] == 2
    assert document["summary"] == {"create": 1, "update": 0, "delete": 0, "adopt": 0}
    applied = document["changes"][0]["fields"]["metadata"]["after"].pop("assistants-sync.applied")
    assert applied.startswith("sha256=") and applied.endswith(";unmanaged=reasoning_effort")
    assert document["changes"] == [{
        "action": "create",
        "kind": "assistant",
        "key": "bot",
        "id": None,
        "assistant_id": None,
        "fields": {
            "model": {"before": None, "after": "gpt-4o"},
            "name": {"before": None, "after": "Bot"},
            "metadata": {"before": None, "after": {"assistants-sync": "default/bot"}},
            "temperature": {"before": None, "after": 0.5},
        },
        "reason": None,
        "cause": None,
        "name": "Bot",
        "unchanged": 0,
        "protected": False,
        "previous_key": None,
        "drift": "missing",
        "depends_on": [],
    }]


def test_an_edited_manifest_gives_exactly_the_changed_fields(env: EmulatorServer, example_specs: Path) -> None:
    apply_ok(str(example_specs))
    manifest = example_specs / "support.yaml"
    manifest.write_text(manifest.read_text().replace("temperature: 0.3", "temperature: 0.6")
                        .replace("max_num_results: 8", "max_num_results: 4"))
    document = plan_json(str(example_specs))
    [change] = document["changes"]
    assert change["action"] == "update" and change["key"] == "support-bot"
    assert change["assistant_id"].startswith("asst_")
    assert set(change["fields"]) == {"tools", "temperature", "metadata"}  # metadata: the new applied record
    metadata = change["fields"]["metadata"]
    differing = {k for k in metadata["after"] if metadata["before"].get(k) != metadata["after"][k]}
    assert differing == {"assistants-sync.applied"}
    assert change["cause"] == "manifest"
    assert change["fields"]["temperature"] == {"before": 0.3, "after": 0.6}
    assert change["fields"]["tools"]["after"][0]["file_search"]["max_num_results"] == 4
    output = apply_ok(str(example_specs))
    assert "Apply complete: 0 created, 1 updated, 0 deleted." in output
    assert plan_json(str(example_specs))["changes"] == []


def test_text_plan_shows_field_level_before_and_after(env: EmulatorServer, tmp_path: Path) -> None:
    write(tmp_path / "bot.yaml", "key: bot\nmodel: gpt-4o\ninstructions: |\n  one\n  two\n  three\n")
    apply_ok(str(tmp_path))
    write(tmp_path / "bot.yaml", "key: bot\nmodel: gpt-4o-mini\ninstructions: |\n  one\n  TWO\n  three\n")
    assistant_id = env.store.list()["data"][0]["id"]
    result = run("plan", str(tmp_path))
    assert result.stdout == (
        f'Stack "default" at {env.base_url}\n\n'
        f"  ~ bot ({assistant_id}) will be updated in place (manifest changed)\n"
        '      model: "gpt-4o" -> "gpt-4o-mini"\n'
        "      instructions: (line diff)\n"
        "        @@ -1,3 +1,3 @@\n"
        "         one\n"
        "        -two\n"
        "        +TWO\n"
        "         three\n"
        "      (7 unchanged fields hidden)\n"
        "\n"
        "Plan: 0 to create, 1 to update, 0 to delete.\n"
    )


def test_a_removed_manifest_gives_a_delete(env: EmulatorServer, example_specs: Path) -> None:
    apply_ok(str(example_specs))
    (example_specs / "support.yaml").unlink()
    document = plan_json(str(example_specs))
    assert [(c["action"], c["key"], c["fields"]) for c in document["changes"]] == [("delete", "support-bot", {})]
    assert "- support-bot (asst_" in run("plan", str(example_specs)).stdout
    apply_ok(str(example_specs))
    assert sorted(a["name"] for a in env.store.list()["data"]) == ["Data Analyst", "Weather"]


def test_a_change_made_behind_the_tools_back_is_detected_and_reverted(
    env: EmulatorServer, example_specs: Path, sdk: openai.OpenAI
) -> None:
    apply_ok(str(example_specs))
    weather = next(a for a in sdk.beta.assistants.list() if a.name == "Weather")
    sdk.beta.assistants.update(weather.id, temperature=1.7, tools=[])
    result = run("plan", str(example_specs), "--detailed-exitcode")
    assert result.exit_code == 2
    assert f'~ weather ({weather.id}) "Weather" will be updated in place (changed outside assistants-sync)' in result.stdout
    assert "temperature: 1.7 -> null" in result.stdout
    apply_ok(str(example_specs))
    assert run("plan", str(example_specs), "--detailed-exitcode").exit_code == 0


def test_unmanaged_and_other_stacks_assistants_are_untouched(
    env: EmulatorServer, tmp_path: Path, sdk: openai.OpenAI
) -> None:
    unmanaged = sdk.beta.assistants.create(model="gpt-4o", name="hand-made", metadata={"team": "x"})
    write(tmp_path / "bot.yaml", "key: bot\nmodel: gpt-4o\nname: Staging bot\n")
    apply_ok(str(tmp_path), "--stack", "staging")
    staging = env.store.list()["data"][1]
    # Production: the same key, another stack; then production's manifest is removed entirely.
    write(tmp_path / "bot.yaml", "key: bot\nmodel: gpt-4o\nname: Production bot\n")
    output = apply_ok(str(tmp_path), "--stack", "production")
    assert "Plan: 1 to create, 0 to update, 0 to delete." in output
    (tmp_path / "bot.yaml").unlink()
    write(tmp_path / "other.yaml", "key: other\nmodel: gpt-4o\n")
    assert run("plan", str(tmp_path), "--stack", "production").exit_code == 1  # it would delete all of production
    document = plan_json(str(tmp_path), "--stack", "production", "--allow-delete-all")
    assert [(c["action"], c["key"]) for c in document["changes"]] == [("delete", "bot"), ("create", "other")]
    apply_ok(str(tmp_path), "--stack", "production", "--allow-delete-all")
    assert env.store.retrieve(unmanaged.id)["name"] == "hand-made"
    assert env.store.retrieve(staging["id"]) == staging


def test_stack_comes_from_the_environment(env: EmulatorServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / "bot.yaml", "key: bot\nmodel: gpt-4o\n")
    monkeypatch.setenv("ASSISTANTS_SYNC_STACK", "team-a")
    apply_ok(str(tmp_path))
    assert env.store.list()["data"][0]["metadata"]["assistants-sync"] == "team-a/bot"


def test_pagination_over_more_than_250_assistants(env: EmulatorServer, tmp_path: Path) -> None:
    for i in range(260):  # as an apply leaves them: with the applied tag
        applied = desired_form(DesiredAssistant(f"bot-{i:03d}", "", {"model": "gpt-4o"}), "default").metadata
        env.store.create({"model": "gpt-4o", "metadata": applied})
    for i in range(0, 260, 2):
        write(tmp_path / f"bot-{i:03d}.yaml", f"key: bot-{i:03d}\nmodel: gpt-4o\n")
    write(tmp_path / "bot-999.yaml", "key: bot-999\nmodel: gpt-4o\n")
    document = plan_json(str(tmp_path))
    assert document["summary"] == {"create": 1, "update": 0, "delete": 130, "adopt": 0}
    lists = [r for r in env.requests if r.method == "GET" and r.path == "/v1/assistants"]
    # ceil(260 / 100) list pages, the (empty) listing of the agents, and nothing else
    assert len(env.requests) == len(lists) + len(KIND_PATHS) - 1 and len(lists) == 3  # one page of each other kind
    assert all(r.query["limit"] == "100" for r in lists)


def test_duplicates_from_an_interrupted_run_are_shown_and_removed(env: EmulatorServer, tmp_path: Path) -> None:
    first = env.store.create({"model": "gpt-4o", "metadata": {"assistants-sync": "default/bot"}})
    second = env.store.create({"model": "gpt-4o", "metadata": {"assistants-sync": "default/bot"}})
    write(tmp_path / "bot.yaml", "key: bot\nmodel: gpt-4o\n")
    output = run("plan", str(tmp_path)).stdout
    assert f"- bot ({second['id']}) will be deleted: duplicate of {first['id']} (the oldest is kept)" in output
    apply_ok(str(tmp_path))
    assert [a["id"] for a in env.store.list()["data"]] == [first["id"]]


class TestSavedPlans:
    def test_a_saved_plan_is_applied_exactly(self, env: EmulatorServer, example_specs: Path, tmp_path: Path) -> None:
        plan_file = tmp_path / "plan.json"
        result = run("plan", str(example_specs), "--out", str(plan_file))
        assert result.exit_code == 0 and f"apply --plan {plan_file}" in result.stdout
        (example_specs / "support.yaml").unlink()  # the saved plan, not the manifests, is what runs
        output = run("apply", "--plan", str(plan_file))
        assert output.exit_code == 0, output.output
        assert "Apply complete: 7 created, 0 updated, 0 deleted." in output.stdout
        assert len(env.store) == 3

    def test_a_stale_plan_is_refused_and_nothing_is_written(
        self, env: EmulatorServer, example_specs: Path, tmp_path: Path, sdk: openai.OpenAI
    ) -> None:
        apply_ok(str(example_specs))
        (example_specs / "tools.yaml").write_text((example_specs / "tools.yaml").read_text().replace("top_p: 0.9", "top_p: 0.8"))
        plan_file = tmp_path / "plan.json"
        assert run("plan", str(example_specs), "--out", str(plan_file)).exit_code == 0
        victim = sdk.beta.assistants.list().data[0]
        sdk.beta.assistants.update(victim.id, name="changed by someone")
        before = env.store.list(limit=100)["data"]
        writes = sum(1 for r in env.requests if r.method != "GET")
        result = run("apply", "--plan", str(plan_file))
        assert result.exit_code == 1
        assert "have changed since the plan was made; nothing was changed. Run plan again" in result.stderr
        assert env.store.list(limit=100)["data"] == before
        assert sum(1 for r in env.requests if r.method != "GET") == writes

    def test_a_plan_for_another_stack_or_endpoint_is_refused(
        self, env: EmulatorServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        write(tmp_path / "specs" / "bot.yaml", "key: bot\nmodel: gpt-4o\n")
        plan_file = tmp_path / "plan.json"
        assert run("plan", str(tmp_path / "specs"), "--out", str(plan_file)).exit_code == 0
        other_stack = run("apply", "--plan", str(plan_file), "--stack", "prod")
        assert other_stack.exit_code == 1
        assert 'the saved plan was made for stack "default", not "prod"' in other_stack.stderr
        with running_emulator(api_key=API_KEY) as elsewhere:
            monkeypatch.setenv("OPENAI_BASE_URL", elsewhere.base_url)
            other_endpoint = run("apply", "--plan", str(plan_file))
            assert other_endpoint.exit_code == 1
            assert f"the saved plan was made for {env.base_url}, not {elsewhere.base_url}" in other_endpoint.stderr
            assert len(elsewhere.store) == 0 and len(env.store) == 0

    def test_a_file_that_is_not_a_plan_is_refused(self, env: EmulatorServer, tmp_path: Path) -> None:
        write(tmp_path / "plan.json", '{"format_version": 7}')
        result = run("apply", "--plan", str(tmp_path / "plan.json"))
        assert result.exit_code == 1
        assert "not a saved plan of this version of assistants-sync (format_version" in result.stderr

    def test_the_plan_file_holds_no_secret(self, env: EmulatorServer, example_specs: Path, tmp_path: Path) -> None:
        plan_file = tmp_path / "plan.json"
        run("plan", str(example_specs), "--out", str(plan_file))
        text = plan_file.read_text()
        assert API_KEY not in text
        assert json.loads(text)["endpoint"] == env.base_url


class TestApproval:
    def test_without_a_terminal_or_auto_approve_apply_refuses(self, env: EmulatorServer, example_specs: Path) -> None:
        result = run("apply", str(example_specs))
        assert result.exit_code == 1
        assert "there is no terminal to ask: pass --auto-approve" in result.stderr
        assert len(env.store) == 0

    def test_on_a_terminal_only_yes_applies(
        self, env: EmulatorServer, example_specs: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(cli_module, "_stdin_is_terminal", lambda: True)
        refused = run("apply", str(example_specs), input="y\n")
        assert refused.exit_code == 1 and "apply cancelled; nothing was changed" in refused.stderr
        assert len(env.store) == 0
        accepted = run("apply", str(example_specs), input="yes\n")
        assert accepted.exit_code == 0 and len(env.store) == 3


def test_missing_key_is_an_error_before_any_request(env: EmulatorServer, example_specs: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY")
    result = run("plan", str(example_specs))
    assert result.exit_code == 1
    assert "OPENAI_API_KEY is not set" in result.stderr
    assert env.requests == []


def test_wrong_key_fails_plan_with_exit_1_and_the_key_is_never_printed(
    env: EmulatorServer, example_specs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-leaky-0badc0de")
    for args in (["plan", "--detailed-exitcode"], ["apply", "--auto-approve"], ["plan", "--format", "json"]):
        result = run(*args, str(example_specs))
        assert result.exit_code == 1
        assert "HTTP 401" in result.stderr and "Check the API key" in result.stderr
        assert "sk-leaky" not in result.output


def test_usage_errors_exit_1_not_2(env: EmulatorServer) -> None:
    assert run("plan", "--no-such-flag").exit_code == 1
    assert run("plan", "--stack", "Not/Valid").exit_code == 1


def test_demo_runs_plan_apply_plan_on_a_private_emulator(example_specs: Path) -> None:
    result = run("demo", str(example_specs))
    assert result.exit_code == 0, result.output
    assert "Apply complete: 7 created, 0 updated, 0 deleted." in result.stdout
    assert result.stdout.rstrip().endswith(
        "No changes. The 7 managed objects match the manifests.\n\nPlan: 0 to create, 0 to update, 0 to delete.")


@pytest.mark.parametrize("command", sorted(cli.commands))
def test_every_command_has_help_with_an_example(command: str) -> None:
    result = run(command, "--help")
    assert result.exit_code == 0
    assert "Example:" in result.stdout and f"assistants-sync {command}" in result.stdout


@pytest.fixture
def one_applied(env: EmulatorServer, tmp_path: Path) -> Path:
    specs = write(tmp_path / "specs" / "bot.yaml", "key: bot\nmodel: gpt-4o\n").parent
    assert run("apply", "--auto-approve", str(specs)).exit_code == 0
    return specs


@pytest.mark.parametrize("arguments", [
    pytest.param(("-v", "plan"), id="before"),
    pytest.param(("plan", "-v"), id="after"),
    pytest.param(("plan", "--verbose"), id="after-long"),
    pytest.param(("-v", "plan", "-v"), id="both"),
])
def test_verbose_is_accepted_before_and_after_the_command(one_applied: Path, env: EmulatorServer,
                                                          arguments: tuple[str, ...]) -> None:
    result = run(*arguments, str(one_applied))
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stderr.splitlines() if "/assistants" in line]
    assert len(lines) == 1  # one request, logged once
    assert f"GET {env.base_url}/assistants?limit=100&order=asc -> 200 in " in lines[0]


def test_verbose_logging_ends_with_the_command(one_applied: Path) -> None:
    assert "GET " in run("plan", "-v", str(one_applied)).stderr
    assert run("plan", str(one_applied)).stderr == ""


def test_emulator_with_a_malformed_required_header_is_an_error_not_a_traceback() -> None:
    result = run("emulator", "--require-header", "bad", "--port", "0")
    assert result.exit_code == 1
    assert result.stderr == "Error: --header expects 'Name: value', got 'bad'...\n"
    assert result.stdout == ""


def test_emulator_on_a_port_in_use_is_an_error_not_a_traceback() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        result = run("emulator", "--port", str(taken.getsockname()[1]))
    assert result.exit_code == 1
    assert result.stderr == "Error: Address already in use\n"


def test_render_and_demo_report_bad_manifests_the_same_way(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "specs" / "bad.yaml", "key: Bad Key\nmodel: gpt-4o\n")
    for args in (("render", "--format", "responses", "specs"), ("demo", "specs"), ("validate", "specs")):
        result = run(*args)
        assert result.exit_code == 1, args
        assert result.stderr.startswith("Error: "), args
        assert "specs/bad.yaml:1: " in result.stderr and "Traceback" not in result.stderr, args


def test_a_plan_saved_where_no_directory_exists_is_an_error(env: object, tmp_path: Path) -> None:
    write(tmp_path / "specs" / "a.yaml", "key: a\nmodel: gpt-4o\n")
    result = run("plan", str(tmp_path / "specs"), "--out", str(tmp_path / "missing" / "plan.json"))
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: No such file or directory: {tmp_path / 'missing'}")



@pytest.mark.parametrize("command", ["validate", "plan", "apply", "drift", "export", "force-unlock", "demo"])
def test_help_of_a_command_for_every_kind_never_speaks_of_assistants_alone(command: str) -> None:
    text = run(command, "--help").output
    words = re.sub(r"assistants-sync|ASSISTANTS_SYNC\w*", "", text, flags=re.IGNORECASE)
    assert re.findall(r"\bassistants?\b", words, flags=re.IGNORECASE) == []


def test_the_tool_says_what_it_manages() -> None:
    first = " ".join(run("--help").output.split("\n\n")[1].split())
    assert first == ("Declarative plan/apply for AI objects kept in git: assistants, agents and the vector "
                     "stores and files behind them, on OpenAI-compatible endpoints and Azure AI Foundry.")
