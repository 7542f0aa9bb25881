"""AssistantsClient over real loopback HTTP against the emulator (and a MockTransport for broken servers)."""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from assistants_sync.actual.auth import BearerTokens
from assistants_sync.actual.client import FOUNDRY_AGENTS_COLLECTION, AssistantsClient, Endpoint
from assistants_sync.actual.retry import RetryPolicy
from assistants_sync.emulator import EmulatorServer, running_emulator
from assistants_sync.errors import ApiError, BadResponseError, ConfigError, RemoteError
from assistants_sync.kinds.assistant import ASSISTANT
from assistants_sync.planning.reconcile import plan_from_manifests

from .conftest import API_KEY, KIND_PATHS, one_bot, run, write
from .loopback import LoopbackServer, Request, json_answer, listing, loopback_server, serving_locks


FAST = RetryPolicy(max_attempts=3, base_delay=0.001, max_delay=0.01)


def client_for(emulator: EmulatorServer, **endpoint: Any) -> AssistantsClient:
    return AssistantsClient(Endpoint(**{"base_url": emulator.base_url, "api_key": API_KEY, **endpoint}))


def test_every_request_carries_auth_beta_organization_and_project(emulator: EmulatorServer) -> None:
    with client_for(emulator, organization="org-1", project="proj-1") as client:
        created = ASSISTANT.create(client, {"model": "gpt-4o"})
        ASSISTANT.update(client, created["id"], {"name": "n"})
        ASSISTANT.list(client)
        ASSISTANT.delete(client, created["id"])
    assert [r.method for r in emulator.requests] == ["POST", "POST", "GET", "DELETE"]
    for request in emulator.requests:
        assert request.headers["authorization"] == f"Bearer {API_KEY}"
        assert request.headers["openai-beta"] == "assistants=v2"
        assert request.headers["openai-organization"] == "org-1"
        assert request.headers["openai-project"] == "proj-1"


def test_listing_follows_the_cursor_100_at_a_time(emulator: EmulatorServer) -> None:
    ids = [emulator.store.create({"model": "gpt-4o"})["id"] for _ in range(251)]
    with client_for(emulator) as client:
        listed = ASSISTANT.list(client)
    assert [a["id"] for a in listed] == ids
    pages = [r.query for r in emulator.requests]
    assert pages == [
        {"limit": "100", "order": "asc"},
        {"limit": "100", "order": "asc", "after": ids[99]},
        {"limit": "100", "order": "asc", "after": ids[199]},
    ]


def test_a_listing_tells_its_watch_of_each_request_on_the_wire_and_of_each_answer(emulator: EmulatorServer) -> None:
    for _ in range(201):
        emulator.store.create({"model": "gpt-4o"})
    told: list[str] = []

    class Watch:
        def sent(self) -> None:
            told.append("sent")

        def answered(self) -> None:
            told.append(f"answered {len(emulator.requests)}")  # the server has recorded the request it answers

    with client_for(emulator) as client:
        pages = list(client.list_pages("assistants", "assistants", watch=Watch()))
    assert [len(page) for page in pages] == [100, 100, 1]
    assert told == ["sent", "answered 1", "sent", "answered 2", "sent", "answered 3"]


def test_wrong_key_says_to_check_the_key_and_never_shows_it(emulator: EmulatorServer) -> None:
    secret = "sk-wrong-5d1e9a"
    with AssistantsClient(Endpoint(base_url=emulator.base_url, api_key=secret)) as client:
        with pytest.raises(ApiError) as caught:
            ASSISTANT.list(client)
    message = str(caught.value)
    assert message.startswith("listing assistants failed: HTTP 401: Incorrect API key provided.")
    assert "Check the API key (OPENAI_API_KEY)" in message
    assert secret not in message and secret not in repr(caught.value.__cause__)


def test_wrong_base_url_on_list_says_to_check_the_base_url(emulator: EmulatorServer) -> None:
    with client_for(emulator, base_url=emulator.base_url.removesuffix("/v1") + "/api") as client:
        with pytest.raises(ApiError) as caught:
            ASSISTANT.list(client)
    assert caught.value.status == 404
    assert "Check the base URL (--base-url / OPENAI_BASE_URL)" in str(caught.value)


