"""The emulator's files and vector stores, held to the official spec, driven by the official openai client.

Every answer the SDK receives here is checked against the response schema of its
operation in the spec (`checked_sdk`), so a test that only drives the SDK still proves
the shapes.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from assistants_sync.emulator import EmulatorServer, KnowledgeStore, running_emulator
from assistants_sync.emulator.knowledge import FAIL_MARKER

from .conftest import API_KEY, LOOPBACK_TLS, SHARED_KNOWLEDGE_SPEC, VENDORED_KNOWLEDGE_SPEC


@pytest.fixture(scope="module")
def knowledge_spec() -> dict[str, Any]:
    path = SHARED_KNOWLEDGE_SPEC if SHARED_KNOWLEDGE_SPEC.exists() else VENDORED_KNOWLEDGE_SPEC
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(path.read_text(encoding="utf-8"), Loader=loader)  # type: ignore[no-any-return]


class SpecChecker:
    """Validates an answer against the schema its operation declares in the spec."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.registry: Registry[Any] = Registry().with_resource("urn:k", Resource.from_contents(spec, DRAFT202012))
        self.operations: list[tuple[str, re.Pattern[str], dict[str, Any]]] = []
        for template, item in spec["paths"].items():
            pattern = re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", template) + "$")
            for method, operation in item.items():
                if method != "parameters":
                    self.operations.append((method.upper(), pattern, operation))
        self.checked = 0

    def validate(self, component_ref: str, instance: Any) -> None:
        Draft202012Validator({"$ref": "urn:k" + component_ref}, registry=self.registry).validate(instance)

    def check(self, method: str, path: str, status: int, body: Any) -> None:
        operation = next(op for m, pattern, op in self.operations if m == method and pattern.match(path))
        if status != 200:
            self.validate("#/components/schemas/ErrorResponse", body)
        else:
            schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
            if "$ref" not in schema:
                return  # a file's content: bytes
            if body.get("object") == "list" and not body["data"]:
                # As for assistants, an empty page has null cursors (the spec says string).
                assert body["first_id"] is None and body["last_id"] is None
                body = {**body, "first_id": "", "last_id": ""}
            self.validate(schema["$ref"], body)
        self.checked += 1


@pytest.fixture
def knowledge() -> KnowledgeStore:
    return KnowledgeStore(processing_polls=2, max_file_bytes=64 * 1024)


@pytest.fixture
def server(knowledge: KnowledgeStore) -> Iterator[EmulatorServer]:
    with running_emulator(api_key=API_KEY) as running:
        running.knowledge = knowledge
        yield running


@pytest.fixture
def checker(knowledge_spec: dict[str, Any]) -> SpecChecker:
    return SpecChecker(knowledge_spec)


@pytest.fixture
def client(server: EmulatorServer, checker: SpecChecker) -> Iterator[openai.OpenAI]:
    def check(response: Any) -> None:
        response.read()
        path = response.request.url.path.removeprefix("/v1")
        if response.headers.get("content-type") == "application/json":
            checker.check(response.request.method, path, response.status_code, response.json())

    http_client = openai.DefaultHttpxClient(event_hooks={"response": [check]}, verify=LOOPBACK_TLS)
    with openai.OpenAI(api_key=API_KEY, base_url=server.base_url, max_retries=0, http_client=http_client) as sdk:
        yield sdk
    assert checker.checked, "no answer was checked against the spec"


def raw(server: EmulatorServer, method: str, path: str, **kwargs: Any) -> httpx.Response:
    headers = {"Authorization": f"Bearer {API_KEY}", **kwargs.pop("headers", {})}
    return httpx.request(method, server.base_url + path, headers=headers, verify=LOOPBACK_TLS, **kwargs)


def upload(client: openai.OpenAI, name: str, content: bytes, purpose: Any = "assistants") -> str:
    return client.files.create(file=(name, content), purpose=purpose).id


# ---------------------------------------------------------------- files


