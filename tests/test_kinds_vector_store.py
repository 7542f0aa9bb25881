"""Vector stores as code: documents of the repository uploaded once per content, attached to a
store that assistants name by key. Driven through the CLI against the emulator on loopback;
the remote side is read back with the official openai package.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import openai
import pytest

from assistants_sync.emulator import EmulatorServer
from assistants_sync.kinds.file import owner_of_name, upload_name

from .conftest import plan_json, run, write

STORE = """
kind: vector_store
key: product-docs
name: Product documentation
files:
  - docs/*.md
  - path: docs/pricing.md
    attributes: {section: pricing, public: true}
metadata: {team: docs}
"""
BOT = """
key: support-bot
model: gpt-4o
tools: [{type: file_search}]
tool_resources:
  file_search: {vector_stores: [product-docs]}
"""


@pytest.fixture
def specs(env: EmulatorServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """specs/ with a store of three documents and an assistant naming it; the working directory is tmp_path."""
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "specs" / "store.yaml", STORE)
    write(tmp_path / "specs" / "bot.yaml", BOT)
    for name, text in (("faq.md", "# FAQ\nAsk us.\n"), ("pricing.md", "# Pricing\nFree.\n"),
                       ("setup.md", "# Setup\nInstall it.\n")):
        write(tmp_path / "specs" / "docs" / name, text)
    return tmp_path / "specs"


def apply_ok(*args: str) -> str:
    result = run("apply", "--auto-approve", *args)
    assert result.exit_code == 0, result.output
    return result.stdout


def store_files(sdk: openai.OpenAI) -> dict[str, dict[str, Any]]:
    """The attached files of the only store, by their path attribute."""
    [store] = sdk.vector_stores.list().data
    attached = sdk.vector_stores.files.list(store.id).data
    return {str((f.attributes or {}).get("assistants-sync.path")): f.model_dump() for f in attached}


def uploads(sdk: openai.OpenAI) -> list[str]:
    """The filenames of every upload, sorted."""
    return sorted(f.filename for f in sdk.files.list().data)


def uploaded_names(sdk: openai.OpenAI) -> list[str]:
    """The base names of the stack's uploads, sorted."""
    return sorted(owned[2] for f in sdk.files.list().data if (owned := owner_of_name(f.filename)))


def refused_by_validate(env: EmulatorServer) -> str:
    """What `validate specs` says of manifests it refuses (exit 1), having sent nothing."""
    result = run("validate", "specs")
    assert result.exit_code == 1, result.output
    assert env.requests == []
    return result.stderr


@pytest.fixture(autouse=True)
def lock_on_assistants(monkeypatch: pytest.MonkeyPatch) -> None:
    """The lock an assistant, as where no vector stores are served: these tests count the stores' own requests."""
    from assistants_sync.applying import apply_lock

    monkeypatch.setattr(apply_lock, "LOCK_KINDS", ("assistant", "agent"))


def writes(env: EmulatorServer) -> list[str]:
    """The emulator's write requests since the test began, as 'METHOD /path' without the /v1 prefix."""
    return [f"{r.method} {r.path.removeprefix('/v1')}" for r in env.requests if r.method != "GET"]


def test_first_apply_uploads_each_document_creates_the_store_then_the_assistant(
        specs: Path, env: EmulatorServer, sdk: openai.OpenAI) -> None:
    plan = run("plan", "specs")
    assert plan.exit_code == 0, plan.output
    assert "  + 3 files will be uploaded (" in plan.stdout
    assert ('  + vector_store product-docs "Product documentation" will be created\n'
            "      name: \"Product documentation\"\n"
            "      files:\n"
            "        + docs/faq.md\n"
            "        + docs/pricing.md\n"
            "        + docs/setup.md\n") in plan.stdout
    assert "(vector_store product-docs: id known after apply)" in plan.stdout  # the assistant's reference
    assert "Plan: 5 to create, 0 to update, 0 to delete." in plan.stdout

    apply_ok("specs")
    [store] = sdk.vector_stores.list().data
    [bot] = sdk.beta.assistants.list().data
    assert bot.tool_resources is not None and bot.tool_resources.file_search is not None
    assert bot.tool_resources.file_search.vector_store_ids == [store.id]
    attached = store_files(sdk)
    assert sorted(attached) == ["docs/faq.md", "docs/pricing.md", "docs/setup.md"]
    assert all(f["status"] == "completed" for f in attached.values())  # apply waited for processing
    assert {k: v for k, v in attached["docs/pricing.md"]["attributes"].items() if not k.startswith("assistants")} == {
        "section": "pricing", "public": True}
    assert uploaded_names(sdk) == ["faq.md", "pricing.md", "setup.md"]
    # Order: uploads, then the store (and its batch), then the assistant that names it.
    order = writes(env)
    bot_created = len(order) - 1 - order[::-1].index("POST /assistants")  # the first is the lock's
    assert bot_created > max(i for i, w in enumerate(order) if w.startswith("POST /vector_stores"))
    assert max(i for i, w in enumerate(order) if w == "POST /files") < order.index("POST /vector_stores")
    assert sum(1 for w in order if w.endswith("/file_batches")) == 1  # one batch, not a request per file

    again = run("plan", "--detailed-exitcode", "specs")
    assert again.exit_code == 0, again.output
    assert "No changes." in again.stdout


def test_an_edit_of_one_document_uploads_exactly_that_document(
        specs: Path, env: EmulatorServer, sdk: openai.OpenAI) -> None:
    apply_ok("specs")
    before = uploads(sdk)
    write(specs / "docs" / "faq.md", "# FAQ\nAsk us anything.\n")
    env.requests.clear()
    plan = run("plan", "specs")
    assert "  + 1 file will be uploaded (" in plan.stdout
    assert "        ~ docs/faq.md (content changed)\n" in plan.stdout
    assert "(2 unchanged files hidden)" in plan.stdout
    assert "  - 1 file uploaded by this stack will be deleted: no longer used by any object of this stack" in plan.stdout
    env.requests.clear()
    apply_ok("specs")
    done = writes(env)
    assert done.count("POST /files") == 1  # the new content only
    assert sum(1 for w in done if w.startswith("DELETE /files/")) == 1  # the old content's upload
    after = uploads(sdk)
    assert len(after) == 3 and len(set(after) - set(before)) == 1
    assert "No changes." in run("plan", "specs").stdout


def test_attributes_only_are_updated_in_place_without_an_upload(
        specs: Path, env: EmulatorServer, sdk: openai.OpenAI) -> None:
    apply_ok("specs")
    write(specs / "store.yaml", STORE.replace("section: pricing", "section: plans"))
    plan = run("plan", "specs")
    assert "        ~ docs/pricing.md (attributes)\n" in plan.stdout
    assert "will be uploaded" not in plan.stdout
    env.requests.clear()
    apply_ok("specs")
    done = writes(env)
    assert "POST /files" not in done and not any("file_batches" in w for w in done)
    assert sum(1 for w in done if w.startswith("POST /vector_stores/") and "/files/" in w) == 1  # in place
    assert store_files(sdk)["docs/pricing.md"]["attributes"]["section"] == "plans"


def test_a_removed_document_is_detached_and_its_upload_deleted(
        specs: Path, env: EmulatorServer, sdk: openai.OpenAI) -> None:
    apply_ok("specs")
    (specs / "docs" / "setup.md").unlink()
    plan = run("plan", "specs")
    assert "        - docs/setup.md\n" in plan.stdout
    apply_ok("specs")
    assert sorted(store_files(sdk)) == ["docs/faq.md", "docs/pricing.md"]
    assert uploaded_names(sdk) == ["faq.md", "pricing.md"]


def test_a_renamed_document_keeps_its_upload(specs: Path, env: EmulatorServer, sdk: openai.OpenAI) -> None:
    apply_ok("specs")
    (specs / "docs" / "setup.md").rename(specs / "docs" / "install.md")
    plan = run("plan", "specs")
    assert "        ~ docs/install.md (renamed from docs/setup.md)\n" in plan.stdout
    assert "uploaded" not in plan.stdout
    env.requests.clear()
    apply_ok("specs")
    assert not any(w == "POST /files" or w.startswith("DELETE /files/") for w in writes(env))
    assert sorted(store_files(sdk)) == ["docs/faq.md", "docs/install.md", "docs/pricing.md"]
    assert "No changes." in run("plan", "specs").stdout


def test_one_content_is_uploaded_once_for_two_stores_and_deleted_when_neither_uses_it(
        specs: Path, env: EmulatorServer, sdk: openai.OpenAI) -> None:
    write(specs / "other.yaml", "kind: vector_store\nkey: shared\nfiles: [docs/faq.md]\n")
    apply_ok("specs")
    assert len(uploads(sdk)) == 3  # faq.md is in both stores, uploaded once
    (specs / "other.yaml").unlink()
    apply_ok("specs")
    assert len(uploads(sdk)) == 3  # still used by product-docs
    (specs / "store.yaml").write_text(STORE.replace("  - docs/*.md\n", "  - docs/pricing.md\n"))
    apply_ok("specs")
    assert uploaded_names(sdk) == ["pricing.md"]


def test_a_new_chunking_strategy_attaches_the_document_again(
        specs: Path, env: EmulatorServer, sdk: openai.OpenAI) -> None:
    apply_ok("specs")
    write(specs / "store.yaml", STORE.replace(
        "attributes: {section: pricing, public: true}",
        "attributes: {section: pricing, public: true}\n"
        "    chunking_strategy: {type: static, static: {max_chunk_size_tokens: 400, chunk_overlap_tokens: 100}}"))
    assert "        ~ docs/pricing.md (chunking)\n" in run("plan", "specs").stdout
    env.requests.clear()
    apply_ok("specs")
    done = writes(env)
    assert sum(1 for w in done if w.startswith("DELETE /vector_stores/")) == 1  # detached ...
    assert sum(1 for w in done if w.endswith("/file_batches")) == 1  # ... and attached again
    assert "POST /files" not in done  # the same upload
    assert store_files(sdk)["docs/pricing.md"]["chunking_strategy"]["static"] == {
        "max_chunk_size_tokens": 400, "chunk_overlap_tokens": 100}
    assert "No changes." in run("plan", "specs").stdout


@pytest.mark.parametrize(("manifest", "where", "message"), [
    (STORE.replace("docs/*.md", "manuals/**/*.md"), "store.yaml:5: document 1 (key 'product-docs'): files[0]",
     "manuals/**/*.md: matches no file"),
    (STORE.replace("path: docs/pricing.md", "path: docs/missing.md"),
     "store.yaml:6: document 1 (key 'product-docs'): files[1].path", "docs/missing.md: file not found"),
    (STORE.replace("docs/*.md", "../outside.md"), "store.yaml:5: document 1 (key 'product-docs'): files[0]",
     "resolves outside the manifests' root"),
    (STORE.replace("public: true", "assistants-sync.path: x"), "files[1].attributes:",
     "attribute 'assistants-sync.path' is reserved"),
    (STORE + "files_typo: 1\n", "files_typo", "unknown field"),
])
def test_bad_store_manifests_are_refused_before_any_write(
        specs: Path, env: EmulatorServer, manifest: str, where: str, message: str) -> None:
    write(specs.parent / "outside.md", "outside\n")
    write(specs / "store.yaml", manifest)
    result = run("plan", "specs")
    assert result.exit_code == 1
    assert where in result.stderr and message in result.stderr, result.stderr
    assert "1 problem in the manifests" in result.stderr  # not also "no vector_store manifest has key" for the bot
    assert all(r.method == "GET" for r in env.requests)  # listed meanwhile at most: invalid input writes nothing


