"""render --format responses: manifests as Responses API requests."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .conftest import ROOT, run, write


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
        assert support["request"]["tools"] == [{"type": "file_search", "vector_store_ids": [],
                                                "max_num_results": 8, "ranking_options": {"score_threshold": 0.4}}]
        # A vector store named by key has no id before an apply: the note says where it goes.
        assert any("'product-docs' is named by key" in n for n in support["notes"])
        assert any("tool_resources have no request-level equivalent" in n for n in support["notes"])
        weather = json.loads((tmp_path / "out" / "weather.json").read_text())["request"]
        assert [t["name"] for t in weather["tools"]] == ["get_weather", "list_cities"]
        assert weather["tools"][1] == {"type": "function", "name": "list_cities",
                                       "description": "Cities the weather service knows.",
                                       "parameters": {"type": "object", "properties": {}}, "strict": False}
        assert "assistants-sync" not in json.dumps(weather)  # no ownership tags in application requests


@pytest.mark.parametrize(("fields", "note"), [
    pytest.param("name: Bot\n", "name has no Responses equivalent", id="one"),
    pytest.param("name: Bot\ndescription: Helps.\n", "name and description have no Responses equivalent", id="two"),
])
def test_render_notes_agree_in_number(tmp_path: Path, fields: str, note: str) -> None:
    write(tmp_path / "bot.yaml", "key: bot\nmodel: gpt-4o\n" + fields)
    result = run("render", "--format", "responses", str(tmp_path))
    assert result.exit_code == 0, result.output
    [written] = json.loads(result.stdout)["bot"]["notes"]
    assert written.startswith(note + ": a response is not a stored object")



SECRET = "sk-render-secret-0123456789"


@pytest.fixture
def secret_env(clean_env: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    clean_env.setenv("OPENAI_API_KEY", SECRET)
    return clean_env


def test_render_never_writes_a_secret_into_a_file(secret_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    write(tmp_path / "specs" / "bot.yaml", 'key: bot\nmodel: gpt-4o\ninstructions: "key is ${OPENAI_API_KEY}"\n')
    write(tmp_path / "specs" / "other.yaml", "key: other\nmodel: gpt-4o\n")
    out = tmp_path / "out"

    result = run("render", "--format", "responses", "specs", "--out", str(out))

    assert result.exit_code == 1
    assert result.stderr == (f"Error: not writing the Responses requests to {out}: the request of bot "
                             "(specs/bot.yaml:1) holds the API key or a header value, and a file never holds a "
                             "secret; take the secret out of the manifest. Nothing was written\n")
    assert not out.exists() or list(out.iterdir()) == []
    on_screen = run("render", "--format", "responses", "specs")
    assert on_screen.exit_code == 0 and SECRET not in on_screen.stdout and "key is ****" in on_screen.stdout


def test_render_refuses_to_overwrite_files_unless_forced(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    write(tmp_path / "specs" / "bot.yaml", "key: bot\nmodel: gpt-4o\n")
    write(tmp_path / "specs" / "other.yaml", "key: other\nmodel: gpt-4o\n")
    out = tmp_path / "out"
    edited = write(out / "bot.json", "my hand edit\n")

    refused = run("render", "--format", "responses", "specs", "--out", str(out))

    assert refused.exit_code == 1
    assert refused.stderr == (f"Error: render would overwrite 1 existing file: {edited}; nothing was written. "
                              "Pass --force to overwrite them, or choose another --out\n")
    assert sorted(p.name for p in out.iterdir()) == ["bot.json"] and edited.read_text() == "my hand edit\n"
    forced = run("render", "--format", "responses", "specs", "--out", str(out), "--force")
    assert forced.exit_code == 0, forced.output
    assert json.loads(edited.read_text())["request"] == {"model": "gpt-4o"}
    assert (out / "other.json").exists()


def test_render_of_no_manifest_is_an_error(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    result = run("render", "--format", "responses", "empty", "--out", str(tmp_path / "out"))
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: no assistant, agent, foundry agent or vector store manifests (*.yaml or *.yml files) in empty")
    assert not (tmp_path / "out").exists()


def test_render_names_the_manifests_it_cannot_render(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    write(tmp_path / "specs" / "bot.yaml", "key: bot\nmodel: gpt-4o\n")
    write(tmp_path / "agents" / "helper.yaml", "kind: agent\nkey: helper\nmodel: gpt-5\n")

    mixed = run("render", "--format", "responses", "specs", "agents")

    assert mixed.exit_code == 0, mixed.output
    assert list(json.loads(mixed.stdout)) == ["bot"]
    assert mixed.stderr == ("Warning: not rendered: agent helper (agents/helper.yaml:1): only assistant manifests "
                            "have a Responses form\n")
    only_agents = run("render", "--format", "responses", "agents", "--out", str(tmp_path / "out"))
    assert only_agents.exit_code == 1
    assert only_agents.stderr == ("Error: nothing to render: agent helper (agents/helper.yaml:1): only assistant "
                                  "manifests have a Responses form\n")
    assert not (tmp_path / "out").exists()


def test_render_treats_the_project_files_header_values_as_secrets(clean_env: pytest.MonkeyPatch,
                                                                   tmp_path: Path) -> None:
    gateway = "gw-render-5e1d9c7a3b"
    write(tmp_path / "assistants-sync.yaml", f"headers:\n  X-Gateway-Key: {gateway}\n")
    write(tmp_path / "specs" / "bot.yaml", f"key: bot\nmodel: gpt-4o\ninstructions: send {gateway}\n")
    on_screen = run("render", "--format", "responses", "specs")
    assert on_screen.exit_code == 0 and gateway not in on_screen.stdout
    to_files = run("render", "--format", "responses", "specs", "--out", "out")
    assert to_files.exit_code == 1 and "the request of bot (specs/bot.yaml:1) holds" in to_files.stderr
    assert not (tmp_path / "out").exists()
