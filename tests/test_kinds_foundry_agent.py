"""kind: foundry_agent through the CLI against the emulator's Foundry project: versions, names, ownership, knowledge."""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from assistants_sync import cli as cli_module
from assistants_sync.cli import cli
from assistants_sync.emulator import RecordedRequest

from .conftest import interrupted_cli, run, write
from .loopback import Answer, Request, loopback_server
from .test_foundry import Foundry, foundry  # noqa: F401  (the fixture)

AGENTS = "/api/projects/sales/agents"


def support(root: Path, *, temperature: float = 0.3, name: str | None = None, keep: int | None = None,
            extra: str = "") -> Path:
    specs = root / "specs"
    write(specs / "support.yaml", f"""
        kind: foundry_agent
        key: support
        {f'name: {name}' if name else ''}
        description: Answers support questions
        model: gpt-4o
        instructions_file: instructions/support.md
        temperature: {temperature}
        {f'keep_versions: {keep}' if keep else ''}
        tools:
          - type: function
            name: get_order
            description: Look up an order
            parameters_file: get_order.json
          - type: file_search
            vector_stores: [handbook]
          - type: code_interpreter
            files: [data/prices.csv]
        metadata:
          team: care
        {extra}
        ---
        kind: vector_store
        key: handbook
        name: Handbook
        files: [docs/*.md]
        """)
    write(specs / "instructions" / "support.md", "You answer support questions.\nBe brief.\n")
    write(specs / "get_order.json", '{"type": "object", "properties": {"id": {"type": "string"}}, "required": ["id"]}')
    write(specs / "docs" / "refunds.md", "# Refunds\nWithin 30 days.\n")
    write(specs / "data" / "prices.csv", "sku,price\na,1\n")
    return specs


def foundry_run(*args: str) -> Any:
    return run(args[0], "--provider", "foundry", *args[1:])


def agent_requests(foundry: Foundry, method: str | None = None) -> list[RecordedRequest]:
    return [r for r in foundry.server.requests if r.path.startswith(AGENTS) and method in (None, r.method)]


def versions(foundry: Foundry, name: str) -> list[dict[str, Any]]:
    return foundry.server.foundry_agents.list_versions(name, {"order": "asc", "limit": "100"})["data"]


def post_version(foundry: Foundry, name: str, definition: dict[str, Any], metadata: dict[str, str] | None = None
                 ) -> None:
    """A version made outside assistants-sync (the portal, another tool)."""
    foundry.server.foundry_agents.create_version(name, {"definition": {"kind": "prompt", **definition},
                                                        "metadata": metadata or {}})


@pytest.fixture
def applied(foundry: Foundry, tmp_path: Path) -> Path:  # noqa: F811
    foundry.sign_in_with()
    specs = support(tmp_path)
    result = foundry_run("apply", "--auto-approve", str(specs))
    assert result.exit_code == 0, result.output
    assert "+ foundry_agent support: created support (version 1)" in result.stdout
    return specs


def test_the_first_apply_creates_the_agent_with_version_1_naming_its_stores_and_files_by_id(
        foundry: Foundry, applied: Path) -> None:  # noqa: F811
    [version] = versions(foundry, "support")
    assert version["version"] == "1"
    definition = version["definition"]
    [store] = [s for s in foundry.server.knowledge.list_stores({"limit": "100"})["data"] if s["name"] == "Handbook"]
    [upload] = [f for f in foundry.server.knowledge.list_files({"limit": "100"})["data"]
                if f["filename"].endswith("prices.csv")]  # the stack's tags are in the name before it
    assert definition["tools"] == [
        {"type": "function", "name": "get_order", "description": "Look up an order",
         "parameters": {"type": "object", "properties": {"id": {"type": "string"}}, "required": ["id"]},
         "strict": None},
        {"type": "file_search", "vector_store_ids": [store["id"]]},
        {"type": "code_interpreter", "container": {"type": "auto", "file_ids": [upload["id"]]}},
    ]
    assert definition["instructions"] == "You answer support questions.\nBe brief.\n"
    assert version["metadata"]["assistants-sync"] == "default/support"
    # What the server fills in (an empty description, metadata) makes no perpetual diff.
    again = foundry_run("plan", "--detailed-exitcode", str(applied))
    assert again.exit_code == 0, again.output
    assert "No changes. The 4 managed objects match the manifests." in again.stdout


