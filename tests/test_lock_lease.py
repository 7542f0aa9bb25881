"""The lock's lease: a killed apply's lock is taken over after its lease, a live holder never is, and a holder
whose lock was taken over stops before its next write."""

from __future__ import annotations

import os
import re
import threading
from pathlib import Path
from typing import Any

import pytest

from assistants_sync.applying.lock import (LOCK_KEY, LOCK_RENEWED_KEY, Lease, _Clock, acquire, lock_metadata,
                                           locks_of)
from assistants_sync.emulator import EmulatorServer
from assistants_sync.errors import ApiError, LockHeldError, LockLostError

from .conftest import plan_json, run
from .test_lock import cli_process, lock_count, lock_stores, proxy, read_until, weather_specs


class FakeClock:
    """A monotonic clock that moves only when someone sleeps."""

    def __init__(self) -> None:
        self.t = 0.0

    def clock(self, on_sleep: Any = None) -> _Clock:
        def sleep(seconds: float) -> None:
            self.t += seconds
            if on_sleep is not None:
                on_sleep(self.t)
        return _Clock(now=lambda: self.t, wall=lambda: 1_700_000_000 + self.t, sleep=sleep,
                      jitter=lambda low, high: low)


class FakeObjects:
    """Lock objects in memory; the server's clock is the test's."""

    def __init__(self) -> None:
        self.objects: list[dict[str, Any]] = []
        self.created_at = 100
        self.updates = 0

    def list_objects(self) -> list[dict[str, Any]]:
        return [dict(o) for o in self.objects]

    def create_object(self, metadata: dict[str, str]) -> str | None:
        self.objects.append({"id": f"obj_{len(self.objects)}_{self.created_at}", "created_at": self.created_at,
                             "metadata": dict(metadata)})
        self.created_at += 1
        return str(self.objects[-1]["id"])

    def update_object(self, object_id: str, metadata: dict[str, str]) -> None:
        for obj in self.objects:
            if obj["id"] == object_id:
                obj["metadata"] = dict(metadata)
                self.updates += 1
                return
        raise ApiError(404, f"No vector store found with id '{object_id}'.", operation=f"modifying {object_id}")

    def delete_object(self, object_id: str) -> None:
        self.objects = [o for o in self.objects if o["id"] != object_id]


def test_a_lock_left_unrenewed_past_its_lease_is_taken_over_and_says_so() -> None:
    objects, time = FakeObjects(), FakeClock()
    dead = acquire(objects, "default", who="alice@vm pid 28895", lease=30, clock=time.clock())
    said: list[tuple[str, float]] = []

    held = acquire(objects, "default", who="bob@ci pid 7", lease=30, timeout=90, clock=time.clock(),
                   on_takeover=lambda holder, unchanged: said.append((holder.who, unchanged)))

    assert held.who == "bob@ci pid 7" and [lock.who for lock in locks_of(objects.list_objects(), "default")] == [
        "bob@ci pid 7"]
    [(who, unchanged)] = said
    assert who == dead.who and 30 < unchanged <= 32  # taken over soon after the lease, on the waiter's clock


def test_a_holder_that_renews_is_never_taken_over() -> None:
    objects, time = FakeObjects(), FakeClock()
    holder = acquire(objects, "default", who="alice@vm pid 28895", lease=3, clock=time.clock())
    lease = Lease(objects, holder, holder.metadata, 3, time.clock())
    last = [0.0]

    def renew_on_schedule(now: float) -> None:  # the holder's thread, every third of its lease
        while now - last[0] >= 1:
            last[0] += 1
            assert lease.renew()

    with pytest.raises(LockHeldError, match="alice@vm pid 28895"):
        acquire(objects, "default", who="bob@ci pid 7", lease=3, timeout=60, clock=time.clock(renew_on_schedule))
    assert objects.updates >= 50 and locks_of(objects.list_objects(), "default")[0].lock_id == holder.lock_id


def test_a_lock_without_a_lease_is_never_taken_over() -> None:
    """A lock taken by an older assistants-sync (no lease in it) waits for force-unlock, as it always did."""
    objects, time = FakeObjects(), FakeClock()
    objects.create_object(lock_metadata("default", "old-lock", "carol@old pid 1", "apply", 0))
    with pytest.raises(LockHeldError, match="carol@old pid 1"):
        acquire(objects, "default", who="bob", lease=3, timeout=600, clock=time.clock())


def test_a_holder_whose_lock_was_taken_over_stops_naming_who_took_it() -> None:
    objects, time = FakeObjects(), FakeClock()
    mine = acquire(objects, "default", who="alice@vm pid 28895", lease=3, clock=time.clock())
    lease = Lease(objects, mine, mine.metadata, 3, time.clock())
    lease.check()  # held: nothing to say
    time.t += 10  # stopped (SIGSTOP, a suspended laptop) past the lease, meanwhile...
    taker = acquire(objects, "default", who="bob@ci pid 7", lease=3, timeout=90, clock=time.clock())

    with pytest.raises(LockLostError) as lost:
        lease.check()
    assert str(lost.value) == (
        f'the lock of stack "default" ({mine.lock_id}) is no longer this run\'s: it was taken over by '
        f"{taker.describe()}. Stopped before the next write; run plan to see what was done")
    with pytest.raises(LockLostError):  # and it stays lost
        lease.check()


def test_a_holder_unconfirmed_for_a_whole_lease_asks_the_endpoint_before_writing() -> None:
    objects, time = FakeObjects(), FakeClock()
    mine = acquire(objects, "default", who="alice", lease=3, clock=time.clock())
    lease = Lease(objects, mine, mine.metadata, 3, time.clock())
    time.t += 10  # no renewal for longer than the lease, but nobody took the lock over
    lease.check()
    assert objects.updates == 1 and objects.objects[0]["metadata"][LOCK_RENEWED_KEY] == "1"


