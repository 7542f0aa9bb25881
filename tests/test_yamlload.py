"""YAML is read as PyYAML reads it: aliases, merge keys, timestamps, tags."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistants_sync.desired.manifest import load_manifests

from .conftest import run, write


class TestYamlAsBefore:
    """Plain documents are built directly for speed; everything else must read exactly as PyYAML reads it."""

    def test_anchors_aliases_and_merge_keys_still_work(self, clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
        write(tmp_path / "specs" / "bots.yaml", """
            key: copy
            model: &model gpt-4o
            name: *model
            description: &meta_team search
            metadata:
              <<: {team: *meta_team}
              tier: gold
            """)
        [copy] = load_manifests([tmp_path / "specs"])
        assert copy.request["name"] == "gpt-4o" and copy.request["metadata"] == {"team": "search", "tier": "gold"}

    @pytest.mark.parametrize("text, expected", [
        pytest.param("key: bot\nmodel: m\nmetadata:\n  a: x\n  a: y\n", ":5: invalid YAML: duplicate key 'a' "
                     "(first defined on line 4) (line 5, column 3)", id="nested-duplicate"),
        pytest.param("key: bot\nmodel: m\nname: 2026-01-01\n", ":3: document 1 (key 'bot'): name: Input should be a "
                     "valid string", id="timestamp-is-not-a-string"),
        pytest.param("key: bot\nmodel: m\nmetadata: {1: x}\n", ":3: document 1 (key 'bot'): metadata[1] (the key): "
                     "Input should be a valid string", id="number-key"),
        pytest.param("key: bot\nmodel: m\ntemperature: !!str 1\n", ":3: document 1 (key 'bot'): temperature: "
                     "Input should be a valid number", id="explicit-tag"),
    ])
    def test_unusual_yaml_is_reported_as_before(self, clean_env: pytest.MonkeyPatch, tmp_path: Path, text: str,
                                                expected: str) -> None:
        bot = write(tmp_path / "specs" / "bot.yaml", text)
        result = run("validate", str(tmp_path / "specs"))
        assert result.exit_code == 1
        assert f"{bot}{expected}" in result.stderr