def test_the_same_content_twice_in_one_store_is_refused(specs: Path, env: EmulatorServer) -> None:
    write(specs / "docs" / "copy.md", "# FAQ\nAsk us.\n")
    stderr = refused_by_validate(env)
    assert "docs/copy.md and docs/faq.md have the same content" in stderr


def test_every_problem_is_reported_at_once_but_a_broken_store_is_not_also_missing(
        specs: Path, env: EmulatorServer) -> None:
    write(specs / "store.yaml", STORE + "files_typo: 1\n")
    write(specs / "other.yaml", BOT.replace("support-bot", "other-bot").replace("[product-docs]", "[nope]"))
    stderr = refused_by_validate(env)
    assert "files_typo" in stderr and "no vector_store manifest has key 'nope'" in stderr
    assert "has key 'product-docs'" not in stderr  # its manifest is there, with a problem of its own


def test_an_unknown_store_key_is_refused(specs: Path, env: EmulatorServer) -> None:
    write(specs / "bot.yaml", BOT.replace("[product-docs]", "[product-dcos]"))
    stderr = refused_by_validate(env)
    assert ("bot.yaml:1: key 'support-bot': tool_resources.file_search.vector_stores[0]: no vector_store manifest "
            "has key 'product-dcos'") in stderr


def test_a_document_over_the_api_limit_is_refused_at_validation(specs: Path, env: EmulatorServer) -> None:
    with open(specs / "docs" / "huge.md", "wb") as sparse:  # no disk used: a hole of 513 MB
        sparse.truncate(513 * 1024 * 1024)
    stderr = refused_by_validate(env)
    assert "docs/huge.md: 537,919,488 bytes; the API takes files of at most 536,870,912 bytes" in stderr


