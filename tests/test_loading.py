"""Loading manifests and the project file: every unset variable, each file once, the project file apart."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from assistants_sync.config import load_config
from assistants_sync.errors import ConfigError, ManifestError
from assistants_sync.desired.manifest import load_manifests

from .conftest import run, write


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[pytest.MonkeyPatch]:
    """No inherited settings or variables used below, and a working directory of our own."""
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "ASSISTANTS_SYNC_STACK", "CUSTOMER", "REGION", "TEAM",
                 "MODEL", "KEY_SUFFIX", "GATEWAY_KEY", "GATEWAY_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    yield monkeypatch


class TestEveryUnsetVariable:
    def test_every_unset_variable_of_a_file_is_reported_with_its_line(self, clean_env: pytest.MonkeyPatch,
                                                                      tmp_path: Path) -> None:
        bot = write(tmp_path / "specs" / "bot.yaml", """
            key: bot
            model: ${MODEL}
            instructions: Serve ${CUSTOMER} in ${REGION}.
            ---
            key: other-${TEAM}
            model: m
            """)
        result = run("validate", str(tmp_path / "specs"))
        assert result.exit_code == 1
        assert "4 problems in the manifests:" in result.stderr
        for line, name in ((2, "MODEL"), (3, "CUSTOMER"), (3, "REGION"), (5, "TEAM")):
            assert f"{bot}:{line}: variable {name} is not set and has no default" in result.stderr

    def test_a_document_with_an_unset_variable_is_not_also_reported_as_invalid(
            self, clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
        write(tmp_path / "specs" / "bot.yaml", "key: bot\nmodel: ${MODEL}\ntemperature: ${TEMP:-0.5}\n")
        result = run("validate", str(tmp_path / "specs"))
        assert result.exit_code == 1
        assert result.stderr.count("problem") == 1 and "variable MODEL is not set" in result.stderr

    def test_other_documents_of_the_file_are_still_checked(self, clean_env: pytest.MonkeyPatch, tmp_path: Path
                                                           ) -> None:
        bot = write(tmp_path / "specs" / "bot.yaml", "key: bot\nmodel: ${MODEL}\n---\nkey: two\nmodel: m\ntemprature: 1\n")
        with pytest.raises(ManifestError) as caught:
            load_manifests([tmp_path / "specs"], variables={})
        assert [(p.file, p.line) for p in caught.value.problems] == [(str(bot), 2), (str(bot), 6)]
        assert "unknown field 'temprature'" in caught.value.problems[1].message

    def test_every_unset_variable_of_the_project_file_is_reported(self, clean_env: pytest.MonkeyPatch,
                                                                 tmp_path: Path) -> None:
        write(tmp_path / "assistants-sync.yaml", """
            base_url: ${GATEWAY_URL}
            headers:
              x-gateway-key: ${GATEWAY_KEY}
            """)
        result = run("validate", str(tmp_path))
        assert result.exit_code == 1
        assert f"{tmp_path / 'assistants-sync.yaml'}:1: variable GATEWAY_URL is not set" in result.stderr
        assert f"{tmp_path / 'assistants-sync.yaml'}:3: variable GATEWAY_KEY is not set" in result.stderr


class TestEachFileOnce:
    def test_a_file_named_twice_is_read_once(self, clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
        write(tmp_path / "specs" / "a.yaml", "key: a\nmodel: m\n")
        write(tmp_path / "specs" / "b.yaml", "key: b\nmodel: m\n")
        result = run("validate", str(tmp_path / "specs"), str(tmp_path / "specs" / "a.yaml"))
        assert result.exit_code == 0, result.output
        assert result.stdout == "2 assistant manifests valid.\n"

    def test_different_spellings_of_the_same_file_are_one_file(self, clean_env: pytest.MonkeyPatch,
                                                               tmp_path: Path) -> None:
        write(tmp_path / "specs" / "a.yaml", "key: a\nmodel: m\n")
        (tmp_path / "link.yaml").symlink_to(tmp_path / "specs" / "a.yaml")
        spellings = ["specs/a.yaml", "./specs/a.yaml", "specs/../specs/a.yaml", str(tmp_path / "specs" / "a.yaml"),
                     "link.yaml", "specs", "./specs/"]
        assert [d.key for d in load_manifests(spellings)] == ["a"]
        assert run("validate", *spellings).stdout == "1 assistant manifest valid.\n"

    def test_a_key_defined_twice_in_two_files_is_still_a_duplicate(self, clean_env: pytest.MonkeyPatch,
                                                                   tmp_path: Path) -> None:
        write(tmp_path / "specs" / "a.yaml", "key: a\nmodel: m\n")
        write(tmp_path / "specs" / "copy.yaml", "key: a\nmodel: m\n")
        result = run("validate", str(tmp_path / "specs"), str(tmp_path / "specs" / "copy.yaml"))
        assert result.exit_code == 1
        assert "1 problem in the manifests:" in result.stderr and "duplicate key" in result.stderr


class TestProjectFileApart:
    def test_paths_dot_does_not_read_the_project_file_as_a_manifest(self, clean_env: pytest.MonkeyPatch,
                                                                    tmp_path: Path) -> None:
        write(tmp_path / "assistants-sync.yaml", "paths: [.]\ndefaults:\n  model: gpt-4o\n")
        write(tmp_path / "bot.yaml", "key: bot\n")
        result = run("validate")
        assert result.exit_code == 0, result.output
        assert result.stdout == "1 assistant manifest valid.\n"

    def test_a_project_file_given_with_config_is_not_a_manifest_either(self, clean_env: pytest.MonkeyPatch,
                                                                      tmp_path: Path) -> None:
        write(tmp_path / "sync.yaml", "paths: [.]\n")
        write(tmp_path / "bot.yaml", "key: bot\nmodel: m\n")
        result = run("validate", "--config", "sync.yaml")
        assert result.exit_code == 0, result.output
        assert result.stdout == "1 assistant manifest valid.\n"

    def test_a_project_file_named_as_a_path_is_refused_as_a_manifest(self, clean_env: pytest.MonkeyPatch,
                                                                    tmp_path: Path) -> None:
        write(tmp_path / "sub" / "assistants-sync.yaml", "paths: [.]\n")
        result = run("validate", str(tmp_path / "sub" / "assistants-sync.yaml"))
        assert result.exit_code == 1
        assert "is a project file, not a manifest" in result.stderr

    def test_problems_in_the_project_file_are_config_errors_headed_as_such(self, clean_env: pytest.MonkeyPatch,
                                                                         tmp_path: Path) -> None:
        config = write(tmp_path / "assistants-sync.yaml", "stack: ok\nparalelism: 4\nbase_url: [x]\n")
        result = run("validate")
        assert result.exit_code == 1
        assert f"Error: 2 problems in the project file {config}:" in result.stderr
        assert "in the manifests" not in result.stderr
        assert f"{config}:2: paralelism: unknown field 'paralelism'; did you mean 'parallelism'?" in result.stderr
        with pytest.raises(ConfigError) as caught:
            load_config(config, {})
        assert not isinstance(caught.value, ManifestError)
        assert sorted(p.line for p in caught.value.problems) == [2, 3]  # type: ignore[attr-defined]

    @pytest.mark.parametrize("text, expected", [
        pytest.param("paths: [.\n", "invalid YAML", id="syntax"),
        pytest.param("stack: a\n---\nstack: b\n", "a project file holds one document", id="two-documents"),
        pytest.param("- stack\n", "the project file must be a mapping of settings", id="not-a-mapping"),
        pytest.param("stack: a\nstack: b\n", "duplicate key 'stack'", id="duplicate-key"),
    ])
    def test_every_kind_of_project_file_problem_is_a_config_error(self, clean_env: pytest.MonkeyPatch,
                                                                  tmp_path: Path, text: str, expected: str) -> None:
        config = write(tmp_path / "assistants-sync.yaml", text)
        result = run("validate")
        assert result.exit_code == 1
        assert f"Error: 1 problem in the project file {config}:" in result.stderr and expected in result.stderr
        with pytest.raises(ConfigError):
            load_config(config, {})


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