def test_a_change_is_one_new_version_shown_as_such_and_carrying_every_field(
        foundry: Foundry, applied: Path, tmp_path: Path) -> None:  # noqa: F811
    support(tmp_path, temperature=0.5)
    shown = foundry_run("plan", str(applied))
    assert shown.exit_code == 0, shown.output
    assert ('~ foundry_agent support (support) "support" will get a new version (1 -> 2) (manifest changed)\n'
            "      temperature: 0.3 -> 0.5\n"
            "      (11 unchanged fields hidden)\n") in shown.stdout
    listed = len(foundry.server.requests)
    result = foundry_run("apply", "--auto-approve", str(applied))
    assert result.exit_code == 0, result.output
    assert "~ foundry_agent support (support): updated (version 2)" in result.stdout
    writes = [r for r in foundry.server.requests[listed:] if r.method != "GET" and r.path.startswith(AGENTS)]
    assert [(r.method, r.path) for r in writes] == [("POST", f"{AGENTS}/support/versions")]
    old, new = versions(foundry, "support")
    assert (old["version"], new["version"]) == ("1", "2")
    assert new["definition"]["temperature"] == 0.5
    # The unchanged fields are carried into the new version as they were.
    assert {k: v for k, v in new["definition"].items() if k != "temperature"} == \
        {k: v for k, v in old["definition"].items() if k != "temperature"}
    assert new["description"] == "Answers support questions"
    assert foundry_run("plan", "--detailed-exitcode", str(applied)).exit_code == 0


def test_the_plan_json_names_the_version_replaced_and_the_fields_kept(foundry: Foundry, applied: Path,
                                                                     tmp_path: Path) -> None:  # noqa: F811
    support(tmp_path, temperature=0.5, keep=2)
    document = json.loads(foundry_run("plan", "--format", "json", str(applied)).stdout)
    [change] = document["changes"]
    assert (change["kind"], change["action"], change["id"], change["version"], change["keep_versions"]) == \
        ("foundry_agent", "update", "support", "1", 2)
    assert set(change["fields"]) == {"temperature", "metadata"}
    assert change["kept"]["model"] == "gpt-4o" and "temperature" not in change["kept"]


def test_a_saved_plan_applies_the_version_it_shows(foundry: Foundry, applied: Path, tmp_path: Path) -> None:  # noqa: F811
    support(tmp_path, temperature=0.7)
    saved = tmp_path / "plan.json"
    assert foundry_run("plan", "--out", str(saved), str(applied)).exit_code == 0
    result = foundry_run("apply", "--plan", str(saved))
    assert result.exit_code == 0, result.output
    assert versions(foundry, "support")[-1]["definition"]["temperature"] == 0.7


def test_a_saved_plan_cannot_tag_a_new_version_for_another_stack_through_its_kept_fields(
        foundry: Foundry, applied: Path, tmp_path: Path) -> None:  # noqa: F811
    support(tmp_path, temperature=0.7)
    saved = tmp_path / "plan.json"
    assert foundry_run("plan", "--out", str(saved), str(applied)).exit_code == 0
    document = json.loads(saved.read_text())
    [change] = document["changes"]
    # Edited: the tag moved from the fields it changes to those the new version carries as they are.
    del change["fields"]["metadata"]
    change["kept"]["metadata"] = {"assistants-sync": "billing/helper"}
    saved.write_text(json.dumps(document))
    result = foundry_run("apply", "--plan", str(saved))
    assert result.exit_code == 1
    assert "writes the ownership tag 'billing/helper'" in result.stderr, result.stderr
    assert len(versions(foundry, "support")) == 1  # nothing was written


def test_keep_versions_deletes_the_stacks_older_versions_never_the_latest_nor_one_made_outside(
        foundry: Foundry, applied: Path, tmp_path: Path) -> None:  # noqa: F811
    post_version(foundry, "support", {"model": "gpt-4o", "instructions": "made in the portal"})  # 2, untagged
    for number, temperature in ((3, 0.4), (4, 0.5), (5, 0.6)):
        support(tmp_path, temperature=temperature, keep=2)
        result = foundry_run("apply", "--auto-approve", str(applied))
        assert result.exit_code == 0, result.output
    # 1 went at the apply of 3 (the newest two were 3 and 2); 3 at that of 5. 2 was not the stack's.
    assert [v["version"] for v in versions(foundry, "support")] == ["2", "4", "5"]
    assert "deleted version 3 (keep_versions: 2)" in result.stdout


