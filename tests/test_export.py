"""export: never overwrites a file silently; keys of exported manifests never collide."""

from __future__ import annotations

import shutil

from pathlib import Path

import openai

from assistants_sync.emulator import EmulatorServer

from .conftest import API_KEY, ROOT, plan_json, run, write

ROOT_SPECS = ROOT / "specs"


def test_export_refuses_to_overwrite_a_file_and_writes_nothing(env: EmulatorServer, tmp_path: Path,
                                                                sdk: openai.OpenAI) -> None:
    sdk.beta.assistants.create(model="gpt-4o", name="Alpha")
    sdk.beta.assistants.create(model="gpt-4o", name="Beta", instructions="one\ntwo")
    out = tmp_path / "imported"
    edited = write(out / "beta.yaml", "# my hand edit\n")

    result = run("export", "--unmanaged", "--out", str(out))

    assert result.exit_code == 1
    assert result.stderr == (f"Error: export would overwrite 1 existing file: {edited}; nothing was written. "
                             "Pass --force to overwrite them, or choose another --out\n")
    assert edited.read_text() == "# my hand edit\n"
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == ["beta.yaml"]


def test_export_with_force_overwrites(env: EmulatorServer, tmp_path: Path, sdk: openai.OpenAI) -> None:
    beta = sdk.beta.assistants.create(model="gpt-4o", name="Beta", instructions="one\ntwo")
    out = tmp_path / "imported"
    write(out / "instructions" / "beta.md", "stale\n")

    refused = run("export", "--unmanaged", "--out", str(out))
    assert refused.exit_code == 1 and f"{out / 'instructions' / 'beta.md'}" in refused.stderr

    result = run("export", "--unmanaged", "--out", str(out), "--force")
    assert result.exit_code == 0, result.output
    assert (out / "instructions" / "beta.md").read_text() == "one\ntwo"
    assert f"adopt: {beta.id}" in (out / "beta.yaml").read_text()


def test_unmanaged_export_never_takes_a_key_the_stack_manages(env: EmulatorServer, tmp_path: Path,
                                                               sdk: openai.OpenAI) -> None:
    write(tmp_path / "specs" / "support.yaml", "key: support-bot\nmodel: gpt-4o\nname: Support Bot\n")
    assert run("apply", "--auto-approve", str(tmp_path / "specs")).exit_code == 0
    legacy = sdk.beta.assistants.create(model="gpt-4o-mini", name="Support Bot")
    out = tmp_path / "specs" / "imported"

    assert run("export", "--unmanaged", "--out", str(out)).exit_code == 0

    assert sorted(p.name for p in out.glob("*.yaml")) == ["support-bot-2.yaml"]
    document = plan_json(str(tmp_path / "specs"))  # the managed one and the imported one together
    assert document["summary"] == {"create": 0, "update": 0, "delete": 0, "adopt": 1}
    assert [(c["key"], c["assistant_id"]) for c in document["changes"]] == [("support-bot-2", legacy.id)]


def test_unmanaged_keys_are_unique_and_the_oldest_keeps_the_plain_key(env: EmulatorServer, tmp_path: Path,
                                                                      sdk: openai.OpenAI) -> None:
    first = sdk.beta.assistants.create(model="gpt-4o", name="Helper")
    named_like_a_suffix = sdk.beta.assistants.create(model="gpt-4o", name="helper-2")
    third = sdk.beta.assistants.create(model="gpt-4o", name="HELPER")
    out = tmp_path / "imported"

    assert run("export", "--unmanaged", "--out", str(out)).exit_code == 0

    adopted = {p.stem: p.read_text().split("adopt: ")[1].split("\n")[0] for p in out.glob("*.yaml")}
    assert adopted == {"helper": first.id, "helper-2": named_like_a_suffix.id, "helper-3": third.id}
    assert plan_json(str(out))["summary"]["adopt"] == 3


def apply_ok(*args: str) -> str:
    result = run("apply", "--auto-approve", *args)
    assert result.exit_code == 0, result.output
    return result.stdout


