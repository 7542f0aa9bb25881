"""apply_plan over loopback: every change is tried, failures are reported, nothing is decided anew."""

from __future__ import annotations

from pathlib import Path

from assistants_sync.applying.apply import apply_plan
from assistants_sync.actual.client import AssistantsClient, Endpoint
from assistants_sync.emulator import EmulatorServer
from assistants_sync.planning.plan import Action
from assistants_sync.planning.reconcile import plan_from_manifests
from assistants_sync.applying.report import render_apply_summary

from .conftest import API_KEY, write


def test_one_failed_change_does_not_stop_the_others(emulator: EmulatorServer, tmp_path: Path) -> None:
    vanishing = emulator.store.create({"model": "gpt-4o", "metadata": {"assistants-sync": "default/a-vanishing"}})
    gone = emulator.store.create({"model": "gpt-4o", "metadata": {"assistants-sync": "default/z-removed"}})
    write(tmp_path / "a.yaml", "key: a-vanishing\nmodel: gpt-4o\nname: Updated\n")
    write(tmp_path / "b.yaml", "key: b-new\nmodel: gpt-4o\n")
    with AssistantsClient(Endpoint(base_url=emulator.base_url, api_key=API_KEY)) as client:
        plan = plan_from_manifests([tmp_path], client, "default")
        assert [c.action for c in plan.changes] == [Action.UPDATE, Action.CREATE, Action.DELETE]
        # Between plan and apply, someone deletes both remote assistants.
        emulator.store.delete(vanishing["id"])
        emulator.store.delete(gone["id"])
        seen: list[str] = []
        result = apply_plan(plan, client, on_outcome=lambda o: seen.append(o.change.key))

    assert sorted(seen[:2]) == ["a-vanishing", "b-new"] and seen[2] == "z-removed"  # deletes run last
    [failed] = result.failed
    assert failed.change.key == "a-vanishing"
    assert f"modifying {vanishing['id']} failed: HTTP 404: No assistant found" in (failed.error or "")
    deleted = next(o for o in result.outcomes if o.change.action is Action.DELETE)
    assert deleted.ok and deleted.note == "already deleted"
    assert [a["metadata"]["assistants-sync"] for a in emulator.store.list()["data"]] == ["default/b-new"]
    summary = render_apply_summary(result)
    assert summary.startswith("Apply finished with errors: 1 created, 0 updated, 1 deleted, 1 failed:\n")
    assert summary.endswith("Fix the cause and run apply again: it plans only what is still different.\n")