def test_modify_of_a_vanished_assistant_says_so(emulator: EmulatorServer) -> None:
    with client_for(emulator) as client, pytest.raises(ApiError) as caught:
        ASSISTANT.update(client, "asst_gone", {"name": "x"})
    assert "No assistant found with id 'asst_gone'." in str(caught.value)
    assert "deleted outside assistants-sync" in str(caught.value)


def test_unreachable_endpoint_is_a_clear_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens here once closed
    with AssistantsClient(Endpoint(base_url=f"http://127.0.0.1:{port}/v1", api_key=API_KEY), retry=FAST) as client:
        with pytest.raises(RemoteError, match=rf"cannot reach http://127.0.0.1:{port}/v1 \(ConnectError.*"
                                              r"check the base URL and your network$"):
            ASSISTANT.list(client)
        assert client.stats.requests == 1  # never answered: a wrong address, not retried


def mock_client(handler: Any) -> AssistantsClient:
    return AssistantsClient(Endpoint(api_key=API_KEY), transport=httpx.MockTransport(handler), retry=FAST)


def test_an_html_page_from_a_proxy_is_reported_not_parsed() -> None:
    client = mock_client(lambda request: httpx.Response(200, html="<html>Gateway</html>"))
    with pytest.raises(BadResponseError, match="answered HTTP 200 with 20 bytes of text/html, not JSON"):
        ASSISTANT.list(client)


def test_an_error_without_the_api_error_shape_still_reads_well() -> None:
    client = mock_client(lambda request: httpx.Response(502, text="Bad Gateway"))
    with pytest.raises(ApiError) as caught:
        ASSISTANT.list(client)
    assert str(caught.value).startswith("listing assistants (gave up after 3 attempts in ")
    assert "HTTP 502: (no API error message; the body was 11 bytes of text/plain)" in str(caught.value)


def test_a_cursor_that_repeats_is_reported_instead_of_looping() -> None:
    page = {"object": "list", "data": [{"id": "asst_1"}], "first_id": "asst_1", "last_id": "asst_1", "has_more": True}
    client = mock_client(lambda request: httpx.Response(200, json=page))
    with pytest.raises(BadResponseError, match="returned the page after 'asst_1' twice"):
        ASSISTANT.list(client)


def test_endpoint_identity_and_repr_hide_credentials() -> None:
    endpoint = Endpoint(base_url="https://user:pw@gw.example.com/v1/?token=t", api_key="sk-secret", project="p")
    assert endpoint.identity == "https://gw.example.com/v1 project=p"
    assert "sk-secret" not in repr(endpoint) and "pw" not in endpoint.identity
    with pytest.raises(ConfigError, match="must start with http:// or https://"):
        Endpoint(base_url="api.openai.com/v1")


class TestStrangeAnswers:
    def client(self, handler: Any, **kwargs: Any) -> AssistantsClient:
        return AssistantsClient(Endpoint(api_key=API_KEY), transport=httpx.MockTransport(handler), retry=FAST, **kwargs)

    def test_unknown_extra_fields_are_ignored(self) -> None:
        assistant = {"id": "asst_1", "object": "assistant", "created_at": 1, "model": "m", "tools": [],
                     "metadata": {"assistants-sync": "default/bot"}, "brand_new_field": {"x": 1}}
        page = {"object": "list", "data": [assistant], "has_more": False, "extra": True}
        listed = ASSISTANT.list(self.client(lambda r: httpx.Response(200, json=page)))
        assert listed[0]["brand_new_field"] == {"x": 1}

    def test_a_malformed_assistant_is_reported_not_a_crash(self, tmp_path: Path) -> None:
        page = {"object": "list", "data": [{"id": "asst_1", "model": "m", "tools": "code_interpreter",
                                            "metadata": {"assistants-sync": "default/bot"}}], "has_more": False}
        client = self.client(lambda r: httpx.Response(200, json=page))
        write(tmp_path / "bot.yaml", "key: bot\nmodel: m\n")
        with pytest.raises(BadResponseError, match="listed assistant 'asst_1' with a malformed field"):
            plan_from_manifests([tmp_path], client, "default")

    def test_a_listing_whose_has_more_never_ends_is_bounded(self) -> None:
        counter = iter(range(10**9))

        def endless(request: httpx.Request) -> httpx.Response:
            return httpx.Response(200, json={"object": "list", "data": [{"id": f"asst_{next(counter)}"}],
                                             "has_more": True})

        with pytest.raises(BadResponseError, match="more than 50 pages; the server never said has_more=false"):
            ASSISTANT.list(self.client(endless, max_pages=50))

    def test_an_answer_without_data_is_reported(self) -> None:
        client = self.client(lambda r: httpx.Response(200, json={"object": "list"}))
        with pytest.raises(BadResponseError, match="has no valid 'data' list"):
            ASSISTANT.list(client)