def test_the_plan_names_the_versions_keep_versions_will_delete_and_apply_deletes_exactly_those(
        foundry: Foundry, applied: Path, tmp_path: Path) -> None:  # noqa: F811
    for temperature in (0.4, 0.5, 0.6):  # versions 2, 3, 4, all the stack's
        support(tmp_path, temperature=temperature)
        assert foundry_run("apply", "--auto-approve", str(applied)).exit_code == 0
    post_version(foundry, "support", {"model": "gpt-4o", "instructions": "made in the portal"})  # 5, untagged
    support(tmp_path, temperature=0.9, keep=2)
    before = len(foundry.server.requests)
    plan = foundry_run("plan", str(applied))
    # The next version (6) and the newest (5) are kept; of the older ones, all the stack's go.
    assert ("      (then versions 1, 2, 3 and 4 are deleted: this stack's older than the newest 2, keep_versions)\n"
            in plan.stdout), plan.stdout
    # Read with the plan: the agent's versions, once (a change with keep_versions needs them).
    versions_read = [r for r in foundry.server.requests[before:] if r.path == f"{AGENTS}/support/versions"]
    assert [r.method for r in versions_read] == ["GET", "GET"]  # its latest has no tag (listing), keep_versions
    saved = tmp_path / "plan.json"
    assert foundry_run("plan", "--out", str(saved), str(applied)).exit_code == 0
    [change] = json.loads(saved.read_text())["changes"]
    assert (change["keep_versions"], change["deletes_versions"]) == (2, ["1", "2", "3", "4"])
    # Apply deletes what the plan said.
    result = foundry_run("apply", "--plan", str(saved))
    assert result.exit_code == 0, result.output
    assert "deleted versions 1, 2, 3, 4 (keep_versions: 2)" in result.stdout
    assert [v["version"] for v in versions(foundry, "support")] == ["5", "6"]


def test_each_agents_versions_to_delete_are_its_own(foundry: Foundry, tmp_path: Path) -> None:  # noqa: F811
    foundry.sign_in_with()
    specs = tmp_path / "many"
    temperatures = {"alpha": 0.1, "beta": 0.1, "gamma": 0.1, "delta": 0.1}

    def applied_with(keep: str = "") -> None:
        for name, temperature in temperatures.items():
            write(specs / f"{name}.yaml", f"kind: foundry_agent\nkey: {name}\nmodel: gpt-4o\n"
                                          f"temperature: {temperature}\n{keep}")

    applied_with()
    assert foundry_run("apply", "--auto-approve", str(specs)).exit_code == 0
    for changed in (["beta", "gamma", "delta"], ["gamma", "delta"], ["delta"]):  # 1, 2, 3 and 4 versions
        temperatures.update({name: temperatures[name] + 0.1 for name in changed})
        applied_with()
        assert foundry_run("apply", "--auto-approve", str(specs)).exit_code == 0
    temperatures.update({name: 0.9 for name in temperatures})
    applied_with("keep_versions: 2\n")
    plan = foundry_run("plan", "--format", "json", str(specs))
    assert plan.exit_code == 0, plan.output
    assert {c["key"]: c["deletes_versions"] for c in json.loads(plan.stdout)["changes"]} == {
        "alpha": [], "beta": ["1"], "gamma": ["1", "2"], "delta": ["1", "2", "3"]}


