"""The per-stack lock: one apply at a time, the holder named, force-unlock, and a lock is never an assistant."""

from __future__ import annotations

import json
import os
import re
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

import assistants_sync.cli as cli_module
from assistants_sync.applying.apply_lock import EndpointLockObjects
from assistants_sync.actual.client import AssistantsClient, Endpoint
from assistants_sync.emulator import EmulatorServer, running_emulator
from assistants_sync.emulator.server import PromptlyStoppingHTTPServer
from assistants_sync.errors import LockHeldError
from assistants_sync.applying.lock import LOCK_KEY, LockInfo, acquire, holding, locks_of, release

from .conftest import API_KEY, LOOPBACK_TLS, ROOT, plan_json, point_cli_at, run, write

Hook = Callable[[str, str, bytes], "tuple[int, dict[str, Any]] | None"]


def lock_objects(emulator: EmulatorServer, model: str = "gpt-4o") -> EndpointLockObjects:
    return EndpointLockObjects(AssistantsClient(Endpoint(emulator.base_url, api_key=API_KEY)), model)


def hold(emulator: EmulatorServer, stack: str = "default", who: str = "alice@laptop pid 4242") -> LockInfo:
    """Take the stack's lock as another run would, and keep it."""
    return acquire(lock_objects(emulator), stack, who=who)


def lock_stores(emulator: EmulatorServer) -> list[dict[str, Any]]:
    """The vector stores the emulator holds that are lock objects."""
    return [s for s in emulator.knowledge.list_stores({"limit": "100"})["data"] if LOCK_KEY in s["metadata"]]


def lock_count(emulator: EmulatorServer) -> int:
    return len(lock_stores(emulator))


def weather_specs(tmp_path: Path, model: str = "gpt-4o") -> Path:
    write(tmp_path / "specs" / "weather.yaml", f"key: weather\nmodel: {model}\nname: Weather\n")
    return tmp_path / "specs"


