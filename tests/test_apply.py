"""apply_plan over loopback: every change is tried, failures are reported, nothing is decided anew."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from assistants_sync.actual.client import AssistantsClient, Endpoint
from assistants_sync.applying.apply import apply_plan
from assistants_sync.applying.report import render_apply_summary
from assistants_sync.emulator import EmulatorServer, Faults, running_emulator
from assistants_sync.planning.plan import Action, Change, Plan
from assistants_sync.planning.reconcile import plan_from_manifests

from .conftest import API_KEY, FAST, ROOT, manifests, run, tags, write


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


def test_lost_create_answers_end_with_exactly_one_assistant_per_key(tmp_path: Path) -> None:
    with running_emulator(faults=Faults(drop_create_rate=0.4, seed=3)) as emulator:
        with AssistantsClient(Endpoint(emulator.base_url, api_key=API_KEY), retry=FAST) as client:
            plan = plan_from_manifests([manifests(tmp_path, 30)], client, "default")
            result = apply_plan(plan, client)
        assert not result.failed
        assert sum(1 for o in result.outcomes if o.note == "found after its answer was lost") >= 5
        assert tags(emulator) == [f"default/bot-{i:03d}" for i in range(30)]


def test_apply_uses_the_parallelism_asked_for_and_no_more(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with running_emulator(api_key=API_KEY, faults=Faults(latency=0.03)) as emulator:
        monkeypatch.setenv("OPENAI_API_KEY", API_KEY)
        monkeypatch.setenv("OPENAI_BASE_URL", emulator.base_url)
        specs = manifests(tmp_path, 24)
        assert run("apply", "--auto-approve", "--parallelism", "4", str(specs)).exit_code == 0
        assert emulator.max_in_flight == 4
        emulator.max_in_flight = 0
        manifests(tmp_path, 24, name="renamed")
        assert run("apply", "--auto-approve", "--parallelism", "1", str(specs)).exit_code == 0
        assert emulator.max_in_flight == 1


def test_a_retried_delete_that_answers_404_is_done() -> None:
    answers = iter([httpx.Response(500, json={"error": {"message": "oops"}}),
                    httpx.Response(404, json={"error": {"message": "No assistant found with id 'asst_1'."}})])
    client = AssistantsClient(Endpoint(api_key=API_KEY), transport=httpx.MockTransport(lambda r: next(answers)),
                              retry=FAST)
    change = Change(action=Action.DELETE, key="k", assistant_id="asst_1")
    [outcome] = apply_plan(Plan(stack="s", endpoint="e", remote_fingerprint="f", changes=[change]), client).outcomes
    assert outcome.ok and outcome.note == "already deleted"
    assert client.stats.requests == 2 and client.stats.retries == 1


def test_ctrl_c_finishes_changes_in_flight_prints_the_summary_and_exits_130(tmp_path: Path) -> None:
    specs = manifests(tmp_path / "specs", 20)
    with running_emulator(api_key=API_KEY, faults=Faults(latency=0.25)) as emulator:
        env = {**os.environ, "OPENAI_API_KEY": API_KEY, "OPENAI_BASE_URL": emulator.base_url,
               "PYTHONUNBUFFERED": "1"}
        process = subprocess.Popen(
            [sys.executable, "-m", "assistants_sync", "apply", "--auto-approve", "--parallelism", "2", str(specs)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=ROOT,
        )
        assert process.stdout is not None
        lines = []
        for line in process.stdout:
            lines.append(line)
            if ": created asst_" in line:
                process.send_signal(signal.SIGINT)
                break
        rest = process.stdout.read()  # the same buffered stream: lines already read ahead are kept
        process.wait(timeout=30)
        output = "".join(lines) + rest
        assert process.returncode == 130, output
        created_lines = output.count(": created asst_")
        assert "Apply interrupted: " in output and " not started." in output
        assert f"{created_lines} created, 0 updated, 0 deleted, 0 failed, {20 - created_lines} not started" in output
        assert 1 <= created_lines < 20
        assert len(emulator.store) == created_lines  # nothing half-done, nothing unreported

