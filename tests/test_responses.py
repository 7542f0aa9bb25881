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
        assert support["request"]["tools"] == [{"type": "file_search", "vector_store_ids": ["vs_product_docs"],
                                                "max_num_results": 8, "ranking_options": {"score_threshold": 0.4}}]
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

