"""The emulator is held to the official spec, driven by the official openai client."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from typing import Any

import httpx
import openai
import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from assistants_sync.emulator import AssistantStore, EmulatorServer, running_emulator
from assistants_sync.emulator.server import PromptlyStoppingHTTPServer

from .conftest import API_KEY, LOOPBACK_TLS, SHARED_KNOWLEDGE_SPEC, SHARED_SPEC, VENDORED_KNOWLEDGE_SPEC, VENDORED_SPEC



@pytest.fixture(scope="module")
def schema(openapi: dict[str, Any]) -> Any:
    registry: Registry[Any] = Registry().with_resource("urn:spec", Resource.from_contents(openapi, DRAFT202012))

    def validate(component: str, instance: Any) -> None:
        Draft202012Validator({"$ref": f"urn:spec#/components/schemas/{component}"}, registry=registry).validate(instance)

    return validate


def raw(emulator: EmulatorServer, method: str, path: str, **kwargs: Any) -> httpx.Response:
    headers = {"Authorization": f"Bearer {API_KEY}", "OpenAI-Beta": "assistants=v2", **kwargs.pop("headers", {})}
    return httpx.request(method, emulator.base_url + path, headers=headers, verify=LOOPBACK_TLS, **kwargs)


@pytest.mark.parametrize("vendored, shared", [
    (VENDORED_SPEC, SHARED_SPEC), (VENDORED_KNOWLEDGE_SPEC, SHARED_KNOWLEDGE_SPEC),
], ids=["assistants", "knowledge"])
def test_vendored_spec_is_the_official_one(vendored: Any, shared: Any) -> None:
    if not shared.exists():
        pytest.skip("shared/openapi is not beside this checkout")
    assert vendored.read_bytes() == shared.read_bytes()


def test_create_fills_server_defaults_documented_in_provenance(sdk: openai.OpenAI, emulator: EmulatorServer, schema: Any) -> None:
    created = sdk.beta.assistants.create(
        model="gpt-4o",
        tools=[{"type": "code_interpreter"}, {"type": "file_search"}, {"type": "function", "function": {"name": "f"}}],
    )
    body = raw(emulator, "GET", f"/assistants/{created.id}").json()
    schema("AssistantObject", body)
    assert body["name"] is None and body["description"] is None and body["instructions"] is None
    assert body["metadata"] == {} and body["temperature"] == 1.0 and body["top_p"] == 1.0
    assert body["response_format"] == "auto" and body["reasoning_effort"] is None
    assert body["tools"][1] == {
        "type": "file_search",
        "file_search": {"ranking_options": {"ranker": "default_2024_08_21", "score_threshold": 0.0}},
    }
    assert body["tools"][2]["function"]["strict"] is False
    assert body["tool_resources"] == {"code_interpreter": {"file_ids": []}, "file_search": {"vector_store_ids": []}}


def test_every_answer_matches_the_official_schemas(sdk: openai.OpenAI, emulator: EmulatorServer, schema: Any) -> None:
    created = sdk.beta.assistants.create(
        model="gpt-4o", name="n", metadata={"a": "b"}, response_format={"type": "json_object"}, temperature=0.2,
    )
    schema("AssistantObject", raw(emulator, "GET", f"/assistants/{created.id}").json())
    modified = raw(emulator, "POST", f"/assistants/{created.id}", json={"name": "m", "tools": []})
    schema("AssistantObject", modified.json())
    assert modified.json()["name"] == "m" and modified.json()["metadata"] == {"a": "b"}
    schema("ListAssistantsResponse", raw(emulator, "GET", "/assistants", params={"limit": 1}).json())
    deleted = raw(emulator, "DELETE", f"/assistants/{created.id}").json()
    schema("DeleteAssistantResponse", deleted)
    assert deleted == {"id": created.id, "object": "assistant.deleted", "deleted": True}


def test_sdk_pagination_walks_every_page_in_creation_order(sdk: openai.OpenAI) -> None:
    ids = [sdk.beta.assistants.create(model="gpt-4o", name=str(i)).id for i in range(7)]
    assert [a.id for a in sdk.beta.assistants.list(limit=3, order="asc")] == ids
    assert [a.id for a in sdk.beta.assistants.list(limit=3, order="desc")] == ids[::-1]
    page = sdk.beta.assistants.list(limit=2, order="asc", before=ids[4])
    assert [a.id for a in page.data] == ids[2:4]


@pytest.mark.parametrize(
    ("body", "param"),
    [
        pytest.param({"model": "gpt-4o", "name": "x" * 257}, "name", id="name-too-long"),
        pytest.param({"model": "gpt-4o", "tools": [{"type": "function"}]}, "tools.0", id="function-without-definition"),
        pytest.param({"model": "gpt-4o", "temperature": 2.5}, "temperature", id="temperature-above-2"),
        pytest.param({"model": "gpt-4o", "tools": None}, "tools", id="tools-null"),
        pytest.param({"name": "no model"}, None, id="model-missing"),
        pytest.param({"model": "gpt-4o", "temprature": 1}, None, id="unknown-field"),
        pytest.param({"model": "gpt-4o", "metadata": {str(i): "v" for i in range(17)}}, "metadata", id="17-metadata-pairs"),
    ],
)
def test_invalid_requests_get_the_official_error_shape(emulator: EmulatorServer, schema: Any, body: dict[str, Any],
                                                       param: str | None) -> None:
    response = raw(emulator, "POST", "/assistants", json=body)
    assert response.status_code == 400
    schema("ErrorResponse", response.json())
    assert response.json()["error"]["param"] == param
    assert response.json()["error"]["type"] == "invalid_request_error"


def test_missing_beta_header_is_rejected_like_the_real_api(emulator: EmulatorServer, schema: Any) -> None:
    response = httpx.get(emulator.base_url + "/assistants", headers={"Authorization": f"Bearer {API_KEY}"})
    assert response.status_code == 400
    schema("ErrorResponse", response.json())
    assert response.json()["error"]["code"] == "invalid_beta"


def test_unknown_and_missing_keys_get_401_without_echoing_the_key(emulator: EmulatorServer, schema: Any) -> None:
    wrong = raw(emulator, "GET", "/assistants", headers={"Authorization": "Bearer sk-wrong-key-123"})
    assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "invalid_api_key"
    assert "sk-wrong" not in wrong.text
    missing = httpx.get(emulator.base_url + "/assistants", headers={"OpenAI-Beta": "assistants=v2"})
    assert missing.status_code == 401
    schema("ErrorResponse", missing.json())


def test_unknown_assistant_is_a_404_with_the_api_message(sdk: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        sdk.beta.assistants.retrieve("asst_missing")
    assert "No assistant found with id 'asst_missing'." in str(caught.value)


def test_modify_replaces_tools_resources_and_metadata_whole(sdk: openai.OpenAI) -> None:
    created = sdk.beta.assistants.create(
        model="gpt-4o", metadata={"a": "1", "b": "2"}, tools=[{"type": "code_interpreter"}],
        tool_resources={"code_interpreter": {"file_ids": ["f1"]}},
    )
    updated = sdk.beta.assistants.update(created.id, metadata={"c": "3"}, tool_resources={})
    assert updated.metadata == {"c": "3"}
    assert updated.tool_resources is not None and updated.tool_resources.code_interpreter is not None
    assert updated.tool_resources.code_interpreter.file_ids == []


def test_state_file_survives_a_restart(tmp_path: Any) -> None:
    state = tmp_path / "state.json"
    with running_emulator(AssistantStore(state)) as first:
        client = openai.OpenAI(api_key="any", base_url=first.base_url)
        kept = client.beta.assistants.create(model="gpt-4o", name="kept").id
    with running_emulator(AssistantStore(state)) as second:
        client = openai.OpenAI(api_key="any", base_url=second.base_url)
        assert [a.id for a in client.beta.assistants.list()] == [kept]


def _serve_once(handle: Callable[[BaseHTTPRequestHandler], None]) -> None:
    """One request to a PromptlyStoppingHTTPServer whose handler does `handle`; the client hangs up unanswered."""
    done = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - stdlib name
            handle(self)

    class Server(PromptlyStoppingHTTPServer):
        def shutdown_request(self, request: Any) -> None:  # the request's last step, after any handle_error
            super().shutdown_request(request)
            done.set()

    server = Server(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with socket.create_connection(("127.0.0.1", server.server_address[1])) as client:
            client.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert done.wait(10)
    finally:
        server.shutdown()
        server.server_close()


def test_a_client_hanging_up_before_its_answer_prints_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    # A plan stopped by invalid manifests abandons its page in flight: the server writing the answer finds the
    # connection gone, and no traceback may land in the output the user sees (the CLI's stderr in-process).
    def answer_a_client_that_left(handler: BaseHTTPRequestHandler) -> None:
        while True:  # the first writes may still fit in the socket's buffer; a later one finds the peer gone
            handler.wfile.write(b"x" * 65536)

    _serve_once(answer_a_client_that_left)
    assert capsys.readouterr().err == ""


def test_a_fault_of_the_server_itself_is_still_reported(capsys: pytest.CaptureFixture[str]) -> None:
    def fail(handler: BaseHTTPRequestHandler) -> None:
        raise ValueError("a bug in the handler")

    _serve_once(fail)
    assert "ValueError: a bug in the handler" in capsys.readouterr().err