class TestExportAndAdopt:
    def test_export_of_managed_assistants_plans_no_changes(
        self, env: EmulatorServer, example_specs: Path, tmp_path: Path, sdk: openai.OpenAI
    ) -> None:
        apply_ok(str(example_specs))
        weather = next(a for a in sdk.beta.assistants.list() if a.name == "Weather")
        sdk.beta.assistants.update(weather.id, temperature=0.2)  # drifted: the export captures it as it is now
        out = tmp_path / "exported"
        result = run("export", "--out", str(out))
        assert result.exit_code == 0, result.output
        assert "Exported 4 objects (stack \"default\")" in result.stdout
        assert sorted(p.name for p in out.glob("*.yaml")) == ["data-analyst.yaml", "support-bot.yaml", "weather.yaml"]
        assert (out / "instructions" / "support-bot.md").read_text() == (example_specs / "prompts" / "support.md").read_text()
        assert "instructions_file: instructions/support-bot.md" in (out / "support-bot.yaml").read_text()
        # A vector store is exported with the paths of its documents; the documents themselves are the
        # repository's (an upload for assistants cannot be downloaded): put them where the manifest says.
        store = (out / "vector_store" / "product-docs.yaml").read_text()
        assert "- docs/getting-started.md\n" in store and "path: docs/pricing.md" in store
        shutil.copytree(example_specs / "docs", out / "vector_store" / "docs")
        assert plan_json(str(out))["changes"] == []

    def test_unmanaged_export_then_apply_adopts_everything_with_zero_content_changes(
        self, env: EmulatorServer, tmp_path: Path, sdk: openai.OpenAI
    ) -> None:
        created = [
            sdk.beta.assistants.create(model="gpt-4o", name="Legal Helper", instructions="Line 1\nLine 2",
                                       tools=[{"type": "file_search"}], temperature=0.4, metadata={"owner": "legal"}),
            sdk.beta.assistants.create(model="gpt-4o-mini", name="Legal Helper", reasoning_effort="low"),
            sdk.beta.assistants.create(model="gpt-4o", response_format={"type": "json_object"}),
        ]
        before = {a.id: env.store.retrieve(a.id) for a in created}
        out = tmp_path / "imported"
        assert run("export", "--unmanaged", "--out", str(out)).exit_code == 0
        keys = sorted(p.stem for p in out.glob("*.yaml"))
        assert keys == sorted(["legal-helper", "legal-helper-2", created[2].id.lower()])
        assert f"adopt: {created[0].id}" in (out / "legal-helper.yaml").read_text()
        document = plan_json(str(out))
        assert document["summary"] == {"create": 0, "update": 0, "delete": 0, "adopt": 3}
        assert all(set(c["fields"]) == {"metadata"} for c in document["changes"])
        assert "> legal-helper (" in run("plan", str(out)).stdout
        apply_ok(str(out))
        for assistant_id, old in before.items():
            new = env.store.retrieve(assistant_id)
            assert {k: v for k, v in new.items() if k != "metadata"} == {k: v for k, v in old.items() if k != "metadata"}
            assert new["metadata"]["assistants-sync"].startswith("default/")
        assert plan_json(str(out))["changes"] == []

    def test_adopt_refuses_another_stacks_assistant(self, env: EmulatorServer, tmp_path: Path) -> None:
        write(tmp_path / "theirs" / "bot.yaml", "key: bot\nmodel: m\n")
        apply_ok(str(tmp_path / "theirs"), "--stack", "team-b")
        theirs = env.store.list()["data"][0]["id"]
        write(tmp_path / "mine" / "bot.yaml", f"key: mine\nmodel: m\nadopt: {theirs}\n")
        result = run("plan", str(tmp_path / "mine"), "--stack", "team-a")
        assert result.exit_code == 0  # skipped, with a note: the plan creates instead
        assert (f"adopt: {theirs} skipped: it belongs to stack 'team-b', not 'team-a', and an assistant is never "
                "taken from another stack") in result.stdout
        assert "Plan: 1 to create, 0 to update, 0 to delete." in result.stdout
        write(tmp_path / "mine" / "bot.yaml", "key: mine\nmodel: m\nadopt: asst_nothere\n")
        skipped = run("plan", str(tmp_path / "mine")).stdout
        assert "adopt: asst_nothere skipped: no assistant asst_nothere on this endpoint" in skipped



