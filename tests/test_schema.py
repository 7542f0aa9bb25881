"""assistants-sync schema: the JSON Schemas of manifests and the project file."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest
import yaml

from assistants_sync.schema import manifest_schema

from .conftest import ROOT, run


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