def test_plain_http_to_another_host_warns_before_anything_is_sent(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", API_KEY)
    write(tmp_path / "bad.yaml", "key: bot\n")  # invalid: nothing will be sent anywhere
    result = run("plan", str(tmp_path), "--base-url", "http://gateway.example.com/v1")
    assert result.exit_code == 1
    assert "Warning: sending the API key over plain http:// to gateway.example.com" in result.stderr
    assert Endpoint("http://127.0.0.1:9/v1", api_key="k").plain_http_warning() is None
    assert Endpoint("https://gateway.example.com/v1", api_key="k").plain_http_warning() is None


def test_verbose_logs_requests_but_never_headers(env: EmulatorServer, example_specs: Path) -> None:
    result = run("--verbose", "plan", str(example_specs))
    assert result.exit_code == 0
    assert "GET /v1/assistants?limit=100&order=asc -> 200 in " in result.stderr.replace(env.base_url.removesuffix("/v1"), "")
    assert API_KEY not in result.output and "Bearer" not in result.output


KEY = "sk-test-first-contact"


@pytest.fixture
def specs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return one_bot(tmp_path, monkeypatch, KEY)


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
            return listing()  # the assistants, and (empty) agents, vector stores and files
        return json_answer(200, {"id": "asst_new", "object": "assistant", **(request.body or {})})

    class Restarter(logging.Handler):
        """Stops listening once the plan's listings are answered (the lock's comes first); listens
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
                if self.listed == 1 + len(KIND_PATHS):  # the lock's, and the plan's of each kind
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
        if request.method == "GET" and not request.path.split("?")[0].endswith("/assistants"):
            return listing()
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
            ASSISTANT.list(client)
    assert len(attempts) == 1


AZURE_KEY = "azure-key-51c0ffee"


PORTKEY = {"x-portkey-api-key": "pk-live-0a1b2c", "x-portkey-virtual-key": "vk-openai-77"}


def cycle(*args: str) -> None:
    """plan -> apply -> plan against whatever the environment points at; the last plan must be empty."""
    first = run("plan", *args)
    assert first.exit_code == 0, first.output
    assert "Plan: 7 to create" in first.stdout
    applied = run("apply", "--auto-approve", *args)
    assert applied.exit_code == 0, applied.output
    again = run("plan", "--detailed-exitcode", *args)
    assert again.exit_code == 0, again.output


class TestProviders:
    def test_azure_with_an_api_key(self, clean_env: pytest.MonkeyPatch, example_specs: Path) -> None:
        with running_emulator(api_key=AZURE_KEY) as emulator:
            clean_env.setenv("AZURE_OPENAI_ENDPOINT", emulator.root_url)
            clean_env.setenv("AZURE_OPENAI_API_KEY", AZURE_KEY)
            clean_env.setenv("OPENAI_API_VERSION", "2024-05-01-preview")
            cycle("--provider", "azure", str(example_specs))
            assert len(emulator.store) == 3
            for request in emulator.requests:
                assert request.path.startswith(tuple(f"/openai/{p}" for p in KIND_PATHS))
                assert request.query["api-version"] == "2024-05-01-preview"
                assert request.headers["api-key"] == AZURE_KEY and "authorization" not in request.headers

    def test_azure_with_an_entra_token(self, clean_env: pytest.MonkeyPatch, example_specs: Path) -> None:
        with running_emulator(api_key="entra-token-9") as emulator:
            clean_env.setenv("AZURE_OPENAI_ENDPOINT", emulator.root_url)
            clean_env.setenv("AZURE_OPENAI_AD_TOKEN", "entra-token-9")
            clean_env.setenv("OPENAI_API_VERSION", "2024-05-01-preview")
            cycle("--provider", "azure", str(example_specs))
            assert {r.headers["authorization"] for r in emulator.requests} == {"Bearer entra-token-9"}

    def test_azure_without_api_version_or_key_is_a_clear_error(self, clean_env: pytest.MonkeyPatch,
                                                               example_specs: Path) -> None:
        clean_env.setenv("AZURE_OPENAI_ENDPOINT", "https://res.openai.azure.com")
        clean_env.setenv("AZURE_OPENAI_API_KEY", AZURE_KEY)
        result = run("plan", "--provider", "azure", str(example_specs))
        assert result.exit_code == 1 and "Azure needs an API version: set OPENAI_API_VERSION" in result.stderr
        clean_env.delenv("AZURE_OPENAI_API_KEY")
        result = run("plan", "--provider", "azure", "--api-version", "2024-05-01-preview", str(example_specs))
        assert result.exit_code == 1 and "AZURE_OPENAI_API_KEY (sent as api-key) or AZURE_OPENAI_AD_TOKEN" in result.stderr

    def test_the_emulator_answers_azure_errors_in_azure_words(self, clean_env: pytest.MonkeyPatch,
                                                              example_specs: Path) -> None:
        with running_emulator(api_key=AZURE_KEY) as emulator:
            clean_env.setenv("AZURE_OPENAI_ENDPOINT", emulator.root_url)
            clean_env.setenv("AZURE_OPENAI_API_KEY", "wrong-key")
            clean_env.setenv("OPENAI_API_VERSION", "2024-05-01-preview")
            result = run("plan", "--provider", "azure", str(example_specs))
            assert result.exit_code == 1
            assert "HTTP 401: Access denied due to invalid subscription key" in result.stderr
            assert "Check AZURE_OPENAI_API_KEY or AZURE_OPENAI_AD_TOKEN" in result.stderr
            assert "wrong-key" not in result.output

    def test_a_gateway_with_its_own_headers_from_the_command_line(self, clean_env: pytest.MonkeyPatch,
                                                                  example_specs: Path) -> None:
        with running_emulator(required_headers=PORTKEY) as emulator:
            clean_env.setenv("OPENAI_API_KEY", "sk-upstream")
            clean_env.setenv("OPENAI_BASE_URL", emulator.base_url)
            headers = [arg for name, value in PORTKEY.items() for arg in ("--header", f"{name}: {value}")]
            missing = run("plan", str(example_specs))
            assert missing.exit_code == 1 and "Missing or invalid header 'x-portkey-api-key'" in missing.stderr
            cycle(*headers, str(example_specs))
            assert all(r.headers["x-portkey-virtual-key"] == "vk-openai-77" for r in emulator.requests[1:])

    def test_header_values_from_the_project_file_come_from_the_environment_and_are_never_shown(
        self, clean_env: pytest.MonkeyPatch, example_specs: Path, tmp_path: Path
    ) -> None:
        with running_emulator(required_headers=PORTKEY) as emulator:
            write(tmp_path / "assistants-sync.yaml", f"""
                base_url: {emulator.base_url}
                headers:
                  x-portkey-api-key: ${{PORTKEY_API_KEY}}
                  x-portkey-virtual-key: ${{PORTKEY_VIRTUAL_KEY}}
                paths: [specs]
                """)
            clean_env.setenv("PORTKEY_API_KEY", PORTKEY["x-portkey-api-key"])
            clean_env.setenv("PORTKEY_VIRTUAL_KEY", PORTKEY["x-portkey-virtual-key"])
            outputs = [run("--verbose", "plan").output, run("--verbose", "apply", "--auto-approve").output,
                       run("plan", "--format", "json", "--out", "plan.json").output]
            assert "Apply complete: 7 created" in outputs[1]
            clean_env.setenv("PORTKEY_API_KEY", "pk-wrong")
            outputs.append(run("plan").output)
            assert "Missing or invalid header 'x-portkey-api-key'" in outputs[-1]
        texts = [*outputs, (tmp_path / "plan.json").read_text()]
        for secret in (*PORTKEY.values(), "pk-wrong"):
            assert not any(secret in text for text in texts)


def test_verbose_logs_the_query_string_of_every_request(env: EmulatorServer, tmp_path: Path) -> None:
    for number in range(101):
        env.store.create({"model": "gpt-4o", "name": f"legacy {number}"})
    last_of_page_one = env.store.list(limit=100, order="asc")["last_id"]
    write(tmp_path / "bot.yaml", "key: bot\nmodel: gpt-4o\n")
    result = run("plan", str(tmp_path), "-v", "--api-version", "2024-05-01-preview")
    assert result.exit_code == 0, result.output
    logged = [line.split(": ", 1)[1] for line in result.stderr.splitlines()
              if " GET " in f" {line}" and "/assistants?" in line]
    assert [line.split(" -> ")[0] for line in logged] == [
        f"GET {env.base_url}/assistants?api-version=2024-05-01-preview&limit=100&order=asc",
        f"GET {env.base_url}/assistants?api-version=2024-05-01-preview&limit=100&order=asc&after={last_of_page_one}",
    ]
    assert f"GET {env.base_url}/files?api-version=2024-05-01-preview&limit=10000&order=asc&purpose=assistants" in (
        result.stderr)  # a filter of a listing is in the query too
    assert API_KEY not in result.output



# --- where an endpoint serves each collection ----------------------------------------------------------


class _EmulatorTokens:
    def __init__(self, emulator: EmulatorServer) -> None:
        self.emulator = emulator

    def get_token(self) -> tuple[str, float]:
        token = self.emulator.tokens.mint()
        return token.token, float(token.expires_on)


def test_foundry_serves_knowledge_on_its_openai_surface_and_its_own_agents_at_the_project(
        emulator: EmulatorServer) -> None:
    project = emulator.project_url("sales")
    endpoint = Endpoint.foundry(project, tokens=BearerTokens(_EmulatorTokens(emulator)))
    assert endpoint.locate("assistants/asst_1") == (project, "assistants/asst_1", {"api-version": "v1"})
    assert endpoint.locate("vector_stores/vs_1/file_batches") == (project + "/openai/v1",
                                                                   "vector_stores/vs_1/file_batches", {})
    assert endpoint.locate(f"{FOUNDRY_AGENTS_COLLECTION}/support/versions") == (project, "agents/support/versions",
                                                                               {"api-version": "v1"})
    assert endpoint.locate("agents") is None  # OpenAI's Agents API: {project}/agents is Foundry's own
    with AssistantsClient(endpoint) as client:
        assert client.list_objects("files", "files") == []
        with pytest.raises(ApiError) as caught:
            client.list_objects("agents", "agents")
        assert caught.value.status == 404
    assert [(r.path, r.query.get("api-version")) for r in emulator.requests] == [
        ("/api/projects/sales/openai/v1/files", None)]


def test_other_endpoints_serve_every_collection_at_their_base_but_foundrys_agents() -> None:
    endpoint = Endpoint(api_key=API_KEY)
    assert endpoint.locate("agents/agent_1") == (endpoint.base_url, "agents/agent_1", {})
    assert endpoint.locate(f"{FOUNDRY_AGENTS_COLLECTION}/support") is None


def test_every_client_of_a_process_verifies_with_one_tls_context_built_once(monkeypatch: pytest.MonkeyPatch) -> None:
    # Loading the CA certificates takes tens of milliseconds: a process planning many stacks pays it once.
    from assistants_sync.actual import client as client_module

    monkeypatch.setattr(client_module, "_tls_contexts", {})
    built: list[str | None] = []
    real = httpx.create_ssl_context
    monkeypatch.setattr(httpx, "create_ssl_context", lambda: built.append(os.environ.get("SSL_CERT_FILE")) or real())
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    with running_emulator(api_key=API_KEY) as server:
        for _ in range(3):
            with AssistantsClient(Endpoint(server.base_url, api_key=API_KEY)) as client:
                client.list_objects("assistants", "assistants")
        assert built == [None]
        # Another CA bundle named in the environment is another context, as httpx would build it.
        monkeypatch.setenv("SSL_CERT_FILE", certifi_where())
        with AssistantsClient(Endpoint(server.base_url, api_key=API_KEY)) as client:
            client.list_objects("assistants", "assistants")
    assert built == [None, certifi_where()]


def certifi_where() -> str:
    import certifi

    return str(certifi.where())
