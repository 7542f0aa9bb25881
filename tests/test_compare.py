"""One listed object against its manifest, page by page while the listing is in flight (planning/compare.py)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import openai
import pytest

from assistants_sync.actual.client import AssistantsClient, Endpoint
from assistants_sync.actual.remote import RemoteObject, fetch_actual
from assistants_sync.applying.apply import apply_plan
from assistants_sync.desired.manifest import load_manifests
from assistants_sync.emulator import EmulatorServer
from assistants_sync.kinds import get_kind
from assistants_sync.ownership import KindStillListed
from assistants_sync.planning import compare
from assistants_sync.planning.compare import Comparisons
from assistants_sync.planning.diff import compute_plan
from assistants_sync.planning.reconcile import plan_from_manifests

from .conftest import API_KEY, write
from .loopback import Answer, Request, json_answer, loopback_server

BOUND = 30  # seconds: never reached when the code is right


def test_a_plan_compared_page_by_page_is_the_plan_compared_after_the_listing(
    emulator: EmulatorServer, sdk: openai.OpenAI, example_specs: Path
) -> None:
    # The example stack (stores naming files, an assistant naming a store by key), applied, then changed on
    # both sides: a manifest edit, an edit outside, and a manifest removed.
    with AssistantsClient(Endpoint(emulator.base_url, api_key=API_KEY)) as client:
        applied = apply_plan(plan_from_manifests([example_specs], client, "default"), client)
        assert not applied.failed
        tools = (example_specs / "tools.yaml").read_text(encoding="utf-8")
        (example_specs / "tools.yaml").write_text(tools.replace("Help users check", "Help people check"),
                                                  encoding="utf-8")
        support = next(a for a in sdk.beta.assistants.list() if a.name == "Support Bot")
        sdk.beta.assistants.update(support.id, temperature=0.9)
        (example_specs / "product-docs.yaml").unlink()
        (example_specs / "support.yaml").unlink()

        page_by_page = plan_from_manifests([example_specs], client, "default")
        desired = load_manifests([example_specs])
        after_the_listing = compute_plan(desired, fetch_actual(client, "default", wanted={"assistant"}),
                                         client.endpoint.identity)
    assert page_by_page.model_dump() == after_the_listing.model_dump()
    assert {(c.kind, c.key, c.action.value) for c in page_by_page.changes} >= {
        ("assistant", "weather", "update"), ("assistant", "support-bot", "delete"),
        ("vector_store", "product-docs", "delete")}


def test_an_object_found_as_its_manifest_says_is_still_planned_with_its_duplicate_rename_and_adopt(
    emulator: EmulatorServer, sdk: openai.OpenAI, tmp_path: Path
) -> None:
    # Each page tells which objects match their manifests; the plan still sees what only the whole listing
    # shows: a second object of a key, a key renamed, an adopt of another object while the key is managed.
    for key in ("plain", "dup", "kept"):
        write(tmp_path / f"{key}.yaml", f"key: {key}\nmodel: gpt-4o\nname: {key.title()}\n")
    with AssistantsClient(Endpoint(emulator.base_url, api_key=API_KEY)) as client:
        assert not apply_plan(plan_from_manifests([tmp_path], client, "default"), client).failed
        dup = next(a for a in sdk.beta.assistants.list() if a.name == "Dup")
        sdk.beta.assistants.create(model="gpt-4o", name="Dup", metadata=dup.metadata)  # a duplicate, as applied
        unowned = sdk.beta.assistants.create(model="gpt-4o", name="Other")
        write(tmp_path / "kept.yaml", f"key: kept\nmodel: gpt-4o\nname: Kept\nadopt: {unowned.id}\n")
        (tmp_path / "plain.yaml").unlink()
        write(tmp_path / "plain2.yaml", "key: plain2\nprevious_keys: [plain]\nmodel: gpt-4o\nname: Plain\n")

        page_by_page = plan_from_manifests([tmp_path], client, "default")
        after_the_listing = compute_plan(load_manifests([tmp_path]), fetch_actual(client, "default"),
                                         client.endpoint.identity)
    assert page_by_page.model_dump() == after_the_listing.model_dump()
    assert {(c.key, c.action.value) for c in page_by_page.changes} == {("dup", "delete"), ("plain2", "update")}
    assert [(n.key, n.kind) for n in page_by_page.notes] == [("kept", "adopt_skipped")]


def _still_listed(kind: str, object_id: str) -> str | None:
    raise KindStillListed(kind)


def _listed(obj: dict[str, Any]) -> RemoteObject:
    """A listed assistant of the stack as the listing's state holds it."""
    return RemoteObject(id=obj["id"], key=obj["metadata"]["assistants-sync"].split("/")[1], created_at=0,
                        canonical=get_kind("assistant").normalise(obj))