def test_an_upload_is_listed_retrieved_and_deleted_with_the_official_shapes(client: openai.OpenAI) -> None:
    created = client.files.create(file=("guide.md", b"# Guide\n"), purpose="assistants")
    assert created.id.startswith("file-") and created.filename == "guide.md" and created.bytes == 8
    assert created.purpose == "assistants" and created.object == "file"
    other = upload(client, "notes.txt", b"notes", purpose="user_data")

    assert client.files.retrieve(created.id).filename == "guide.md"
    assert [f.id for f in client.files.list(purpose="assistants")] == [created.id]
    assert [f.id for f in client.files.list(order="asc")] == [created.id, other]
    assert [f.id for f in client.files.list()] == [other, created.id]  # newest first by default

    deleted = client.files.delete(created.id)
    assert deleted.deleted and deleted.id == created.id
    with pytest.raises(openai.NotFoundError, match=f"No such File object: {created.id}"):
        client.files.retrieve(created.id)
    assert [f.id for f in client.files.list()] == [other]


def test_the_auto_pager_walks_every_file_exactly_once(client: openai.OpenAI, server: EmulatorServer) -> None:
    ids = [upload(client, f"doc{i}.md", b"x") for i in range(7)]
    walked = [f.id for f in client.files.list(limit=3, order="asc")]
    assert walked == ids
    assert [r.query.get("after") for r in server.requests if r.path == "/v1/files" and r.method == "GET"] == [
        None, ids[2], ids[5]]
    with pytest.raises(openai.BadRequestError, match="limit"):
        client.files.list(limit=10_001)


def test_content_downloads_the_exact_bytes_but_not_of_assistants_files(client: openai.OpenAI) -> None:
    data = bytes(range(256)) * 10
    assert client.files.content(upload(client, "blob.bin", data, purpose="user_data")).read() == data
    with pytest.raises(openai.BadRequestError, match="Not allowed to download files of purpose: assistants"):
        client.files.content(upload(client, "a.md", b"a"))


def test_an_upload_without_a_valid_purpose_or_file_is_refused(client: openai.OpenAI, server: EmulatorServer) -> None:
    with pytest.raises(openai.BadRequestError, match="purpose"):
        client.files.create(file=("a.md", b"a"), purpose="nonsense")  # type: ignore[arg-type]
    only_purpose = b'--B\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nassistants\r\n--B--\r\n'
    missing = raw(server, "POST", "/files", content=only_purpose,
                  headers={"Content-Type": "multipart/form-data; boundary=B"})
    assert missing.status_code == 400 and "'file' is a required property" in missing.json()["error"]["message"]
    unknown = raw(server, "POST", "/files", data={"purpose": "assistants"},
                  files={"file": ("a.md", b"a"), "x": ("b", b"b")})
    assert unknown.status_code == 400 and "'x' was unexpected" in unknown.json()["error"]["message"]
    not_multipart = raw(server, "POST", "/files", json={"purpose": "assistants"})
    assert not_multipart.status_code == 400
    assert client.files.list().data == []


def test_the_size_limit_is_enforced_and_the_connection_stays_usable(
    client: openai.OpenAI, knowledge: KnowledgeStore
) -> None:
    with pytest.raises(openai.BadRequestError, match="File is too large") as refused:
        client.files.create(file=("big.md", b"x" * (knowledge.max_file_bytes + 1)), purpose="assistants")
    assert refused.value.code == "file_too_large" and refused.value.param == "file"
    exactly = client.files.create(file=("max.md", b"y" * knowledge.max_file_bytes), purpose="assistants")
    assert exactly.bytes == knowledge.max_file_bytes
    assert [f.id for f in client.files.list()] == [exactly.id]  # the refused one was not kept


def test_the_default_limit_is_512_mb() -> None:
    assert KnowledgeStore().max_file_bytes == 512 * 1024 * 1024


