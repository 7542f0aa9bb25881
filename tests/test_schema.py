"""assistants-sync schema: the JSON Schemas of manifests and the project file."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from assistants_sync.schema import config_schema, manifest_schema

from .conftest import ROOT, run


def repository_manifests() -> Iterator[tuple[Path, dict[str, Any]]]:
    """Every manifest document in the repository (a YAML mapping with a key), outside the tests."""
    for path in sorted([*ROOT.rglob("*.yaml"), *ROOT.rglob("*.yml")]):
        if {"tests", "emulator"} & set(path.relative_to(ROOT).parts) or any(
                part.startswith(".") for part in path.relative_to(ROOT).parts[:-1]):
            continue
        for document in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if isinstance(document, dict) and "key" in document:
                yield path, document


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
        documents = list(repository_manifests())
        assert len(documents) >= 4 and {d.get("kind", "assistant") for _, d in documents} >= {"assistant", "agent"}
        for path, document in documents:
            errors = [e.message for e in validator.iter_errors(document)]
            assert not errors, (path, errors)

    @pytest.mark.parametrize("document", [
        pytest.param({"kind": "assistant", "key": "bot", "model": "m"}, id="assistant-named"),
        pytest.param({"key": "bot"}, id="model-from-defaults"),
        pytest.param({"kind": "agent", "key": "helper"}, id="agent-model-from-defaults"),
        pytest.param({"kind": "agent", "key": "helper", "model": "m", "service_tier": "flex",
                      "tools": [{"type": "function", "name": "f", "description": "d", "parameters_file": "f.json"}]},
                     id="agent-flat-function"),
    ])
    def test_a_valid_manifest_of_each_kind_passes(self, validator: jsonschema.Draft202012Validator,
                                                  document: dict[str, Any]) -> None:
        assert validator.is_valid(document), [e.message for e in validator.iter_errors(document)]

    @pytest.mark.parametrize("document", [
        pytest.param({"key": "bot", "model": "m", "temprature": 1}, id="typo"),
        pytest.param({"key": "bot", "model": "m", "temperature": 3}, id="out-of-range"),
        pytest.param({"model": "m"}, id="no-key"),
        pytest.param({"key": "bot", "tools": [{"type": "web_search"}]}, id="unknown-tool"),
        pytest.param({"kind": "agnet", "key": "bot", "model": "m"}, id="kind-typo"),
        pytest.param({"kind": "agent", "key": "bot", "model": "m", "reasonning": {"effort": "low"}}, id="agent-typo"),
        pytest.param({"key": "bot", "model": "m", "service_tier": "flex"}, id="agent-field-in-an-assistant"),
        pytest.param({"kind": "agent", "key": "bot", "temperature": 1}, id="assistant-field-in-an-agent"),
        pytest.param({"kind": "agent", "key": "bot", "tools": [{"type": "function", "function": {"name": "f"}}]},
                     id="assistant-function-in-an-agent"),
    ])
    def test_an_invalid_manifest_fails_it(self, validator: jsonschema.Draft202012Validator, document: dict[str, Any]
                                          ) -> None:
        assert not validator.is_valid(document)



@pytest.fixture(scope="module")
def config_validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(config_schema())


class TestConfigSchema:
    def test_the_example_project_file_validates(self, config_validator: jsonschema.Draft202012Validator) -> None:
        config = yaml.safe_load((ROOT / "examples" / "project" / "assistants-sync.yaml").read_text())
        assert config_validator.is_valid(config), [e.message for e in config_validator.iter_errors(config)]

    @pytest.mark.parametrize(("defaults", "valid"), [
        ({"model": "m", "temperature": 0.2, "metadata": {"team": "x"}}, True),
        ({"service_tier": "flex", "reasoning": {"effort": "low"}}, True),  # agents' fields
        ({"tools": [{"type": "web_search"}]}, True),  # an agent's tool
        ({"temprature": 0.2}, False),
        ({"key": "shared"}, False),
        ({"service_tier": "fastest"}, False),
    ])
    def test_defaults_take_a_field_some_kind_takes(self, config_validator: jsonschema.Draft202012Validator,
                                                   defaults: dict[str, Any], valid: bool) -> None:
        assert config_validator.is_valid({"defaults": defaults}) is valid
        assert config_validator.is_valid({"environments": {"prod": {"defaults": defaults}}}) is valid
