"""The listing in flight: while the manifests load, every kind at once, and Ctrl-C during it.

Every test synchronises on what a server has seen or what the loader has done (events),
never on how long something takes: each wait has a generous bound only so that a
broken build fails instead of hanging.
"""

from __future__ import annotations

import gc
import sys
import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from assistants_sync.actual import turns
from assistants_sync.actual.client import AssistantsClient, Endpoint
from assistants_sync.actual import remote
from assistants_sync.actual.remote import ActualState, ListingInFlight, fetch_actual
from assistants_sync.actual.turns import LISTING_SWITCH_INTERVAL
from assistants_sync.emulator import EmulatorServer
from assistants_sync.errors import ApiError, BadResponseError, ManifestError
from assistants_sync.planning import reconcile

from .conftest import API_KEY, interrupted_cli, point_cli_at, run, write
from .loopback import Answer, Request, error_answer, json_answer, loopback_server

BOUND = 30  # seconds: never reached when the code is right


def _collection(request: Request) -> str:
    return urlsplit(request.path).path.split("/v1/", 1)[-1]


def _cursor(request: Request) -> str | None:
    return parse_qs(urlsplit(request.path).query).get("after", [None])[0]


def _page(collection: str, number: int, *, more: bool) -> Answer:
    """One unowned object a page, so that a page always has a cursor to follow."""
    obj = {"id": f"{collection}-{number}", "object": "x", "created_at": number, "metadata": {}}
    if collection == "assistants":
        obj.update(model="gpt-4o", tools=[])
    return json_answer(200, {"object": "list", "data": [obj], "has_more": more})


def test_a_plan_of_invalid_manifests_writes_nothing_and_asks_for_no_page_after_validation_failed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path / "specs" / "a.yaml", "key: a\nmodel: m\ntemprature: 1\n")
    write(tmp_path / "specs" / "b.yaml", "key: b\n")
    listing_arrived, validation_failed, listing_cancelled = threading.Event(), threading.Event(), threading.Event()
    cancelled_after_validation: list[bool] = []

    def answer(request: Request) -> Answer:
        # Every page is answered only once the failed validation has cancelled the listing, and says there is
        # more (answered before, its next page could be asked for while the failure is on its way to the cancel).
        listing_arrived.set()
        assert listing_cancelled.wait(BOUND), "the listing was never cancelled"
        return _page(_collection(request), 1, more=True)

    real_cancel = ListingInFlight.cancel

    def cancel(self: ListingInFlight) -> None:
        cancelled_after_validation.append(validation_failed.is_set())
        real_cancel(self)
        listing_cancelled.set()

    monkeypatch.setattr(ListingInFlight, "cancel", cancel)

    real_load = reconcile.load_manifests

    def load_after_the_listing_started(*args: object, **kwargs: object) -> object:
        # The listing must be under way before loading even starts: else this waits forever.
        assert listing_arrived.wait(BOUND), "the listing did not start while the manifests loaded"
        try:
            return real_load(*args, **kwargs)  # type: ignore[arg-type]
        except ManifestError:
            validation_failed.set()
            raise

    monkeypatch.setattr(reconcile, "load_manifests", load_after_the_listing_started)
    validated = run("validate", str(tmp_path / "specs"))
    with loopback_server(answer) as server:
        point_cli_at(monkeypatch, server.base_url)
        result = run("plan", str(tmp_path / "specs"))
        for thread in threading.enumerate():  # what the listings still in flight would ask for, they have asked
            if thread.name.startswith("assistants-sync: listing"):
                thread.join(BOUND)
        sent = list(server.requests)
    assert result.exit_code == 1
    assert result.stderr == validated.stderr and "2 problems in the manifests:" in result.stderr  # as today
    assert result.stdout == ""
    # The first kind's first page was asked for (the listing started at once) and answered after validation
    # had failed: no further page of it, and no other kind, was asked for; nothing was written.
    assert [(r.method, _collection(r), _cursor(r)) for r in sent] == [("GET", "assistants", None)]
    assert cancelled_after_validation[:1] == [True]  # cancelled by the failure, not before it


def test_validate_still_sends_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / "specs" / "a.yaml", "key: a\nmodel: gpt-4o\n")
    with loopback_server(lambda request: _page(_collection(request), 1, more=False)) as server:
        point_cli_at(monkeypatch, server.base_url)
        assert run("validate", str(tmp_path / "specs")).exit_code == 0
        assert server.requests == []