def test_deletes_go_in_reverse_order_the_assistant_lets_go_before_the_store_goes(
        specs: Path, env: EmulatorServer, sdk: openai.OpenAI) -> None:
    apply_ok("specs")
    (specs / "store.yaml").unlink()
    write(specs / "bot.yaml", BOT.replace("tool_resources:\n  file_search: {vector_stores: [product-docs]}\n", ""))
    env.requests.clear()
    apply_ok("specs")
    done = writes(env)
    assert done.index(next(w for w in done if w.startswith("POST /assistants/"))) < done.index(
        next(w for w in done if w.startswith("DELETE /vector_stores/")))
    assert sdk.vector_stores.list().data == [] and uploads(sdk) == []


def test_a_targeted_store_brings_its_uploads_along(specs: Path, env: EmulatorServer, sdk: openai.OpenAI) -> None:
    apply_ok("specs", "--target", "product-docs")
    assert len(uploads(sdk)) == 3 and len(store_files(sdk)) == 3
    assert sdk.beta.assistants.list().data == []  # not targeted


def test_a_targeted_assistant_brings_the_store_it_names_along(
        specs: Path, env: EmulatorServer, sdk: openai.OpenAI) -> None:
    apply_ok("specs", "--target", "support-bot")  # as Terraform's -target takes a target's dependencies
    [store] = sdk.vector_stores.list().data
    [bot] = sdk.beta.assistants.list().data
    assert bot.tool_resources.file_search.vector_store_ids == [store.id]  # type: ignore[union-attr]
    assert len(store_files(sdk)) == 3