def test_an_exported_field_holding_a_secret_is_left_to_the_server_never_written_as_the_mask(
        env: EmulatorServer, tmp_path: Path, sdk: openai.OpenAI) -> None:
    legacy = sdk.beta.assistants.create(model="gpt-4o", name="Legacy", instructions=f"call with {API_KEY}",
                                        metadata={"team": "web"})
    out = tmp_path / "imported"

    result = run("export", "--unmanaged", "--out", str(out))

    assert result.exit_code == 0, result.output
    manifest = (out / "legacy.yaml").read_text()
    assert API_KEY not in manifest and "****" not in manifest and "instructions" not in manifest.split("ignore_changes")[0]
    assert "ignore_changes:\n- instructions\n" in manifest
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == ["legacy.yaml"]
    assert result.stderr == (f"Warning: {out / 'legacy.yaml'}: instructions holds the API key or a header value, so "
                             "it is left out, with ignore_changes: [instructions]: apply leaves it as it is on the "
                             "server\n")
    document = plan_json(str(out))
    assert document["summary"] == {"create": 0, "update": 0, "delete": 0, "adopt": 1}
    assert set(document["changes"][0]["fields"]) == {"metadata"}
    assert run("apply", "--auto-approve", str(out)).exit_code == 0
    assert env.store.retrieve(legacy.id)["instructions"] == f"call with {API_KEY}"
    assert plan_json(str(out))["changes"] == []


def test_an_export_whose_metadata_holds_a_secret_is_refused_and_writes_nothing(
        env: EmulatorServer, tmp_path: Path, sdk: openai.OpenAI) -> None:
    sdk.beta.assistants.create(model="gpt-4o", name="Plain")
    leaky = sdk.beta.assistants.create(model="gpt-4o", name="Leaky", metadata={"token": API_KEY, "team": "web"})
    out = tmp_path / "imported"

    result = run("export", "--unmanaged", "--out", str(out))

    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: export would write a secret: {out / 'leaky.yaml'} ({leaky.id}): metadata[\"token\"] holds the API "
        "key or a header value, and metadata cannot be left out (it holds the ownership tags); nothing was written. "
        "Take the secret out of the object on the server, then export again\n")
    assert not out.exists()
    assert env.store.retrieve(leaky.id)["metadata"] == {"token": API_KEY, "team": "web"}


def test_an_agent_field_holding_a_secret_is_left_to_the_server_too(env: EmulatorServer, tmp_path: Path,
                                                                   sdk: openai.OpenAI) -> None:
    created = sdk.post("/agents", body={"model": "gpt-5", "name": "Legacy", "instructions": f"use {API_KEY}",
                                        "reasoning": {"effort": "low"}},
                       cast_to=dict, options={"headers": {"OpenAI-Beta": "agents=v1"}})
    out = tmp_path / "imported"
    result = run("export", "--unmanaged", "--kind", "agent", "--out", str(out))
    assert result.exit_code == 0, result.output
    manifest = (out / "agent" / "legacy.yaml").read_text()
    assert API_KEY not in manifest and "****" not in manifest and "ignore_changes:\n- instructions\n" in manifest
    assert f"Warning: {out / 'agent' / 'legacy.yaml'}: instructions holds the API key" in result.stderr
    [change] = plan_json(str(out))["changes"]
    assert (change["action"], change["id"], set(change["fields"])) == ("adopt", created["id"], {"metadata"})


def _bundled_examples(tmp_path: Path) -> list[str]:
    """The repository's example manifests of every kind, copied, and an assistant with a code_interpreter file."""
    shutil.copytree(ROOT_SPECS, tmp_path / "specs")
    shutil.copytree(ROOT / "examples" / "agents", tmp_path / "agents")
    write(tmp_path / "crunch" / "data" / "sales.csv", "region,total\nnorth,12\n")
    write(tmp_path / "crunch" / "crunch.yaml", """
        key: crunch
        model: gpt-4o
        tools: [{type: code_interpreter}]
        tool_resources:
          code_interpreter:
            files: [data/sales.csv]
        """)
    return [str(tmp_path / name) for name in ("specs", "agents", "crunch")]