def test_the_kinds_are_listed_at_once_and_each_page_is_asked_for_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path / "specs" / "a.yaml", "key: a\nmodel: gpt-4o\n")
    second_page_asked = threading.Event()

    def answer(request: Request) -> Answer:
        collection = _collection(request)
        if collection == "assistants":
            if _cursor(request) is None:
                return _page(collection, 1, more=True)
            second_page_asked.set()
            return _page(collection, 2, more=False)
        # Another kind's listing is answered only once the assistants' second page is asked for: one after
        # the other, the kinds could never get there.
        assert second_page_asked.wait(BOUND), "the kinds were not listed at once"
        return _page(collection, 1, more=False)

    with loopback_server(answer) as server:
        point_cli_at(monkeypatch, server.base_url)
        result = run("plan", "--format", "json", str(tmp_path / "specs"))
        sent = sorted((_collection(r), _cursor(r) or "") for r in server.requests)
    assert result.exit_code == 0, result.output
    # Each collection once, and the assistants' next page once: ceil(N/100) requests a kind.
    assert sent == [("agents", ""), ("assistants", ""), ("assistants", "assistants-1"), ("files", ""),
                    ("vector_stores", "")]


def test_ctrl_c_while_a_plan_lists_exits_130_at_once_without_a_traceback(tmp_path: Path) -> None:
    write(tmp_path / "specs" / "bot.yaml", "key: bot\nmodel: gpt-4o\n")
    arrived, release = threading.Event(), threading.Event()

    def answer(request: Request) -> Answer:
        arrived.set()
        release.wait(BOUND)  # never answered before the plan is interrupted
        return _page(_collection(request), 1, more=False)

    with loopback_server(answer) as server:
        env = {"OPENAI_API_KEY": API_KEY, "OPENAI_BASE_URL": server.base_url}
        try:
            code, stdout, stderr = interrupted_cli(["plan", str(tmp_path / "specs")], env, arrived)
        finally:
            release.set()
    assert code == 130, stdout + stderr
    assert stderr == "\nInterrupted; nothing was changed.\n"
    assert stdout == ""
    assert all(r.method == "GET" for r in server.requests)


def test_the_collector_does_not_run_while_a_plan_lists_and_runs_as_before_once_it_ends(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path / "specs" / "a.yaml", "key: a\nmodel: gpt-4o\n")
    write(tmp_path / "bad" / "a.yaml", "key: a\nmodel: gpt-4o\ntemprature: 1\n")
    seen: list[bool] = []
    planning = threading.Event()

    def answer(request: Request) -> Answer:
        if planning.is_set():  # the refused plan's first page may come in after it has ended: not counted
            seen.append(gc.isenabled())  # the loopback server answers in this process: the plan's collector
        return _page(_collection(request), 1, more=False)

    assert gc.isenabled()
    with loopback_server(answer) as server:
        point_cli_at(monkeypatch, server.base_url)
        planning.set()
        planned = run("plan", str(tmp_path / "specs"))
        planning.clear()
        after_a_plan = gc.isenabled()
        refused = run("plan", str(tmp_path / "bad"))
    assert planned.exit_code == 0 and refused.exit_code == 1, planned.output + refused.output
    assert seen and not any(seen)
    assert after_a_plan and gc.isenabled()  # after a plan, and after a refused one


def test_the_switch_interval_is_short_while_a_plan_lists_and_as_before_once_it_ends(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path / "specs" / "a.yaml", "key: a\nmodel: gpt-4o\n")
    seen: list[float] = []
    planning = threading.Event()

    def answer(request: Request) -> Answer:
        if planning.is_set():
            seen.append(sys.getswitchinterval())  # the loopback server answers in this process: the plan's interval
        return _page(_collection(request), 1, more=False)

    before = sys.getswitchinterval()
    with loopback_server(answer) as server:
        point_cli_at(monkeypatch, server.base_url)
        planning.set()
        planned = run("plan", str(tmp_path / "specs"))
        planning.clear()
    assert planned.exit_code == 0, planned.output
    assert seen and all(interval <= LISTING_SWITCH_INTERVAL * 1.05 for interval in seen)
    assert sys.getswitchinterval() == before


