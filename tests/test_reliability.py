"""Reliable under faults and load: retries, lost answers, parallel apply, Ctrl-C, strange answers.

Faults are injected by the emulator over real loopback HTTP, from fixed seeds.
"""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from assistants_sync.applying.apply import Outcome, apply_plan
from assistants_sync.actual.client import AssistantsClient, Endpoint
from assistants_sync.emulator import EmulatorServer, Faults, running_emulator
from assistants_sync.errors import BadResponseError
from assistants_sync.planning.plan import Action, Change, FieldChange, Plan
from assistants_sync.applying.progress import ApplyProgress
from assistants_sync.planning.reconcile import plan_from_manifests
from assistants_sync.actual.retry import RateLimiter, RetryPolicy, parse_duration, server_wait

from .conftest import API_KEY, ROOT, run, write

FAST = RetryPolicy(max_attempts=10, base_delay=0.005, max_delay=0.05)


def manifests(root: Path, count: int, **fields: str) -> Path:
    for i in range(count):
        extra = "".join(f"{k}: {v}\n" for k, v in fields.items())
        write(root / f"bot-{i:03d}.yaml", f"key: bot-{i:03d}\nmodel: gpt-4o\n{extra}")
    return root


def tags(emulator: EmulatorServer) -> list[str]:
    return sorted(a["metadata"]["assistants-sync"] for a in emulator.store.list(limit=100, order="asc")["data"]) + sorted(
        a["metadata"]["assistants-sync"] for a in _rest(emulator))


def _rest(emulator: EmulatorServer) -> list[dict[str, Any]]:
    page = emulator.store.list(limit=100, order="asc")
    rest: list[dict[str, Any]] = []
    while page["has_more"]:
        page = emulator.store.list(limit=100, order="asc", after=page["last_id"])
        rest += page["data"]
    return rest


class TestServerWaits:
    @pytest.mark.parametrize(
        ("headers", "seconds"),
        [
            pytest.param({"retry-after-ms": "150"}, 0.15, id="retry-after-ms"),
            pytest.param({"retry-after": "3"}, 3.0, id="retry-after-seconds"),
            pytest.param({"retry-after": "Sun, 22 Nov 2026 05:00:10 GMT"}, 10.0, id="retry-after-http-date"),
            pytest.param({"x-ratelimit-reset-requests": "6m0s"}, 360.0, id="reset-requests-6m0s"),
            pytest.param({"retry-after-ms": "20", "retry-after": "1"}, 0.02, id="ms-wins-over-seconds"),
            pytest.param({}, None, id="no-header"),
        ],
    )
    def test_server_wait_headers(self, headers: dict[str, str], seconds: float | None) -> None:
        now = 1_795_323_600.0  # Sun, 22 Nov 2026 05:00:00 GMT
        assert server_wait(headers, now=now) == pytest.approx(seconds) if seconds is not None else server_wait(headers) is None

    @pytest.mark.parametrize(("text", "seconds"), [("150ms", 0.15), ("1s", 1.0), ("6m0s", 360.0), ("1h2m3.5s", 3723.5),
                                                   ("soon", None), ("5x", None)])
    def test_reset_durations(self, text: str, seconds: float | None) -> None:
        assert parse_duration(text) == (pytest.approx(seconds) if seconds is not None else None)


