"""`--target KEY`: plan, apply and drift limited to some keys, as Terraform's -target."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import openai

from assistants_sync.emulator import EmulatorServer

from .conftest import plan_json, run, write

PARTIAL = ("Partial plan: only --target {keys}. Other keys may still differ from the manifests; "
           "plan without --target to see every change.")


def three_applied(root: Path) -> Path:
    """alpha, beta and gamma, applied; their temperature is what the tests edit."""
    for key in ("alpha", "beta", "gamma"):
        write(root / f"{key}.yaml", f"key: {key}\nmodel: gpt-4o\nname: {key.title()}\ntemperature: 0.5\n")
    result = run("apply", "--auto-approve", str(root))
    assert result.exit_code == 0, result.output
    return root


def edit(root: Path, key: str, temperature: float) -> None:
    write(root / f"{key}.yaml", f"key: {key}\nmodel: gpt-4o\nname: {key.title()}\ntemperature: {temperature}\n")


def assistant(emulator: EmulatorServer, key: str) -> dict[str, Any]:
    listed = emulator.store.list(limit=100, order="asc")["data"]
    [found] = [a for a in listed if a["metadata"].get("assistants-sync") == f"default/{key}"]
    return found  # type: ignore[no-any-return]


def test_plan_with_targets_plans_only_those_keys_and_says_it_is_partial(env: EmulatorServer, tmp_path: Path) -> None:
    specs = three_applied(tmp_path / "specs")
    for key in ("alpha", "beta", "gamma"):
        edit(specs, key, 0.7)
    result = run("plan", str(specs), "--target", "gamma", "--target", "alpha")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[1] == PARTIAL.format(keys="alpha, gamma")
    assert "~ alpha (asst_" in result.stdout and "~ gamma (asst_" in result.stdout
    assert "beta" not in result.stdout
    assert lines[-1] == "Plan: 0 to create, 2 to update, 0 to delete."


def test_json_and_markdown_record_the_targets(env: EmulatorServer, tmp_path: Path) -> None:
    specs = three_applied(tmp_path / "specs")
    edit(specs, "alpha", 0.7)
    edit(specs, "beta", 0.7)
    document = plan_json(str(specs), "--target", "beta")
    assert document["targets"] == ["beta"]
    assert [c["key"] for c in document["changes"]] == ["beta"]
    assert plan_json(str(specs))["targets"] == []  # without --target the PATH is the whole desired state
    markdown = run("plan", str(specs), "--target", "beta", "--format", "markdown")
    assert markdown.exit_code == 0, markdown.output
    assert ("> [!NOTE]\n> Partial plan: only --target `beta`. Other keys may still differ from the manifests; "
            "plan without --target to see every change.\n") in markdown.stdout
    assert "alpha" not in markdown.stdout


def test_a_targeted_key_whose_manifest_was_removed_is_deleted_and_no_other(
    env: EmulatorServer, tmp_path: Path
) -> None:
    specs = three_applied(tmp_path / "specs")
    beta, gamma = assistant(env, "beta")["id"], assistant(env, "gamma")["id"]
    (specs / "beta.yaml").unlink()
    (specs / "gamma.yaml").unlink()
    result = run("apply", "--auto-approve", str(specs), "--target", "beta")
    assert result.exit_code == 0, result.output
    assert f'- beta ({beta}) "Beta" will be deleted: no manifest for this key' in result.stdout
    assert "Apply complete: 0 created, 0 updated, 1 deleted.\n" in result.stdout
    assert "This was a partial apply (--target): plan without --target to see whether anything else differs." \
        in result.stdout
    remaining = {a["id"] for a in env.store.list(limit=100)["data"]}
    assert beta not in remaining and gamma in remaining  # gamma's manifest is gone too, but it was not targeted


def test_apply_with_a_target_leaves_the_other_keys_as_they_are(env: EmulatorServer, tmp_path: Path) -> None:
    specs = three_applied(tmp_path / "specs")
    edit(specs, "alpha", 0.7)
    edit(specs, "beta", 0.9)
    write(specs / "delta.yaml", "key: delta\nmodel: gpt-4o\n")
    result = run("apply", "--auto-approve", str(specs), "--target", "beta")
    assert result.exit_code == 0, result.output
    assert "Apply complete: 0 created, 1 updated, 0 deleted.\n" in result.stdout
    assert assistant(env, "beta")["temperature"] == 0.9
    assert assistant(env, "alpha")["temperature"] == 0.5
    assert len(env.store) == 3  # delta not created
    rest = plan_json(str(specs))
    assert sorted((c["action"], c["key"]) for c in rest["changes"]) == [("create", "delta"), ("update", "alpha")]


def test_drift_with_a_target_reports_only_that_key(
    env: EmulatorServer, tmp_path: Path, sdk: openai.OpenAI
) -> None:
    specs = three_applied(tmp_path / "specs")
    sdk.beta.assistants.update(assistant(env, "alpha")["id"], temperature=1.5)
    sdk.beta.assistants.update(assistant(env, "beta")["id"], temperature=1.5)
    result = run("drift", str(specs), "--target", "beta")
    assert result.exit_code == 2, result.output
    assert result.stdout.splitlines()[1] == PARTIAL.format(keys="beta")
    assert "~ beta (asst_" in result.stdout and "alpha" not in result.stdout
    clean = run("drift", str(specs), "--target", "gamma")
    assert clean.exit_code == 0, clean.output
    assert "The targeted keys are as last applied." in clean.stdout
    assert clean.stdout.count("No drift") == 1


class TestSavedTargetedPlans:
    def test_the_saved_plan_carries_its_targets_into_apply(self, env: EmulatorServer, tmp_path: Path) -> None:
        specs = three_applied(tmp_path / "specs")
        edit(specs, "alpha", 0.7)
        edit(specs, "beta", 0.7)
        saved = tmp_path / "plan.json"
        assert run("plan", str(specs), "--target", "alpha", "--out", str(saved)).exit_code == 0
        assert json.loads(saved.read_text())["targets"] == ["alpha"]
        result = run("apply", "--plan", str(saved))
        assert result.exit_code == 0, result.output
        assert result.stdout.splitlines()[1] == PARTIAL.format(keys="alpha")
        assert "Apply complete: 0 created, 1 updated, 0 deleted.\n" in result.stdout
        assert assistant(env, "alpha")["temperature"] == 0.7 and assistant(env, "beta")["temperature"] == 0.5

    def test_a_change_to_another_key_does_not_make_it_stale_one_to_a_targeted_key_does(
        self, env: EmulatorServer, tmp_path: Path, sdk: openai.OpenAI
    ) -> None:
        specs = three_applied(tmp_path / "specs")
        edit(specs, "alpha", 0.7)
        saved = tmp_path / "plan.json"
        assert run("plan", str(specs), "--target", "alpha", "--out", str(saved)).exit_code == 0
        sdk.beta.assistants.update(assistant(env, "beta")["id"], temperature=1.5)  # not targeted
        assert run("apply", "--plan", str(saved)).exit_code == 0
        assert assistant(env, "alpha")["temperature"] == 0.7

        edit(specs, "alpha", 0.2)
        assert run("plan", str(specs), "--target", "alpha", "--out", str(saved)).exit_code == 0
        sdk.beta.assistants.update(assistant(env, "alpha")["id"], name="changed by someone")  # targeted
        stale = run("apply", "--plan", str(saved))
        assert stale.exit_code == 1
        assert "have changed since the plan was made; nothing was changed" in stale.stderr
        assert assistant(env, "alpha")["temperature"] == 0.7

    def test_target_and_a_saved_plan_together_are_refused(self, env: EmulatorServer, tmp_path: Path) -> None:
        specs = three_applied(tmp_path / "specs")
        saved = tmp_path / "plan.json"
        assert run("plan", str(specs), "--out", str(saved)).exit_code == 0
        result = run("apply", "--plan", str(saved), "--target", "alpha")
        assert result.exit_code == 1
        assert "give either --target or --plan FILE, not both: a saved plan already holds its targets" \
            in result.stderr


class TestDeleteGuardsJudgeTheTargetedPlan:
    def test_a_protected_delete_outside_the_targets_does_not_block_it(self, env: EmulatorServer, tmp_path: Path
                                                                       ) -> None:
        specs = three_applied(tmp_path / "specs")
        write(specs / "keep.yaml", "key: keep\nmodel: gpt-4o\nprotect: true\n")
        assert run("apply", "--auto-approve", str(specs)).exit_code == 0
        (specs / "keep.yaml").unlink()
        edit(specs, "alpha", 0.7)
        assert run("plan", str(specs)).exit_code == 1  # the whole plan is refused ...
        result = run("plan", str(specs), "--target", "alpha")  # ... the targeted one is not
        assert result.exit_code == 0, result.output
        assert "Plan: 0 to create, 1 to update, 0 to delete." in result.stdout

    def test_a_targeted_protected_delete_is_refused(self, env: EmulatorServer, tmp_path: Path) -> None:
        specs = three_applied(tmp_path / "specs")
        write(specs / "keep.yaml", "key: keep\nmodel: gpt-4o\nprotect: true\n")
        assert run("apply", "--auto-approve", str(specs)).exit_code == 0
        (specs / "keep.yaml").unlink()
        result = run("plan", str(specs), "--target", "keep")
        assert result.exit_code == 1
        assert "refusing to delete protected assistant keep (asst_" in result.stderr

    def test_a_targeted_plan_deleting_every_managed_assistant_needs_allow_delete_all(
        self, env: EmulatorServer, tmp_path: Path
    ) -> None:
        specs = three_applied(tmp_path / "specs")
        for key in ("alpha", "beta"):
            (specs / f"{key}.yaml").unlink()
        write(specs / "other.yaml", "key: other\nmodel: gpt-4o\n")
        (specs / "gamma.yaml").unlink()
        targets = ("--target", "alpha", "--target", "beta", "--target", "gamma")
        refused = run("plan", str(specs), *targets)
        assert refused.exit_code == 1
        assert 'this plan would delete all 3 managed assistants of stack "default"' in refused.stderr
        allowed = run("plan", str(specs), *targets, "--allow-delete-all")
        assert allowed.exit_code == 0, allowed.output
        assert "Plan: 0 to create, 0 to update, 3 to delete." in allowed.stdout


def test_a_target_matching_nothing_is_a_warning_not_an_error(env: EmulatorServer, tmp_path: Path) -> None:
    specs = three_applied(tmp_path / "specs")
    result = run("plan", str(specs), "--target", "alpah", "--detailed-exitcode")
    assert result.exit_code == 0, result.output  # as Terraform: a target matching nothing is no error
    assert result.stdout.splitlines()[1:4] == [
        PARTIAL.format(keys="alpah"),
        "Warning: --target alpah matches no manifest and no assistant of this stack.",
        "",
    ]
    assert "No changes for the targeted keys." in result.stdout
    assert plan_json(str(specs), "--target", "alpah", "--target", "beta")["unmatched_targets"] == ["alpah"]


def test_a_target_that_cannot_be_a_key_is_a_usage_error(env: EmulatorServer, tmp_path: Path) -> None:
    specs = three_applied(tmp_path / "specs")
    result = run("plan", str(specs), "--target", "Support Bot")
    assert result.exit_code == 1
    assert "Invalid value for '--target': 'Support Bot' is not a manifest key" in result.stderr
