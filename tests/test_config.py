"""Settings: the project file, variables, environments and providers, and where a bad setting came from."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistants_sync.emulator import EmulatorServer, running_emulator

from .conftest import ROOT, plan_json, run, write


@pytest.fixture
def env_emulator(clean_env: pytest.MonkeyPatch) -> Iterator[EmulatorServer]:
    with running_emulator() as emulator:
        clean_env.setenv("OPENAI_API_KEY", "sk-test")
        clean_env.setenv("OPENAI_BASE_URL", emulator.base_url)
        yield emulator


class TestProjectFile:
    def test_flags_beat_environment_variables_beat_the_file_beats_defaults(
        self, clean_env: pytest.MonkeyPatch, env_emulator: EmulatorServer, tmp_path: Path
    ) -> None:
        write(tmp_path / "assistants-sync.yaml", "stack: from-file\nparallelism: 3\npaths: [specs]\n")
        write(tmp_path / "specs" / "bot.yaml", "key: bot\nmodel: m\n")

        def stack_of_plan(*args: str) -> str:
            result = run("plan", "--format", "json", *args)
            assert result.exit_code == 0, result.output
            return json.loads(result.stdout)["stack"]  # type: ignore[no-any-return]

        assert stack_of_plan() == "from-file"
        clean_env.setenv("ASSISTANTS_SYNC_STACK", "from-env")
        assert stack_of_plan() == "from-env"
        assert stack_of_plan("--stack", "from-flag") == "from-flag"
        (tmp_path / "assistants-sync.yaml").unlink()
        clean_env.delenv("ASSISTANTS_SYNC_STACK")
        assert stack_of_plan("specs") == "default"

    def test_environments_override_and_defaults_are_merged_into_every_manifest(
        self, clean_env: pytest.MonkeyPatch, env_emulator: EmulatorServer, tmp_path: Path
    ) -> None:
        write(tmp_path / "assistants-sync.yaml", """
            paths: [specs]
            defaults:
              model: gpt-4o-mini
              temperature: 0.2
              metadata: {team: search}
            environments:
              staging:
                stack: staging
                defaults:
                  metadata: {env: staging}
              production:
                stack: production
                defaults:
                  model: gpt-4o
                  metadata: {env: production}
            """)
        write(tmp_path / "specs" / "bot.yaml", "key: bot\nmetadata: {owner: ana}\n")
        write(tmp_path / "specs" / "pinned.yaml", "key: pinned\nmodel: o3-mini\ntemperature: 1\n")
        for env_name in ("staging", "production"):
            result = run("apply", "--auto-approve", "--env", env_name)
            assert result.exit_code == 0, result.output
        by_tag = {a["metadata"]["assistants-sync"]: a for a in env_emulator.store.list(limit=100)["data"]}
        assert by_tag["staging/bot"]["model"] == "gpt-4o-mini" and by_tag["production/bot"]["model"] == "gpt-4o"
        assert by_tag["staging/bot"]["temperature"] == 0.2
        assert {k: v for k, v in by_tag["production/bot"]["metadata"].items() if not k.startswith("assistants-sync")} \
            == {"team": "search", "env": "production", "owner": "ana"}
        assert by_tag["staging/pinned"]["model"] == "o3-mini" and by_tag["staging/pinned"]["temperature"] == 1.0
        unknown = run("plan", "--env", "qa")
        assert unknown.exit_code == 1
        assert "--env qa: no such environment in" in unknown.stderr and "(defined: production, staging)" in unknown.stderr

    def test_the_project_file_is_validated_with_file_line_and_rule(self, clean_env: pytest.MonkeyPatch,
                                                                   tmp_path: Path) -> None:
        write(tmp_path / "assistants-sync.yaml", """
            provider: openai
            parallelizm: 4
            environments:
              prod:
                stack: Not/Valid
                defaults:
                  temperature: 9
            """)
        result = run("validate")
        assert result.exit_code == 1
        config = tmp_path / "assistants-sync.yaml"
        assert f"{config}:2: parallelizm: unknown field 'parallelizm'; did you mean 'parallelism'?" in result.stderr
        assert f"{config}:5: environments.prod.stack: String should match pattern" in result.stderr
        assert f"{config}:7: environments.prod.defaults.temperature: Input should be less than or equal to 2" \
            in result.stderr

    def test_defaults_reach_every_kind_that_takes_each_field(
        self, clean_env: pytest.MonkeyPatch, env_emulator: EmulatorServer, tmp_path: Path
    ) -> None:
        write(tmp_path / "assistants-sync.yaml", """
            paths: [specs]
            defaults:
              model: gpt-4o-mini
              temperature: 0.2          # assistants only
              service_tier: flex        # agents only
              metadata: {team: search}
            """)
        write(tmp_path / "specs" / "bot.yaml", "key: bot\n")
        write(tmp_path / "specs" / "helper.yaml", "kind: agent\nkey: helper\nmetadata: {owner: ana}\n")
        validated = run("validate")
        assert validated.exit_code == 0, validated.output
        changes = {c["key"]: c["fields"] for c in plan_json()["changes"]}
        assert changes["bot"]["model"]["after"] == "gpt-4o-mini" and changes["bot"]["temperature"]["after"] == 0.2
        assert "service_tier" not in changes["bot"]
        assert changes["helper"]["model"]["after"] == "gpt-4o-mini"
        assert changes["helper"]["service_tier"]["after"] == "flex" and "temperature" not in changes["helper"]
        assert {k: v for k, v in changes["helper"]["metadata"]["after"].items() if not k.startswith("assistants-sync")
                } == {"team": "search", "owner": "ana"}

    def test_a_default_no_kind_takes_or_no_kind_accepts_is_an_error_naming_the_file_and_field(
        self, clean_env: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        config = write(tmp_path / "assistants-sync.yaml", """
            defaults:
              model: gpt-4o
              temprature: 0.2
              service_tier: fastest
            environments:
              prod:
                defaults: {key: shared}
            """)
        write(tmp_path / "specs" / "bot.yaml", "key: bot\n")
        result = run("validate")
        assert result.exit_code == 1
        assert f"{config}:3: defaults.temprature: unknown field 'temprature'; did you mean 'temperature'?" \
            in result.stderr
        assert f"{config}:4: defaults.service_tier: Input should be 'auto'," in result.stderr
        assert f"{config}:7: environments.prod.defaults.key: not a field defaults can set" in result.stderr

    def test_a_default_that_does_not_fit_one_kind_says_it_came_from_the_defaults(
        self, clean_env: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        write(tmp_path / "assistants-sync.yaml", "paths: [specs]\ndefaults:\n  ignore_changes: [temperature]\n")
        write(tmp_path / "specs" / "bot.yaml", "key: bot\nmodel: m\n")
        write(tmp_path / "specs" / "helper.yaml", "kind: agent\nkey: helper\nmodel: m\n")
        result = run("validate")
        assert result.exit_code == 1
        [problem] = [line for line in result.stderr.splitlines() if "ignore_changes" in line]
        assert "helper.yaml:1:" in problem and "from the project file's defaults" in problem
        write(tmp_path / "specs" / "helper.yaml", "kind: agent\nkey: helper\nmodel: m\nignore_changes: []\n")
        assert run("validate").exit_code == 0

    def test_a_config_found_with_config_flag_resolves_paths_relative_to_itself(
        self, clean_env: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        write(tmp_path / "repo" / "ops" / "sync.yaml", "paths: [../specs]\n")
        write(tmp_path / "repo" / "specs" / "bot.yaml", "key: bot\nmodel: m\n")
        result = run("validate", "--config", str(tmp_path / "repo" / "ops" / "sync.yaml"))
        assert result.exit_code == 0, result.output
        assert result.stdout == "1 assistant manifest valid.\n"


class TestVariables:
    def test_environment_var_flags_defaults_escapes_and_types(self, clean_env: pytest.MonkeyPatch,
                                                               tmp_path: Path) -> None:
        write(tmp_path / "bot.yaml", """
            key: bot-${TEAM}
            model: ${MODEL:-gpt-4o}
            temperature: ${TEMP:-0.5}
            name: "${TEMP:-0.5}"
            description: costs $${PRICE} per ${UNIT:-call}
            """)
        clean_env.setenv("TEAM", "search")
        from assistants_sync.desired.manifest import load_manifests

        [bot] = load_manifests([tmp_path], variables={"TEAM": "search"})
        assert bot.key == "bot-search" and bot.request["model"] == "gpt-4o"
        assert bot.request["temperature"] == 0.5  # an unquoted lone variable keeps its YAML type
        assert bot.request["name"] == "0.5"  # quoted: a string
        assert bot.request["description"] == "costs ${PRICE} per call"
        result = run("validate", str(tmp_path), "--var", "MODEL=o3-mini", "--var", "TEAM=ads")
        assert result.exit_code == 0, result.output

    def test_an_unset_variable_names_the_file_the_line_and_the_variable(self, clean_env: pytest.MonkeyPatch,
                                                                        tmp_path: Path) -> None:
        write(tmp_path / "bot.yaml", "key: bot\nmodel: m\ninstructions: Serve ${CUSTOMER}.\n")
        result = run("validate", str(tmp_path))
        assert result.exit_code == 1
        assert (f"{tmp_path / 'bot.yaml'}:3: variable CUSTOMER is not set and has no default: set it, "
                "pass --var CUSTOMER=VALUE, or write ${CUSTOMER:-default}") in result.stderr

    def test_a_variable_cannot_change_the_documents_structure(self, clean_env: pytest.MonkeyPatch,
                                                              tmp_path: Path) -> None:
        write(tmp_path / "bot.yaml", "key: bot\nmodel: m\nname: ${NAME}\n")
        result = run("validate", str(tmp_path), "--var", "NAME=x\ntemperature: 3")
        assert result.exit_code == 0, result.output  # the value is a (long) name, not a new field
        assert run("validate", str(tmp_path), "--var", "bad name=x").exit_code == 1


def test_an_unknown_provider_in_the_environment_is_an_error(clean_env: pytest.MonkeyPatch, example_specs: Path) -> None:
    clean_env.setenv("ASSISTANTS_SYNC_PROVIDER", "azuer")
    clean_env.setenv("OPENAI_API_KEY", "sk-x")
    result = run("plan", str(example_specs))
    assert result.exit_code == 1
    assert "ASSISTANTS_SYNC_PROVIDER='azuer': expected openai, azure or foundry" in result.stderr


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of examples/project as the working directory."""
    target = tmp_path / "repo"
    shutil.copytree(ROOT / "examples" / "project", target)
    monkeypatch.delenv("ASSISTANTS_SYNC_ENV", raising=False)
    monkeypatch.chdir(target)
    return target


