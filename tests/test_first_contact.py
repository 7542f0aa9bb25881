"""How the client treats an endpoint it cannot reach, or one that answers garbage.

Before the endpoint has answered once, a refused connection or an unknown host is a
wrong address: the CLI fails at once, naming it. After it has answered, the same error
in the middle of an apply is a passing fault and is retried. A non-JSON answer from an
endpoint that has answered JSON before says what came back, once.
"""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from assistants_sync.actual.client import AssistantsClient, Endpoint
from assistants_sync.errors import RemoteError

from .conftest import run, write
from .loopback import LoopbackServer, Request, json_answer, listing, loopback_server, serving_locks

KEY = "sk-test-first-contact"


@pytest.fixture
def specs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in ("ASSISTANTS_SYNC_STACK", "OPENAI_ORG_ID", "OPENAI_PROJECT_ID", "NO_COLOR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    write(tmp_path / "specs" / "bot.yaml", "key: bot\nmodel: gpt-4o\nname: Bot\ninstructions: Be brief.\n")
    return tmp_path / "specs"


@pytest.fixture
def client_log() -> Iterator[list[logging.LogRecord]]:
    """The client's debug records, as they happen (the package logger set to DEBUG meanwhile)."""
    records: list[logging.LogRecord] = []
    handler = logging.Handler(logging.DEBUG)
    handler.emit = records.append  # type: ignore[method-assign]
    logger = logging.getLogger("assistants_sync")
    before, level = list(logger.handlers), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    yield records
    for added in logger.handlers[len(before):]:
        logger.removeHandler(added)
    logger.setLevel(level)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # nothing listens here once closed


def test_a_refused_connection_at_first_contact_fails_at_once_naming_the_endpoint(
        specs: Path, monkeypatch: pytest.MonkeyPatch, client_log: list[logging.LogRecord]) -> None:
    url = f"http://127.0.0.1:{closed_port()}/v1"
    monkeypatch.setenv("OPENAI_BASE_URL", url)
    started = time.monotonic()
    result = run("plan", str(specs))

    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: listing assistants: cannot reach {url} (ConnectError: ")
    assert result.stderr.rstrip().endswith("check the base URL and your network")
    attempts = [r for r in client_log if r.getMessage() == f"GET {url}/assistants?limit=100&order=asc: ConnectError"]
    assert len(attempts) == 1  # not retried: the endpoint never answered
    assert time.monotonic() - started < 10


def test_a_refused_connection_after_the_endpoint_answered_is_retried(
        specs: Path, monkeypatch: pytest.MonkeyPatch, client_log: list[logging.LogRecord]) -> None:
    def script(request: Request) -> tuple[int, str, bytes]:
        if request.method == "GET":
            return listing()
        return json_answer(200, {"id": "asst_new", "object": "assistant", **(request.body or {})})

    class Restarter(logging.Handler):
        """Stops listening once the plan's listing is answered (the lock's comes first); listens
        again after a refused create."""

        def __init__(self, server: LoopbackServer) -> None:
            super().__init__(logging.DEBUG)
            self.server = server
            self.listed = 0
            self.refused = 0

        def emit(self, record: logging.LogRecord) -> None:
            message = record.getMessage()
            if message.startswith("GET ") and "-> 200" in message:
                self.listed += 1
                if self.listed == 2:
                    self.server.stop()
            elif message.startswith("POST ") and message.endswith("/assistants: ConnectError"):
                self.refused += 1
                self.server.start()

    with loopback_server(serving_locks(script)) as server:
        restarter = Restarter(server)
        logging.getLogger("assistants_sync").addHandler(restarter)
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        result = run("apply", str(specs), "--auto-approve")

    assert result.exit_code == 0, result.output
    assert restarter.refused == 1  # the create was refused once, mid-run, and retried
    assert "+ bot: created asst_new" in result.stdout
    assert "Apply complete: 1 created, 0 updated, 0 deleted (1 request retried)." in result.stdout


def test_garbage_from_an_endpoint_that_answered_json_says_what_came_back_once(
        specs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    page = b"<html><body><h1>502 Bad Gateway</h1> upstream reset</body></html>"

    def script(request: Request) -> tuple[int, str, bytes]:
        if request.method == "GET":
            return listing({"id": "asst_1", "object": "assistant", "created_at": 1, "model": "gpt-4o",
                            "name": "Bot", "instructions": "Be long.", "tools": [],
                            "metadata": {"assistants-sync": "default/bot"}})
        return 200, "text/html; charset=utf-8", page

    with loopback_server(serving_locks(script)) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        result = run("apply", str(specs), "--auto-approve")

    output = result.stdout + result.stderr
    assert result.exit_code == 1
    said = (f"modifying asst_1: {server.base_url} answered HTTP 200 with {len(page)} bytes of text/html, not JSON: "
            "'<html><body><h1>502 Bad Gateway</h1> upstream reset</body></html>'")
    assert said in result.stdout
    assert output.count("not JSON") == 1  # printed once, not again in the summary
    assert "is the base URL an Assistants API?" not in output
    assert "  ! bot (update)\n" in result.stdout  # the summary still names the failed change


def test_garbage_at_first_contact_still_asks_about_the_base_url(
        specs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with loopback_server(lambda request: (200, "text/html", b"<html>welcome</html>")) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        result = run("plan", str(specs))

    assert result.exit_code == 1
    assert result.stderr == (f"Error: listing assistants: {server.base_url} answered HTTP 200 with 20 bytes of "
                             "text/html, not JSON; is the base URL an Assistants API?\n")


def test_an_unknown_host_at_first_contact_is_not_retried() -> None:
    attempts: list[httpx.Request] = []

    def unknown_host(request: httpx.Request) -> httpx.Response:
        attempts.append(request)
        raise httpx.ConnectError("[Errno -2] Name or service not known", request=request)

    endpoint = Endpoint(base_url="https://assistants.example.invalid/v1", api_key=KEY)
    with AssistantsClient(endpoint, transport=httpx.MockTransport(unknown_host)) as client:
        with pytest.raises(RemoteError, match=r"^listing assistants: cannot reach https://assistants.example.invalid/v1 "
                                              r"\(ConnectError: \[Errno -2\] Name or service not known\)"):
            client.list_assistants()
    assert len(attempts) == 1