def test_a_large_upload_is_streamed_from_disk_and_chunked_bodies_are_read(
    client: openai.OpenAI, server: EmulatorServer, knowledge: KnowledgeStore, tmp_path: Path
) -> None:
    knowledge.max_file_bytes = 8 * 1024 * 1024
    big = tmp_path / "manual.md"
    block = b"0123456789abcdef" * 4096
    big.write_bytes(block * 100)  # 6.5 MB, spooled to disk by the emulator
    with big.open("rb") as handle:
        created = client.files.create(file=handle, purpose="user_data")
    assert created.bytes == big.stat().st_size and created.filename == "manual.md"
    assert client.files.content(created.id).read() == big.read_bytes()

    def chunks() -> Iterator[bytes]:  # no Content-Length: Transfer-Encoding chunked
        yield b'--B\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nuser_data\r\n'
        yield b'--B\r\nContent-Disposition: form-data; name="file"; filename="c.md"\r\n\r\n'
        yield from (b"z" * 1000 for _ in range(50))
        yield b"\r\n--B--\r\n"

    answer = raw(server, "POST", "/files", content=chunks(),
                 headers={"Content-Type": "multipart/form-data; boundary=B"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["bytes"] == 50_000


def test_files_need_a_key_but_no_beta_header(server: EmulatorServer) -> None:
    assert raw(server, "GET", "/files").status_code == 200  # no OpenAI-Beta header
    assert raw(server, "GET", "/vector_stores").status_code == 200
    assert httpx.get(server.base_url + "/files").status_code == 401


def test_a_dropped_upload_answer_still_stores_the_file(client: openai.OpenAI, server: EmulatorServer) -> None:
    server.faults.drop_answers["files.create"] = 1
    with pytest.raises(openai.APIConnectionError):
        client.files.create(file=("lost.md", b"lost"), purpose="assistants")
    assert [f.filename for f in client.files.list()] == ["lost.md"]  # stored, only the answer was lost
    assert client.files.create(file=("next.md", b"n"), purpose="assistants").filename == "next.md"
    assert server.faults.drop_answers["files.create"] == 0


def test_dropped_answers_are_counted_per_operation(client: openai.OpenAI, server: EmulatorServer) -> None:
    file_id = upload(client, "a.md", b"a")
    store = client.vector_stores.create(name="docs")
    server.faults.drop_answers.update({"vector_stores.file_batches.create": 1, "vector_stores.create": 1})
    with pytest.raises(openai.APIConnectionError):
        client.vector_stores.file_batches.create(store.id, file_ids=[file_id])
    assert [f.id for f in client.vector_stores.files.list(store.id)] == [file_id]
    with pytest.raises(openai.APIConnectionError):
        client.vector_stores.create(name="lost")
    assert sorted(s.name for s in client.vector_stores.list()) == ["docs", "lost"]


def test_every_write_can_lose_its_answer_after_doing_the_work(
    client: openai.OpenAI, server: EmulatorServer, knowledge: KnowledgeStore
) -> None:
    knowledge.processing_polls = 9
    kept, dropped = upload(client, "kept.md", b"k"), upload(client, "gone.md", b"g")
    store = client.vector_stores.create(name="docs")
    calls: list[tuple[str, Any]] = [
        ("vector_stores.files.create", lambda: client.vector_stores.files.create(
            vector_store_id=store.id, file_id=kept)),
        ("vector_stores.files.update", lambda: client.vector_stores.files.update(
            kept, vector_store_id=store.id, attributes={"a": 1})),
        ("vector_stores.update", lambda: client.vector_stores.update(store.id, name="renamed")),
        ("vector_stores.file_batches.create", lambda: client.vector_stores.file_batches.create(
            store.id, file_ids=[dropped])),
    ]
    for name, call in calls:
        server.faults.drop_answers[name] = 1
        with pytest.raises(openai.APIConnectionError):
            call()
    assert client.vector_stores.retrieve(store.id).name == "renamed"
    assert client.vector_stores.files.retrieve(kept, vector_store_id=store.id).attributes == {"a": 1}
    [batch_file] = client.vector_stores.files.list(store.id, filter="in_progress", order="asc").data[1:]
    assert batch_file.id == dropped

    server.faults.drop_answers.update({"vector_stores.files.delete": 1, "files.delete": 1, "vector_stores.delete": 1})
    with pytest.raises(openai.APIConnectionError):
        client.vector_stores.files.delete(kept, vector_store_id=store.id)
    with pytest.raises(openai.APIConnectionError):
        client.files.delete(dropped)
    with pytest.raises(openai.APIConnectionError):
        client.vector_stores.delete(store.id)
    assert [f.id for f in client.files.list()] == [kept]
    assert client.vector_stores.list().data == []
    assert all(count == 0 for count in server.faults.drop_answers.values())


# ---------------------------------------------------------------- vector stores


def test_a_store_answers_server_filled_values_and_never_description_or_chunking(
    client: openai.OpenAI, server: EmulatorServer
) -> None:
    store = client.vector_stores.create(
        name="Product docs", description="not readable back", metadata={"team": "docs"},
        chunking_strategy={"type": "auto"}, expires_after={"anchor": "last_active_at", "days": 30},
    )
    assert store.id.startswith("vs_") and store.status == "completed" and store.usage_bytes == 0
    assert store.file_counts.total == 0 and store.metadata == {"team": "docs"}
    assert store.expires_after is not None and store.expires_after.days == 30
    assert store.expires_at == store.last_active_at + 30 * 86_400
    body = raw(server, "GET", f"/vector_stores/{store.id}", headers={"OpenAI-Beta": "assistants=v2"}).json()
    assert "description" not in body and "chunking_strategy" not in body

    unnamed = client.vector_stores.create()
    assert unnamed.name == "" and unnamed.metadata == {} and unnamed.expires_at is None


def test_modify_takes_name_expiry_and_metadata_only(client: openai.OpenAI, server: EmulatorServer) -> None:
    store = client.vector_stores.create(name="old", metadata={"a": "1", "b": "2"})
    updated = client.vector_stores.update(store.id, name="new", metadata={"a": "3"}, expires_after=None)
    assert updated.name == "new" and updated.metadata == {"a": "3"}  # metadata is replaced as a whole
    assert client.vector_stores.retrieve(store.id).name == "new"
    refused = raw(server, "POST", f"/vector_stores/{store.id}", json={"description": "x"})
    assert refused.status_code == 400 and refused.json()["error"]["message"].startswith("Invalid")
    with pytest.raises(openai.BadRequestError):
        client.vector_stores.update(store.id, extra_body={"chunking_strategy": {"type": "auto"}})


def test_store_metadata_limits_are_enforced(client: openai.OpenAI) -> None:
    client.vector_stores.create(metadata={f"k{i}": "v" for i in range(16)})
    with pytest.raises(openai.BadRequestError, match="at most 16 properties"):
        client.vector_stores.create(metadata={f"k{i}": "v" for i in range(17)})
    with pytest.raises(openai.BadRequestError, match="key is too long"):
        client.vector_stores.create(metadata={"k" * 65: "v"})
    with pytest.raises(openai.BadRequestError, match="string too long"):
        client.vector_stores.create(metadata={"k": "v" * 513})
    assert len(client.vector_stores.list().data) == 1


def test_stores_paginate_with_the_auto_pager_and_delete(client: openai.OpenAI) -> None:
    ids = [client.vector_stores.create(name=f"s{i}").id for i in range(5)]
    assert [s.id for s in client.vector_stores.list(limit=2)] == ids[::-1]
    assert [s.id for s in client.vector_stores.list(limit=2, order="asc")] == ids
    deleted = client.vector_stores.delete(ids[0])
    assert deleted.deleted and deleted.object == "vector_store.deleted"
    with pytest.raises(openai.NotFoundError, match=f"No vector store found with id '{ids[0]}'"):
        client.vector_stores.retrieve(ids[0])
    with pytest.raises(openai.BadRequestError):
        client.vector_stores.list(limit=101).data  # noqa: B018 - the request is the point


# ---------------------------------------------------------------- processing


def test_processing_takes_polls_and_file_counts_and_status_follow(
    client: openai.OpenAI, knowledge: KnowledgeStore
) -> None:
    knowledge.processing_polls = 3
    file_id = upload(client, "a.md", b"abc")
    store = client.vector_stores.create(name="docs")
    attached = client.vector_stores.files.create(vector_store_id=store.id, file_id=file_id)
    assert attached.status == "in_progress" and attached.usage_bytes == 0 and attached.last_error is None

    seen = [client.vector_stores.retrieve(store.id) for _ in range(3)]
    assert [s.status for s in seen] == ["in_progress", "in_progress", "completed"]
    assert [s.file_counts.in_progress for s in seen] == [1, 1, 0]
    assert seen[-1].file_counts.completed == 1 and seen[-1].file_counts.total == 1 and seen[-1].usage_bytes == 3
    done = client.vector_stores.files.retrieve(file_id, vector_store_id=store.id)
    assert done.status == "completed" and done.usage_bytes == 3


def test_zero_polls_processes_at_once(client: openai.OpenAI, knowledge: KnowledgeStore) -> None:
    knowledge.processing_polls = 0
    store = client.vector_stores.create(file_ids=[upload(client, "a.md", b"a")])
    assert store.status == "completed" and store.file_counts.completed == 1


def test_processing_on_an_injected_clock_ignores_polls(client: openai.OpenAI, knowledge: KnowledgeStore) -> None:
    now = [1_000_000.0]
    knowledge.clock = lambda: now[0]
    knowledge.processing_seconds = 5
    store = client.vector_stores.create(name="docs", file_ids=[upload(client, "a.md", b"a")])
    assert all(client.vector_stores.retrieve(store.id).status == "in_progress" for _ in range(10))
    now[0] += 5
    assert client.vector_stores.retrieve(store.id).status == "completed"
    assert store.created_at == 1_000_000


def test_a_file_with_the_marker_fails_processing_with_last_error(client: openai.OpenAI) -> None:
    good = upload(client, "good.md", b"fine")
    bad = upload(client, "bad.md", b"before " + FAIL_MARKER + b" after")
    store = client.vector_stores.create(name="docs")
    batch = client.vector_stores.file_batches.create(store.id, file_ids=[good, bad])
    client.vector_stores.retrieve(store.id)
    final = client.vector_stores.retrieve(store.id)
    assert final.status == "completed"  # processing is over, one file failed
    assert (final.file_counts.completed, final.file_counts.failed) == (1, 1)
    failed = client.vector_stores.files.list(store.id, filter="failed").data
    assert [f.id for f in failed] == [bad]
    assert failed[0].last_error is not None and failed[0].last_error.code == "invalid_file"
    after = client.vector_stores.file_batches.retrieve(batch.id, vector_store_id=store.id)
    assert after.status == "completed" and after.file_counts.failed == 1


def test_the_marker_is_found_across_chunk_edges(
    client: openai.OpenAI, server: EmulatorServer, knowledge: KnowledgeStore
) -> None:
    knowledge.processing_polls = 0
    half = len(FAIL_MARKER) // 2

    def chunks() -> Iterator[bytes]:  # each yield is one HTTP chunk: the marker is split between two reads
        yield b'--B\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nassistants\r\n'
        yield b'--B\r\nContent-Disposition: form-data; name="file"; filename="edge.md"\r\n\r\n'
        yield b"text " + FAIL_MARKER[:half]
        yield FAIL_MARKER[half:] + b" more text"
        yield b"\r\n--B--\r\n"

    answer = raw(server, "POST", "/files", content=chunks(),
                 headers={"Content-Type": "multipart/form-data; boundary=B"})
    assert answer.status_code == 200, answer.text
    store = client.vector_stores.create(file_ids=[answer.json()["id"]])
    assert store.file_counts.failed == 1


# ---------------------------------------------------------------- vector store files


def test_auto_chunking_is_resolved_and_static_is_kept(client: openai.OpenAI) -> None:
    store = client.vector_stores.create(name="docs")
    auto = client.vector_stores.files.create(vector_store_id=store.id, file_id=upload(client, "a.md", b"a"))
    assert auto.chunking_strategy is not None and auto.chunking_strategy.type == "static"
    assert auto.chunking_strategy.static.max_chunk_size_tokens == 800  # type: ignore[union-attr]
    assert auto.chunking_strategy.static.chunk_overlap_tokens == 400  # type: ignore[union-attr]
    static = client.vector_stores.files.create(
        vector_store_id=store.id, file_id=upload(client, "b.md", b"b"),
        chunking_strategy={"type": "static", "static": {"max_chunk_size_tokens": 400, "chunk_overlap_tokens": 100}},
    )
    assert static.chunking_strategy.static.max_chunk_size_tokens == 400  # type: ignore[union-attr]


@pytest.mark.parametrize("size, overlap, rule", [
    (400, 201, "half of max_chunk_size_tokens"),
    (99, 10, "minimum"),
    (4097, 10, "maximum"),
])
def test_an_invalid_static_chunking_is_refused(client: openai.OpenAI, size: int, overlap: int, rule: str) -> None:
    store = client.vector_stores.create(name="docs")
    file_id = upload(client, "a.md", b"a")
    with pytest.raises(openai.BadRequestError, match=rule):
        client.vector_stores.files.create(
            vector_store_id=store.id, file_id=file_id,
            chunking_strategy={"type": "static",
                               "static": {"max_chunk_size_tokens": size, "chunk_overlap_tokens": overlap}},
        )
    assert client.vector_stores.files.list(store.id).data == []


def test_attributes_are_limited_and_updated_in_place(client: openai.OpenAI) -> None:
    store = client.vector_stores.create(name="docs")
    file_id = upload(client, "a.md", b"a")
    sixteen: dict[str, str | float | bool] = {f"k{i}": i for i in range(14)} | {"s": "text", "b": True}
    attached = client.vector_stores.files.create(vector_store_id=store.id, file_id=file_id, attributes=sixteen)
    assert attached.attributes == sixteen
    for attributes, rule in [
        ({f"k{i}": "v" for i in range(17)}, "at most 16 properties"),
        ({"k" * 65: "v"}, "key is too long"),
        ({"k": "v" * 513}, "string too long"),
        ({"k": {"nested": 1}}, "string, number or boolean"),
    ]:
        with pytest.raises(openai.BadRequestError, match=rule):
            client.vector_stores.files.update(
                file_id, vector_store_id=store.id, attributes=attributes)  # type: ignore[arg-type]
    updated = client.vector_stores.files.update(file_id, vector_store_id=store.id, attributes={"section": "faq"})
    assert updated.attributes == {"section": "faq"} and updated.id == file_id
    assert client.vector_stores.files.retrieve(file_id, vector_store_id=store.id).attributes == {"section": "faq"}


def test_detach_keeps_the_upload_and_deleting_the_upload_detaches_it_everywhere(client: openai.OpenAI) -> None:
    kept, shared = upload(client, "kept.md", b"k"), upload(client, "shared.md", b"s")
    first = client.vector_stores.create(name="one", file_ids=[kept, shared])
    second = client.vector_stores.create(name="two", file_ids=[shared])

    detached = client.vector_stores.files.delete(kept, vector_store_id=first.id)
    assert detached.deleted and detached.object == "vector_store.file.deleted"
    assert client.files.retrieve(kept).id == kept
    with pytest.raises(openai.NotFoundError):
        client.vector_stores.files.retrieve(kept, vector_store_id=first.id)

    client.files.delete(shared)
    assert client.vector_stores.files.list(first.id).data == []
    assert client.vector_stores.retrieve(second.id).file_counts.total == 0

    client.vector_stores.delete(first.id)  # deleting a store deletes no upload
    assert [f.id for f in client.files.list()] == [kept]


def test_attaching_an_unknown_file_or_to_an_unknown_store_is_not_found(client: openai.OpenAI) -> None:
    store = client.vector_stores.create(name="docs")
    with pytest.raises(openai.NotFoundError, match="No such File object: file-missing"):
        client.vector_stores.files.create(vector_store_id=store.id, file_id="file-missing")
    with pytest.raises(openai.NotFoundError, match="No such File object"):
        client.vector_stores.create(file_ids=["file-missing"])
    with pytest.raises(openai.NotFoundError, match="No vector store found"):
        client.vector_stores.files.create(vector_store_id="vs_missing", file_id=upload(client, "a.md", b"a"))
    assert [s.id for s in client.vector_stores.list()] == [store.id]


def test_store_files_paginate_and_filter(client: openai.OpenAI, knowledge: KnowledgeStore) -> None:
    knowledge.processing_polls = 0
    ids = [upload(client, f"d{i}.md", b"d") for i in range(5)]
    store = client.vector_stores.create(name="docs", file_ids=ids)
    assert [f.id for f in client.vector_stores.files.list(store.id, limit=2, order="asc")] == ids
    assert len(list(client.vector_stores.files.list(store.id, filter="completed", limit=2))) == 5
    assert client.vector_stores.files.list(store.id, filter="in_progress").data == []


# ---------------------------------------------------------------- file batches


def test_a_batch_applies_its_attributes_and_chunking_to_each_file(client: openai.OpenAI) -> None:
    store = client.vector_stores.create(name="docs")
    ids = [upload(client, f"d{i}.md", b"d") for i in range(3)]
    batch = client.vector_stores.file_batches.create(
        store.id, file_ids=ids, attributes={"team": "docs"},
        chunking_strategy={"type": "static", "static": {"max_chunk_size_tokens": 300, "chunk_overlap_tokens": 0}},
    )
    assert batch.id.startswith("vsfb_") and batch.status == "in_progress" and batch.file_counts.total == 3
    files = list(client.vector_stores.file_batches.list_files(batch.id, vector_store_id=store.id, limit=2))
    assert sorted(f.id for f in files) == sorted(ids)
    assert all(f.attributes == {"team": "docs"} for f in files)
    assert all(f.chunking_strategy.static.max_chunk_size_tokens == 300 for f in files)  # type: ignore[union-attr]
    assert client.vector_stores.file_batches.retrieve(batch.id, vector_store_id=store.id).status == "completed"


def test_a_batch_of_files_gives_each_its_own_attributes(client: openai.OpenAI, server: EmulatorServer) -> None:
    store = client.vector_stores.create(name="docs")
    a, b = upload(client, "a.md", b"a"), upload(client, "b.md", b"b")
    client.vector_stores.file_batches.create(store.id, files=[
        {"file_id": a, "attributes": {"path": "a.md"}},
        {"file_id": b, "attributes": {"path": "b.md"}, "chunking_strategy": {"type": "auto"}},
    ])
    attributes = {f.id: f.attributes for f in client.vector_stores.files.list(store.id)}
    assert attributes == {a: {"path": "a.md"}, b: {"path": "b.md"}}
    both = raw(server, "POST", f"/vector_stores/{store.id}/file_batches",
               json={"file_ids": [a], "files": [{"file_id": b}]})
    assert both.status_code == 400 and "mutually exclusive" in both.json()["error"]["message"]


def test_a_batch_takes_at_most_2000_files(client: openai.OpenAI) -> None:
    store = client.vector_stores.create(name="docs")
    with pytest.raises(openai.BadRequestError, match="maximum length 2000"):
        client.vector_stores.file_batches.create(store.id, file_ids=[f"file-{i}" for i in range(2001)])
    with pytest.raises(openai.BadRequestError):
        client.vector_stores.file_batches.create(store.id, file_ids=[])


def test_cancelling_a_batch_cancels_its_unprocessed_files(client: openai.OpenAI, knowledge: KnowledgeStore) -> None:
    knowledge.processing_polls = 5
    store = client.vector_stores.create(name="docs")
    batch = client.vector_stores.file_batches.create(store.id, file_ids=[upload(client, "a.md", b"a")])
    cancelled = client.vector_stores.file_batches.cancel(batch.id, vector_store_id=store.id)
    assert cancelled.status == "cancelled" and cancelled.file_counts.cancelled == 1
    assert client.vector_stores.retrieve(store.id).file_counts.cancelled == 1
    with pytest.raises(openai.BadRequestError, match="no longer in progress"):
        client.vector_stores.file_batches.cancel(batch.id, vector_store_id=store.id)
    with pytest.raises(openai.NotFoundError):
        client.vector_stores.file_batches.retrieve("vsfb_missing", vector_store_id=store.id)


def test_azure_serves_the_same_endpoints(server: EmulatorServer) -> None:
    headers = {"api-key": API_KEY}
    answer = httpx.post(server.root_url + "/openai/vector_stores?api-version=2025-01-01-preview",
                        json={"name": "az"}, headers=headers)
    assert answer.status_code == 200 and answer.json()["name"] == "az"
    uploaded = httpx.post(server.root_url + "/openai/files?api-version=2025-01-01-preview", headers=headers,
                          data={"purpose": "assistants"}, files={"file": ("a.md", io.BytesIO(b"a"))})
    assert uploaded.status_code == 200, uploaded.text


def test_an_upload_may_expire(client: openai.OpenAI) -> None:
    created = client.files.create(file=("a.md", b"a"), purpose="assistants",
                                  expires_after={"anchor": "created_at", "seconds": 3600})
    assert created.expires_at == created.created_at + 3600
    with pytest.raises(openai.BadRequestError, match="expires_after.seconds"):
        client.files.create(file=("a.md", b"a"), purpose="assistants",
                            expires_after={"anchor": "created_at", "seconds": 60})