def test_a_manifest_naming_an_object_of_a_kind_still_listed_is_compared_once_that_kind_is_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path / "alone.yaml", "key: alone\nmodel: gpt-4o\n")
    write(tmp_path / "naming.yaml", """
        key: naming
        model: gpt-4o
        tools: [{type: file_search}]
        tool_resources: {file_search: {vector_store_ids: [vs_1]}}
        """)
    compared: list[Any] = []
    real = compare.diff_fields
    monkeypatch.setattr(compare, "diff_fields", lambda before, *a, **k: compared.append(before) or real(before, *a, **k))
    kind = get_kind("assistant")
    seen = Comparisons(load_manifests([tmp_path]), "default")
    alone = _listed({"id": "asst_1", "model": "gpt-4o", "metadata": {"assistants-sync": "default/alone"}})
    naming = _listed({"id": "asst_2", "model": "gpt-4o", "metadata": {"assistants-sync": "default/naming"},
                      "tools": [{"type": "file_search"}],
                      "tool_resources": {"file_search": {"vector_store_ids": ["vs_1"]}}})
    seen.compare_page(kind, [alone, naming], _still_listed)
    # Whether vs_1 is the stack's store (and so what its key is) is known only once the stores are listed.
    assert compared == [alone.canonical]
    seen.compare_page(kind, [naming], lambda kind, object_id: None)  # listed: not the stack's
    assert compared == [alone.canonical, naming.canonical]


def test_a_manifest_compared_with_keys_the_plan_does_not_share_is_compared_again(tmp_path: Path) -> None:
    write(tmp_path / "naming.yaml", """
        key: naming
        model: gpt-4o
        tools: [{type: file_search}]
        tool_resources: {file_search: {vector_store_ids: [vs_1]}}
        """)
    desired = load_manifests([tmp_path])
    kind = get_kind("assistant")
    seen = Comparisons(desired, "default")
    listed = _listed({"id": "asst_2", "model": "gpt-4o", "metadata": {"assistants-sync": "default/naming"}})
    seen.compare_page(kind, [listed], lambda kind, object_id: "docs")  # vs_1 was the stack's "docs"
    keyed = seen.owned_form(kind, desired[0], lambda kind, object_id: "docs")
    unkeyed = seen.owned_form(kind, desired[0], lambda kind, object_id: None)  # the plan's listing: it is not
    assert keyed.as_dict()["tool_resources"] == {"file_search": {"vector_stores": ["docs"]}}
    assert unkeyed.as_dict()["tool_resources"] == {"file_search": {"vector_store_ids": ["vs_1"]}}


def test_each_page_is_compared_while_the_next_is_in_flight(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / "specs" / "a.yaml", "key: a\nmodel: gpt-4o\n")
    write(tmp_path / "specs" / "b.yaml", "key: b\nmodel: gpt-4o\n")
    first_page_compared = threading.Event()
    real = Comparisons.compare_page

    def compare_page(self: Comparisons, kind: Any, page: Any, key_of: Any) -> None:
        real(self, kind, page, key_of)
        if [remote.key for remote in page] == ["a"]:
            first_page_compared.set()

    monkeypatch.setattr(Comparisons, "compare_page", compare_page)

    def assistant(key: str) -> dict[str, Any]:
        return {"id": f"asst_{key}", "object": "assistant", "created_at": 1, "model": "gpt-4o", "tools": [],
                "metadata": {"assistants-sync": f"default/{key}"}}

    def answer(request: Request) -> Answer:
        url = urlsplit(request.path)
        if not url.path.endswith("/assistants"):
            return json_answer(200, {"object": "list", "data": [], "has_more": False})
        if parse_qs(url.query).get("after") is None:
            return json_answer(200, {"object": "list", "data": [assistant("a")], "has_more": True})
        # The second page is answered only once the first one has been compared: after the last page, it never is.
        assert first_page_compared.wait(BOUND), "the first page was not compared while the second was in flight"
        return json_answer(200, {"object": "list", "data": [assistant("b")], "has_more": False})

    with loopback_server(answer) as server:
        with AssistantsClient(Endpoint(server.base_url, api_key=API_KEY)) as client:
            plan = plan_from_manifests([tmp_path / "specs"], client, "default")
    assert [(c.key, c.action.value, c.drift) for c in plan.changes] == [
        ("a", "update", "untracked"), ("b", "update", "untracked")]


