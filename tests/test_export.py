"""export: never overwrites a file silently; keys of exported manifests never collide."""

from __future__ import annotations

from pathlib import Path

import openai

from assistants_sync.emulator import EmulatorServer

from .conftest import plan_json, run, write


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
