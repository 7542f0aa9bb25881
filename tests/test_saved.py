"""A saved plan is a request, not an authority: edited plans that reach beyond the stack are refused."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openai
import pytest

from assistants_sync.emulator import EmulatorServer

from .conftest import KIND_PATHS, run, write


Ids = dict[str, str]
Edit = Callable[[Ids], dict[str, Any]]


def tags(stack: str, key: str, **extra: str) -> dict[str, Any]:
    return {"after": {"assistants-sync": f"{stack}/{key}", **extra}}


HOSTILE_CHANGES = [
    pytest.param(lambda ids: {"action": "delete", "key": "weather", "assistant_id": ids["unmanaged"]},
                 '"delete weather ({unmanaged})" targets {unmanaged}, which no stack manages (it has no ownership tag),'
                 " not an assistant of stack \"default\" under key 'weather'", id="delete-an-unmanaged-assistant"),
    pytest.param(lambda ids: {"action": "update", "key": "weather", "assistant_id": ids["unmanaged"],
                              "fields": {"name": {"before": "Hand-made", "after": "mine now"}}},
                 '"update weather ({unmanaged})" targets {unmanaged}, which no stack manages',
                 id="update-an-unmanaged"),
    pytest.param(lambda ids: {"action": "delete", "key": "weather", "assistant_id": ids["other"]},
                 '"delete weather ({other})" targets {other}, which belongs to stack "other"',
                 id="delete-another-stacks-assistant"),
    pytest.param(lambda ids: {"action": "update", "key": "weather", "assistant_id": ids["other"],
                              "fields": {"instructions": {"before": None, "after": "pwned"},
                                         "metadata": tags("default", "weather")}},
                 '"update weather ({other})" targets {other}, which belongs to stack "other"',
                 id="update-another-stacks-assistant"),
    pytest.param(lambda ids: {"action": "delete", "key": "faq", "assistant_id": ids["weather"]},
                 '"delete faq ({weather})" targets {weather}, the assistant of stack "default" under key \'weather\', '
                 "not an assistant of stack \"default\" under key 'faq'", id="delete-under-another-key"),
    pytest.param(lambda ids: {"action": "delete", "key": "weather", "assistant_id": "asst_000000000000000000000000"},
                 '"delete weather (asst_000000000000000000000000)" targets asst_000000000000000000000000, '
                 "which is not on the endpoint", id="delete-an-assistant-that-is-not-there"),
    pytest.param(lambda ids: {"action": "update", "key": "weather", "assistant_id": ids["weather"],
                              "fields": {"metadata": tags("other", "weather")}},
                 "\"update weather ({weather})\" writes the ownership tag 'other/weather', not 'default/weather'",
                 id="write-another-stacks-tag"),
    pytest.param(lambda ids: {"action": "update", "key": "weather", "assistant_id": ids["weather"],
                              "fields": {"metadata": {"before": None, "after": {"team": "x"}}}},
                 "\"update weather ({weather})\" writes metadata without the ownership tag, not 'default/weather'",
                 id="remove-the-tag"),
    pytest.param(lambda ids: {"action": "update", "key": "weather", "assistant_id": ids["weather"],
                              "fields": {"metadata": tags("default", "weather", **{"assistants-sync.lock": "other"})}},
                 '"update weather ({weather})" writes the reserved metadata key assistants-sync.lock',
                 id="write-a-reserved-key"),
    pytest.param(lambda ids: {"action": "create", "key": "intruder",
                              "fields": {"model": {"after": "gpt-4o"}, "metadata": tags("other", "intruder")}},
                 "\"create intruder\" writes the ownership tag 'other/intruder', not 'default/intruder'",
                 id="create-with-another-stacks-tag"),
    pytest.param(lambda ids: {"action": "create", "key": "intruder",
                              "fields": {"model": {"after": "gpt-4o"}, "metadata": tags("default", "weather")}},
                 "\"create intruder\" writes the ownership tag 'default/weather', not 'default/intruder'",
                 id="create-with-another-keys-tag"),
    pytest.param(lambda ids: {"action": "create", "key": "weather",
                              "fields": {"model": {"after": "gpt-4o"}, "metadata": tags("default", "weather")}},
                 '"create weather" would duplicate {weather}, the assistant of stack "default" under that key',
                 id="create-a-duplicate"),
    pytest.param(lambda ids: {"action": "create", "key": "intruder", "fields": {"model": {"after": "gpt-4o"}}},
                 '"create intruder" does not write the ownership tag of stack "default"', id="create-without-a-tag"),
    pytest.param(lambda ids: {"action": "adopt", "key": "taken", "assistant_id": ids["other"],
                              "fields": {"metadata": tags("default", "taken")}},
                 '"adopt taken ({other})" targets {other}, which belongs to stack "other"; only an assistant without '
                 "any ownership tag can be adopted", id="adopt-another-stacks-assistant"),
    pytest.param(lambda ids: {"action": "adopt", "key": "taken", "assistant_id": ids["faq"],
                              "fields": {"metadata": tags("default", "taken")}},
                 '"adopt taken ({faq})" targets {faq}, the assistant of stack "default" under key \'faq\'',
                 id="adopt-a-managed-assistant"),
    pytest.param(lambda ids: {"action": "update", "key": "weather", "assistant_id": ids["weather"],
                              "fields": {"owner": {"after": "x"}}},
                 '"update weather ({weather})" writes unknown field owner', id="write-an-unknown-field"),
]


@pytest.fixture
def endpoint(env: EmulatorServer, tmp_path: Path, sdk: openai.OpenAI) -> Ids:
    """Stack "default" owns weather and faq; stack "other" owns one; one assistant is unmanaged."""
    write(tmp_path / "specs" / "weather.yaml", "key: weather\nmodel: gpt-4o\nname: Weather\n")
    write(tmp_path / "specs" / "faq.yaml", "key: faq\nmodel: gpt-4o-mini\nname: FAQ\n")
    write(tmp_path / "other" / "billing.yaml", "key: billing\nmodel: gpt-4o\nname: Billing\n")
    assert run("apply", "--auto-approve", str(tmp_path / "specs")).exit_code == 0
    assert run("apply", "--auto-approve", "--stack", "other", str(tmp_path / "other")).exit_code == 0
    unmanaged = sdk.beta.assistants.create(model="gpt-4o", name="Hand-made")
    ids = {a["name"].lower(): a["id"] for a in env.store.list(limit=100)["data"]}
    return {"weather": ids["weather"], "faq": ids["faq"], "other": ids["billing"], "unmanaged": unmanaged.id}


@pytest.mark.parametrize(("edit", "message"), HOSTILE_CHANGES)
def test_an_edited_saved_plan_reaching_beyond_the_stack_is_refused_and_nothing_is_written(
    env: EmulatorServer, tmp_path: Path, endpoint: Ids, edit: Edit, message: str
) -> None:
    # A real, reviewable change first: the whole plan is refused, not only the hostile part.
    write(tmp_path / "specs" / "faq.yaml", "key: faq\nmodel: gpt-4o-mini\nname: FAQ v2\n")
    plan_file = tmp_path / "plan.json"
    assert run("plan", str(tmp_path / "specs"), "--out", str(plan_file)).exit_code == 0
    document = json.loads(plan_file.read_text())
    document["changes"].append(edit(endpoint))
    plan_file.write_text(json.dumps(document))
    before = env.store.list(limit=100)["data"]
    env.requests.clear()

    result = run("apply", "--plan", str(plan_file))

    assert result.exit_code == 1
    assert "Error: refusing the saved plan: its change " + message.format(**endpoint) in result.stderr
    assert "nothing was changed" in result.stderr
    assert env.store.list(limit=100)["data"] == before
    assert [r.method for r in env.requests] == ["GET"] * len(KIND_PATHS)  # one listing per kind; no write, nor a lock


def test_an_unedited_saved_plan_still_applies(env: EmulatorServer, tmp_path: Path, endpoint: Ids) -> None:
    write(tmp_path / "specs" / "faq.yaml", "key: faq\nmodel: gpt-4o-mini\nname: FAQ v2\n")
    (tmp_path / "specs" / "weather.yaml").unlink()
    write(tmp_path / "specs" / "new.yaml", "key: new\nmodel: gpt-4o\n")
    plan_file = tmp_path / "plan.json"
    assert run("plan", str(tmp_path / "specs"), "--out", str(plan_file)).exit_code == 0
    result = run("apply", "--plan", str(plan_file))
    assert result.exit_code == 0, result.output
    assert "Apply complete: 1 created, 1 updated, 1 deleted." in result.stdout
    names = sorted(a["name"] or "" for a in env.store.list(limit=100)["data"])
    assert names == ["", "Billing", "FAQ v2", "Hand-made"]


def test_an_edited_plan_cannot_switch_off_protect_or_the_delete_all_guard(
    env: EmulatorServer, tmp_path: Path, endpoint: Ids
) -> None:
    write(tmp_path / "specs" / "weather.yaml", "key: weather\nmodel: gpt-4o\nname: Weather\nprotect: true\n")
    assert run("apply", "--auto-approve", str(tmp_path / "specs")).exit_code == 0
    plan_file = tmp_path / "plan.json"
    assert run("plan", str(tmp_path / "specs"), "--out", str(plan_file)).exit_code == 0
    document = json.loads(plan_file.read_text())
    hand_made = {"action": "delete", "key": "weather", "assistant_id": endpoint["weather"], "protected": False}
    plan_file.write_text(json.dumps({**document, "changes": [hand_made]}))

    refused = run("apply", "--plan", str(plan_file))
    assert refused.exit_code == 1
    assert f"refusing to delete protected assistant weather ({endpoint['weather']})" in refused.stderr
    assert endpoint["weather"] in {a["id"] for a in env.store.list(limit=100)["data"]}

    faq = {"action": "delete", "key": "faq", "assistant_id": endpoint["faq"]}
    weather = {**hand_made, "key": "weather"}
    write(tmp_path / "specs" / "weather.yaml", "key: weather\nmodel: gpt-4o\nname: Weather\n")
    assert run("apply", "--auto-approve", str(tmp_path / "specs")).exit_code == 0  # protect is off again
    assert run("plan", str(tmp_path / "specs"), "--out", str(plan_file)).exit_code == 0
    document = json.loads(plan_file.read_text())
    plan_file.write_text(json.dumps({**document, "managed_count": 0, "changes": [faq, weather]}))
    before = env.store.list(limit=100)["data"]
    everything = run("apply", "--plan", str(plan_file))
    assert everything.exit_code == 1
    assert 'this plan would delete all 2 managed assistants of stack "default"' in everything.stderr
    assert env.store.list(limit=100)["data"] == before


def as_version_1(document: dict) -> dict:
    """What plan --out wrote before kinds: no kind, id or depends_on; the id in assistant_id."""
    changes = [{k: v for k, v in c.items() if k not in ("kind", "id", "depends_on")} for c in document["changes"]]
    return {**{k: v for k, v in document.items() if k != "kinds"}, "format_version": 1, "changes": changes}


def test_a_saved_plan_of_format_version_1_is_applied_as_it_was_written(env: EmulatorServer, tmp_path: Path) -> None:
    write(tmp_path / "specs" / "bot.yaml", "key: bot\nmodel: gpt-4o\nname: Bot\n")
    assert run("apply", "--auto-approve", str(tmp_path / "specs")).exit_code == 0
    write(tmp_path / "specs" / "bot.yaml", "key: bot\nmodel: gpt-4o\nname: Bot v2\n")
    assert run("plan", str(tmp_path / "specs"), "--out", str(tmp_path / "plan.json")).exit_code == 0
    old = as_version_1(json.loads((tmp_path / "plan.json").read_text()))
    assert old["changes"][0]["assistant_id"].startswith("asst_")
    write(tmp_path / "plan.json", json.dumps(old))
    result = run("apply", "--plan", str(tmp_path / "plan.json"))
    assert result.exit_code == 0, result.output
    assert "Apply complete: 0 created, 1 updated, 0 deleted." in result.stdout
    assert [a["name"] for a in env.store.list()["data"]] == ["Bot v2"]


def test_a_saved_plan_of_an_unknown_version_is_refused_naming_the_versions_read(env: EmulatorServer,
                                                                                  tmp_path: Path) -> None:
    write(tmp_path / "plan.json", '{"format_version": 3, "stack": "default"}')
    result = run("apply", "--plan", str(tmp_path / "plan.json"))
    assert result.exit_code == 1
    assert result.stderr == (f"Error: {tmp_path / 'plan.json'}: not a saved plan of this version of assistants-sync "
                             "(format_version 3; this version reads 1 and 2): make the plan again with this version\n")


def test_a_change_whose_id_and_assistant_id_differ_is_refused(env: EmulatorServer, tmp_path: Path) -> None:
    write(tmp_path / "specs" / "bot.yaml", "key: bot\nmodel: gpt-4o\nname: Bot\n")
    assert run("apply", "--auto-approve", str(tmp_path / "specs")).exit_code == 0
    write(tmp_path / "specs" / "bot.yaml", "key: bot\nmodel: gpt-4o\nname: Bot v2\n")
    assert run("plan", str(tmp_path / "specs"), "--out", str(tmp_path / "plan.json")).exit_code == 0
    document = json.loads((tmp_path / "plan.json").read_text())
    document["changes"][0]["assistant_id"] = "asst_someone_else"
    write(tmp_path / "plan.json", json.dumps(document))
    result = run("apply", "--plan", str(tmp_path / "plan.json"))
    assert result.exit_code == 1
    assert "not a saved plan of this version of assistants-sync (changes.0: Value error, id " in result.stderr
    assert "and assistant_id 'asst_someone_else' differ)" in result.stderr
    assert [a["name"] for a in env.store.list()["data"]] == ["Bot"]

