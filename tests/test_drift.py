"""`drift` tells the whole truth: every difference the manifests do not explain, never refused by the delete guards."""

from __future__ import annotations

import json
from pathlib import Path

import openai
import pytest

from assistants_sync.emulator import EmulatorServer

from .conftest import plan_json, run, write


TWO_BOTS = {"weather.yaml": "key: weather\nmodel: m\nname: Weather\n", "support.yaml": "key: support\nmodel: m\n"}


def ids(env: EmulatorServer) -> dict[str, str]:
    return {a["metadata"]["assistants-sync"].split("/")[1]: a["id"]
            for a in env.store.list()["data"] if "assistants-sync" in (a.get("metadata") or {})}


def setup_two(env: EmulatorServer, specs: Path) -> dict[str, str]:
    for name, text in TWO_BOTS.items():
        write(specs / name, text)
    result = run("apply", "--auto-approve", str(specs))
    assert result.exit_code == 0, result.output
    assert run("drift", str(specs)).exit_code == 0
    return ids(env)


def test_an_assistant_deleted_outside_assistants_sync_is_missing_drift(
    env: EmulatorServer, tmp_path: Path, sdk: openai.OpenAI
) -> None:
    bots = setup_two(env, tmp_path)
    sdk.beta.assistants.delete(bots["weather"])
    result = run("drift", str(tmp_path))
    assert result.exit_code == 2, result.output
    assert ('  + weather "Weather" will be created: missing (deleted outside assistants-sync, or never applied)'
            in result.stdout)
    assert "Drift: 1 assistant missing." in result.stdout
    document = json.loads(run("drift", str(tmp_path), "--format", "json").stdout)
    assert [(c["action"], c["key"], c["drift"]) for c in document["changes"]] == [("create", "weather", "missing")]
    markdown = run("drift", str(tmp_path), "--format", "markdown").stdout
    assert "**Drift: 1 assistant missing.**" in markdown
    assert "missing (deleted outside assistants-sync, or never applied)" in markdown


def test_a_manifest_never_applied_is_missing_drift_too(env: EmulatorServer, tmp_path: Path) -> None:
    setup_two(env, tmp_path)
    write(tmp_path / "new.yaml", "key: new\nmodel: m\n")
    result = run("drift", str(tmp_path))
    assert result.exit_code == 2
    assert "  + new will be created: missing (deleted outside assistants-sync, or never applied)" in result.stdout


def test_an_assistant_created_outside_with_this_stacks_tag_is_drift(
    env: EmulatorServer, tmp_path: Path, sdk: openai.OpenAI
) -> None:
    setup_two(env, tmp_path)
    rogue = sdk.beta.assistants.create(model="m", name="Rogue", metadata={"assistants-sync": "default/rogue"})
    result = run("drift", str(tmp_path))
    assert result.exit_code == 2, result.output
    assert (f'  - rogue ({rogue.id}) "Rogue" will be deleted: no manifest for this key, and it carries this '
            "stack's tag but not the applied tag every apply writes (created or retagged outside assistants-sync)"
            in result.stdout)
    assert "Drift: 1 assistant tagged outside assistants-sync." in result.stdout
    document = json.loads(run("drift", str(tmp_path), "--format", "json").stdout)
    assert [(c["action"], c["key"], c["drift"]) for c in document["changes"]] == [("delete", "rogue", "untracked")]


def test_a_copy_tagged_with_a_managed_key_is_reported_as_a_duplicate(
    env: EmulatorServer, tmp_path: Path, sdk: openai.OpenAI
) -> None:
    bots = setup_two(env, tmp_path)
    original = env.store.retrieve(bots["weather"])
    copy = sdk.beta.assistants.create(model="m", name="Weather", metadata=original["metadata"])
    result = run("drift", str(tmp_path))
    assert result.exit_code == 2, result.output
    assert (f'  - weather ({copy.id}) "Weather" will be deleted: duplicate of {bots["weather"]} (the oldest is kept)'
            in result.stdout)
    assert "Drift: 1 assistant duplicated." in result.stdout


