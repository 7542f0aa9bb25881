"""A small scripted Assistants server on loopback, for what the emulator cannot do:
echo the credentials it received, answer garbage on cue, stop and start listening.

Each request is answered by `answer(request) -> (status, content type, body)`, a
function the test supplies; the server records every request it saw.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from assistants_sync.emulator.server import PromptlyStoppingHTTPServer


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


Answer = tuple[int, str, bytes]
Script = Callable[[Request], Answer]


def json_answer(status: int, document: Any) -> Answer:
    return status, "application/json", json.dumps(document).encode()


def error_answer(status: int, message: str) -> Answer:
    return json_answer(status, {"error": {"message": message, "type": "invalid_request_error"}})


def listing(*assistants: dict[str, Any]) -> Answer:
    return json_answer(200, {"object": "list", "data": list(assistants), "has_more": False})


@dataclass
class LoopbackServer:
    script: Script
    requests: list[Request] = field(default_factory=list)
    port: int = 0
    _httpd: PromptlyStoppingHTTPServer | None = None
    _thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> None:
        """Listen (again, on the same port after a `stop`)."""
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _answer(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length) if length else b""
                request = Request(self.command, self.path, {k.lower(): v for k, v in self.headers.items()},
                                  json.loads(raw) if raw else None)
                server.requests.append(request)
                status, kind, body = server.script(request)
                self.send_response(status)
                self.send_header("content-type", kind)
                self.send_header("content-length", str(len(body)))
                self.send_header("connection", "close")  # each request on a new connection
                self.end_headers()
                self.wfile.write(body)
                self.close_connection = True

            do_GET = do_POST = do_DELETE = _answer

        self._httpd = PromptlyStoppingHTTPServer(("127.0.0.1", self.port), Handler)  # stops without a 0.5 s poll
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop listening: connections are refused until `start`."""
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None


@contextmanager
def loopback_server(script: Script) -> Iterator[LoopbackServer]:
    server = LoopbackServer(script)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def serving_locks(script: Script) -> Script:
    """`script`, with apply's lock objects kept like a real endpoint keeps vector stores.

    A lock is a vector store whose metadata carries ``assistants-sync.lock``: its create is
    stored and answered, its renewals (a modify) update it, listings of vector stores include
    it, and its delete removes it; every other request goes to `script`, whose listings of
    vector stores (JSON) get the stored locks added.
    """
    locks: dict[str, dict[str, Any]] = {}

    def answer(request: Request) -> Answer:
        path = request.path.split("?")[0]
        metadata = (request.body or {}).get("metadata") or {}
        if request.method == "POST" and path.endswith("/vector_stores") and "assistants-sync.lock" in metadata:
            lock = {"id": f"vs_lock{len(locks) + 1}", "object": "vector_store", "created_at": len(locks) + 1,
                    **request.body}
            locks[lock["id"]] = lock
            return json_answer(200, lock)
        lock_id = path.rsplit("/", 1)[-1]
        if request.method == "POST" and lock_id in locks:
            locks[lock_id] = {**locks[lock_id], "metadata": metadata}
            return json_answer(200, locks[lock_id])
        if request.method == "DELETE" and lock_id in locks:
            del locks[lock_id]
            return json_answer(200, {"id": lock_id, "object": "vector_store.deleted", "deleted": True})
        status, kind, body = script(request)
        if request.method == "GET" and path.endswith("/vector_stores") and kind == "application/json" \
                and status == 200:
            page = json.loads(body)
            if isinstance(page, dict) and page.get("object") == "list":
                page["data"] = [*locks.values(), *page["data"]]
                return json_answer(status, page)
        return status, kind, body

    return answer