def test_assistants_sync_env_chooses_the_environment(env: EmulatorServer, project: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSISTANTS_SYNC_ENV", "production")
    document = plan_json()
    assert document["stack"] == "production"
    assert {c["key"]: c["fields"]["model"]["after"] for c in document["changes"]}["faq"] == "gpt-4o"


def test_the_env_flag_wins_over_assistants_sync_env(env: EmulatorServer, project: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSISTANTS_SYNC_ENV", "production")
    assert plan_json("--env", "staging")["stack"] == "staging"


def test_an_unknown_assistants_sync_env_is_an_error_naming_the_variable(env: EmulatorServer, project: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSISTANTS_SYNC_ENV", "prod")
    result = run("plan")
    assert result.exit_code == 1
    assert result.stderr == ("Error: ASSISTANTS_SYNC_ENV=prod: no such environment in "
                             f"{project / 'assistants-sync.yaml'} (defined: production, staging)\n")
    assert env.requests == []


def test_assistants_sync_env_without_a_project_file_is_an_error(env: EmulatorServer, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ASSISTANTS_SYNC_ENV", "production")
    result = run("validate")
    assert result.exit_code == 1
    assert result.stderr == ("Error: ASSISTANTS_SYNC_ENV=production: there is no project file "
                             "(assistants-sync.yaml) to define it\n")


SECRET_QUERY = "?key=sk-in-the-url-1234"


@pytest.mark.parametrize(("where", "source"), [
    pytest.param("flag", "--base-url", id="flag"),
    pytest.param("env", "OPENAI_BASE_URL", id="env"),
    pytest.param("file", "{config}: base_url", id="file"),
    pytest.param("file-env", "{config}: environments.prod.base_url", id="file-environment"),
])
def test_a_base_url_with_a_query_is_refused_naming_where_it_came_from(
    env: EmulatorServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str, source: str
) -> None:
    url = env.base_url + SECRET_QUERY
    write(tmp_path / "specs" / "bot.yaml", "key: bot\nmodel: gpt-4o\n")
    config = tmp_path / "assistants-sync.yaml"
    if where == "file-env":
        write(config, f"environments:\n  prod:\n    base_url: {url}\n")
    elif where == "file":
        write(config, f"base_url: {url}\n")
    else:
        write(config, "paths: [specs]\n")
    monkeypatch.chdir(tmp_path)
    if where != "env":
        monkeypatch.delenv("OPENAI_BASE_URL")
    else:
        monkeypatch.setenv("OPENAI_BASE_URL", url)
    arguments = {"flag": ["--base-url", url], "file-env": ["--env", "prod"]}.get(where, [])

    result = run("plan", *arguments)

    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: {source.format(config=config)}: the base URL {env.base_url} has a query (?...), which cannot be "
        "combined with the request paths appended to it; remove it (use --api-version for ?api-version=, "
        "--header for credentials)\n")
    assert env.requests == []