def test_the_renewal_thread_renews_every_third_of_the_lease_until_stopped() -> None:
    objects = FakeObjects()
    mine = acquire(objects, "default", who="alice", lease=3)
    renewed = threading.Event()

    class Watched(FakeObjects):
        pass

    lease = Lease(objects, mine, mine.metadata, 3)
    original = objects.update_object

    def update(object_id: str, metadata: dict[str, str]) -> None:
        original(object_id, metadata)
        renewed.set()
    objects.update_object = update  # type: ignore[method-assign]
    lease.start()
    try:
        assert renewed.wait(timeout=30)  # the first renewal comes after a third of the lease
    finally:
        lease.stop()
    assert lease.renewals >= 1


@pytest.mark.parametrize("value", ["0", "-5", "2.5", "nan"])
def test_a_lease_that_cannot_be_renewed_in_time_is_refused_before_anything_is_sent(
        env: EmulatorServer, tmp_path: Path, value: str) -> None:
    result = run("apply", "--auto-approve", "--lock-lease", value, str(weather_specs(tmp_path)))

    assert result.exit_code == 1
    assert re.fullmatch(rf"Error: --lock-lease {value if value != 'nan' else 'nan'}: a lock lease is 3 to 86400 "
                        r"seconds \(the holder renews it every third of it\); nothing was sent\n", result.stderr)
    assert env.requests == []


def test_a_lease_from_the_project_file_is_checked_like_any_setting(env: EmulatorServer, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "assistants-sync.yaml").write_text("lock_lease: 1\n")
    result = run("apply", "--auto-approve", str(weather_specs(tmp_path)))
    assert result.exit_code == 1 and "lock_lease" in result.stderr and env.requests == []


# --- real processes against the emulator ---------------------------------------------------------

def _holding_at_the_prompt(env: EmulatorServer, specs: Path) -> tuple[Any, int]:
    """An apply that holds the lock (lease 3 s) while it waits for its 'yes'."""
    controller, terminal = os.openpty()
    process = cli_process(env.base_url, "apply", "--lock-lease", "3", str(specs), stdin=terminal)
    os.close(terminal)
    read_until(process, "Only 'yes' will be accepted")
    return process, controller


def test_an_apply_killed_while_it_holds_the_lock_is_taken_over_after_its_lease(env: EmulatorServer,
                                                                              tmp_path: Path) -> None:
    specs = weather_specs(tmp_path)
    killed, controller = _holding_at_the_prompt(env, specs)
    killed.kill()  # SIGKILL: no release
    killed.communicate(timeout=30)
    os.close(controller)
    assert lock_count(env) == 1

    result = run("apply", "--auto-approve", "--lock-timeout", "90", "--lock-lease", "3", str(specs))

    assert result.exit_code == 0, result.output
    taken = re.search(r"The lock of \S+@\S+ pid \d+ was not renewed for (\d+) s \(its lease is 3 s\); taking it "
                      r"over\.", result.stderr)
    assert taken is not None and int(taken.group(1)) >= 3, result.stderr
    assert "Apply complete: 1 created" in result.stdout and lock_count(env) == 0
    assert plan_json(str(specs))["changes"] == []


def test_a_holder_whose_requests_are_slow_keeps_its_lock(env: EmulatorServer, tmp_path: Path) -> None:
    """The apply's create takes longer than the lease; the renewals (another thread, another connection) go on."""
    specs = weather_specs(tmp_path)
    created = threading.Event()

    def slow_creates(method: str, path: str, body: bytes) -> None:
        if method == "POST" and path == "/v1/assistants":
            created.wait(timeout=5)  # held until the waiter has waited past the holder's lease
        return None

    with proxy(env, slow_creates) as url:
        holder = cli_process(url, "apply", "--auto-approve", "--lock-lease", "3", str(specs))
        read_until(holder, "+ weather")  # planned under the lock: now it creates, slowly
        waiter = cli_process(env.base_url, "apply", "--auto-approve", "--lock-timeout", "60", "--lock-lease", "3",
                             str(specs))
        read_until(waiter, "for it to be released...")
        renewals = [s["metadata"][LOCK_RENEWED_KEY] for s in lock_stores(env)]
        threading.Timer(4.5, created.set).start()  # past the lease
        holder_out = holder.communicate(timeout=60)[0].decode()
        waiter_out = waiter.communicate(timeout=60)[0].decode()
    assert holder.returncode == 0, holder_out
    assert waiter.returncode == 0, waiter_out
    assert "taking it over" not in waiter_out and "No changes." in waiter_out
    assert renewals and [a["name"] for a in env.store.list()["data"]] == ["Weather"]


def test_a_holder_stopped_past_its_lease_and_resumed_fails_before_writing(env: EmulatorServer,
                                                                          tmp_path: Path) -> None:
    import signal

    specs = weather_specs(tmp_path)
    stopped, controller = _holding_at_the_prompt(env, specs)
    stopped.send_signal(signal.SIGSTOP)
    try:
        taker = run("apply", "--auto-approve", "--lock-timeout", "90", "--lock-lease", "3", str(specs))
        assert taker.exit_code == 0 and "taking it over" in taker.stderr
    finally:
        stopped.send_signal(signal.SIGCONT)
    os.write(controller, b"yes\n")
    rest = stopped.communicate(timeout=60)[0].decode()
    os.close(controller)

    assert stopped.returncode == 1, rest
    assert "is no longer this run's: its lock object was deleted" in rest or "it was taken over by" in rest
    assert "Stopped before the next write" in rest
    assert [a["name"] for a in env.store.list()["data"]] == ["Weather"]  # the taker's: the stopped run wrote none