def test_ctrl_c_while_the_plan_reads_the_versions_to_delete_exits_130_at_once(
        foundry: Foundry, applied: Path, tmp_path: Path) -> None:  # noqa: F811
    support(tmp_path, temperature=0.9, keep=1)
    asked, release = threading.Event(), threading.Event()

    def through_to_the_emulator(request: Request) -> Answer:
        if request.path.startswith(f"{AGENTS}/support/versions"):
            asked.set()
            release.wait(30)  # never answered before the plan is interrupted
        headers = {k: v for k, v in request.headers.items() if k not in ("host", "content-length", "connection")}
        forwarded = httpx.request(request.method, foundry.server.root_url + request.path, headers=headers)
        return forwarded.status_code, forwarded.headers.get("content-type", ""), forwarded.content

    token = foundry.tokens.credential().get_token("https://ai.azure.com/.default").token
    with loopback_server(through_to_the_emulator) as proxy:
        env = {"AZURE_AI_PROJECT_ENDPOINT": proxy.base_url.removesuffix("/v1") + "/api/projects/sales",
               "AZURE_AI_TOKEN": token}
        try:
            code, _, stderr = interrupted_cli(["plan", "--provider", "foundry", str(applied)], env, asked)
        finally:
            release.set()
    assert code == 130, stderr
    assert stderr == "\nInterrupted; nothing was changed.\n"
    assert all(r.method == "GET" for r in proxy.requests)


def test_a_plan_with_keep_versions_and_nothing_to_delete_says_nothing_of_it(
        foundry: Foundry, applied: Path, tmp_path: Path) -> None:  # noqa: F811
    plan = foundry_run("plan", "--format", "json", str(support(tmp_path, temperature=0.9, keep=2)))
    [change] = json.loads(plan.stdout)["changes"]
    assert (change["keep_versions"], change["deletes_versions"]) == (2, [])  # version 1 is the newest but one
    text = foundry_run("plan", str(applied))
    assert text.exit_code == 0 and "will get a new version (1 -> 2)" in text.stdout, text.output
    assert "keep_versions" not in text.stdout


class AnswerAfter(io.BytesIO):
    """Standard input that does `meanwhile` (someone else's change) before the first answer is read."""

    def __init__(self, answer: str, meanwhile: Callable[[], object]) -> None:
        super().__init__(answer.encode())
        self._meanwhile: Callable[[], object] | None = meanwhile

    def _first(self) -> None:
        meanwhile = self._meanwhile
        if meanwhile is not None:
            self._meanwhile = None
            meanwhile()

    def read(self, size: int | None = -1) -> bytes:
        if size != 0:  # click reads nothing first, to see a binary stream
            self._first()
        return super().read(size)

    def read1(self, size: int | None = -1) -> bytes:
        self._first()
        return super().read1(size)

    def readinto(self, buffer: Any) -> int:
        self._first()
        return super().readinto(buffer)

    def readline(self, size: int | None = -1) -> bytes:
        self._first()
        return super().readline(size)


