"""Messages read right: no repeated lines, singular and plural, -v anywhere, whole URLs in logs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistants_sync.emulator import EmulatorServer

from .conftest import API_KEY, run, write


@pytest.fixture
def one_applied(env: EmulatorServer, tmp_path: Path) -> Path:
    specs = write(tmp_path / "specs" / "bot.yaml", "key: bot\nmodel: gpt-4o\n").parent
    assert run("apply", "--auto-approve", str(specs)).exit_code == 0
    return specs


def test_an_empty_drift_report_says_no_drift_once(one_applied: Path, env: EmulatorServer) -> None:
    result = run("drift", str(one_applied))
    assert result.exit_code == 0
    assert result.stdout == (f'Stack "default" at {env.base_url}\n\n'
                             "The 1 managed assistant is as last applied.\n\nNo drift.\n")
    markdown = run("drift", str(one_applied), "--format", "markdown").stdout
    assert markdown.count("No drift.") == 1


def test_one_managed_assistant_matches(one_applied: Path) -> None:
    result = run("plan", str(one_applied))
    assert "No changes. The 1 managed assistant matches the manifests.\n" in result.stdout


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


def test_verbose_logs_the_query_string_of_every_request(env: EmulatorServer, tmp_path: Path) -> None:
    for number in range(101):
        env.store.create({"model": "gpt-4o", "name": f"legacy {number}"})
    last_of_page_one = env.store.list(limit=100, order="asc")["last_id"]
    write(tmp_path / "bot.yaml", "key: bot\nmodel: gpt-4o\n")
    result = run("plan", str(tmp_path), "-v", "--api-version", "2024-05-01-preview")
    assert result.exit_code == 0, result.output
    logged = [line.split(": ", 1)[1] for line in result.stderr.splitlines() if " GET " in f" {line}"]
    assert [line.split(" -> ")[0] for line in logged] == [
        f"GET {env.base_url}/assistants?api-version=2024-05-01-preview&limit=100&order=asc",
        f"GET {env.base_url}/assistants?api-version=2024-05-01-preview&limit=100&order=asc&after={last_of_page_one}",
    ]
    assert API_KEY not in result.output


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


def test_a_one_line_text_block_is_one_line(env: EmulatorServer, tmp_path: Path) -> None:
    write(tmp_path / "bot.yaml", "key: bot\nmodel: gpt-4o\ninstructions: |\n  Be brief.\n")
    assert "      instructions: (1 line)\n        | Be brief.\n" in run("plan", str(tmp_path)).stdout
