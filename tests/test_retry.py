"""Retries and the rate limiter under faults injected by the emulator (fixed seeds): server waits, 429s, 5xx, strange answers."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import httpx
import pytest

from assistants_sync.actual.client import AssistantsClient, Endpoint
from assistants_sync.actual.retry import RateLimiter, parse_duration, server_wait
from assistants_sync.applying.apply import apply_plan
from assistants_sync.emulator import EmulatorServer, Faults, running_emulator
from assistants_sync.planning.plan import Action, Change, FieldChange, Plan

from .conftest import API_KEY, FAST, manifests, run, tags


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

