"""A secret never appears: servers that echo the key or a header value, through the CLI.

The loopback server below echoes the credentials it receives into error messages (as
gateways and self-hosted servers do), into a 5xx that is retried, and into the fields of
a listed assistant. Nothing the tool prints, logs or saves may show the key or a header
value, whole or as a prefix or suffix of 8 or more characters.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import Result

from assistants_sync.emulator import Faults, running_emulator
from assistants_sync.redact import Redactor

from .conftest import one_bot, run, write
from .loopback import Request, error_answer, listing, loopback_server, serving_locks


KEY = "sk-proj-Q7vW2mZx9LkT4rHs8NdBfY3c"
GATEWAY = "gw-7f3a9c1e5b2d8046aa"
SECRETS = (KEY, GATEWAY)


def assert_hidden(*texts: str) -> None:
    for text in texts:
        for secret in SECRETS:
            assert secret[:8] not in text and secret[-8:] not in text, text


def shown(result: Result) -> str:
    return result.stdout + result.stderr


def echoed(request: Request) -> str:
    """What a careless server says back: everything it was given, and cut-down forms."""
    key = request.headers.get("authorization", "").removeprefix("Bearer ")
    gateway = request.headers.get("x-gateway-key", "")
    return (f"Incorrect API key provided: {key}. Gateway key {gateway!r}; "
            f"did you mean {key[:12]}... or ...{key[-10:]} or {gateway[:9]}?")


def managed_assistant(request: Request) -> dict[str, object]:
    return {"id": "asst_echo", "object": "assistant", "created_at": 1, "model": "gpt-4o",
            "name": f"bot {echoed(request)}", "description": None, "instructions": echoed(request),
            "tools": [], "metadata": {"assistants-sync": "default/bot", "note": echoed(request)},
            "temperature": None, "top_p": None, "response_format": "auto", "tool_resources": {}}


@pytest.fixture
def specs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return one_bot(tmp_path, monkeypatch, KEY)


@pytest.fixture(autouse=True)
def no_leftover_log_handlers() -> Iterator[None]:
    """-v adds a handler to the package logger; take it away again after each test."""
    logger = logging.getLogger("assistants_sync")
    before = list(logger.handlers)
    yield
    for handler in logger.handlers[len(before):]:
        logger.removeHandler(handler)
    logger.setLevel(logging.NOTSET)


def test_a_401_that_echoes_the_key_and_a_header_is_masked(specs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with loopback_server(lambda request: error_answer(401, echoed(request))) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        result = run("plan", str(specs), "--header", f"X-Gateway-Key: {GATEWAY}")

    assert result.exit_code == 1
    assert server.requests[0].headers["x-gateway-key"] == GATEWAY  # it was sent, and echoed
    assert "HTTP 401: Incorrect API key provided: ****. Gateway key '****'" in result.stderr
    assert_hidden(shown(result))


def test_a_header_from_the_project_file_is_masked_too(specs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(specs.parent / "assistants-sync.yaml", f"headers:\n  X-Gateway-Key: {GATEWAY}\n")
    with loopback_server(lambda request: error_answer(400, echoed(request))) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        result = run("plan", str(specs))

    assert result.exit_code == 1
    assert server.requests[0].headers["x-gateway-key"] == GATEWAY
    assert "Gateway key '****'" in result.stderr
    assert_hidden(shown(result))


def test_a_retried_5xx_echoing_the_key_is_masked_in_the_log_and_the_error(
        specs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with loopback_server(lambda request: error_answer(500, echoed(request))) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        result = run("-v", "plan", str(specs), "--max-attempts", "2")

    assert result.exit_code == 1
    assert len(server.requests) == 2
    assert "attempt 1 failed (listing assistants failed: HTTP 500: Incorrect API key provided: ****" in result.stderr
    assert "(gave up after 2 attempts" in result.stderr
    assert_hidden(shown(result))


def test_a_key_echoed_into_a_listed_assistant_never_reaches_the_plan_or_the_plan_file(
        specs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with loopback_server(lambda request: listing(managed_assistant(request))) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        text = run("-v", "plan", str(specs), "--header", f"X-Gateway-Key: {GATEWAY}", "--out", "plan.json")
        as_json = run("plan", str(specs), "--header", f"X-Gateway-Key: {GATEWAY}", "--format", "json")
        markdown = run("plan", str(specs), "--header", f"X-Gateway-Key: {GATEWAY}", "--format", "markdown")

    assert text.exit_code == as_json.exit_code == markdown.exit_code == 0, shown(text)
    saved = Path("plan.json").read_text(encoding="utf-8")
    assert "~ bot (asst_echo)" in text.stdout
    assert "Incorrect API key provided: ****" in text.stdout  # the field is shown, masked
    before = json.loads(as_json.stdout)["changes"][0]["fields"]["instructions"]["before"]
    assert before.startswith("Incorrect API key provided: ****. Gateway key '****'")  # still valid JSON
    assert json.loads(saved)["changes"][0]["assistant_id"] == "asst_echo"
    assert_hidden(shown(text), shown(as_json), shown(markdown), saved)


def test_an_apply_whose_writes_fail_with_the_key_echoed_is_masked(
        specs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def script(request: Request) -> tuple[int, str, bytes]:
        if request.method == "GET":
            return listing(managed_assistant(request))
        return error_answer(400, echoed(request))

    with loopback_server(serving_locks(script)) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        result = run("-v", "apply", str(specs), "--auto-approve", "--header", f"X-Gateway-Key: {GATEWAY}")

    assert result.exit_code == 1
    assert [r.method for r in server.requests if r.path.startswith("/v1/assistants/asst_echo")] == ["POST"]
    assert "update FAILED: modifying asst_echo failed: HTTP 400: Incorrect API key provided: ****" in result.stdout
    assert_hidden(shown(result))


def test_a_plan_that_would_save_a_secret_from_a_manifest_is_refused(
        specs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(specs / "bot.yaml", "key: bot\nmodel: gpt-4o\ninstructions: 'Use ${OPENAI_API_KEY}'\n")
    with loopback_server(lambda request: listing()) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        result = run("plan", str(specs), "--out", "plan.json")

    assert result.exit_code == 1
    assert "not saving the plan to plan.json: a manifest value holds the API key or a header value" in result.stderr
    assert not Path("plan.json").exists()
    assert 'instructions: "Use ****"' in result.stdout
    assert_hidden(shown(result))


def test_a_connection_error_before_any_answer_names_no_secret(specs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", f"http://127.0.0.1:1/{KEY}")
    result = run("plan", str(specs))
    assert result.exit_code == 1
    assert "cannot reach http://127.0.0.1:1/**** (ConnectError" in result.stderr
    assert_hidden(shown(result))


@pytest.mark.parametrize(("text", "masked"), [
    (f"key={KEY};", "key=****;"),
    (f"{KEY[:8]} and {KEY[-8:]}", "**** and ****"),  # 8 characters of either end count
    (f"{KEY[:7]} and {KEY[-7:]}", f"{KEY[:7]} and {KEY[-7:]}"),  # fewer do not
    (f"{KEY[3:20]}", f"{KEY[3:20]}"),  # nor a piece from the middle
    (f"{KEY}{KEY}x", "****x"),
    ("pin 4711, 47110, 14711, x-4711", "pin ****, 47110, 14711, x-4711"),  # a short secret: whole, alone
])
def test_what_is_masked(text: str, masked: str) -> None:
    assert Redactor([KEY, "4711"]).mask(text) == masked


def test_a_secret_added_later_is_masked_from_then_on() -> None:
    redactor = Redactor([KEY])
    token = "eyJ0eXAiOiJKV1QiLCJhbGciOi.token"
    assert redactor.mask(token) == token
    redactor.add(token)
    assert redactor.mask(f"Bearer {token}") == "Bearer ****"


def test_export_writes_no_secret_a_server_stored_in_an_assistant(specs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def script(request: Request) -> tuple[int, str, bytes]:
        unmanaged = {**managed_assistant(request), "id": "asst_loose", "metadata": {}, "name": "Loose"}
        long_prompt = {**unmanaged, "id": "asst_long", "name": "Long", "instructions": "line\n" + echoed(request)}
        if not request.path.split("?")[0].endswith("/assistants"):
            return listing()  # no agents, vector stores or files
        return listing(managed_assistant(request), unmanaged, long_prompt)

    with loopback_server(script) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        managed = run("export", "--out", "managed", "--header", f"X-Gateway-Key: {GATEWAY}")
        loose = run("export", "--unmanaged", "--out", "loose", "--header", f"X-Gateway-Key: {GATEWAY}")

    # The managed one's metadata holds the key: metadata cannot be left out, so nothing is written.
    assert managed.exit_code == 1 and not Path("managed").exists()
    assert 'managed/bot.yaml (asst_echo): metadata["note"] holds the API key or a header value' in managed.stderr
    # The unmanaged ones' instructions hold it: left out, to ignore_changes, never written as the mask.
    assert loose.exit_code == 0, shown(loose)
    files = sorted(p for p in Path("loose").rglob("*") if p.is_file())
    assert [p.name for p in files] == ["long.yaml", "loose.yaml"]  # no instructions file for long
    contents = [p.read_text(encoding="utf-8") for p in files]
    assert all("ignore_changes:\n- instructions\n" in text and "****" not in text for text in contents)
    assert_hidden(shown(managed), shown(loose), *contents)


def test_a_bearer_token_echoed_by_a_foundry_endpoint_is_masked(specs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    token = "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.secret-part-of-the-token.signature-bits"

    def answer(request: Request) -> tuple[int, str, bytes]:
        return error_answer(400, f"bad request from {request.headers.get('authorization', '')}")

    with loopback_server(answer) as server:
        monkeypatch.setenv("AZURE_AI_TOKEN", token)
        endpoint = f"http://127.0.0.1:{server.port}/api/projects/sales"
        result = run("plan", str(specs), "--provider", "foundry", "--base-url", endpoint)

    assert result.exit_code == 1
    assert server.requests[0].headers["authorization"] == f"Bearer {token}"  # sent, and echoed back
    assert "bad request from Bearer ****" in result.stderr
    assert token[:8] not in shown(result) and token[-8:] not in shown(result)


def test_a_token_from_the_credential_chain_echoed_by_the_server_is_masked(
        specs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from types import SimpleNamespace

    from assistants_sync.actual import auth

    token = "credential-chain-token-0123456789abcdef"
    credential = SimpleNamespace(get_token=lambda scope: SimpleNamespace(token=token, expires_on=4_000_000_000))
    monkeypatch.setattr(auth, "default_credential", lambda: credential)
    monkeypatch.delenv("AZURE_AI_TOKEN", raising=False)

    def answer(request: Request) -> tuple[int, str, bytes]:
        return error_answer(400, f"bad request from {request.headers.get('authorization', '')}")

    with loopback_server(answer) as server:
        endpoint = f"http://127.0.0.1:{server.port}/api/projects/sales"
        result = run("plan", str(specs), "--provider", "foundry", "--base-url", endpoint)

    assert result.exit_code == 1
    assert server.requests[0].headers["authorization"] == f"Bearer {token}"
    assert "bad request from Bearer ****" in result.stderr
    assert token[:8] not in shown(result) and token[-8:] not in shown(result)


def manifests(root: Path, count: int, **fields: str) -> Path:
    for i in range(count):
        extra = "".join(f"{k}: {v}\n" for k, v in fields.items())
        write(root / f"bot-{i:03d}.yaml", f"key: bot-{i:03d}\nmodel: gpt-4o\n{extra}")
    return root


def test_the_api_key_never_appears_anywhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    canary = "sk-CANARY-7d1f0c9e2b"
    outputs: list[str] = []

    def cli(*args: str) -> None:
        result = run(*args)
        outputs.append(result.output)

    specs = manifests(tmp_path / "specs", 3, temperature="0.5")
    write(tmp_path / "bad" / "bad.yaml", "key: Bad\n")
    monkeypatch.setenv("OPENAI_API_KEY", canary)
    with running_emulator(api_key=canary, faults=Faults(error_rate=0.3, seed=11)) as emulator:
        monkeypatch.setenv("OPENAI_BASE_URL", emulator.base_url)
        cli("--verbose", "plan", str(specs), "--out", str(tmp_path / "plan.json"))
        cli("--verbose", "apply", "--plan", str(tmp_path / "plan.json"))
        cli("--verbose", "apply", "--auto-approve", str(specs))
        cli("--verbose", "drift", str(specs), "--format", "json")
        cli("--verbose", "export", "--out", str(tmp_path / "exported"))
        cli("--verbose", "plan", str(tmp_path / "bad"))
        cli("--verbose", "apply", "--plan", str(tmp_path / "plan.json"))  # stale now
        emulator.faults = Faults(error_rate=1.0, seed=1, retry_after_ms=1)
        cli("--verbose", "plan", str(specs), "--max-attempts", "2")
        emulator.faults = Faults(malformed_rate=1.0, seed=1)
        cli("--verbose", "apply", "--auto-approve", str(specs), "--max-attempts", "2")
    cli("--verbose", "plan", str(specs), "--max-attempts", "2")  # the endpoint is gone: connection refused
    monkeypatch.setenv("OPENAI_API_KEY", canary + "-wrong")
    with running_emulator(api_key=canary) as emulator:
        monkeypatch.setenv("OPENAI_BASE_URL", emulator.base_url)
        cli("--verbose", "plan", str(specs))  # 401
    assert len(outputs) == 11 and all(outputs)
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert len(files) > 5
    for text in [*outputs, *(p.read_text(errors="replace") for p in files)]:
        assert canary not in text

