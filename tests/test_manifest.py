"""Manifests -> desired state: every rule, every error message, no API request."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from assistants_sync.config import load_config
from assistants_sync.desired.manifest import load_manifests
from assistants_sync.emulator import EmulatorServer
from assistants_sync.errors import ConfigError, ManifestError

from .conftest import run, write


VALID = "key: bot\nmodel: gpt-4o\n"


def problems_of(root: Path) -> list[str]:
    with pytest.raises(ManifestError) as caught:
        load_manifests([root])
    return [str(p) for p in caught.value.problems]


# (id, manifest body appended to a valid head or whole document, expected fragment of the message)
RULES = [
    ("key-missing", "model: gpt-4o\n", "document 1: key: required field is missing"),
    ("model-missing", "key: bot\n", "document 1 (key 'bot'): model: required field is missing"),
    ("key-upper-case", "key: Bot\nmodel: m\n", "key: String should match pattern '^[a-z0-9._-]{1,128}$'"),
    ("key-with-slash", "key: a/b\nmodel: m\n", "key: String should match pattern"),
    ("unknown-field-typo", VALID + "temprature: 0.5\n", "temprature: unknown field 'temprature'; did you mean 'temperature'?"),
    ("name-257", VALID + f"name: {'n' * 257}\n", "name: String should have at most 256 characters"),
    ("description-513", VALID + f"description: {'d' * 513}\n", "description: String should have at most 512 characters"),
    ("instructions-256001", VALID + f"instructions: {'i' * 256_001}\n", "instructions: String should have at most 256000 characters"),
    ("instructions-and-file", VALID + "instructions: hi\ninstructions_file: a.md\n", "instructions_file: give either instructions or instructions_file, not both"),
    ("tools-129", VALID + "tools:\n" + "  - type: code_interpreter\n" * 129, "tools: List should have at most 128 items"),
    ("tool-type-unknown", VALID + "tools:\n  - type: web_search\n", "tools[0]: Input tag 'web_search' found using 'type' does not match"),
    ("tool-type-missing", VALID + "tools:\n  - function: {name: f}\n", "tools[0]: Unable to extract tag using discriminator 'type'"),
    ("function-name-pattern", VALID + "tools:\n  - type: function\n    function: {name: 'get weather'}\n", "tools[0].function.name: String should match pattern '^[a-zA-Z0-9_-]{1,64}$'"),
    ("function-name-65", VALID + f"tools:\n  - type: function\n    function: {{name: {'f' * 65}}}\n", "tools[0].function.name: String should match pattern"),
    ("function-both-parameters", VALID + "tools:\n  - type: function\n    function: {name: f, parameters: {}, parameters_file: p.json}\n", "tools[0].function.parameters_file: give either parameters or parameters_file, not both"),
    ("function-unknown-field", VALID + "tools:\n  - type: function\n    function: {name: f, strcit: true}\n", "tools[0].function.strcit: unknown field 'strcit'; did you mean 'strict'?"),
    ("max-num-results-0", VALID + "tools:\n  - type: file_search\n    file_search: {max_num_results: 0}\n", "tools[0].file_search.max_num_results: Input should be greater than or equal to 1"),
    ("max-num-results-51", VALID + "tools:\n  - type: file_search\n    file_search: {max_num_results: 51}\n", "tools[0].file_search.max_num_results: Input should be less than or equal to 50"),
    ("ranker-unknown", VALID + "tools:\n  - type: file_search\n    file_search: {ranking_options: {ranker: best, score_threshold: 0.5}}\n", "tools[0].file_search.ranking_options.ranker: Input should be 'auto' or 'default_2024_08_21'"),
    ("score-threshold-1.5", VALID + "tools:\n  - type: file_search\n    file_search: {ranking_options: {score_threshold: 1.5}}\n", "ranking_options.score_threshold: Input should be less than or equal to 1"),
    ("code-interpreter-21-files", VALID + "tool_resources:\n  code_interpreter:\n    file_ids: [" + ", ".join(f"f{i}" for i in range(21)) + "]\n", "tool_resources.code_interpreter.file_ids: List should have at most 20 items"),
    ("two-vector-stores", VALID + "tool_resources:\n  file_search:\n    vector_store_ids: [vs_1, vs_2]\n", "tool_resources.file_search.vector_store_ids: List should have at most 1 item"),
    ("store-by-id-and-key", VALID + "tool_resources:\n  file_search:\n    vector_store_ids: [vs_1]\n    vector_stores: [docs]\n", "tool_resources.file_search.vector_stores: vector_store_ids and vector_stores name 2 vector stores for file_search together; at most 1"),
    ("vector-stores-helper", VALID + "tool_resources:\n  file_search:\n    vector_stores: [{file_ids: [f]}]\n", "tool_resources.file_search.vector_stores[0]: Input should be a valid string"),
    ("metadata-15-user-pairs", VALID + "metadata:\n" + "".join(f"  k{i}: v\n" for i in range(15)), "metadata: at most 14 pairs (15 given): the API allows 16 and assistants-sync uses 2 for its tags (ownership, last applied)"),
    ("metadata-14-pairs-protected", VALID + "protect: true\nmetadata:\n" + "".join(f"  k{i}: v\n" for i in range(14)), "metadata: at most 13 pairs (14 given): the API allows 16 and assistants-sync uses 3 for its tags (ownership, last applied, protect)"),
    ("ignore-changes-metadata", VALID + "ignore_changes: [metadata]\n", "ignore_changes[0]: Input should be 'model', 'name'"),
    ("adopt-not-an-id", VALID + "adopt: 'asst 1'\n", "adopt: String should match pattern"),
    ("protect-not-bool", VALID + "protect: 'yes'\n", "protect: Input should be a valid boolean"),
    ("metadata-key-65", VALID + f"metadata:\n  {'k' * 65}: v\n", "String should have at most 64 characters"),
    ("metadata-value-513", VALID + f"metadata:\n  k: {'v' * 513}\n", "metadata.k: String should have at most 512 characters"),
    ("metadata-value-number", VALID + "metadata:\n  version: 3\n", "metadata.version: Input should be a valid string"),
    ("metadata-reserved-key", VALID + "metadata:\n  assistants-sync: other/bot\n", "metadata: metadata key 'assistants-sync' is reserved"),
    ("temperature-2.01", VALID + "temperature: 2.01\n", "temperature: Input should be less than or equal to 2"),
    ("temperature-negative", VALID + "temperature: -0.1\n", "temperature: Input should be greater than or equal to 0"),
    ("temperature-string", VALID + "temperature: '0.5'\n", "temperature: Input should be a valid number"),
    ("top-p-1.01", VALID + "top_p: 1.01\n", "top_p: Input should be less than or equal to 1"),
    ("response-format-word", VALID + "response_format: json\n", "response_format: Input should be 'auto'"),
    ("response-format-type", VALID + "response_format: {type: yaml}\n", "response_format: must be 'auto' or a mapping whose type is text, json_object or json_schema"),
    ("json-schema-without-name", VALID + "response_format: {type: json_schema, json_schema: {schema: {}}}\n", "response_format.json_schema.name: required field is missing"),
    ("reasoning-effort", VALID + "reasoning_effort: extreme\n", "reasoning_effort: Input should be 'none', 'minimal', 'low', 'medium', 'high', 'xhigh' or 'max'"),
    ("document-is-list", "- key: bot\n", "document 1: a document must be a mapping of fields, not a list"),
    ("document-is-scalar", "just text\n", "document 1: a document must be a mapping of fields, not a string"),
    ("duplicate-mapping-key", "key: bot\nmodel: a\nmodel: b\n", "invalid YAML: duplicate key 'model' (first defined on line 2) (line 3, column 1)"),
    ("yaml-syntax", "key: bot\nmodel: [unclosed\n", "invalid YAML:"),
    ("yaml-tab", "key: bot\n\tmodel: m\n", "tab character that violates indentation (line 2, column 1)"),
]


@pytest.mark.parametrize(("body", "expected"), [pytest.param(b, e, id=i) for i, b, e in RULES])
def test_each_rule_is_reported_with_file_place_and_rule(tmp_path: Path, body: str, expected: str) -> None:
    write(tmp_path / "bot.yaml", body)
    problems = problems_of(tmp_path)
    assert any(expected in p for p in problems), problems
    assert all(p.startswith(f"{tmp_path / 'bot.yaml'}:") for p in problems), problems


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(VALID + f"name: {'n' * 256}\n", id="name-256"),
        pytest.param(VALID + f"description: {'d' * 512}\n", id="description-512"),
        pytest.param(VALID + f"instructions: {'i' * 256_000}\n", id="instructions-256000"),
        pytest.param(VALID + "tools:\n" + "  - type: code_interpreter\n" * 128, id="tools-128"),
        pytest.param(VALID + f"tools:\n  - type: function\n    function: {{name: {'f' * 64}}}\n", id="function-name-64"),
        pytest.param(VALID + "metadata:\n" + "".join(f"  k{i}: v\n" for i in range(14)), id="metadata-14-user-pairs"),
        pytest.param(VALID + "protect: true\nmetadata:\n" + "".join(f"  k{i}: v\n" for i in range(13)), id="metadata-13-pairs-protected"),
        pytest.param(VALID + f"metadata:\n  {'k' * 64}: {'v' * 512}\n", id="metadata-key-64-value-512"),
        pytest.param(VALID + "temperature: 2\ntop_p: 0\n", id="temperature-2-top-p-0"),
        pytest.param(VALID + "tools:\n  - type: file_search\n    file_search: {max_num_results: 50, ranking_options: {score_threshold: 1}}\n", id="file-search-limits"),
        pytest.param(VALID + "tool_resources:\n  code_interpreter:\n    file_ids: [" + ", ".join(f"f{i}" for i in range(20)) + "]\n", id="20-files"),
        pytest.param(VALID + "reasoning_effort: xhigh\n", id="reasoning-xhigh"),
    ],
)
def test_values_exactly_at_a_limit_are_accepted(tmp_path: Path, body: str) -> None:
    write(tmp_path / "bot.yaml", body)
    assert [d.key for d in load_manifests([tmp_path])] == ["bot"]


def test_error_names_the_line_of_the_offending_field(tmp_path: Path) -> None:
    write(tmp_path / "a.yaml", """
        key: first
        model: gpt-4o
        ---
        key: second
        model: gpt-4o
        tools:
          - type: code_interpreter
          - type: function
            function:
              name: has space
        """)
    [problem] = problems_of(tmp_path)
    assert problem == (
        f"{tmp_path / 'a.yaml'}:10: document 2 (key 'second'): tools[1].function.name: "
        "String should match pattern '^[a-zA-Z0-9_-]{1,64}$'"
    )


def test_all_problems_of_all_files_are_reported_at_once(tmp_path: Path) -> None:
    write(tmp_path / "a.yaml", "key: a\nmodel: m\ntemperature: 3\nname: 5\n")
    write(tmp_path / "sub" / "b.yml", "key: b\n")
    write(tmp_path / "c.yaml", "key: a\nmodel: m\n")
    problems = problems_of(tmp_path)
    assert len(problems) == 3
    assert any("a.yaml:3" in p and "temperature" in p for p in problems)
    assert any("a.yaml:4" in p and "name: Input should be a valid string" in p for p in problems)
    assert any("b.yml" in p and "model: required field is missing" in p for p in problems)


def test_same_key_in_two_files_names_both(tmp_path: Path) -> None:
    write(tmp_path / "a.yaml", "key: bot\nmodel: m\n")
    write(tmp_path / "b.yaml", "model: m\nkey: bot\n")
    [problem] = problems_of(tmp_path)
    assert problem == (
        f"{tmp_path / 'b.yaml'}:1: key 'bot': duplicate key: already defined at {tmp_path / 'a.yaml'}:1 "
        "(keys must be unique across all files)"
    )


def test_files_are_read_recursively_in_stable_order_and_empty_documents_skipped(tmp_path: Path) -> None:
    write(tmp_path / "z.yaml", "key: z\nmodel: m\n---\n---\nkey: y\nmodel: m\n")
    write(tmp_path / "a" / "deep" / "x.yml", "key: x\nmodel: m\n")
    write(tmp_path / "notes.txt", "key: ignored\n")
    write(tmp_path / ".hidden" / "h.yaml", "key: hidden\nmodel: m\n")
    write(tmp_path / "empty.yaml", "")
    assert [d.key for d in load_manifests([tmp_path])] == ["x", "z", "y"]


def test_instructions_file_and_parameters_file_are_read_relative_to_the_manifest(tmp_path: Path) -> None:
    write(tmp_path / "team" / "prompts" / "p.md", "Be brief.\nBe kind.\n")
    write(tmp_path / "team" / "schemas" / "args.yaml", "type: object\nproperties:\n  city: {type: string}\n")
    write(tmp_path / "team" / "bot.yaml", """
        key: bot
        model: m
        instructions_file: prompts/p.md
        tools:
          - type: function
            function: {name: f, parameters_file: schemas/args.yaml}
        """)
    [bot] = load_manifests([tmp_path])
    assert bot.request["instructions"] == "Be brief.\nBe kind.\n"
    assert bot.request["tools"][0]["function"] == {
        "name": "f", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}


@pytest.mark.parametrize(
    ("reference", "setup", "expected"),
    [
        pytest.param("missing.md", None, "instructions_file: missing.md: file not found", id="missing"),
        pytest.param("../outside.md", "outside", "resolves outside the manifests' root", id="dot-dot"),
        pytest.param("/etc/hostname", None, "must be a path relative to the manifest, not absolute", id="absolute"),
        pytest.param("link.md", "symlink", "resolves outside the manifests' root", id="symlink-out"),
        pytest.param("latin1.md", "latin1", "not UTF-8 text (invalid byte at offset 3)", id="not-utf8"),
        pytest.param("binary.md", "binary", "binary file (contains NUL bytes)", id="binary"),
        pytest.param("huge.md", "huge", "at most 1,024,000 can be valid", id="too-large"),
    ],
)
def test_bad_instructions_file_is_refused(tmp_path: Path, reference: str, setup: str | None, expected: str) -> None:
    root = tmp_path / "specs"
    write(root / "bot.yaml", f"key: bot\nmodel: m\ninstructions_file: {reference}\n")
    if setup == "outside":
        write(tmp_path / "outside.md", "secret")
    elif setup == "symlink":
        write(tmp_path / "outside.md", "secret")
        os.symlink(tmp_path / "outside.md", root / "link.md")
    elif setup == "latin1":
        (root / "latin1.md").write_bytes("caf\xe9".encode("latin-1"))
    elif setup == "binary":
        (root / "binary.md").write_bytes(b"ab\x00cd")
    elif setup == "huge":
        (root / "huge.md").write_bytes(b"x" * 1_100_000)
    [problem] = problems_of(root)
    assert problem.startswith(f"{root / 'bot.yaml'}:3: document 1 (key 'bot'): instructions_file: ")
    assert expected in problem


def test_missing_path_and_wrong_suffix_are_errors(tmp_path: Path) -> None:
    write(tmp_path / "bot.json", "{}")
    with pytest.raises(ManifestError) as caught:
        load_manifests([tmp_path / "nope", tmp_path / "bot.json"])
    assert [str(p) for p in caught.value.problems] == [
        f"{tmp_path / 'nope'}: no such file or directory",
        f"{tmp_path / 'bot.json'}: not a manifest: the file name must end in .yaml or .yml",
    ]


def test_validate_command_reports_every_problem_exits_1_and_sends_nothing_plan_and_apply_write_nothing(
    tmp_path: Path, env: EmulatorServer
) -> None:
    write(tmp_path / "a.yaml", "key: a\nmodel: m\ntemprature: 1\n")
    write(tmp_path / "b.yaml", "key: b\n")
    result = run("validate", str(tmp_path))
    assert result.exit_code == 1
    assert "2 problems in the manifests:" in result.stderr
    assert "temprature: unknown field" in result.stderr and "model: required field is missing" in result.stderr
    assert env.requests == []
    assert run("apply", str(tmp_path), "--auto-approve").exit_code == 1
    assert env.requests == []  # apply loads before anything is sent, its lock included
    # A plan lists while the manifests load: invalid input writes nothing (see test_listing.py).
    assert run("plan", str(tmp_path), "--detailed-exitcode").exit_code == 1
    assert all(r.method == "GET" for r in env.requests)


def test_validate_accepts_the_example_specs() -> None:
    result = run("validate", "specs")
    assert result.exit_code == 0, result.output
    assert result.stdout == "4 manifests valid.\n"


def _file_case(name: str, setup: Any, expected: str) -> Any:
    return pytest.param(setup, expected, id=name)


def _write_bytes(relative: str, data: bytes) -> Any:
    def setup(root: Path) -> None:
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_bytes(data)
    return setup


def _manifest_with(line: str, *extra: tuple[str, str]) -> Any:
    def setup(root: Path) -> None:
        write(root / "bot.yaml", f"key: bot\nmodel: m\n{line}\n")
        for relative, text in extra:
            target = root / relative if not relative.startswith("../") else root.parent / relative[3:]
            write(target, text)
    return setup


def _symlinked_parameters(root: Path) -> None:
    write(root.parent / "outside.json", "{}")
    write(root / "bot.yaml", "key: bot\nmodel: m\ntools:\n  - type: function\n    function: {name: f, parameters_file: p.json}\n")
    os.symlink(root.parent / "outside.json", root / "p.json")


FILE_CASES = [
    _file_case("manifest-not-utf8", _write_bytes("bot.yaml", "key: caf\xe9\n".encode("latin-1")), "not UTF-8 text"),
    _file_case("manifest-binary", _write_bytes("bot.yaml", b"key: a\x00\x01\x02"), "binary file (contains NUL bytes)"),
    _file_case("manifest-too-large", _write_bytes("bot.yaml", b"# " + b"x" * (4 * 1024 * 1024 + 10)), "can be valid"),
    _file_case("instructions-file-missing", _manifest_with("instructions_file: gone.md"), "instructions_file: gone.md: file not found"),
    _file_case("instructions-file-is-a-directory", _manifest_with("instructions_file: prompts", ("prompts/x.md", "x")), "prompts: not a regular file"),
    _file_case("instructions-file-dot-dot", _manifest_with("instructions_file: ../secret.md", ("../secret.md", "s")), "resolves outside the manifests' root"),
    _file_case("parameters-file-dot-dot", _manifest_with("tools:\n  - type: function\n    function: {name: f, parameters_file: ../p.json}", ("../p.json", "{}")), "tools[0].function.parameters_file: ../p.json: resolves outside"),
    _file_case("parameters-file-absolute", _manifest_with("tools:\n  - type: function\n    function: {name: f, parameters_file: /etc/passwd}"), "must be a path relative to the manifest, not absolute"),
    _file_case("parameters-file-symlink-out", _symlinked_parameters, "p.json: resolves outside the manifests' root"),
    _file_case("parameters-file-invalid-json", _manifest_with("tools:\n  - type: function\n    function: {name: f, parameters_file: p.json}", ("p.json", "{nope")), "p.json: not valid JSON or YAML"),
    _file_case("parameters-file-a-list", _manifest_with("tools:\n  - type: function\n    function: {name: f, parameters_file: p.yaml}", ("p.yaml", "- a\n")), "parameters must be a JSON Schema object (a mapping)"),
    _file_case("same-key-two-files", lambda root: (write(root / "a.yaml", "key: bot\nmodel: m\n"), write(root / "b.yaml", "key: bot\nmodel: m\n")), "duplicate key: already defined at"),
]


@pytest.mark.parametrize(("setup", "expected"), [
    *(pytest.param((lambda body: lambda root: write(root / "bot.yaml", body))(body), expected, id=name)
      for name, body, expected in RULES),
    *FILE_CASES,
])
def test_every_broken_input_exits_1_names_file_place_and_rule_and_writes_nothing(
    tmp_path: Path, env: EmulatorServer, setup: Any, expected: str
) -> None:
    root = tmp_path / "specs"
    root.mkdir()
    setup(root)
    result = run("plan", str(root))
    assert result.exit_code == 1
    assert expected in result.stderr, result.stderr
    problems = [line.strip() for line in result.stderr.splitlines()[1:]]
    assert problems and all(line.startswith(str(root)) for line in problems), problems
    assert all(r.method == "GET" for r in env.requests)  # listed meanwhile at most: invalid input writes nothing


def test_the_bad_input_table_has_at_least_40_cases() -> None:
    assert len(RULES) + len(FILE_CASES) >= 40


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



def test_loading_calls_between_files_once_a_file(tmp_path: Path) -> None:
    # A plan's listing in flight takes its turn there (ListingInFlight.give_way).
    for name in ("a", "b", "c"):
        write(tmp_path / f"{name}.yaml", f"key: {name}\nmodel: gpt-4o\n")
    write(tmp_path / "prompt.md", "Be brief.")  # not a manifest
    calls: list[None] = []
    loaded = load_manifests([tmp_path], between_files=lambda: calls.append(None))
    assert [d.key for d in loaded] == ["a", "b", "c"]
    assert len(calls) == 3