def test_100_changes_succeed_against_an_endpoint_failing_25_percent_with_default_settings(tmp_path: Path,
                                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    with running_emulator(api_key=API_KEY, faults=Faults(error_rate=0.25, seed=7)) as emulator:
        monkeypatch.setenv("OPENAI_API_KEY", API_KEY)
        monkeypatch.setenv("OPENAI_BASE_URL", emulator.base_url)
        specs = manifests(tmp_path, 100)
        result = run("apply", "--auto-approve", str(specs))
        assert result.exit_code == 0, result.output
        assert "Apply complete: 100 created, 0 updated, 0 deleted (" in result.stdout
        assert "requests retried)." in result.stdout
        statuses = [r for r in emulator.requests]
        assert len(statuses) > 105  # some requests really failed and were retried
        assert tags(emulator) == [f"default/bot-{i:03d}" for i in range(100)]
        again = run("plan", str(specs), "--detailed-exitcode")
        assert again.exit_code == 0, again.output


def test_an_endpoint_that_always_fails_is_given_up_within_the_bounds(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    with running_emulator(api_key=API_KEY, faults=Faults(error_rate=1.0, seed=1, retry_after_ms=1)) as emulator:
        monkeypatch.setenv("OPENAI_API_KEY", API_KEY)
        monkeypatch.setenv("OPENAI_BASE_URL", emulator.base_url)
        specs = manifests(tmp_path, 1)
        result = run("plan", str(specs), "--max-attempts", "4")
        assert result.exit_code == 1
        assert "listing assistants (gave up after 4 attempts in" in result.stderr
        assert len(emulator.requests) == 4
        emulator.requests.clear()
        emulator.faults.retry_after_ms = 3000
        result = run("plan", str(specs), "--request-timeout", "2")
        assert result.exit_code == 1
        assert "would pass the 2s deadline" in result.stderr
        assert len(emulator.requests) == 1  # the server asked for 3 s: more than the deadline allows


def test_lost_create_answers_end_with_exactly_one_assistant_per_key(tmp_path: Path) -> None:
    with running_emulator(faults=Faults(drop_create_rate=0.4, seed=3)) as emulator:
        with AssistantsClient(Endpoint(emulator.base_url, api_key=API_KEY), retry=FAST) as client:
            plan = plan_from_manifests([manifests(tmp_path, 30)], client, "default")
            result = apply_plan(plan, client)
        assert not result.failed
        assert sum(1 for o in result.outcomes if o.note == "found after its answer was lost") >= 5
        assert tags(emulator) == [f"default/bot-{i:03d}" for i in range(30)]


def test_malformed_answers_are_clear_errors_and_a_rerun_converges(env: EmulatorServer, tmp_path: Path) -> None:
    specs = manifests(tmp_path, 20, temperature="0.5")
    env.faults = Faults(malformed_rate=1.0, seed=4)  # its first answer: a truncated JSON document
    result = run("plan", str(specs))
    assert result.exit_code == 1
    assert "not JSON; is the base URL an Assistants API?" in result.stderr
    assert "Traceback" not in result.output
    env.faults = Faults(malformed_rate=0.3, seed=5)
    first = run("apply", "--auto-approve", "--max-attempts", "20", str(specs))
    # Which requests meet a fault depends on the workers' order: the apply may end either way, but says which.
    assert "Traceback" not in first.output
    assert ("Apply complete:" in first.stdout) == (first.exit_code == 0), first.output
    env.faults = Faults()
    assert run("apply", "--auto-approve", str(specs)).exit_code == 0
    assert run("plan", str(specs), "--detailed-exitcode").exit_code == 0
    assert tags(env) == [f"default/bot-{i:03d}" for i in range(20)]


def test_one_429_pauses_every_worker() -> None:
    """A 429 answered to one worker holds every worker until the server's wait is over.

    The limiter runs on the test's clock, which stands still until both workers are seen
    waiting: the proof does not depend on how fast or busy the machine is.
    """
    now = [0.0]
    arrivals: list[tuple[float, str]] = []  # (the limiter's time, path) of every request received
    waiting: set[int] = set()  # threads that found the limiter paused
    changed = threading.Condition()
    paused = threading.Event()

    class WatchedLimiter(RateLimiter):
        def pause(self, seconds: float) -> None:
            super().pause(seconds)
            paused.set()

        def remaining(self) -> float:
            left = super().remaining()
            if left > 0:
                with changed:
                    waiting.add(threading.get_ident())
                    changed.notify_all()
            return left

    def handler(request: httpx.Request) -> httpx.Response:
        with changed:
            arrivals.append((now[0], request.url.path))
            number = len(arrivals)
            changed.notify_all()
            if number == 1:  # answered once the other worker's request is in flight, sent before the pause
                assert changed.wait_for(lambda: len(arrivals) >= 2, timeout=30)
        if number == 1:
            return httpx.Response(429, json={"error": {"message": "slow down"}}, headers={"retry-after-ms": "500"})
        if number == 2:  # the other worker moves on only once the pause is set
            assert paused.wait(timeout=30)
        return httpx.Response(200, json={"id": request.url.path.rsplit("/", 1)[-1]})

    client = AssistantsClient(Endpoint(api_key=API_KEY), transport=httpx.MockTransport(handler), retry=FAST,
                              limiter=WatchedLimiter(clock=lambda: now[0]))
    changes = [Change(action=Action.UPDATE, key=f"k{i}", assistant_id=f"asst_{i}",
                      fields={"name": FieldChange(before="a", after="b")}) for i in range(6)]
    results: list[Any] = []
    worker = threading.Thread(target=lambda: results.append(apply_plan(
        Plan(stack="s", endpoint="e", remote_fingerprint="f", changes=changes), client, parallelism=2)))
    worker.start()
    with changed:
        assert changed.wait_for(lambda: len(waiting) == 2, timeout=30)  # both workers hold
        assert len(arrivals) == 2  # nobody went ahead during the pause
    now[0] = 0.5  # the server's wait is over
    worker.join(timeout=60)
    assert not worker.is_alive() and not results[0].failed
    assert len(arrivals) == 7  # six changes, one of them retried
    assert all(at >= 0.5 for at, _ in arrivals[2:])


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


class TestProgress:
    def outcomes(self) -> list[Outcome]:
        ok = Change(action=Action.CREATE, key="a")
        bad = Change(action=Action.UPDATE, key="b", assistant_id="asst_b")
        return [Outcome(ok, "asst_a"), Outcome(bad, "asst_b", error="HTTP 500: boom")]

    def test_ci_logs_get_one_line_per_change(self) -> None:
        stream = io.StringIO()
        with ApplyProgress(2, stream, terminal=False) as progress:
            for outcome in self.outcomes():
                progress(outcome)
        assert stream.getvalue() == "  + a: created asst_a\n  ! b (asst_b): update FAILED: HTTP 500: boom\n"

    def test_a_terminal_gets_a_live_status_line_with_the_rate_limit_wait(self) -> None:
        stream = io.StringIO()
        limiter = RateLimiter()
        limiter.pause(5)
        with ApplyProgress(2, stream, terminal=True, rate_limit_wait=limiter.remaining, refresh=60) as progress:
            for outcome in self.outcomes():
                progress(outcome)
        screen = stream.getvalue()
        assert "\r\x1b[2KApplying: 0/2 done, 0 failed, rate limited: waiting 5.0s" in screen
        assert "\r\x1b[2K  ! b (asst_b): update FAILED: HTTP 500: boom\n" in screen
        assert "\r\x1b[2K  + a: created asst_a\nApplying: 1/2 done, 0 failed" in screen  # successes too, with the id
        assert screen.endswith("Applying: 2/2 done, 1 failed, rate limited: waiting 4.9s\n") or \
            screen.endswith("Applying: 2/2 done, 1 failed, rate limited: waiting 5.0s\n")


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


class TestStrangeAnswers:
    def client(self, handler: Any, **kwargs: Any) -> AssistantsClient:
        return AssistantsClient(Endpoint(api_key=API_KEY), transport=httpx.MockTransport(handler), retry=FAST, **kwargs)

    def test_unknown_extra_fields_are_ignored(self) -> None:
        assistant = {"id": "asst_1", "object": "assistant", "created_at": 1, "model": "m", "tools": [],
                     "metadata": {"assistants-sync": "default/bot"}, "brand_new_field": {"x": 1}}
        page = {"object": "list", "data": [assistant], "has_more": False, "extra": True}
        listed = self.client(lambda r: httpx.Response(200, json=page)).list_assistants()
        assert listed[0]["brand_new_field"] == {"x": 1}

    def test_a_malformed_assistant_is_reported_not_a_crash(self, tmp_path: Path) -> None:
        page = {"object": "list", "data": [{"id": "asst_1", "model": "m", "tools": "code_interpreter",
                                            "metadata": {"assistants-sync": "default/bot"}}], "has_more": False}
        client = self.client(lambda r: httpx.Response(200, json=page))
        write(tmp_path / "bot.yaml", "key: bot\nmodel: m\n")
        with pytest.raises(BadResponseError, match="listed assistant 'asst_1' with a malformed field"):
            plan_from_manifests([tmp_path], client, "default")

    def test_a_listing_whose_has_more_never_ends_is_bounded(self) -> None:
        counter = iter(range(10**9))

        def endless(request: httpx.Request) -> httpx.Response:
            return httpx.Response(200, json={"object": "list", "data": [{"id": f"asst_{next(counter)}"}],
                                             "has_more": True})

        with pytest.raises(BadResponseError, match="more than 50 pages; the server never said has_more=false"):
            self.client(endless, max_pages=50).list_assistants()

    def test_an_answer_without_data_is_reported(self) -> None:
        client = self.client(lambda r: httpx.Response(200, json={"object": "list"}))
        with pytest.raises(BadResponseError, match="has no valid 'data' list"):
            client.list_assistants()


def test_plain_http_to_another_host_warns_before_anything_is_sent(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", API_KEY)
    write(tmp_path / "bad.yaml", "key: bot\n")  # invalid: nothing will be sent anywhere
    result = run("plan", str(tmp_path), "--base-url", "http://gateway.example.com/v1")
    assert result.exit_code == 1
    assert "Warning: sending the API key over plain http:// to gateway.example.com" in result.stderr
    assert Endpoint("http://127.0.0.1:9/v1", api_key="k").plain_http_warning() is None
    assert Endpoint("https://gateway.example.com/v1", api_key="k").plain_http_warning() is None


def test_verbose_logs_requests_but_never_headers(env: EmulatorServer, example_specs: Path) -> None:
    result = run("--verbose", "plan", str(example_specs))
    assert result.exit_code == 0
    assert "GET /v1/assistants?limit=100&order=asc -> 200 in " in result.stderr.replace(env.base_url.removesuffix("/v1"), "")
    assert API_KEY not in result.output and "Bearer" not in result.output


def test_the_api_key_never_appears_anywhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    canary = "sk-CANARY-7d1f0c9e2b"
    outputs: list[str] = []

    def cli(*args: str) -> None:
        result = run(*args)
        outputs.append(result.output)

    specs = manifests(tmp_path / "specs", 3, temperature="0.5")
    write(tmp_path / "bad" / "bad.yaml", "key: Bad\n")
    monkeypatch.setenv("OPENAI_API_KEY", canary)
    with running_emulator(api_key=canary, faults=Faults(error_rate=0.3, seed=11)) as emulator:
        monkeypatch.setenv("OPENAI_BASE_URL", emulator.base_url)
        cli("--verbose", "plan", str(specs), "--out", str(tmp_path / "plan.json"))
        cli("--verbose", "apply", "--plan", str(tmp_path / "plan.json"))
        cli("--verbose", "apply", "--auto-approve", str(specs))
        cli("--verbose", "drift", str(specs), "--format", "json")
        cli("--verbose", "export", "--out", str(tmp_path / "exported"))
        cli("--verbose", "plan", str(tmp_path / "bad"))
        cli("--verbose", "apply", "--plan", str(tmp_path / "plan.json"))  # stale now
        emulator.faults = Faults(error_rate=1.0, seed=1, retry_after_ms=1)
        cli("--verbose", "plan", str(specs), "--max-attempts", "2")
        emulator.faults = Faults(malformed_rate=1.0, seed=1)
        cli("--verbose", "apply", "--auto-approve", str(specs), "--max-attempts", "2")
    cli("--verbose", "plan", str(specs), "--max-attempts", "2")  # the endpoint is gone: connection refused
    monkeypatch.setenv("OPENAI_API_KEY", canary + "-wrong")
    with running_emulator(api_key=canary) as emulator:
        monkeypatch.setenv("OPENAI_BASE_URL", emulator.base_url)
        cli("--verbose", "plan", str(specs))  # 401
    assert len(outputs) == 11 and all(outputs)
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert len(files) > 5
    for text in [*outputs, *(p.read_text(errors="replace") for p in files)]:
        assert canary not in text