def test_apply_never_deletes_the_version_it_made_even_when_the_plan_named_its_number(
        foundry: Foundry, applied: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    monkeypatch.setattr(cli_module, "_stdin_is_terminal", lambda: True)
    support(tmp_path, temperature=0.9, keep=1)
    # While apply waits for "yes", the agent is deleted outside: its new version is numbered 1 again,
    # the number the plan said it deletes.
    answer = AnswerAfter("yes\n", lambda: foundry.server.foundry_agents.delete("support"))
    result = CliRunner().invoke(cli, ["apply", "--provider", "foundry", str(applied)], input=answer,
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "(then version 1 is deleted: this stack's older than the newest 1, keep_versions)" in result.stdout
    assert [v["version"] for v in versions(foundry, "support")] == ["1"]
    assert "deleted version" not in result.stdout


@pytest.mark.parametrize(("keep", "planned", "deleted", "left"), [
    (1, ["1"], "deleted version 1 (keep_versions: 1); kept version 2, which the plan named", ["2", "3"]),
    (5, [], "kept versions 2, 1, which the plan named", ["1", "2", "3"]),  # both among the newest 5
])
def test_a_saved_plan_cannot_make_apply_delete_a_version_the_plan_would_not(
        foundry: Foundry, applied: Path, tmp_path: Path, keep: int, planned: list[str], deleted: str,  # noqa: F811
        left: list[str]) -> None:
    post_version(foundry, "support", {"model": "gpt-4o", "instructions": "made in the portal"})  # 2, untagged
    support(tmp_path, temperature=0.9, keep=keep)
    saved = tmp_path / "plan.json"
    assert foundry_run("plan", "--out", str(saved), str(applied)).exit_code == 0
    document = json.loads(saved.read_text())
    assert document["changes"][0]["deletes_versions"] == planned
    document["changes"][0]["deletes_versions"] = ["2", "1"]  # edited: a saved plan is a request, not an authority
    saved.write_text(json.dumps(document))
    result = foundry_run("apply", "--plan", str(saved))
    assert result.exit_code == 0, result.output
    assert deleted in result.stdout
    assert [v["version"] for v in versions(foundry, "support")] == left


def test_a_version_another_stack_tagged_is_never_deleted(foundry: Foundry, applied: Path,
                                                         tmp_path: Path) -> None:  # noqa: F811
    post_version(foundry, "support", {"model": "gpt-4o"}, {"assistants-sync": "billing/helper"})  # 2
    post_version(foundry, "support", {"model": "gpt-4o"}, {"assistants-sync": "default/support"})  # 3, the stack's
    support(tmp_path, temperature=0.9, keep=1)
    plan = foundry_run("plan", str(applied))
    assert plan.exit_code == 0, plan.output
    assert "(then versions 1 and 3 are deleted: this stack's older than the newest 1, keep_versions)" in plan.stdout
    assert foundry_run("apply", "--auto-approve", str(applied)).exit_code == 0
    assert [v["version"] for v in versions(foundry, "support")] == ["2", "4"]


def test_after_a_rename_the_versions_tagged_with_the_previous_key_are_the_stacks_too(
        foundry: Foundry, applied: Path, tmp_path: Path) -> None:  # noqa: F811
    support(tmp_path, temperature=0.5)
    assert foundry_run("apply", "--auto-approve", str(applied)).exit_code == 0  # 2, tagged default/support
    manifest = applied / "support.yaml"
    renamed = manifest.read_text().replace("key: support\n", "key: helpdesk\nname: support\n"
                                           "previous_keys: [support]\n", 1)
    manifest.write_text(renamed)
    assert foundry_run("apply", "--auto-approve", str(applied)).exit_code == 0  # 3, tagged default/helpdesk
    manifest.write_text(renamed.replace("temperature: 0.5", "temperature: 0.6").replace(
        "previous_keys: [support]\n", "previous_keys: [support]\nkeep_versions: 1\n"))
    plan = foundry_run("plan", str(applied))  # a later update: no rename in it any more
    assert plan.exit_code == 0, plan.output
    assert "(then versions 1, 2 and 3 are deleted: this stack's older than the newest 1, keep_versions)" in \
        plan.stdout
    result = foundry_run("apply", "--auto-approve", str(applied))
    assert result.exit_code == 0, result.output
    assert [(v["version"], v["metadata"]["assistants-sync"]) for v in versions(foundry, "support")] == \
        [("4", "default/helpdesk")]


def test_without_keep_versions_every_version_is_kept(foundry: Foundry, applied: Path, tmp_path: Path) -> None:  # noqa: F811
    for temperature in (0.4, 0.5):
        support(tmp_path, temperature=temperature)
        assert foundry_run("apply", "--auto-approve", str(applied)).exit_code == 0
    assert [v["version"] for v in versions(foundry, "support")] == ["1", "2", "3"]


def test_a_new_name_is_a_replacement_made_before_the_old_agent_goes(foundry: Foundry, applied: Path,
                                                                    tmp_path: Path) -> None:  # noqa: F811
    support(tmp_path, name="support-desk")
    shown = foundry_run("plan", str(applied))
    assert ('+ foundry_agent support "support-desk" will be created: replaces support: a foundry agent\'s name is '
            "its identity\n") in shown.stdout
    assert ('- foundry_agent support (support) "support" will be deleted with every version: replaced by '
            "support-desk (the manifest renames it)\n") in shown.stdout
    assert '["-/+ foundry_agent support"]' in foundry_run("plan", "--format", "markdown", str(applied)).stdout
    result = foundry_run("apply", "--auto-approve", str(applied))
    assert result.exit_code == 0, result.output
    posts = [r.path for r in agent_requests(foundry) if r.method in ("POST", "DELETE")]
    assert posts[-2:] == [f"{AGENTS}/support-desk/versions", f"{AGENTS}/support"]
    assert [a["name"] for a in foundry.server.foundry_agents.list({})["data"]] == ["support-desk"]
    assert foundry_run("plan", "--detailed-exitcode", str(applied)).exit_code == 0


def test_a_name_held_by_an_agent_of_no_stack_is_a_plan_error_that_says_how_to_adopt(
        foundry: Foundry, tmp_path: Path) -> None:  # noqa: F811
    foundry.sign_in_with()
    post_version(foundry, "support", {"model": "gpt-4o", "instructions": "Hand-made."})
    specs = support(tmp_path)
    refused = foundry_run("plan", "specs")
    assert refused.exit_code == 1
    assert refused.stderr == (
        f"Error: {Path('specs') / 'support.yaml'}:1: the foundry agent 'support' exists and is not this stack's (its "
        "latest version carries no assistants-sync tag); to manage it, add \"adopt: support\" to the manifest (its "
        "next version will be the manifest's), or choose another name\n")
    applied = foundry_run("apply", "--auto-approve", str(specs))
    assert applied.exit_code == 1
    assert len(versions(foundry, "support")) == 1  # nothing was added to an agent that is not the stack's
    support(tmp_path, extra="adopt: support")
    adopted = foundry_run("apply", "--auto-approve", str(specs))
    assert adopted.exit_code == 0, adopted.output
    assert "> foundry_agent support (support): adopted" in adopted.stdout
    assert versions(foundry, "support")[-1]["metadata"]["assistants-sync"] == "default/support"


def test_a_name_held_by_another_stack_is_a_plan_error(foundry: Foundry, tmp_path: Path) -> None:  # noqa: F811
    foundry.sign_in_with()
    post_version(foundry, "support", {"model": "gpt-4o"}, {"assistants-sync": "billing/helper"})
    refused = foundry_run("plan", str(support(tmp_path)))
    assert refused.exit_code == 1
    assert "the foundry agent name 'support' is taken by a foundry agent of stack 'billing'" in refused.stderr
    assert [v["metadata"] for v in versions(foundry, "support")] == [{"assistants-sync": "billing/helper"}]


def test_a_name_taken_after_a_saved_plan_adds_no_version_to_it(foundry: Foundry, tmp_path: Path) -> None:  # noqa: F811
    foundry.sign_in_with()
    specs = support(tmp_path)
    saved = tmp_path / "plan.json"
    assert foundry_run("plan", "--out", str(saved), str(specs)).exit_code == 0
    post_version(foundry, "support", {"model": "gpt-4o", "instructions": "Someone was faster."})
    result = foundry_run("apply", "--plan", str(saved))
    assert result.exit_code == 1
    assert "the foundry agent name 'support' was taken since the plan was made, by an agent of no stack" in \
        result.output
    assert [v["definition"].get("instructions") for v in versions(foundry, "support")] == ["Someone was faster."]


def test_a_latest_version_made_outside_is_drift_and_apply_restores_the_manifest_as_a_new_version(
        foundry: Foundry, applied: Path) -> None:  # noqa: F811
    post_version(foundry, "support", {"model": "gpt-4o", "instructions": "Edited in the portal."})
    before = len(foundry.server.requests)
    drift = foundry_run("drift", str(applied))
    assert drift.exit_code == 2, drift.output
    assert ('~ foundry_agent support (support) "support" will get a new version (2 -> 3) (changed outside '
            "assistants-sync)\n") in drift.stdout
    assert "Drift: 1 foundry agent changed outside assistants-sync." in drift.stdout
    # One listing of agents, and one of this agent's versions (its latest has no tag).
    listed = [r for r in foundry.server.requests[before:] if r.path.startswith(AGENTS)]
    assert [(r.path, r.query.get("kind")) for r in listed] == [(AGENTS, "prompt"), (f"{AGENTS}/support/versions", None)]
    result = foundry_run("apply", "--auto-approve", str(applied))
    assert result.exit_code == 0, result.output
    latest = versions(foundry, "support")[-1]
    assert (latest["version"], latest["definition"]["instructions"]) == ("3", "You answer support questions.\nBe brief.\n")
    assert foundry_run("drift", str(applied)).exit_code == 0


def test_an_agent_deleted_outside_is_missing_in_drift(foundry: Foundry, applied: Path) -> None:  # noqa: F811
    foundry.server.foundry_agents.delete("support")
    drift = foundry_run("drift", str(applied))
    assert drift.exit_code == 2
    assert "+ foundry_agent support \"support\" will be created: missing" in drift.stdout


def test_an_agent_left_with_no_tagged_version_is_nobodys_and_drift_says_how_to_adopt_it(
        foundry: Foundry, applied: Path) -> None:  # noqa: F811
    # Versions cannot be changed: the tag goes when the tagged versions are deleted outside.
    post_version(foundry, "support", {"model": "gpt-4o", "instructions": "Made in the portal."})
    foundry.server.foundry_agents.delete_version("support", "1")
    before = len(foundry.server.requests)
    drift = foundry_run("drift", str(applied))
    # Not drift that apply could mend: creating the agent again would take a name that is held.
    assert drift.exit_code == 1, drift.output
    assert "the foundry agent 'support' exists and is not this stack's" in drift.stderr
    assert 'add "adopt: support" to the manifest' in drift.stderr
    assert all(r.method == "GET" for r in foundry.server.requests[before:])


def test_a_removed_manifest_deletes_the_agent_with_its_versions(foundry: Foundry, applied: Path) -> None:  # noqa: F811
    text = (applied / "support.yaml").read_text()
    (applied / "support.yaml").write_text(text[text.index("kind: vector_store"):])
    result = foundry_run("apply", "--auto-approve", str(applied))
    assert result.exit_code == 0, result.output
    assert foundry.server.foundry_agents.list({})["data"] == []
    assert ("DELETE", f"{AGENTS}/support") in [(r.method, r.path) for r in agent_requests(foundry)]


def test_a_plan_of_250_agents_lists_them_in_3_pages_and_reads_nothing_else(foundry: Foundry,
                                                                          tmp_path: Path) -> None:  # noqa: F811
    foundry.sign_in_with()
    for index in range(250):
        write(tmp_path / "specs" / f"a{index:03d}.yaml", f"kind: foundry_agent\nkey: a{index:03d}\nmodel: gpt-4o\n")
    assert foundry_run("apply", "--auto-approve", str(tmp_path / "specs")).exit_code == 0
    before = len(foundry.server.requests)
    assert foundry_run("plan", "--detailed-exitcode", str(tmp_path / "specs")).exit_code == 0
    listed = [r for r in foundry.server.requests[before:] if r.path.startswith(AGENTS)]
    assert [(r.query["kind"], r.query["limit"], "after" in r.query) for r in listed] == [
        ("prompt", "100", False), ("prompt", "100", True), ("prompt", "100", True)]


def test_export_writes_manifests_that_plan_clean(foundry: Foundry, applied: Path, tmp_path: Path) -> None:  # noqa: F811
    out = tmp_path / "exported"
    foundry.server.knowledge.downloads = True  # as a self-hosted server may: the documents come back too
    exported = foundry_run("export", "--kind", "foundry_agent", "--kind", "vector_store", "--out", str(out))
    assert exported.exit_code == 0, exported.output
    manifest = (out / "foundry_agent" / "support.yaml").read_text()
    assert "kind: foundry_agent" in manifest and "instructions_file: instructions/support.md" in manifest
    assert (out / "foundry_agent" / "instructions" / "support.md").read_text() == \
        "You answer support questions.\nBe brief.\n"
    planned = foundry_run("plan", "--detailed-exitcode", str(out))
    assert planned.exit_code == 0, planned.output
    assert "No changes. The 4 managed objects match the manifests." in planned.stdout


@pytest.mark.parametrize(("document", "problem"), [
    ("key: support.bot\nmodel: gpt-4o\n",
     "the key 'support.bot' is not a valid agent name"),
    ("key: support\nname: -bad-\nmodel: gpt-4o\n", "name: String should match pattern"),
    ("key: support\nmodel: gpt-4o\ntools:\n  - type: telepathy\n", "tools[0]: Input tag 'telepathy' found using 'type' does not match any of the expected tags"),
    ("key: support\nmodel: gpt-4o\nimage: myregistry/agent:1\n", "'image' is a field of another kind of Foundry agent"),
    ("key: support\nmodel: gpt-4o\ntools:\n  - type: file_search\n    vector_stores: [nowhere]\n",
     "no vector_store manifest has key 'nowhere'"),
    ("key: support\nmodel: gpt-4o\nmetadata:\n  note: " + "x" * 513 + "\n", "metadata"),
    ("key: support\nmodel: gpt-4o\ntemperature: 3\n", "temperature"),
])
def test_bad_manifests_are_errors_before_any_request(foundry: Foundry, tmp_path: Path, document: str,  # noqa: F811
                                                     problem: str) -> None:
    foundry.sign_in_with()
    write(tmp_path / "specs" / "bad.yaml", "kind: foundry_agent\n" + document)
    for command in ("validate", "plan"):
        result = foundry_run(command, str(tmp_path / "specs")) if command == "plan" else \
            run("validate", str(tmp_path / "specs"))
        assert result.exit_code == 1, result.output
        assert "bad.yaml" in result.stderr and problem in result.stderr, result.stderr
    assert not [r for r in foundry.server.requests if r.method != "GET"]


def test_two_manifests_naming_one_agent_are_an_error(foundry: Foundry, tmp_path: Path) -> None:  # noqa: F811
    write(tmp_path / "specs" / "a.yaml", "kind: foundry_agent\nkey: first\nname: desk\nmodel: gpt-4o\n")
    write(tmp_path / "specs" / "b.yaml", "kind: foundry_agent\nkey: second\nname: desk\nmodel: gpt-4o\n")
    result = run("validate", "specs")
    assert result.exit_code == 1
    assert (f"{Path('specs') / 'b.yaml'}:1: key 'second': name: duplicate name 'desk': the manifest at "
            f"{Path('specs') / 'a.yaml'}:1 (key 'first') names its foundry agent so too") in result.stderr


def test_keep_versions_from_the_project_files_defaults(foundry: Foundry, applied: Path, tmp_path: Path) -> None:  # noqa: F811
    write(tmp_path / "assistants-sync.yaml", "defaults:\n  keep_versions: 1\n")
    for temperature in (0.4, 0.5):
        support(tmp_path, temperature=temperature)
        result = run("apply", "--provider", "foundry", "--auto-approve", "--config", "assistants-sync.yaml",
                     str(applied))
        assert result.exit_code == 0, result.output
    assert [v["version"] for v in versions(foundry, "support")] == ["3"]


def test_a_protected_agent_is_never_replaced_by_a_new_name(foundry: Foundry, applied: Path,  # noqa: F811
                                                           tmp_path: Path) -> None:
    support(tmp_path, extra="protect: true")
    assert foundry_run("apply", "--auto-approve", str(applied)).exit_code == 0
    support(tmp_path, name="support-desk", extra="protect: true")
    refused = foundry_run("plan", str(applied))
    assert refused.exit_code == 1
    assert "refusing to delete protected foundry agent support (support)" in refused.stderr
    assert [a["name"] for a in foundry.server.foundry_agents.list({})["data"]] == ["support"]


def test_an_mcp_tools_authorization_is_refused_and_never_shown_when_set_outside(
        foundry: Foundry, applied: Path, tmp_path: Path) -> None:  # noqa: F811
    write(tmp_path / "specs" / "mcp.yaml", """
        kind: foundry_agent
        key: tools-bot
        model: gpt-4o
        tools:
          - type: mcp
            server_label: crm
            server_url: https://crm.example.com/mcp
            authorization: Bearer s3cr3t-t0ken-value
        """)
    refused = run("validate", "specs")
    assert refused.exit_code == 1
    assert "'authorization' holds a secret" in refused.stderr and "s3cr3t" not in refused.output
    (tmp_path / "specs" / "mcp.yaml").unlink()
    post_version(foundry, "support", {"model": "gpt-4o", "tools": [
        {"type": "mcp", "server_label": "crm", "server_url": "https://crm.example.com/mcp",
         "authorization": "Bearer s3cr3t-t0ken-value"}]})
    for command in ("plan", "drift"):
        shown = foundry_run(command, "--format", "json", str(applied))
        assert "crm.example.com" in shown.output  # the tool is planned away (the manifest has none) ...
        assert "s3cr3t" not in shown.output and "authorization" not in shown.output  # ... its secret never shown