def test_an_assistant_tagged_outside_that_matches_its_manifest_is_drift_and_apply_records_it(
    env: EmulatorServer, tmp_path: Path, sdk: openai.OpenAI
) -> None:
    write(tmp_path / "bot.yaml", "key: bot\nmodel: m\n")
    made = sdk.beta.assistants.create(model="m", metadata={"assistants-sync": "default/bot"})
    result = run("drift", str(tmp_path))
    assert result.exit_code == 2, result.output
    assert (f"  ~ bot ({made.id}) will be updated in place (carries this stack's tag but not the applied tag "
            "every apply writes: created or retagged outside assistants-sync)") in result.stdout
    assert run("apply", "--auto-approve", str(tmp_path)).exit_code == 0
    assert "assistants-sync.applied" in env.store.retrieve(made.id)["metadata"]
    assert run("drift", str(tmp_path)).exit_code == 0
    assert plan_json(str(tmp_path))["changes"] == []


def test_a_removed_ownership_tag_is_missing_drift_naming_the_unowned_copy(
    env: EmulatorServer, tmp_path: Path, sdk: openai.OpenAI
) -> None:
    bots = setup_two(env, tmp_path)
    metadata = dict(env.store.retrieve(bots["weather"])["metadata"])
    del metadata["assistants-sync"]
    sdk.beta.assistants.update(bots["weather"], metadata=metadata)  # replaces the metadata whole
    result = run("drift", str(tmp_path))
    assert result.exit_code == 2, result.output
    assert "  + weather \"Weather\" will be created: missing (deleted outside assistants-sync, or never applied)" \
        in result.stdout
    assert (f"Note: weather: the unowned assistant {bots['weather']} carries the applied tag of this manifest "
            f"(was its ownership tag removed?); to take it back instead of creating another, add "
            f"\"adopt: {bots['weather']}\" to the manifest") in result.stdout
    document = json.loads(run("drift", str(tmp_path), "--format", "json").stdout)
    assert document["notes"] == [{"key": "weather", "kind": "unowned_match", "text": (
        f"the unowned assistant {bots['weather']} carries the applied tag of this manifest (was its ownership tag "
        f"removed?); to take it back instead of creating another, add \"adopt: {bots['weather']}\" to the manifest")}]