def test_drift_sees_a_document_detached_and_a_file_attached_out_of_band(
        specs: Path, env: EmulatorServer, sdk: openai.OpenAI) -> None:
    apply_ok("specs")
    [store] = sdk.vector_stores.list().data
    sdk.vector_stores.files.delete(file_id=store_files(sdk)["docs/faq.md"]["id"], vector_store_id=store.id)
    stranger = sdk.files.create(file=("notes.txt", b"someone's notes"), purpose="assistants")
    sdk.vector_stores.files.create(vector_store_id=store.id, file_id=stranger.id)
    drift = run("drift", "specs")
    assert drift.exit_code == 2, drift.output
    assert "        + docs/faq.md\n" in drift.stdout
    assert f"        - {stranger.id} (attached outside assistants-sync)\n" in drift.stdout
    assert "changed outside assistants-sync" in drift.stdout
    apply_ok("specs")
    assert sorted(store_files(sdk)) == ["docs/faq.md", "docs/pricing.md", "docs/setup.md"]
    assert stranger.id in {f.id for f in sdk.files.list().data}  # detached, never deleted: not the stack's


def test_failed_processing_is_a_failed_change_and_the_next_apply_attaches_it_again(
        specs: Path, env: EmulatorServer, sdk: openai.OpenAI) -> None:
    write(specs / "docs" / "broken.md", "EMULATOR:FAIL-PROCESSING\n")
    result = run("apply", "--auto-approve", "specs")
    assert result.exit_code == 1
    assert "1 file failed processing: docs/broken.md:" in result.stdout
    assert store_files(sdk)["docs/broken.md"]["status"] == "failed"
    plan = run("plan", "specs")
    assert "        ~ docs/broken.md (processing failed: attached again)\n" in plan.stdout