def test_an_assistant_naming_a_store_is_compared_once_the_stores_are_listed_before_the_last_page(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path / "specs" / "docs.yaml", "kind: vector_store\nkey: docs\nname: Docs\n")
    write(tmp_path / "specs" / "a.yaml", """
        key: a
        model: gpt-4o
        tools: [{type: file_search}]
        tool_resources: {file_search: {vector_stores: [docs]}}
        """)
    write(tmp_path / "specs" / "b.yaml", "key: b\nmodel: gpt-4o\n")
    naming_compared = threading.Event()
    compared: list[Any] = []
    real = Comparisons.compare_page

    def compare_page(self: Comparisons, kind: Any, page: Any, key_of: Any) -> None:
        real(self, kind, page, key_of)
        compared.extend((kind.name, r.key, r.canonical.as_dict().get("tool_resources")) for r in page)
        if ("assistant", "a", {"file_search": {"vector_stores": ["docs"]}}) in compared:
            naming_compared.set()

    monkeypatch.setattr(Comparisons, "compare_page", compare_page)

    def assistant(key: str, **fields: Any) -> dict[str, Any]:
        return {"id": f"asst_{key}", "object": "assistant", "created_at": 1, "model": "gpt-4o",
                "metadata": {"assistants-sync": f"default/{key}"}, **fields}

    def answer(request: Request) -> Answer:
        url = urlsplit(request.path)
        empty = {"object": "list", "data": [], "has_more": False}
        if url.path.endswith("/vector_stores"):
            store = {"id": "vs_1", "object": "vector_store", "created_at": 1, "name": "Docs",
                     "metadata": {"assistants-sync": "default/docs"}}
            return json_answer(200, {"object": "list", "data": [store], "has_more": False})
        if not url.path.endswith("/assistants"):
            return json_answer(200, empty)
        if parse_qs(url.query).get("after") is None:
            naming = assistant("a", tools=[{"type": "file_search"}],
                               tool_resources={"file_search": {"vector_store_ids": ["vs_1"]}})
            return json_answer(200, {"object": "list", "data": [naming], "has_more": True})
        # The last page is answered only once the first page's assistant, which names the stack's store, has
        # been compared by that store's key: the stores were listed meanwhile.
        assert naming_compared.wait(BOUND), "the assistant naming a store waited for the last page"
        return json_answer(200, {"object": "list", "data": [assistant("b", tools=[])], "has_more": False})

    with loopback_server(answer) as server:
        with AssistantsClient(Endpoint(server.base_url, api_key=API_KEY)) as client:
            page_by_page = plan_from_manifests([tmp_path / "specs"], client, "default")
            after_the_listing = compute_plan(load_manifests([tmp_path / "specs"]),
                                             fetch_actual(client, "default", wanted={"assistant", "vector_store"}),
                                             client.endpoint.identity)
    assert page_by_page.model_dump() == after_the_listing.model_dump()
    assert [(c.kind, c.key, c.action.value) for c in page_by_page.changes] == [
        ("assistant", "a", "update"), ("assistant", "b", "update"), ("vector_store", "docs", "update")]


def test_metadata_differs_exactly_when_it_differs_beyond_the_applied_tag() -> None:
    from itertools import combinations, product

    from assistants_sync.kinds.assistant import CanonicalAssistant
    from assistants_sync.ownership import APPLIED_KEY, without_applied_tag

    names = ["a", "b", APPLIED_KEY]
    every = [dict(zip(chosen, values)) for size in range(4) for chosen in combinations(names, size)
             for values in product(["1", "2"], repeat=size)]
    for old, new in product(every, every):
        fields = compare.diff_fields(CanonicalAssistant(model="m", metadata=old), CanonicalAssistant(model="m", metadata=new))
        assert ("metadata" in fields) == (without_applied_tag(old) != without_applied_tag(new)), (old, new)