def test_large_and_small_objects_are_fingerprinted_alike_whether_their_record_was_kept_or_made_again(
    emulator: EmulatorServer
) -> None:
    # A large object's record is not kept from its page (memory): the fingerprint makes it again, the same bytes.
    for key, instructions in (("small", "Be brief."), ("large", "x" * (2 * remote.RECORD_KEPT_AT_MOST))):
        emulator.store.create({"model": "gpt-4o", "instructions": instructions,
                               "metadata": {"assistants-sync": f"default/{key}"}})
    with AssistantsClient(Endpoint(emulator.base_url, api_key=API_KEY)) as client:
        state = fetch_actual(client, "default")
    kept = {r.key: r.record is not None for r in state.managed}
    assert kept == {"small": True, "large": False}
    made_again = ActualState(stack="default", managed=tuple(replace(r, record=None) for r in state.managed))
    assert state.fingerprint() == made_again.fingerprint()


def test_a_listing_that_failed_midway_leaves_no_answer_in_hand_to_give_way_to(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(turns, "GIVE_WAY_AT_MOST", 60.0)

    def answer(request: Request) -> Answer:
        collection = _collection(request)
        if collection == "assistants" and _cursor(request) is not None:
            return error_answer(400, "the second page is refused")
        return _page(collection, 1, more=collection == "assistants")

    with loopback_server(answer) as server:
        with AssistantsClient(Endpoint(server.base_url, api_key=API_KEY)) as client:
            with ListingInFlight(client, "default") as listing, pytest.raises(ApiError, match="second page"):
                listing.state()
            giving_way = threading.Thread(target=listing.give_way, daemon=True)
            giving_way.start()
            giving_way.join(BOUND)
    assert not giving_way.is_alive()


def _serving(collections: dict[str, list[dict[str, Any]]], missing: frozenset[str] = frozenset()
             ) -> Callable[[Request], Answer]:
    """A server answering each collection in one page (404 for those `missing`, empty for the others)."""

    def answer(request: Request) -> Answer:
        collection = _collection(request)
        if collection in missing:
            return error_answer(404, f"no {collection} here")
        return json_answer(200, {"object": "list", "data": collections.get(collection, []), "has_more": False})

    return answer


_NAMING_STORE = {"id": "asst_1", "object": "assistant", "created_at": 1, "model": "gpt-4o",
                 "metadata": {"assistants-sync": "default/a"}, "tools": [{"type": "file_search"}],
                 "tool_resources": {"file_search": {"vector_store_ids": ["vs_1"]}}}


def test_a_kind_found_unserved_only_when_an_adopted_object_is_read_names_no_key_of_the_others() -> None:
    # The stores are listed (vs_1 is the stack's "kb"), then reading the files of vs_2, which an adopt takes
    # over, answers 404: the stores are unserved after all, and the assistant naming vs_1 keeps its id, as
    # when the stores' listing itself answered 404.
    stores = [{"id": "vs_1", "object": "vector_store", "created_at": 1, "name": "kb",
               "metadata": {"assistants-sync": "default/kb"}},
              {"id": "vs_2", "object": "vector_store", "created_at": 2, "name": "other", "metadata": {}}]
    answer = _serving({"assistants": [_NAMING_STORE], "vector_stores": stores},
                      missing=frozenset({"vector_stores/vs_2/files"}))
    with loopback_server(answer) as server, AssistantsClient(Endpoint(server.base_url, api_key=API_KEY)) as client:
        with ListingInFlight(client, "default") as listing:
            state = listing.state(wanted={"assistant"}, also_read={"vs_2"})
    assert state.unserved >= {"vector_store"}
    assert [r.canonical.as_dict()["tool_resources"] for r in state.managed] == [
        {"file_search": {"vector_store_ids": ["vs_1"]}}]


def test_a_malformed_object_is_refused_in_listing_order_whatever_its_page_holds() -> None:
    # The assistant (the first kind) is malformed, and so is a store's creation time (1e999 parses as inf):
    # the assistant's error is the one raised, as when the kinds are listed one after the other.
    store = {"id": "vs_1", "object": "vector_store", "created_at": 1e999, "name": "kb",
             "metadata": {"assistants-sync": "default/kb"}}
    answer = _serving({"assistants": [{**_NAMING_STORE, "tools": 5}], "vector_stores": [store]})
    with loopback_server(answer) as server, AssistantsClient(Endpoint(server.base_url, api_key=API_KEY)) as client:
        with pytest.raises(BadResponseError, match="assistant 'asst_1' with a malformed field"):
            fetch_actual(client, "default")
        answer = _serving({"vector_stores": [store]})
    with loopback_server(answer) as server, AssistantsClient(Endpoint(server.base_url, api_key=API_KEY)) as client:
        with pytest.raises(BadResponseError, match="vector store 'vs_1' with a malformed field .*OverflowError"):
            fetch_actual(client, "default")