def test_no_wait_does_not_poll_the_batch(specs: Path, env: EmulatorServer, sdk: openai.OpenAI) -> None:
    apply_ok("specs", "--no-wait")
    assert not any("/file_batches/" in r.path for r in env.requests if r.method == "GET")
    assert sorted(store_files(sdk)) == ["docs/faq.md", "docs/pricing.md", "docs/setup.md"]


def test_a_lost_upload_answer_never_uploads_twice(specs: Path, env: EmulatorServer, sdk: openai.OpenAI) -> None:
    env.faults.drop_answers = {"files.create": 2}
    output = apply_ok("specs", "--parallelism", "1")
    assert output.count("found after its answer was lost") == 2
    assert len(uploads(sdk)) == 3
    assert "No changes." in run("plan", "specs").stdout


def test_an_interrupted_applys_uploads_are_used_or_deleted_by_the_next(
        specs: Path, env: EmulatorServer, sdk: openai.OpenAI) -> None:
    import hashlib

    content = (specs / "docs" / "faq.md").read_bytes()
    used = sdk.files.create(file=(upload_name("default", hashlib.sha256(content).hexdigest(), "faq.md"), content),
                            purpose="assistants")  # uploaded, then the apply was killed before attaching it
    orphan_bytes = b"an old version"
    orphan = sdk.files.create(file=(upload_name("default", hashlib.sha256(orphan_bytes).hexdigest(), "old.md"),
                                    orphan_bytes), purpose="assistants")
    others = sdk.files.create(file=(upload_name("team-b", hashlib.sha256(orphan_bytes).hexdigest(), "old.md"),
                                    orphan_bytes), purpose="assistants")
    plan = run("plan", "specs")
    assert "  + 2 files will be uploaded (" in plan.stdout  # faq.md's content is there already
    assert "  - 1 file uploaded by this stack will be deleted" in plan.stdout
    apply_ok("specs")
    remaining = {f.id for f in sdk.files.list().data}
    assert used.id in remaining and orphan.id not in remaining and others.id in remaining
    assert store_files(sdk)["docs/faq.md"]["id"] == used.id


def test_export_writes_the_store_with_its_documents_paths(
        specs: Path, env: EmulatorServer, tmp_path: Path) -> None:
    apply_ok("specs")
    result = run("export", "--out", "exported")
    assert result.exit_code == 0, result.output
    store = (tmp_path / "exported" / "vector_store" / "product-docs.yaml").read_text()
    assert "- docs/faq.md\n" in store and "- path: docs/pricing.md\n" in store and "section: pricing" in store
    assert not (tmp_path / "exported" / "file").exists()  # uploads are the repository's documents
    shutil.copytree(specs / "docs", tmp_path / "exported" / "vector_store" / "docs")  # where the manifest says
    assert plan_json("exported")["changes"] == []


def test_a_saved_plan_names_referenced_objects_by_key_and_id(
        specs: Path, env: EmulatorServer, sdk: openai.OpenAI, tmp_path: Path) -> None:
    apply_ok("specs", "--target", "product-docs")
    [store] = sdk.vector_stores.list().data
    assert run("plan", "specs", "--out", "plan.json").exit_code == 0
    [change] = [c for c in json.loads((tmp_path / "plan.json").read_text())["changes"] if c["key"] == "support-bot"]
    assert change["depends_on"] == [{"kind": "vector_store", "key": "product-docs", "id": store.id}]
    assert change["fields"]["tool_resources"]["after"] == {"file_search": {"vector_stores": ["product-docs"]}}
    apply_ok("--plan", "plan.json")
    [bot] = sdk.beta.assistants.list().data
    assert bot.tool_resources.file_search.vector_store_ids == [store.id]  # type: ignore[union-attr]


def test_a_file_kind_manifest_is_refused(specs: Path, env: EmulatorServer) -> None:
    write(specs / "upload.yaml", "kind: file\nkey: x\n")
    stderr = refused_by_validate(env)
    assert "kind: files are not declared in manifests" in stderr


