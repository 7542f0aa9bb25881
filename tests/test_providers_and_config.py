"""Every endpoint that speaks Assistants, and a repository layout teams can live with."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from assistants_sync.emulator import EmulatorServer, running_emulator
from assistants_sync.schema import manifest_schema

from .conftest import ROOT, run, write

AZURE_KEY = "azure-key-51c0ffee"
PORTKEY = {"x-portkey-api-key": "pk-live-0a1b2c", "x-portkey-virtual-key": "vk-openai-77"}


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[pytest.MonkeyPatch]:
    """No inherited settings, and a working directory without a project file."""
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_ORG_ID", "OPENAI_PROJECT_ID", "OPENAI_API_VERSION",
                 "AZURE_OPENAI_ENDPOINT", "AZURE_OPENAI_API_KEY", "AZURE_OPENAI_AD_TOKEN", "ASSISTANTS_SYNC_STACK",
                 "ASSISTANTS_SYNC_PROVIDER", "ASSISTANTS_SYNC_PARALLELISM", "NO_COLOR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    yield monkeypatch


def cycle(*args: str) -> None:
    """plan -> apply -> plan against whatever the environment points at; the last plan must be empty."""
    first = run("plan", *args)
    assert first.exit_code == 0, first.output
    assert "Plan: 3 to create" in first.stdout
    applied = run("apply", "--auto-approve", *args)
    assert applied.exit_code == 0, applied.output
    again = run("plan", "--detailed-exitcode", *args)
    assert again.exit_code == 0, again.output


class TestProviders:
    def test_azure_with_an_api_key(self, clean_env: pytest.MonkeyPatch, example_specs: Path) -> None:
        with running_emulator(api_key=AZURE_KEY) as emulator:
            clean_env.setenv("AZURE_OPENAI_ENDPOINT", emulator.root_url)
            clean_env.setenv("AZURE_OPENAI_API_KEY", AZURE_KEY)
            clean_env.setenv("OPENAI_API_VERSION", "2024-05-01-preview")
            cycle("--provider", "azure", str(example_specs))
            assert len(emulator.store) == 3
            for request in emulator.requests:
                assert request.path.startswith("/openai/assistants")
                assert request.query["api-version"] == "2024-05-01-preview"
                assert request.headers["api-key"] == AZURE_KEY and "authorization" not in request.headers

    def test_azure_with_an_entra_token(self, clean_env: pytest.MonkeyPatch, example_specs: Path) -> None:
        with running_emulator(api_key="entra-token-9") as emulator:
            clean_env.setenv("AZURE_OPENAI_ENDPOINT", emulator.root_url)
            clean_env.setenv("AZURE_OPENAI_AD_TOKEN", "entra-token-9")
            clean_env.setenv("OPENAI_API_VERSION", "2024-05-01-preview")
            cycle("--provider", "azure", str(example_specs))
            assert {r.headers["authorization"] for r in emulator.requests} == {"Bearer entra-token-9"}

    def test_azure_without_api_version_or_key_is_a_clear_error(self, clean_env: pytest.MonkeyPatch,
                                                               example_specs: Path) -> None:
        clean_env.setenv("AZURE_OPENAI_ENDPOINT", "https://res.openai.azure.com")
        clean_env.setenv("AZURE_OPENAI_API_KEY", AZURE_KEY)
        result = run("plan", "--provider", "azure", str(example_specs))
        assert result.exit_code == 1 and "Azure needs an API version: set OPENAI_API_VERSION" in result.stderr
        clean_env.delenv("AZURE_OPENAI_API_KEY")
        result = run("plan", "--provider", "azure", "--api-version", "2024-05-01-preview", str(example_specs))
        assert result.exit_code == 1 and "AZURE_OPENAI_API_KEY (sent as api-key) or AZURE_OPENAI_AD_TOKEN" in result.stderr

    def test_the_emulator_answers_azure_errors_in_azure_words(self, clean_env: pytest.MonkeyPatch,
                                                              example_specs: Path) -> None:
        with running_emulator(api_key=AZURE_KEY) as emulator:
            clean_env.setenv("AZURE_OPENAI_ENDPOINT", emulator.root_url)
            clean_env.setenv("AZURE_OPENAI_API_KEY", "wrong-key")
            clean_env.setenv("OPENAI_API_VERSION", "2024-05-01-preview")
            result = run("plan", "--provider", "azure", str(example_specs))
            assert result.exit_code == 1
            assert "HTTP 401: Access denied due to invalid subscription key" in result.stderr
            assert "Check AZURE_OPENAI_API_KEY or AZURE_OPENAI_AD_TOKEN" in result.stderr
            assert "wrong-key" not in result.output

    def test_a_gateway_with_its_own_headers_from_the_command_line(self, clean_env: pytest.MonkeyPatch,
                                                                  example_specs: Path) -> None:
        with running_emulator(required_headers=PORTKEY) as emulator:
            clean_env.setenv("OPENAI_API_KEY", "sk-upstream")
            clean_env.setenv("OPENAI_BASE_URL", emulator.base_url)
            headers = [arg for name, value in PORTKEY.items() for arg in ("--header", f"{name}: {value}")]
            missing = run("plan", str(example_specs))
            assert missing.exit_code == 1 and "Missing or invalid header 'x-portkey-api-key'" in missing.stderr
            cycle(*headers, str(example_specs))
            assert all(r.headers["x-portkey-virtual-key"] == "vk-openai-77" for r in emulator.requests[1:])

    def test_header_values_from_the_project_file_come_from_the_environment_and_are_never_shown(
        self, clean_env: pytest.MonkeyPatch, example_specs: Path, tmp_path: Path
    ) -> None:
        with running_emulator(required_headers=PORTKEY) as emulator:
            write(tmp_path / "assistants-sync.yaml", f"""
                base_url: {emulator.base_url}
                headers:
                  x-portkey-api-key: ${{PORTKEY_API_KEY}}
                  x-portkey-virtual-key: ${{PORTKEY_VIRTUAL_KEY}}
                paths: [specs]
                """)
            clean_env.setenv("PORTKEY_API_KEY", PORTKEY["x-portkey-api-key"])
            clean_env.setenv("PORTKEY_VIRTUAL_KEY", PORTKEY["x-portkey-virtual-key"])
            outputs = [run("--verbose", "plan").output, run("--verbose", "apply", "--auto-approve").output,
                       run("plan", "--format", "json", "--out", "plan.json").output]
            assert "Apply complete: 3 created" in outputs[1]
            clean_env.setenv("PORTKEY_API_KEY", "pk-wrong")
            outputs.append(run("plan").output)
            assert "Missing or invalid header 'x-portkey-api-key'" in outputs[-1]
        texts = [*outputs, (tmp_path / "plan.json").read_text()]
        for secret in (*PORTKEY.values(), "pk-wrong"):
            assert not any(secret in text for text in texts)


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

    def test_a_config_found_with_config_flag_resolves_paths_relative_to_itself(
        self, clean_env: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        write(tmp_path / "repo" / "ops" / "sync.yaml", "paths: [../specs]\n")
        write(tmp_path / "repo" / "specs" / "bot.yaml", "key: bot\nmodel: m\n")
        result = run("validate", "--config", str(tmp_path / "repo" / "ops" / "sync.yaml"))
        assert result.exit_code == 0, result.output
        assert result.stdout == "1 assistant manifest valid.\n"


@pytest.fixture
def env_emulator(clean_env: pytest.MonkeyPatch) -> Iterator[EmulatorServer]:
    with running_emulator() as emulator:
        clean_env.setenv("OPENAI_API_KEY", "sk-test")
        clean_env.setenv("OPENAI_BASE_URL", emulator.base_url)
        yield emulator


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


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(manifest_schema())


class TestSchema:
    def test_the_schema_command_prints_what_the_models_generate(self) -> None:
        result = run("schema")
        assert result.exit_code == 0
        assert json.loads(result.stdout) == manifest_schema()
        config = json.loads(run("schema", "--kind", "config").stdout)
        assert "environments" in config["properties"]

    def test_every_example_manifest_validates_against_it(self, validator: jsonschema.Draft202012Validator) -> None:
        files = sorted((ROOT / "specs").rglob("*.yaml")) + sorted((ROOT / "examples").rglob("specs/**/*.yaml"))
        documents = [d for f in files for d in yaml.safe_load_all(f.read_text()) if d is not None]
        assert len(documents) >= 3
        for document in documents:
            validator.validate(document)

    @pytest.mark.parametrize("document", [
        pytest.param({"key": "bot", "model": "m", "temprature": 1}, id="typo"),
        pytest.param({"key": "bot", "model": "m", "temperature": 3}, id="out-of-range"),
        pytest.param({"model": "m"}, id="no-key"),
        pytest.param({"key": "bot", "tools": [{"type": "web_search"}]}, id="unknown-tool"),
    ])
    def test_an_invalid_manifest_fails_it(self, validator: jsonschema.Draft202012Validator, document: dict[str, Any]
                                          ) -> None:
        assert not validator.is_valid(document)


class TestResponsesRender:
    def test_each_manifest_becomes_its_responses_request(self, clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
        result = run("render", "--format", "responses", str(ROOT / "specs"), "--out", str(tmp_path / "out"))
        assert result.exit_code == 0, result.output
        assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["data-analyst.json", "support-bot.json",
                                                                        "weather.json"]
        analyst = json.loads((tmp_path / "out" / "data-analyst.json").read_text())["request"]
        assert analyst["tools"] == [{"type": "code_interpreter",
                                     "container": {"type": "auto", "file_ids": ["file-sales-2026", "file-targets-2026"]}}]
        assert analyst["text"]["format"]["type"] == "json_schema" and analyst["text"]["format"]["name"] == "analysis"
        assert analyst["text"]["format"]["strict"] is True and "schema" in analyst["text"]["format"]
        assert analyst["reasoning"] == {"effort": "medium"} and analyst["top_p"] == 0.9
        support = json.loads((tmp_path / "out" / "support-bot.json").read_text())
        assert support["request"]["tools"] == [{"type": "file_search", "vector_store_ids": ["vs_product_docs"],
                                                "max_num_results": 8, "ranking_options": {"score_threshold": 0.4}}]
        assert any("tool_resources have no request-level equivalent" in n for n in support["notes"])
        weather = json.loads((tmp_path / "out" / "weather.json").read_text())["request"]
        assert [t["name"] for t in weather["tools"]] == ["get_weather", "list_cities"]
        assert weather["tools"][1] == {"type": "function", "name": "list_cities",
                                       "description": "Cities the weather service knows.",
                                       "parameters": {"type": "object", "properties": {}}, "strict": False}
        assert "assistants-sync" not in json.dumps(weather)  # no ownership tags in application requests


def test_an_unknown_provider_in_the_environment_is_an_error(clean_env: pytest.MonkeyPatch, example_specs: Path) -> None:
    clean_env.setenv("ASSISTANTS_SYNC_PROVIDER", "azuer")
    clean_env.setenv("OPENAI_API_KEY", "sk-x")
    result = run("plan", str(example_specs))
    assert result.exit_code == 1
    assert "ASSISTANTS_SYNC_PROVIDER='azuer': expected openai, azure or foundry" in result.stderr
