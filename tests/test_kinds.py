"""The engine is generic over kinds: a toy kind, defined here alone, goes through
plan, saved plans, apply (in dependency order), drift and export like assistants.

The toy kind is a few lines (a model, its fields, its path, what it references); its
endpoint is a small dict-backed server on loopback that serves only /v1/toys, and
that refuses, as a real API would, a child whose parent does not exist yet and the
delete of a parent a child still names.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from pydantic import Field

from assistants_sync.actual.client import AssistantsClient, Endpoint
from assistants_sync.applying.apply import apply_plan
from assistants_sync.desired.manifest import load_manifests
from assistants_sync.emulator import EmulatorServer, running_emulator
from assistants_sync.errors import ManifestError, PlanError, UnservedKindError
from assistants_sync.kinds import register, unregister
from assistants_sync.kinds.base import Kind, ManifestBase, defaults_model_of
from assistants_sync.planning.plan import Action, Ref
from assistants_sync.planning.reconcile import drift_from_manifests, plan_from_manifests
from assistants_sync.planning.saved import check_saved_plan, load_plan, save_plan
from assistants_sync.render.export import export_manifests
from assistants_sync.render.plans import render_json, render_text

from .conftest import run, write
from .loopback import Answer, Request, error_answer, json_answer, loopback_server


class ToyManifest(ManifestBase):
    name: str | None = None
    parent: str | None = None  # the key of another toy
    metadata: dict[str, str] = Field(default_factory=dict)


class Toy(Kind):
    name = "toy"
    noun = "toy"
    plural = "toys"
    path = "toys"
    manifest_model = ToyManifest
    fields = ("name", "parent", "metadata")
    defaults = {"name": None, "parent": None, "metadata": {}}

    def references(self, values: Mapping[str, Any]) -> Iterable[tuple[str, str]]:
        return [("toy", values["parent"])] if values.get("parent") else []


class ToyServer:
    """/v1/toys as a dict; every other path answers 404 (this endpoint serves no assistants)."""

    def __init__(self) -> None:
        self.toys: dict[str, dict[str, Any]] = {}
        self.created: list[str] = []  # keys, in the order they were created
        self.deleted: list[str] = []
        self._lock = threading.Lock()

    @staticmethod
    def key_of(toy: Mapping[str, Any]) -> str:
        return str(toy["metadata"].get("assistants-sync", "/")).partition("/")[2]

    def answer(self, request: Request) -> Answer:
        url = urlsplit(request.path)
        parts = url.path.strip("/").split("/")  # v1, toys[, id]
        if parts[:2] != ["v1", "toys"]:
            return error_answer(404, f"no route {url.path}")
        with self._lock:
            if request.method == "GET" and len(parts) == 2:
                after = parse_qs(url.query).get("after", [None])[0]
                listed = list(self.toys.values())
                if after is not None:
                    listed = listed[[t["id"] for t in listed].index(after) + 1:]
                return json_answer(200, {"object": "list", "data": listed, "has_more": False})
            if request.method == "POST" and len(parts) == 2:
                parent = request.body.get("parent")
                if parent and not any(self.key_of(t) == parent for t in self.toys.values()):
                    return error_answer(400, f"no parent toy {parent!r}")
                toy = {"id": f"toy_{len(self.created) + 1}", "created_at": len(self.created) + 1, "name": None,
                       "parent": None, "metadata": {}, **request.body}
                self.toys[toy["id"]] = toy
                self.created.append(self.key_of(toy))
                return json_answer(200, toy)
            toy_id = parts[2]
            if toy_id not in self.toys:
                return error_answer(404, f"no toy {toy_id}")
            if request.method == "POST":
                self.toys[toy_id].update(request.body)
                return json_answer(200, self.toys[toy_id])
            key = self.key_of(self.toys[toy_id])
            if any(t.get("parent") == key for t in self.toys.values()):
                return error_answer(400, f"toy {key!r} is the parent of another toy")
            del self.toys[toy_id]
            self.deleted.append(key)
            return json_answer(200, {"id": toy_id, "deleted": True})


TOY = Toy()


@pytest.fixture
def toys() -> Iterator[ToyServer]:
    register(TOY)
    try:
        yield ToyServer()
    finally:
        unregister(TOY.name)


@pytest.fixture
def client(toys: ToyServer) -> Iterator[AssistantsClient]:
    with loopback_server(toys.answer) as server, \
            AssistantsClient(Endpoint(server.base_url, api_key="toy-key")) as client:
        yield client


def family(directory: Path, *children: str) -> Path:
    """A parent toy and children naming it, one manifest file."""
    documents = ["kind: toy\nkey: parent\nname: Parent\n"]
    documents += [f"kind: toy\nkey: {child}\nname: {child.title()}\nparent: parent\n" for child in children]
    write(directory / "toys.yaml", "---\n".join(documents))
    return directory


def test_a_toy_kind_is_planned_saved_applied_in_dependency_order_and_reports_no_drift(
    toys: ToyServer, client: AssistantsClient, tmp_path: Path
) -> None:
    specs = family(tmp_path / "specs", "kid-a", "kid-b", "kid-c")
    plan = plan_from_manifests([specs], client, "default")
    assert plan.kinds == ["toy"]  # the endpoint serves no assistants: skipped, not taken to be empty
    assert [(c.action, c.kind, c.key) for c in plan.changes] == [
        (Action.CREATE, "toy", "kid-a"), (Action.CREATE, "toy", "kid-b"), (Action.CREATE, "toy", "kid-c"),
        (Action.CREATE, "toy", "parent")]
    assert plan.changes[0].depends_on == [Ref(kind="toy", key="parent")]
    assert plan.changes[3].depends_on == []
    text = render_text(plan)
    assert '  + toy kid-a "Kid-A" will be created' in text
    assert "Plan: 4 to create, 0 to update, 0 to delete." in text
    [change] = [c for c in json.loads(render_json(plan))["changes"] if c["key"] == "kid-a"]
    assert (change["kind"], change["id"], "assistant_id" in change) == ("toy", None, False)
    assert change["depends_on"] == [{"kind": "toy", "key": "parent", "id": None}]  # made by the same plan

    save_plan(plan, tmp_path / "plan.json")
    saved = load_plan(tmp_path / "plan.json")
    check_saved_plan(saved, client, "default")
    result = apply_plan(saved, client, parallelism=4)
    assert [o.error for o in result.outcomes] == [None] * 4
    assert toys.created[0] == "parent"  # the children waited for it, then ran in any order
    assert sorted(toys.created[1:]) == ["kid-a", "kid-b", "kid-c"]

    again = plan_from_manifests([specs], client, "default")
    assert again.is_empty
    assert "No changes. The 4 managed toys match the manifests." in render_text(again)
    assert drift_from_manifests([specs], client, "default").is_empty


def test_a_toy_changed_outside_is_drift_and_a_saved_plan_goes_stale(
    toys: ToyServer, client: AssistantsClient, tmp_path: Path
) -> None:
    specs = family(tmp_path / "specs", "kid")
    apply_plan(plan_from_manifests([specs], client, "default"), client)
    write(specs / "toys.yaml", (specs / "toys.yaml").read_text().replace("name: Kid", "name: Kiddo"))
    save_plan(plan_from_manifests([specs], client, "default"), tmp_path / "plan.json")
    [kid] = [t for t in toys.toys.values() if toys.key_of(t) == "kid"]
    kid["name"] = "Edited by hand"

    drift = drift_from_manifests([specs], client, "default")
    [change] = drift.changes
    assert (change.action, change.key, change.id, change.cause, change.drift) == (
        Action.UPDATE, "kid", kid["id"], "both", "changed")
    assert "Drift: 1 toy changed outside assistants-sync." in render_text(drift, view="drift")
    with pytest.raises(PlanError, match='the managed toys of stack "default" have changed since the plan was made'):
        check_saved_plan(load_plan(tmp_path / "plan.json"), client, "default")


def test_toys_are_deleted_children_first_and_export_reproduces_them(
    toys: ToyServer, client: AssistantsClient, tmp_path: Path
) -> None:
    specs = family(tmp_path / "specs", "kid-a", "kid-b")
    apply_plan(plan_from_manifests([specs], client, "default"), client)

    exported = tmp_path / "exported"
    from assistants_sync.actual.remote import fetch_actual

    written = export_manifests(fetch_actual(client, "default"), exported)
    assert sorted(str(f.path.relative_to(exported)) for f in written) == [
        "toy/kid-a.yaml", "toy/kid-b.yaml", "toy/parent.yaml"]
    assert plan_from_manifests([exported], client, "default").is_empty

    (specs / "toys.yaml").unlink()
    write(specs / "other.yaml", "kind: toy\nkey: other\n")
    plan = plan_from_manifests([specs], client, "default", allow_delete_all=True)
    deletes = [c for c in plan.changes if c.action is Action.DELETE]
    assert [(c.key, c.depends_on) for c in deletes] == [
        ("kid-a", [Ref(kind="toy", key="parent", id="toy_1")]), ("kid-b", [Ref(kind="toy", key="parent", id="toy_1")]),
        ("parent", [])]  # a delete names the listed object, by its id
    result = apply_plan(plan, client, parallelism=4)
    assert [o.error for o in result.outcomes] == [None] * 4
    assert toys.deleted[-1] == "parent"  # the server refuses to delete a parent a child still names


def test_a_change_whose_dependency_failed_is_not_made(toys: ToyServer, client: AssistantsClient,
                                                      tmp_path: Path) -> None:
    specs = family(tmp_path / "specs", "kid")
    plan = plan_from_manifests([specs], client, "default")
    parent = next(c for c in plan.changes if c.key == "parent")
    broken = parent.model_copy(update={"fields": {**parent.fields, "metadata": parent.fields["metadata"].model_copy(
        update={"after": "not a mapping"})}})
    plan = plan.model_copy(update={"changes": [broken if c.key == "parent" else c for c in plan.changes]})
    result = apply_plan(plan, client)
    errors = {o.change.key: o.error for o in result.outcomes}
    assert errors["kid"] == "not applied: it waits for create of toy parent, which was not done"
    assert toys.created == []


def test_objects_naming_each_other_in_a_circle_are_refused(toys: ToyServer, client: AssistantsClient,
                                                            tmp_path: Path) -> None:
    write(tmp_path / "toys.yaml", "kind: toy\nkey: egg\nparent: hen\n---\nkind: toy\nkey: hen\nparent: egg\n")
    with pytest.raises(PlanError, match="depend on each other in a circle, so none can be made first: "
                                        "toy egg -> toy hen -> toy egg"):
        plan_from_manifests([tmp_path], client, "default")


def test_keys_are_unique_per_kind(toys: ToyServer, client: AssistantsClient, tmp_path: Path) -> None:
    write(tmp_path / "a.yaml", "key: bot\nmodel: gpt-4o\n---\nkind: toy\nkey: bot\n---\nkind: toy\nkey: bot\n")
    with pytest.raises(ManifestError) as caught:
        plan_from_manifests([tmp_path], client, "default")
    assert [p.message for p in caught.value.problems] == [
        f"duplicate key: already defined at {tmp_path / 'a.yaml'}:4 (keys must be unique across all files among "
        "the manifests of kind toy)"]


def test_a_manifest_of_a_kind_the_endpoint_does_not_serve_fails_naming_kind_and_endpoint(
    toys: ToyServer, client: AssistantsClient, tmp_path: Path
) -> None:
    write(tmp_path / "bot.yaml", "key: bot\nmodel: gpt-4o\n")
    with pytest.raises(UnservedKindError) as caught:
        plan_from_manifests([tmp_path], client, "default")
    assert str(caught.value).startswith(
        f"{client.endpoint.display_url} does not serve assistants: listing them (GET assistants) answered HTTP 404, "
        "and the manifests hold assistants (kind: assistant); nothing was changed.")


def test_an_unknown_kind_is_a_manifest_problem(env: EmulatorServer, tmp_path: Path) -> None:
    write(tmp_path / "a.yaml", "kind: widget\nkey: docs\n")
    result = run("validate", str(tmp_path))
    assert result.exit_code == 1
    assert result.stderr == (f"Error: 1 problem in the manifests:\n  {tmp_path / 'a.yaml'}:1: document 1 (key 'docs'): "
                             "kind: unknown kind 'widget': the kinds are assistant, agent, foundry_agent, vector_store\n")


def test_an_endpoint_serving_no_assistants_fails_the_plan_of_assistants_clearly(tmp_path: Path,
                                                                                monkeypatch: pytest.MonkeyPatch
                                                                                ) -> None:
    write(tmp_path / "bot.yaml", "key: bot\nmodel: gpt-4o\n")
    with running_emulator(serve_assistants=False) as server:
        monkeypatch.setenv("OPENAI_API_KEY", "k")
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        result = run("plan", str(tmp_path))
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: {server.base_url} does not serve assistants: listing them "
                                    "(GET assistants) answered HTTP 404")


def test_a_kind_the_endpoint_does_not_serve_is_skipped_when_no_manifest_has_it(
    env: EmulatorServer, tmp_path: Path
) -> None:
    register(TOY)
    try:
        write(tmp_path / "bot.yaml", "key: bot\nmodel: gpt-4o\n")
        result = run("plan", str(tmp_path), "--format", "json")
    finally:
        unregister(TOY.name)
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["kinds"] == ["assistant"]  # toys: the emulator answers 404, so none is planned, none deleted
    assert [(c["kind"], c["key"]) for c in document["changes"]] == [("assistant", "bot")]


def test_validate_counts_the_manifests_of_each_kind(toys: ToyServer, tmp_path: Path) -> None:
    family(tmp_path / "toys", "kid")
    assert run("validate", str(tmp_path / "toys")).stdout == "2 toy manifests valid.\n"
    write(tmp_path / "toys" / "bot.yaml", "key: bot\nmodel: gpt-4o\n")
    assert run("validate", str(tmp_path / "toys")).stdout == "3 manifests valid.\n"


class MetadataToy(Toy):
    name = "metadata-toy"
    noun = "metadata toy"
    plural = "metadata toys"
    path = "metadata-toys"
    defaults_model = defaults_model_of("MetadataToyDefaults", ToyManifest, ("metadata",))


def test_a_kind_takes_only_the_project_defaults_it_declares(toys: ToyServer, tmp_path: Path) -> None:
    register(MetadataToy())
    try:
        write(tmp_path / "toy.yaml", "kind: toy\nkey: plain\n")
        write(tmp_path / "tagged.yaml", "kind: metadata-toy\nkey: tagged\nmetadata: {owner: ana}\n")
        write(tmp_path / "bot.yaml", "key: bot\n")
        loaded = load_manifests([tmp_path], defaults={"model": "m", "name": "N", "metadata": {"team": "t"}})
        requests = {d.kind: d.request for d in loaded}
        assert requests["toy"] == {"metadata": {}}  # takes no defaults
        assert requests["metadata-toy"] == {"metadata": {"team": "t", "owner": "ana"}}  # takes metadata alone
        assert requests["assistant"] == {"model": "m", "name": "N", "tools": [], "metadata": {"team": "t"}}
    finally:
        unregister(MetadataToy.name)