def test_an_unmanaged_store_is_exported_with_its_documents_and_adopted_without_losing_them(
        env: EmulatorServer, sdk: openai.OpenAI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    made = sdk.files.create(file=("guide.md", b"# Guide\n"), purpose="assistants")
    store = sdk.vector_stores.create(name="Hand-made", file_ids=[made.id])
    result = run("export", "--unmanaged", "--out", "specs")
    assert result.exit_code == 0, result.output
    exported = (tmp_path / "specs" / "vector_store" / "hand-made.yaml").read_text()
    assert f"adopt: {store.id}" in exported
    # A file attached by hand has no path of the repository: the export cannot name it, and the
    # plan of the adopt says it will be detached, rather than an apply after it doing so silently.
    plan = run("plan", "specs")
    assert f"        - {made.id} (attached outside assistants-sync)\n" in plan.stdout, plan.stdout


def test_a_saved_plan_whose_reference_was_edited_to_another_store_is_refused(
        specs: Path, env: EmulatorServer, sdk: openai.OpenAI, tmp_path: Path) -> None:
    apply_ok("specs", "--target", "product-docs")
    theirs = sdk.vector_stores.create(name="Someone else's")
    assert run("plan", "specs", "--out", "plan.json").exit_code == 0
    document = json.loads((tmp_path / "plan.json").read_text())
    [change] = [c for c in document["changes"] if c["key"] == "support-bot"]
    change["depends_on"][0]["id"] = theirs.id
    (tmp_path / "plan.json").write_text(json.dumps(document))
    result = run("apply", "--plan", "plan.json")
    assert result.exit_code == 1
    assert f"names vector_store product-docs as {theirs.id}, which is not this stack's" in result.stderr
    assert sdk.beta.assistants.list().data == []


def test_an_assistants_code_interpreter_files_are_uploaded_and_replaced_when_edited(
        env: EmulatorServer, sdk: openai.OpenAI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "specs" / "analyst.yaml", """
        key: analyst
        model: gpt-4o
        tools: [{type: code_interpreter}]
        tool_resources:
          code_interpreter: {file_ids: [file-theirs], files: [data/sales.csv]}
        """)
    write(tmp_path / "specs" / "data" / "sales.csv", "month,total\njan,10\n")
    plan = run("plan", "specs")
    assert "  + 1 file will be uploaded (" in plan.stdout
    apply_ok("specs")
    [upload] = sdk.files.list().data
    assert upload.filename.endswith("~sales.csv")
    [analyst] = sdk.beta.assistants.list().data
    assert analyst.tool_resources.code_interpreter.file_ids == ["file-theirs", upload.id]  # type: ignore[union-attr]
    assert "No changes." in run("plan", "specs").stdout

    write(tmp_path / "specs" / "data" / "sales.csv", "month,total\njan,10\nfeb,12\n")
    apply_ok("specs")
    [new_upload] = sdk.files.list().data  # the old content's upload is deleted once nothing uses it
    assert new_upload.id != upload.id
    [analyst] = sdk.beta.assistants.list().data
    assert analyst.tool_resources.code_interpreter.file_ids == ["file-theirs", new_upload.id]  # type: ignore[union-attr]
    assert "No changes." in run("plan", "specs").stdout


def test_a_glob_reaching_into_the_manifests_is_refused(specs: Path, env: EmulatorServer) -> None:
    write(specs / "store.yaml", STORE.replace("docs/*.md", "'**/*.yaml'"))
    stderr = refused_by_validate(env)
    assert ("specs/store.yaml:5: document 1 (key 'product-docs'): files[0]: bot.yaml: names specs/bot.yaml, a "
            "manifest, as a document: a manifest is never a document") in stderr


def test_ignore_changes_files_leaves_the_documents_and_their_uploads_alone(
        specs: Path, env: EmulatorServer, sdk: openai.OpenAI) -> None:
    apply_ok("specs")
    write(specs / "store.yaml", STORE + "ignore_changes: [files]\n")
    (specs / "docs" / "setup.md").unlink()
    write(specs / "docs" / "new.md", "# New\n")
    assert "No changes." in run("plan", "specs").stdout
    assert sorted(store_files(sdk)) == ["docs/faq.md", "docs/pricing.md", "docs/setup.md"]
    assert len(uploads(sdk)) == 3


def test_a_failed_change_keeps_what_it_still_names(specs: Path, env: EmulatorServer, sdk: openai.OpenAI) -> None:
    apply_ok("specs")
    write(specs / "docs" / "setup.md", "# Setup\nEMULATOR:FAIL-PROCESSING\n")  # the store's update fails
    result = run("apply", "--auto-approve", "specs")
    assert result.exit_code == 1
    assert "1 file failed processing: docs/setup.md" in result.stdout
    # The old content's upload is what the store named: it is not deleted while the update is not done.
    assert "not deleted: the update of vector_store product-docs, which names it, was not done" in result.stdout
    assert len(uploads(sdk)) == 4


def test_a_saved_plan_whose_document_changed_since_changes_nothing(
        specs: Path, env: EmulatorServer, sdk: openai.OpenAI) -> None:
    assert run("plan", "specs", "--out", "plan.json").exit_code == 0
    write(specs / "docs" / "setup.md", "# Setup\nchanged after the plan\n")
    env.requests.clear()
    result = run("apply", "--plan", "plan.json")
    assert result.exit_code == 1
    assert ("docs/setup.md changed since the plan was made (its content is no longer sha256 " in result.stderr
            and "nothing was changed" in result.stderr)
    assert [w for w in writes(env) if not w.startswith(("POST /assistants", "DELETE /assistants/"))] == []
    assert uploads(sdk) == [] and sdk.vector_stores.list().data == []
    assert sdk.beta.assistants.list().data == []  # only the lock was made, and released


def test_a_protected_store_is_not_deleted_with_its_manifest(specs: Path, env: EmulatorServer,
                                                           sdk: openai.OpenAI) -> None:
    write(specs / "store.yaml", STORE + "protect: true\n")
    apply_ok("specs")
    [store] = sdk.vector_stores.list().data
    (specs / "store.yaml").unlink()
    write(specs / "bot.yaml", BOT.replace("tool_resources:\n  file_search: {vector_stores: [product-docs]}\n", ""))
    result = run("plan", "specs")
    assert result.exit_code == 1
    assert f"refusing to delete protected vector store product-docs ({store.id}): the manifest said protect" in (
        result.stderr)


def test_a_target_takes_along_only_the_kind_it_names(specs: Path, env: EmulatorServer, sdk: openai.OpenAI) -> None:
    apply_ok("specs")
    stray = sdk.beta.assistants.create(model="gpt-4o", metadata={"assistants-sync": "default/product-docs"})
    plan = run("plan", "specs", "--target", "support-bot")
    assert stray.id not in plan.stdout  # an assistant under the store's key is not the store
    assert "No changes for the targeted keys." in plan.stdout


def test_an_upload_of_the_stacks_name_is_never_edited(specs: Path, env: EmulatorServer, sdk: openai.OpenAI) -> None:
    import hashlib

    content = (specs / "docs" / "faq.md").read_bytes()
    sdk.files.create(file=(upload_name("default", hashlib.sha256(content).hexdigest(), "faq.md"), b"short"),
                     purpose="assistants")  # named for faq.md's content, by hand
    apply_ok("specs")  # the name is the identity: it is used, never "updated" (an upload cannot be)
    assert "No changes." in run("plan", "specs").stdout


def test_an_edited_document_not_yet_applied_is_no_drift(specs: Path, env: EmulatorServer) -> None:
    apply_ok("specs")
    write(specs / "docs" / "faq.md", "# FAQ\nEdited, not applied yet.\n")
    drift = run("drift", "specs")
    assert drift.exit_code == 0, drift.output  # a documentation commit is not drift
    assert "No drift." in drift.stdout


def test_a_bad_attribute_value_is_one_problem(specs: Path, env: EmulatorServer) -> None:
    write(specs / "store.yaml", STORE.replace("public: true", "public: [1, 2]"))
    stderr = refused_by_validate(env)
    assert stderr.count("\n") == 2, stderr  # the heading and one problem
    assert ("files[1].attributes.public: an attribute is a string of at most 512 characters, a number or a "
            "boolean") in stderr