def test_edited_and_removed_manifests_are_not_drift(env: EmulatorServer, tmp_path: Path) -> None:
    setup_two(env, tmp_path)
    write(tmp_path / "weather.yaml", "key: weather\nmodel: m2\nname: Weather\n")
    (tmp_path / "support.yaml").unlink()
    result = run("drift", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert "No drift." in result.stdout
    assert [c["action"] for c in plan_json(str(tmp_path))["changes"]] == ["delete", "update"]


def test_a_removed_manifest_of_an_assistant_changed_outside_is_drift(
    env: EmulatorServer, tmp_path: Path, sdk: openai.OpenAI
) -> None:
    bots = setup_two(env, tmp_path)
    sdk.beta.assistants.update(bots["support"], name="Edited by hand")
    (tmp_path / "support.yaml").unlink()
    result = run("drift", str(tmp_path))
    assert result.exit_code == 2, result.output
    assert (f'  - support ({bots["support"]}) "Edited by hand" will be deleted: no manifest for this key, and it was '
            "changed outside assistants-sync since the last apply") in result.stdout


def test_drift_never_fails_on_the_delete_guards(env: EmulatorServer, tmp_path: Path, sdk: openai.OpenAI) -> None:
    write(tmp_path / "keep.yaml", "key: keep\nmodel: m\nprotect: true\n")
    write(tmp_path / "other.yaml", "key: other\nmodel: m\n")
    assert run("apply", "--auto-approve", str(tmp_path)).exit_code == 0
    (tmp_path / "keep.yaml").unlink()
    assert run("plan", str(tmp_path)).exit_code == 1  # protect refuses the plan ...
    quiet = run("drift", str(tmp_path))
    assert quiet.exit_code == 0, quiet.output  # ... drift only reports: a removed manifest is not drift
    assert "No drift." in quiet.stdout
    team = tmp_path / "team"
    write(team / "old.yaml", "key: old\nmodel: m\n")
    assert run("apply", "--auto-approve", str(team), "--stack", "team").exit_code == 0
    (team / "old.yaml").unlink()
    write(team / "new.yaml", "key: new\nmodel: m\n")
    assert "would delete all 1 managed assistants" in run("plan", str(team), "--stack", "team").stderr
    result = run("drift", str(team), "--stack", "team")
    assert result.exit_code == 2, result.output
    assert "Drift: 1 assistant missing." in result.stdout
    assert "will be deleted" not in result.stdout


def test_every_kind_of_drift_is_counted_in_the_summary(
    env: EmulatorServer, tmp_path: Path, sdk: openai.OpenAI
) -> None:
    bots = setup_two(env, tmp_path)
    sdk.beta.assistants.update(bots["support"], name="Edited by hand")
    sdk.beta.assistants.delete(bots["weather"])
    sdk.beta.assistants.create(model="m", metadata={"assistants-sync": "default/rogue"})
    result = run("drift", str(tmp_path))
    assert result.exit_code == 2
    assert ("Drift: 1 assistant changed outside assistants-sync, 1 missing, 1 tagged outside assistants-sync."
            in result.stdout)


def apply_ok(*args: str) -> str:
    result = run("apply", "--auto-approve", *args)
    assert result.exit_code == 0, result.output
    return result.stdout


class TestDriftAttribution:
    @pytest.fixture
    def applied(self, env: EmulatorServer, example_specs: Path, sdk: openai.OpenAI) -> dict[str, str]:
        apply_ok(str(example_specs))
        return {a.name or "": a.id for a in sdk.beta.assistants.list()}

    def test_manifest_drift_and_both_are_told_apart(
        self, applied: dict[str, str], example_specs: Path, sdk: openai.OpenAI
    ) -> None:
        sdk.beta.assistants.update(applied["Weather"], temperature=0.1)  # drift only
        sdk.beta.assistants.update(applied["Support Bot"], name="Support Bot v2")  # drift ...
        support = example_specs / "support.yaml"
        support.write_text(support.read_text().replace("temperature: 0.3", "temperature: 0.4"))  # ... and manifest
        analyst = example_specs / "tools.yaml"
        analyst.write_text(analyst.read_text().replace("top_p: 0.9", "top_p: 0.8"))  # manifest only
        document = plan_json(str(example_specs))
        causes = {c["key"]: c["cause"] for c in document["changes"]}
        assert causes == {"data-analyst": "manifest", "support-bot": "both", "weather": "drift"}
        text = run("plan", str(example_specs)).stdout
        assert "will be updated in place (changed outside assistants-sync)" in text
        assert "will be updated in place (manifest changed, and changed outside assistants-sync)" in text

    def test_drift_command_reports_only_drift_with_exit_codes(
        self, applied: dict[str, str], example_specs: Path, sdk: openai.OpenAI
    ) -> None:
        none = run("drift", str(example_specs))
        assert none.exit_code == 0 and "No drift." in none.stdout
        analyst = example_specs / "tools.yaml"
        analyst.write_text(analyst.read_text().replace("top_p: 0.9", "top_p: 0.8"))
        assert run("drift", str(example_specs)).exit_code == 0  # a manifest change is not drift
        sdk.beta.assistants.update(applied["Weather"], instructions="Be terse.")
        found = run("drift", str(example_specs))
        assert found.exit_code == 2
        assert "Drift: 1 assistant changed outside assistants-sync." in found.stdout
        assert "data-analyst" not in found.stdout
        as_json = json.loads(run("drift", str(example_specs), "--format", "json").stdout)
        assert [(c["key"], c["cause"]) for c in as_json["changes"]] == [("weather", "drift")]
        markdown = run("drift", str(example_specs), "--format", "markdown").stdout
        assert markdown.startswith("### assistants-sync drift report: stack `default`")
        assert run("drift", str(example_specs / "missing")).exit_code == 1

    def test_a_drifted_field_the_manifest_does_not_manage_is_not_drift(
        self, applied: dict[str, str], example_specs: Path, sdk: openai.OpenAI
    ) -> None:
        sdk.beta.assistants.update(applied["Weather"], reasoning_effort="high")  # weather leaves it unmanaged
        assert run("drift", str(example_specs)).exit_code == 0
        assert plan_json(str(example_specs))["changes"] == []