def cli_process(emulator_url: str, *args: str, **options: Any) -> subprocess.Popen[bytes]:
    env = {**os.environ, "OPENAI_API_KEY": API_KEY, "OPENAI_BASE_URL": emulator_url, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen([sys.executable, "-m", "assistants_sync", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, env=env, cwd=ROOT, **options)


def read_until(process: subprocess.Popen[bytes], text: str, timeout: float = 60) -> str:
    """The process's output up to and including `text` (fails, never hangs, if it does not come)."""
    assert process.stdout is not None
    seen = b""
    deadline = time.monotonic() + timeout
    while text.encode() not in seen:
        ready, _, _ = select.select([process.stdout], [], [], max(0.0, deadline - time.monotonic()))
        chunk = os.read(process.stdout.fileno(), 4096) if ready else b""
        if not chunk:
            process.kill()
            pytest.fail(f"{text!r} never came; the output was:\n{seen.decode()}")
        seen += chunk
    return seen.decode()


class _Proxy(BaseHTTPRequestHandler):
    upstream: str
    hook: Hook

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass

    def do_GET(self) -> None:
        self._forward()

    def do_POST(self) -> None:
        self._forward()

    def do_DELETE(self) -> None:
        self._forward()

    def _forward(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        answer = self.hook(self.command, self.path.split("?")[0], body)
        if answer is None:
            headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
            upstream = httpx.request(self.command, self.upstream + self.path, headers=headers, content=body,
                                     verify=LOOPBACK_TLS)
            status, data = upstream.status_code, upstream.content
        else:
            status, data = answer[0], json.dumps(answer[1]).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@contextmanager
def proxy(emulator: EmulatorServer, hook: Hook) -> Iterator[str]:
    """A loopback server in front of the emulator that may hold or refuse requests; yields its base URL."""
    handler = type("Handler", (_Proxy,), {"upstream": emulator.root_url, "hook": staticmethod(hook)})
    server = PromptlyStoppingHTTPServer(("127.0.0.1", 0), handler)  # its stop waits for no poll
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()


def test_an_apply_fails_at_once_while_another_holds_the_lock_and_names_it(env: EmulatorServer, tmp_path: Path
                                                                           ) -> None:
    specs = weather_specs(tmp_path)
    held = hold(env)
    result = run("apply", "--auto-approve", str(specs))
    assert result.exit_code == 1
    assert result.stderr == (
        f'Error: stack "default" is locked by alice@laptop pid 4242 (apply) since {held.since}, lock id '
        f"{held.lock_id}; nothing was changed.\n"
        "  Wait for that apply to finish (or pass --lock-timeout SECONDS). If it was killed, release its lock with: "
        f"assistants-sync force-unlock {held.lock_id} --stack default\n"
    )
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", held.since)
    assert len(env.store) == 0 and lock_count(env) == 1  # only the holder's lock: nothing created, nothing left
    waited = run("apply", "--auto-approve", "--lock-timeout", "2", str(specs))
    assert waited.exit_code == 1
    assert waited.stderr.endswith(
        f"lock id {held.lock_id}; gave up after waiting 2s; nothing was changed.\n"
        f"  If it was killed, release its lock with: assistants-sync force-unlock {held.lock_id} --stack default\n")
    assert re.search(f'Stack "default" is locked by {re.escape(held.describe())}; waiting up to [12]s for it to be '
                     r"released\.\.\.\n", waited.stderr)
    assert len(env.store) == 0 and lock_count(env) == 1
    assert run("apply", "--auto-approve", "--stack", "other", str(specs)).exit_code == 0  # the lock is per stack


def test_a_saved_plan_is_not_applied_while_another_holds_the_lock(env: EmulatorServer, tmp_path: Path) -> None:
    plan_file = tmp_path / "plan.json"
    assert run("plan", str(weather_specs(tmp_path)), "--out", str(plan_file)).exit_code == 0
    hold(env)
    result = run("apply", "--plan", str(plan_file))
    assert result.exit_code == 1 and 'stack "default" is locked by alice@laptop pid 4242 (apply)' in result.stderr
    assert len(env.store) == 0


def test_two_applies_racing_on_one_stack_create_no_duplicates(emulator: EmulatorServer, tmp_path: Path) -> None:
    specs = weather_specs(tmp_path)
    # The first two creates wait for each other: without a lock, both runs have listed an
    # empty endpoint and both create "weather". With it, those are the two lock objects.
    barrier = threading.Barrier(2, timeout=60)
    creates = iter(range(2))

    def first_two_creates_meet(method: str, path: str, body: bytes) -> None:
        if method == "POST" and path == "/v1/vector_stores" and next(creates, None) is not None:
            barrier.wait()

    with proxy(emulator, first_two_creates_meet) as url:
        runs = [cli_process(url, "apply", "--auto-approve", "--lock-timeout", "60", str(specs)) for _ in range(2)]
        outputs = [process.communicate(timeout=90)[0].decode() for process in runs]
    assert [process.returncode for process in runs] == [0, 0], outputs
    assert sorted(a["metadata"]["assistants-sync"] for a in emulator.store.list(limit=100)["data"]) == [
        "default/weather"]
    assert sum("Apply complete: 1 created" in output for output in outputs) == 1


def test_concurrent_holders_of_one_stack_take_turns(emulator: EmulatorServer) -> None:
    """Both lock objects exist before either run lists: at most one holds the lock at any moment."""
    barrier = threading.Barrier(2, timeout=60)
    holders: list[str] = []
    most = []
    failures: list[BaseException] = []

    class MeetAfterCreating(EndpointLockObjects):
        met = False

        def create_object(self, metadata: dict[str, str]) -> str | None:
            created = super().create_object(metadata)
            if not self.met:
                self.met = True
                barrier.wait()
            return created

    def contender(name: str) -> None:
        try:
            objects = MeetAfterCreating(AssistantsClient(Endpoint(emulator.base_url, api_key=API_KEY)), "gpt-4o")
            with holding(objects, "default", who=name, timeout=60):
                holders.append(name)
                most.append(len(holders))
                time.sleep(0.2)
                holders.remove(name)
        except BaseException as exc:  # reported below, in the test's thread
            failures.append(exc)

    threads = [threading.Thread(target=contender, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)
    assert not failures and len(most) == 2 and max(most) == 1
    assert len(emulator.store) == 0


def test_an_apply_waits_for_the_lock_and_goes_on_once_it_is_released(env: EmulatorServer, tmp_path: Path) -> None:
    specs = weather_specs(tmp_path)
    held = hold(env)
    process = cli_process(env.base_url, "apply", "--auto-approve", "--lock-timeout", "60", str(specs))
    waiting = read_until(process, "for it to be released...")
    assert (f'Stack "default" is locked by alice@laptop pid 4242 (apply) since {held.since}, lock id {held.lock_id}; '
            "waiting up to ") in waiting
    assert len(env.store) == 0  # nothing is planned or written while waiting
    release(lock_objects(env), held)
    rest = process.communicate(timeout=60)[0].decode()
    assert process.returncode == 0, waiting + rest
    assert "Apply complete: 1 created, 0 updated, 0 deleted." in rest
    assert [a["name"] for a in env.store.list()["data"]] == ["Weather"]  # and its own lock is gone


def test_ctrl_c_while_waiting_for_the_lock_exits_130_and_leaves_nothing(env: EmulatorServer, tmp_path: Path) -> None:
    held = hold(env)
    specs = weather_specs(tmp_path)
    process = cli_process(env.base_url, "apply", "--auto-approve", "--lock-timeout", "600", str(specs))
    read_until(process, "for it to be released...")
    process.send_signal(signal.SIGINT)
    rest = process.communicate(timeout=60)[0].decode()
    assert process.returncode == 130, rest
    assert "Interrupted while waiting for the lock; nothing was changed." in rest
    assert [lock.lock_id for lock in locks_of(lock_stores(env), "default")] == [held.lock_id]
    assert len(env.store) == 0


def test_force_unlock_releases_the_lock_of_a_killed_apply(env: EmulatorServer, tmp_path: Path) -> None:
    specs = weather_specs(tmp_path)
    # An apply waiting for its 'yes' holds the lock; killing it there leaves the lock behind.
    controller, terminal = os.openpty()
    killed = cli_process(env.base_url, "apply", str(specs), stdin=terminal)
    os.close(terminal)
    read_until(killed, "Only 'yes' will be accepted")
    killed.kill()
    killed.communicate(timeout=30)
    os.close(controller)
    assert lock_count(env) == 1 and len(env.store) == 0

    locked = run("apply", "--auto-approve", str(specs))
    assert locked.exit_code == 1
    found = re.search(r"release its lock with: assistants-sync force-unlock (\w+) --stack default", locked.stderr)
    assert found is not None, locked.stderr
    lock_id = found.group(1)

    wrong = run("force-unlock", "0123456789abcdef", "--force")
    assert wrong.exit_code == 1
    assert wrong.stderr.startswith('Error: stack "default" has no lock 0123456789abcdef; it is locked by ')
    assert f"lock id {lock_id}" in wrong.stderr
    unforced = run("force-unlock", lock_id)
    assert unforced.exit_code == 1 and "there is no terminal to ask: pass --force" in unforced.stderr

    released = run("force-unlock", lock_id, "--force")
    assert released.exit_code == 0, released.output
    assert released.stdout.startswith('Released the lock of stack "default" held by ')
    assert released.stdout.endswith(f" (apply) since {released.stdout.split(' since ')[1].split(',')[0]}, "
                                    f"lock id {lock_id}.\n")
    assert len(env.store) == 0
    assert run("apply", "--auto-approve", str(specs)).exit_code == 0
    assert [a["name"] for a in env.store.list()["data"]] == ["Weather"]


def test_force_unlock_on_a_terminal_asks_first(env: EmulatorServer, monkeypatch: pytest.MonkeyPatch) -> None:
    held = hold(env)
    monkeypatch.setattr(cli_module, "_stdin_is_terminal", lambda: True)
    refused = run("force-unlock", held.lock_id, input="y\n")
    assert refused.exit_code == 1 and "force-unlock cancelled; nothing was changed" in refused.stderr
    assert refused.stdout.startswith(f'Stack "default" is locked by {held.describe()}.\nRelease it?')
    assert lock_count(env) == 1
    assert run("force-unlock", held.lock_id, input="yes\n").exit_code == 0
    assert lock_count(env) == 0
    gone = run("force-unlock", held.lock_id, "--force")
    assert gone.exit_code == 1 and f'stack "default" has no lock {held.lock_id}; it is not locked' in gone.stderr


def test_force_unlock_releases_a_lock_where_only_agents_are_served(monkeypatch: pytest.MonkeyPatch) -> None:
    # an endpoint of the Agents API alone: neither vector stores (the lock's first choice) nor assistants
    with running_emulator(api_key=API_KEY, serve_assistants=False, serve_knowledge=False) as server:
        point_cli_at(monkeypatch, server.base_url)
        assert run("force-unlock", "0123456789abcdef", "--force").stderr == (
            'Error: stack "default" has no lock 0123456789abcdef; it is not locked\n')
        held = acquire(lock_objects(server, "gpt-5"), "default", who="alice@laptop pid 4242")
        [lock] = server.agents.list()["data"]  # the lock is an agent here
        assert lock["metadata"][LOCK_KEY] == "default"
        monkeypatch.setattr(cli_module, "_stdin_is_terminal", lambda: True)
        refused = run("force-unlock", held.lock_id, input="no\n")
        assert refused.exit_code == 1 and refused.stdout.startswith(
            f'Stack "default" is locked by {held.describe()}.\nRelease it?')
        assert len(server.agents) == 1
        released = run("force-unlock", held.lock_id, "--force")
        assert released.exit_code == 0, released.output
        assert released.stdout == f'Released the lock of stack "default" held by {held.describe()}.\n'
        assert len(server.agents) == 0 and len(server.store) == 0


def test_a_lock_is_never_seen_as_an_assistant_and_plan_drift_export_take_none(
    env: EmulatorServer, tmp_path: Path, sdk: openai.OpenAI
) -> None:
    specs = weather_specs(tmp_path)
    write(tmp_path / "other" / "billing.yaml", "key: billing\nmodel: gpt-4o\n")
    assert run("apply", "--auto-approve", str(specs)).exit_code == 0
    assert run("apply", "--auto-approve", "--stack", "other", str(tmp_path / "other")).exit_code == 0
    sdk.beta.assistants.create(model="gpt-4o", name="Hand-made")
    before = {stack: plan_json(path, "--stack", stack) for stack, path in (("default", str(specs)),
                                                                            ("other", str(tmp_path / "other")))}
    held = [hold(env, "default"), hold(env, "other")]
    env.requests.clear()

    for stack, path in (("default", str(specs)), ("other", str(tmp_path / "other"))):
        assert plan_json(path, "--stack", stack) == before[stack]  # same fingerprint, no change
        assert run("drift", path, "--stack", stack).exit_code == 0
    unmanaged = run("export", "--unmanaged", "--out", str(tmp_path / "unmanaged"))
    assert unmanaged.exit_code == 0 and "Exported 1 assistant (unmanaged)" in unmanaged.stdout
    assert sorted(p.name for p in (tmp_path / "unmanaged").iterdir()) == ["hand-made.yaml"]
    managed = run("export", "--out", str(tmp_path / "managed"))
    assert managed.exit_code == 0, managed.output
    assert sorted(p.name for p in (tmp_path / "managed").iterdir()) == ["weather.yaml"]
    assert {r.method for r in env.requests} == {"GET"}  # plan, drift and export take no lock

    write(tmp_path / "adopt" / "lock.yaml", f"key: taken\nmodel: gpt-4o\nadopt: {held[0].object_id}\n")
    adopt = run("plan", str(tmp_path / "adopt"), "--no-delete")
    assert adopt.exit_code == 0, adopt.output
    assert f"adopt: {held[0].object_id} skipped: no assistant {held[0].object_id} on this endpoint" in adopt.stdout
    assert "+ taken" in adopt.stdout  # created, never taken from the lock


def test_the_lock_object_uses_a_model_the_endpoint_has(emulator: EmulatorServer, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Like an Azure resource, this endpoint only knows its own deployment names (and serves no vector stores,
    so the lock is an assistant, which needs a model)."""

    def only_my_deployment(method: str, path: str, body: bytes) -> tuple[int, dict[str, Any]] | None:
        if path.startswith(("/v1/vector_stores", "/v1/files")):
            return 404, {"error": {"message": "Invalid URL", "type": "invalid_request_error", "param": None,
                                   "code": "unknown_url"}}
        if method == "POST" and path == "/v1/assistants" and json.loads(body)["model"] != "my-deployment":
            return 404, {"error": {"message": f"The model '{json.loads(body)['model']}' does not exist",
                                   "type": "invalid_request_error", "param": "model", "code": "model_not_found"}}
        return None

    specs = weather_specs(tmp_path, model="my-deployment")
    with proxy(emulator, only_my_deployment) as url:
        monkeypatch.setenv("OPENAI_API_KEY", API_KEY)
        monkeypatch.setenv("OPENAI_BASE_URL", url)
        write(specs / "faq.yaml", "key: faq\nmodel: my-deployment\n")
        assert run("apply", "--auto-approve", str(specs)).exit_code == 0  # the first manifest's model
        (specs / "weather.yaml").unlink()
        plan_file = tmp_path / "plan.json"
        assert run("plan", str(specs), "--out", str(plan_file)).exit_code == 0
        assert [c["action"] for c in json.loads(plan_file.read_text())["changes"]] == ["delete"]
        result = run("apply", "--plan", str(plan_file))  # deletes only: the model of the assistant deleted
        assert result.exit_code == 0, result.output
        monkeypatch.setenv("ASSISTANTS_SYNC_LOCK_MODEL", "gpt-4o-mini")
        write(specs / "faq.yaml", "key: faq\nmodel: my-deployment\nname: FAQ\n")
        overridden = run("apply", "--auto-approve", str(specs))
        assert overridden.exit_code == 1
        assert ('taking the lock of stack "default" (an assistant named "assistants-sync lock", model '
                "'gpt-4o-mini'): creating an assistant failed: HTTP 404: The model 'gpt-4o-mini' does not exist"
                ) in overridden.stderr
        assert "set ASSISTANTS_SYNC_LOCK_MODEL to one it has" in overridden.stderr
    assert [a["metadata"]["assistants-sync"] for a in emulator.store.list()["data"]] == ["default/faq"]


def test_the_lock_fits_the_metadata_limits_whoever_holds_it(emulator: EmulatorServer) -> None:
    held = acquire(lock_objects(emulator), "s" * 64, who="someone-with-a-long-name@" + "h" * 1000, operation="apply",
                   lease=30)
    [stored] = lock_stores(emulator)  # a vector store: no model needed, free, gone by itself a day after a kill
    assert stored["name"] == "assistants-sync lock" and stored["file_counts"]["total"] == 0
    assert stored["expires_after"] == {"anchor": "last_active_at", "days": 1} and len(emulator.store) == 0
    assert len(stored["metadata"]) <= 16 and all(len(v) <= 512 for v in stored["metadata"].values())
    assert held.who.startswith("someone-with-a-long-name@")


@pytest.mark.parametrize("name", ["assistants-sync.yml", "foundry.yml"])
def test_the_example_pipelines_run_one_apply_at_a_time_and_wait_for_the_lock(name: str) -> None:
    import yaml

    workflow = yaml.safe_load((ROOT / "examples" / "github-actions" / name).read_text())
    apply_job = workflow["jobs"]["apply"]
    assert apply_job["concurrency"] == {"group": "assistants-sync-apply-production", "cancel-in-progress": False}
    assert workflow["env"]["ASSISTANTS_SYNC_ENV"] == "production"  # the group names the stack it serialises
    [apply_step] = [s["run"] for s in apply_job["steps"] if "assistants-sync apply" in s.get("run", "")]
    assert "--lock-timeout 600" in apply_step
    assert "concurrency" not in workflow["jobs"]["plan"]  # plans take no lock and need no queue


def test_a_lock_whose_create_answer_was_lost_is_found_held_and_released(env: EmulatorServer, tmp_path: Path) -> None:
    env.faults.drop_create_rate = 1.0  # every create is stored, then its answer is lost
    result = run("apply", "--auto-approve", str(weather_specs(tmp_path)))
    assert result.exit_code == 0, result.output
    assert [a["name"] for a in env.store.list()["data"]] == ["Weather"]  # one assistant, no lock left


class FakeObjects:
    """Lock objects in memory, with the server clock set by the test."""

    def __init__(self, *existing: tuple[int, dict[str, str]]) -> None:
        self.now = 100
        self.objects = [{"id": f"obj_{n}", "created_at": at, "metadata": meta} for n, (at, meta) in enumerate(existing)]

    def list_objects(self) -> list[dict[str, Any]]:
        return list(self.objects)

    def create_object(self, metadata: dict[str, str]) -> str | None:
        self.objects.append({"id": f"obj_{len(self.objects)}", "created_at": self.now, "metadata": metadata})
        return str(self.objects[-1]["id"])

    def delete_object(self, object_id: str) -> None:
        self.objects = [o for o in self.objects if o["id"] != object_id]


def a_lock(stack: str, lock_id: str) -> dict[str, str]:
    return {LOCK_KEY: stack, "assistants-sync.lock.id": lock_id, "assistants-sync.lock.who": "bob@ci pid 7",
            "assistants-sync.lock.operation": "apply"}


@pytest.fixture
def no_waiting() -> Any:
    from assistants_sync.applying.lock import _Clock

    return _Clock(now=lambda: 0.0, sleep=lambda seconds: None, jitter=lambda low, high: low)


@pytest.mark.parametrize(("existing", "holds"), [
    pytest.param([], True, id="free"),
    pytest.param([(101, a_lock("default", "younger"))], True, id="a-younger-lock-yields-to-the-oldest"),
    pytest.param([(99, a_lock("other", "elsewhere"))], True, id="another-stacks-lock-is-no-obstacle"),
    pytest.param([(99, a_lock("default", "older"))], False, id="an-older-lock-holds"),
    pytest.param([(100, a_lock("default", "tied"))], False, id="a-tied-lock-that-stays-holds"),
])
def test_the_oldest_lock_of_the_stack_holds_it(existing: list[tuple[int, dict[str, str]]], holds: bool,
                                              no_waiting: Any) -> None:
    objects = FakeObjects(*existing)
    if holds:
        held = acquire(objects, "default", who="me", lock_id="mine", clock=no_waiting)
        assert held.lock_id == "mine" and len(objects.objects) == len(existing) + 1
    else:
        with pytest.raises(LockHeldError, match=r'stack "default" is locked by bob@ci pid 7 \(apply\) since '):
            acquire(objects, "default", who="me", lock_id="mine", clock=no_waiting)
        assert objects.objects == FakeObjects(*existing).objects  # ours was deleted again


def test_a_lock_that_cannot_be_released_says_how_to_release_it(emulator: EmulatorServer, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    def no_deletes(method: str, path: str, body: bytes) -> tuple[int, dict[str, Any]] | None:
        if method == "DELETE":
            return 403, {"error": {"message": "This key may not delete assistants.", "type": "invalid_request_error",
                                   "param": None, "code": None}}
        return None

    with proxy(emulator, no_deletes) as url:
        monkeypatch.setenv("OPENAI_API_KEY", API_KEY)
        monkeypatch.setenv("OPENAI_BASE_URL", url)
        result = run("apply", "--auto-approve", str(weather_specs(tmp_path)))
    assert result.exit_code == 1
    assert "Apply complete: 1 created, 0 updated, 0 deleted." in result.stdout
    [lock] = locks_of(lock_stores(emulator), "default")
    assert result.stderr.startswith("Error: releasing the lock failed (deleting ")
    assert "HTTP 403: This key may not delete assistants." in result.stderr
    assert result.stderr.rstrip().endswith(
        f'the lock of stack "default" ({lock.lock_id}) was not released; release it with: '
        f"assistants-sync force-unlock {lock.lock_id} --stack default")
