"""AssistantsClient over real loopback HTTP against the emulator (and a MockTransport for broken servers)."""

from __future__ import annotations

import socket
from typing import Any

import httpx
import pytest

from assistants_sync.actual.client import AssistantsClient, Endpoint
from assistants_sync.emulator import EmulatorServer
from assistants_sync.errors import ApiError, BadResponseError, ConfigError, RemoteError
from assistants_sync.actual.retry import RetryPolicy

from .conftest import API_KEY

FAST = RetryPolicy(max_attempts=3, base_delay=0.001, max_delay=0.01)


def client_for(emulator: EmulatorServer, **endpoint: Any) -> AssistantsClient:
    return AssistantsClient(Endpoint(**{"base_url": emulator.base_url, "api_key": API_KEY, **endpoint}))


def test_every_request_carries_auth_beta_organization_and_project(emulator: EmulatorServer) -> None:
    with client_for(emulator, organization="org-1", project="proj-1") as client:
        created = client.create_assistant({"model": "gpt-4o"})
        client.modify_assistant(created["id"], {"name": "n"})
        client.list_assistants()
        client.delete_assistant(created["id"])
    assert [r.method for r in emulator.requests] == ["POST", "POST", "GET", "DELETE"]
    for request in emulator.requests:
        assert request.headers["authorization"] == f"Bearer {API_KEY}"
        assert request.headers["openai-beta"] == "assistants=v2"
        assert request.headers["openai-organization"] == "org-1"
        assert request.headers["openai-project"] == "proj-1"


def test_listing_follows_the_cursor_100_at_a_time(emulator: EmulatorServer) -> None:
    ids = [emulator.store.create({"model": "gpt-4o"})["id"] for _ in range(251)]
    with client_for(emulator) as client:
        listed = client.list_assistants()
    assert [a["id"] for a in listed] == ids
    pages = [r.query for r in emulator.requests]
    assert pages == [
        {"limit": "100", "order": "asc"},
        {"limit": "100", "order": "asc", "after": ids[99]},
        {"limit": "100", "order": "asc", "after": ids[199]},
    ]


def test_wrong_key_says_to_check_the_key_and_never_shows_it(emulator: EmulatorServer) -> None:
    secret = "sk-wrong-5d1e9a"
    with AssistantsClient(Endpoint(base_url=emulator.base_url, api_key=secret)) as client:
        with pytest.raises(ApiError) as caught:
            client.list_assistants()
    message = str(caught.value)
    assert message.startswith("listing assistants failed: HTTP 401: Incorrect API key provided.")
    assert "Check the API key (OPENAI_API_KEY)" in message
    assert secret not in message and secret not in repr(caught.value.__cause__)


def test_wrong_base_url_on_list_says_to_check_the_base_url(emulator: EmulatorServer) -> None:
    with client_for(emulator, base_url=emulator.base_url.removesuffix("/v1") + "/api") as client:
        with pytest.raises(ApiError) as caught:
            client.list_assistants()
    assert caught.value.status == 404
    assert "Check the base URL (--base-url / OPENAI_BASE_URL)" in str(caught.value)


def test_modify_of_a_vanished_assistant_says_so(emulator: EmulatorServer) -> None:
    with client_for(emulator) as client, pytest.raises(ApiError) as caught:
        client.modify_assistant("asst_gone", {"name": "x"})
    assert "No assistant found with id 'asst_gone'." in str(caught.value)
    assert "deleted outside assistants-sync" in str(caught.value)


def test_unreachable_endpoint_is_a_clear_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens here once closed
    with AssistantsClient(Endpoint(base_url=f"http://127.0.0.1:{port}/v1", api_key=API_KEY), retry=FAST) as client:
        with pytest.raises(RemoteError, match=rf"cannot reach http://127.0.0.1:{port}/v1 \(ConnectError.*"
                                              r"check the base URL and your network$"):
            client.list_assistants()
        assert client.stats.requests == 1  # never answered: a wrong address, not retried


def mock_client(handler: Any) -> AssistantsClient:
    return AssistantsClient(Endpoint(api_key=API_KEY), transport=httpx.MockTransport(handler), retry=FAST)


def test_an_html_page_from_a_proxy_is_reported_not_parsed() -> None:
    client = mock_client(lambda request: httpx.Response(200, html="<html>Gateway</html>"))
    with pytest.raises(BadResponseError, match="answered HTTP 200 with 20 bytes of text/html, not JSON"):
        client.list_assistants()


def test_an_error_without_the_api_error_shape_still_reads_well() -> None:
    client = mock_client(lambda request: httpx.Response(502, text="Bad Gateway"))
    with pytest.raises(ApiError) as caught:
        client.list_assistants()
    assert str(caught.value).startswith("listing assistants (gave up after 3 attempts in ")
    assert "HTTP 502: (no API error message; the body was 11 bytes of text/plain)" in str(caught.value)


def test_a_cursor_that_repeats_is_reported_instead_of_looping() -> None:
    page = {"object": "list", "data": [{"id": "asst_1"}], "first_id": "asst_1", "last_id": "asst_1", "has_more": True}
    client = mock_client(lambda request: httpx.Response(200, json=page))
    with pytest.raises(BadResponseError, match="returned the page after 'asst_1' twice"):
        client.list_assistants()


def test_endpoint_identity_and_repr_hide_credentials() -> None:
    endpoint = Endpoint(base_url="https://user:pw@gw.example.com/v1/?token=t", api_key="sk-secret", project="p")
    assert endpoint.identity == "https://gw.example.com/v1 project=p"
    assert "sk-secret" not in repr(endpoint) and "pw" not in endpoint.identity
    with pytest.raises(ConfigError, match="must start with http:// or https://"):
        Endpoint(base_url="api.openai.com/v1")