def _files_under(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def test_an_export_of_the_bundled_examples_of_every_kind_plans_clean(env: EmulatorServer, tmp_path: Path) -> None:
    env.knowledge.downloads = True  # as a server that gives uploads back
    examples = _bundled_examples(tmp_path)
    assert run("apply", "--auto-approve", *examples).exit_code == 0
    out = tmp_path / "out"

    result = run("export", "--out", str(out), "--strict")

    assert result.exit_code == 0, result.output
    assert "with 4 downloaded files." in result.stdout and result.stderr == ""
    assert _files_under(out) == [
        "agent/instructions/support-agent.md", "agent/support-agent.yaml",   # beside the manifest naming them
        "crunch.yaml", "data-analyst.yaml", "files/sales.csv",
        "instructions/data-analyst.md", "instructions/support-bot.md", "support-bot.yaml",
        "vector_store/docs/getting-started.md", "vector_store/docs/pricing.md", "vector_store/docs/troubleshooting.md",
        "vector_store/product-docs.yaml", "weather.yaml"]
    assert (out / "vector_store" / "docs" / "pricing.md").read_bytes() == (
        tmp_path / "specs" / "docs" / "pricing.md").read_bytes()
    exported_kinds = {Path(p).parent.name or "assistant" for p in _files_under(out) if p.endswith(".yaml")}
    assert exported_kinds == {"assistant", "agent", "vector_store"}  # every kind the examples hold (files: derived)
    plan = run("plan", "--detailed-exitcode", str(out))
    assert plan.exit_code == 0, plan.output
    assert "No changes. The 10 managed objects match the manifests." in plan.stdout


def test_a_file_whose_content_the_endpoint_keeps_is_named_where_it_is_expected(env: EmulatorServer,
                                                                                  tmp_path: Path) -> None:
    # OpenAI never gives back an upload for assistants; the emulator refuses as it does.
    shutil.copytree(ROOT_SPECS, tmp_path / "specs")
    assert run("apply", "--auto-approve", str(tmp_path / "specs")).exit_code == 0
    out = tmp_path / "out"

    result = run("export", "--out", str(out), "--kind", "vector_store")

    assert result.exit_code == 0
    warnings = result.stderr.splitlines()
    assert len(warnings) == 3 and all(line.startswith("Warning: ") for line in warnings)
    expected = out / "vector_store" / "docs" / "pricing.md"
    [pricing] = [line for line in warnings if str(expected) in line]
    assert (f"Warning: {expected} is missing: the endpoint does not give back the content of file-" in pricing
            and "(HTTP 400: Not allowed to download files of purpose: assistants.); "
                f"{out / 'vector_store' / 'product-docs.yaml'} names it, so plan fails until the file is there"
            in pricing)
    assert _files_under(out) == ["vector_store/product-docs.yaml"]
    downloads = [r for r in env.requests if r.path.endswith("/content")]
    assert len(downloads) == 1  # the endpoint's answer for one upload is its answer for all

    strict = run("export", "--out", str(tmp_path / "strict"), "--kind", "vector_store", "--strict")
    assert strict.exit_code == 1
    assert strict.stderr.splitlines()[-1] == "Error: 3 files the manifests name could not be written (--strict)"
    assert _files_under(tmp_path / "strict") == ["vector_store/product-docs.yaml"]


def test_a_downloaded_content_that_is_not_the_uploaded_one_is_refused_and_nothing_is_written(
        env: EmulatorServer, tmp_path: Path) -> None:
    env.knowledge.downloads = True
    shutil.copytree(ROOT_SPECS, tmp_path / "specs")
    assert run("apply", "--auto-approve", str(tmp_path / "specs")).exit_code == 0
    for stored in env.knowledge._files.values():  # the server's copy changed behind everyone's back
        stored.content.seek(0)
        stored.content.write(b"tampered")
    out = tmp_path / "out"

    result = run("export", "--out", str(out))

    assert result.exit_code == 1
    assert "the content that came back is not the one uploaded" in result.stderr
    assert [p for p in out.rglob("*") if p.is_file()] == []  # no manifest, no partial download


def test_an_export_never_overwrites_a_document_either(env: EmulatorServer, tmp_path: Path) -> None:
    env.knowledge.downloads = True
    shutil.copytree(ROOT_SPECS, tmp_path / "specs")
    assert run("apply", "--auto-approve", str(tmp_path / "specs")).exit_code == 0
    edited = write(tmp_path / "out" / "vector_store" / "docs" / "pricing.md", "my edit\n")

    result = run("export", "--out", str(tmp_path / "out"))

    assert result.exit_code == 1 and f"export would overwrite 1 existing file: {edited}" in result.stderr
    assert edited.read_text() == "my edit\n"
    assert run("export", "--out", str(tmp_path / "out"), "--force").exit_code == 0
    assert edited.read_bytes() == (tmp_path / "specs" / "docs" / "pricing.md").read_bytes()
