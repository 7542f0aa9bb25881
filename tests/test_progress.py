"""What a running apply shows on a terminal, and Ctrl-C before any change has started."""

from __future__ import annotations

import http.server
import io
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistants_sync import cli as cli_module
from assistants_sync.actual.retry import RateLimiter
from assistants_sync.applying.apply import Outcome
from assistants_sync.applying.progress import ApplyProgress
from assistants_sync.emulator import EmulatorServer
from assistants_sync.emulator.server import PromptlyStoppingHTTPServer
from assistants_sync.planning.plan import Action, Change

from .conftest import API_KEY, interrupted_cli, run, write


CLEAR_LINE = "\r\x1b[2K"


def test_on_a_terminal_every_finished_change_is_printed_with_its_id_above_the_status_line(
    env: EmulatorServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path / "specs" / "alpha.yaml", "key: alpha\nmodel: gpt-4o\n")
    assert run("apply", "--auto-approve", str(tmp_path / "specs")).exit_code == 0
    alpha = env.store.list(limit=10)["data"][0]["id"]
    write(tmp_path / "specs" / "alpha.yaml", "key: alpha\nmodel: gpt-4o\ntemperature: 0.5\n")
    write(tmp_path / "specs" / "beta.yaml", "key: beta\nmodel: gpt-4o\n")
    monkeypatch.setattr(cli_module, "_stdout_is_terminal", lambda: True)

    result = run("apply", "--auto-approve", "--parallelism", "1", "--no-color", str(tmp_path / "specs"))

    assert result.exit_code == 0, result.output
    [beta] = [a["id"] for a in env.store.list(limit=10)["data"] if a["id"] != alpha]
    screen = result.stdout
    # Creates run before updates; each line replaces the status line, which is drawn again below it.
    created = screen.index(f"{CLEAR_LINE}  + beta: created {beta}\nApplying: 1/2 done, 0 failed")
    updated = screen.index(f"{CLEAR_LINE}  ~ alpha ({alpha}): updated\nApplying: 2/2 done, 0 failed")
    assert created < updated
    assert screen.endswith(
        f"{CLEAR_LINE}Applying: 2/2 done, 0 failed\n\nApply complete: 1 created, 1 updated, 0 deleted.\n")


class _SlowListing(http.server.BaseHTTPRequestHandler):
    """Keeps apply's lock objects; answers the listing apply plans from only once the test
    releases it; records every write."""

    arrived: threading.Event
    release: threading.Event
    others: list[str]
    locks: list[dict[str, object]]
    listings: list[str]

    def do_GET(self) -> None:
        self.listings.append(self.path)
        if len(self.listings) == 2:  # the listing to plan from (the first is the lock's own)
            self.arrived.set()
            self.release.wait(60)
        self._send({"object": "list", "data": list(self.locks), "first_id": None, "last_id": None,
                    "has_more": False})

    def do_POST(self) -> None:
        self.others.append(f"POST {self.path}")
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if "assistants-sync.lock" not in (body.get("metadata") or {}):
            self.send_error(500)
            return
        lock = {"id": "asst_lock", "object": "assistant", "created_at": 1, **body}
        self.locks.append(lock)
        self._send(lock)

    def do_DELETE(self) -> None:
        self.others.append(f"DELETE {self.path}")
        self.locks.clear()
        self._send({"id": "asst_lock", "object": "assistant.deleted", "deleted": True})

    def _send(self, document: object) -> None:
        body = json.dumps(document).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        try:
            self.end_headers()
            self.wfile.write(body)
        except OSError:
            pass  # the interrupted client is gone

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def slow_listing() -> Iterator[type[_SlowListing]]:
    handler = type("Handler", (_SlowListing,), {"arrived": threading.Event(), "release": threading.Event(),
                                                "others": [], "locks": [], "listings": []})
    server = PromptlyStoppingHTTPServer(("127.0.0.1", 0), handler)  # its stop waits for no 0.5 s poll
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    handler.url = f"http://127.0.0.1:{server.server_address[1]}/v1"  # type: ignore[attr-defined]
    try:
        yield handler
    finally:
        handler.release.set()
        server.shutdown()
        server.server_close()


def test_ctrl_c_while_apply_is_listing_exits_130_and_changes_nothing(
    tmp_path: Path, slow_listing: type[_SlowListing]
) -> None:
    write(tmp_path / "specs" / "bot.yaml", "key: bot\nmodel: gpt-4o\n")
    env = {"OPENAI_API_KEY": API_KEY, "OPENAI_BASE_URL": slow_listing.url}  # type: ignore[attr-defined]
    code, stdout, stderr = interrupted_cli(["apply", "--auto-approve", str(tmp_path / "specs")], env,
                                           slow_listing.arrived)  # the listing unanswered: no change has started
    assert code == 130, stdout + stderr
    assert stderr == "\nInterrupted before any change was made; nothing was changed.\n"
    assert stdout == ""
    # The stack's lock was taken and released again; no assistant was written.
    assert [o.split(" ")[0] for o in slow_listing.others] == ["POST", "DELETE"]
    assert slow_listing.locks == []


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


    def test_a_terminal_status_line_says_what_the_server_is_still_processing(self) -> None:
        stream = io.StringIO()
        with ApplyProgress(2, stream, terminal=True, refresh=60) as progress:
            progress.waiting("vector store vs_1: 12/500 files processed")
            assert progress.status() == ("Applying: 0/2 done, 0 failed; waiting for vector store vs_1: "
                                         "12/500 files processed")
            progress(self.outcomes()[0])
        assert stream.getvalue().endswith("\r\x1b[2KApplying: 1/2 done, 0 failed\n")  # gone once a change finished
