"""The emulator over real HTTP (stdlib server, one thread per connection, keep-alive)."""

from __future__ import annotations

import json
import sys
import math
import random
import re
import selectors
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from . import agents, foundry_agents, knowledge
from .agents import AgentStore
from .foundry_agents import FoundryAgentStore
from .entra import TokenAuthority
from .knowledge import KnowledgeStore, RawBody, Upload
from .store import AssistantStore, EmulatorError, json_body

API_PREFIX = "/v1"
AZURE_PREFIX = "/openai"  # Azure OpenAI: {endpoint}/openai/assistants?api-version=...
# Azure AI Foundry: {project endpoint}/assistants?api-version=v1, project endpoint = {root}/api/projects/NAME
FOUNDRY_PROJECT = re.compile(r"^/api/projects/[^/]+(?=/)")
AGENTS_PATH = API_PREFIX + "/agents"  # OpenAI's Agents API (beta); Foundry's own agents are at {project}/agents
# Foundry's OpenAI-compatible surface: what azure-ai-projects' get_openai_client() targets (no api-version).
FOUNDRY_OPENAI = "/openai/v1"
CREATE_PATHS = (API_PREFIX + "/assistants", AGENTS_PATH)


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the emulator saw it, for tests that count or inspect requests."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-cased names


@dataclass
class Faults:
    """Switchable misbehaviour, drawn from one seeded generator so tests repeat exactly.

    Each rate is the share of requests affected, 0 to 1.
    """

    latency: float = 0.0  # seconds added to every request
    error_rate: float = 0.0  # answered 429 (with retry headers) or 500, half each, before doing anything
    drop_create_rate: float = 0.0  # creates that are stored, then the connection is dropped unanswered
    malformed_rate: float = 0.0  # answers replaced, after doing the work, by a truncated JSON or an HTML page
    retry_after_ms: int = 20  # what the 429s ask for
    seed: int = 0
    # Answers to drop, by the SDK's name of the call: {"files.create": 1} stores the next
    # upload, then drops the connection unanswered (see knowledge.operation and
    # foundry_agents.operation for the names, e.g. "agents.create_version").
    drop_answers: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        self._lock = threading.Lock()

    def roll(self, rate: float) -> bool:
        if rate <= 0:
            return False
        with self._lock:
            return self._rng.random() < rate

    def choice(self) -> bool:
        with self._lock:
            return self._rng.random() < 0.5

    def take_drop(self, operation: str | None) -> bool:
        """Whether to drop this answer of `operation`, counting it off `drop_answers`."""
        with self._lock:
            if operation is None or self.drop_answers.get(operation, 0) <= 0:
                return False
            self.drop_answers[operation] -= 1
            return True


@dataclass
class EmulatorServer:
    """A running emulator: its URL, its state, its faults and the requests it has served."""

    store: AssistantStore
    httpd: ThreadingHTTPServer
    requests: list[RecordedRequest] = field(default_factory=list)
    faults: Faults = field(default_factory=Faults)
    tokens: TokenAuthority = field(default_factory=TokenAuthority)  # Foundry's Entra ID tokens
    agents: AgentStore = field(default_factory=AgentStore)  # the Agents API (beta) at /v1/agents
    # Which APIs answer; the other answers 404, as OpenAI (no /assistants) or Foundry (no /agents) do.
    serves_assistants: bool = True
    serves_agents: bool = True
    serves_knowledge: bool = True  # /files and /vector_stores (False: a server of the Assistants API alone)
    knowledge: KnowledgeStore = field(default_factory=KnowledgeStore)  # /files and /vector_stores
    foundry_agents: FoundryAgentStore = field(default_factory=FoundryAgentStore)  # {project}/agents (versioned)
    in_flight: int = 0
    max_in_flight: int = 0  # most requests handled at once: shows a client's real concurrency
    _count_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def base_url(self) -> str:
        """The OpenAI-style base URL (…/v1)."""
        return self.root_url + API_PREFIX

    @property
    def root_url(self) -> str:
        """Scheme, host and port: what Azure calls the endpoint."""
        host, port = self.httpd.server_address[:2]
        return f"http://{host.decode() if isinstance(host, bytes) else host}:{port}"

    def project_url(self, project: str = "emulator") -> str:
        """A Foundry project endpoint (…/api/projects/PROJECT); every project shares one store."""
        return f"{self.root_url}/api/projects/{project}"


def make_server(
    store: AssistantStore | None = None, *, host: str = "127.0.0.1", port: int = 0, api_key: str | None = None,
    faults: Faults | None = None, required_headers: dict[str, str] | None = None,
    tokens: TokenAuthority | None = None, serve_assistants: bool = True, serve_agents: bool = True,
    serve_knowledge: bool = True,
) -> EmulatorServer:
    """An emulator bound to host:port (0 = any free port), not yet serving.

    With `api_key`, only that key is accepted (as a bearer token, or as Azure's api-key
    header under /openai); without, any non-empty key is. `required_headers` must all be
    present with these values, as a gateway such as Portkey requires its own headers.
    Under /api/projects/NAME (Foundry) only bearer tokens signed by `tokens` are accepted.
    `serve_assistants=False`, `serve_agents=False` or `serve_knowledge=False` (files and
    vector stores) makes that API answer 404 everywhere.
    """
    server = EmulatorServer(store=store if store is not None else AssistantStore(), httpd=None,  # type: ignore[arg-type]
                            faults=faults or Faults(), tokens=tokens or TokenAuthority(),
                            serves_assistants=serve_assistants, serves_agents=serve_agents,
                            serves_knowledge=serve_knowledge)
    handler = type("Handler", (_Handler,), {"emulator": server, "expected_key": api_key,
                                            "required_headers": dict(required_headers or {})})
    server.httpd = PromptlyStoppingHTTPServer((host, port), handler)
    return server


@contextmanager
def running_emulator(
    store: AssistantStore | None = None, *, api_key: str | None = None, faults: Faults | None = None,
    required_headers: dict[str, str] | None = None, tokens: TokenAuthority | None = None,
    serve_assistants: bool = True, serve_agents: bool = True, serve_knowledge: bool = True,
) -> Iterator[EmulatorServer]:
    """Serve an emulator on a free loopback port in a background thread while inside."""
    server = make_server(store, api_key=api_key, faults=faults, required_headers=required_headers, tokens=tokens,
                         serve_assistants=serve_assistants, serve_agents=serve_agents,
                         serve_knowledge=serve_knowledge)
    thread = threading.Thread(target=server.httpd.serve_forever, name="assistants-emulator", daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.httpd.shutdown()
        server.httpd.server_close()
        thread.join()


class PromptlyStoppingHTTPServer(ThreadingHTTPServer):
    """A ThreadingHTTPServer whose `shutdown` returns at once.

    The stdlib's serve_forever only notices a shutdown when its select times out (every
    `poll_interval`, 0.5 s by default), so each stop waited for the next poll; here shutdown
    wakes the select through a socket pair instead, and no poll is needed. A client that hangs
    up before its answer is not reported (`handle_error`).
    """

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler],
                 bind_and_activate: bool = True) -> None:
        # Before binding: a failed bind calls server_close, which closes these.
        self._wake_receiver, self._wake_sender = socket.socketpair()
        super().__init__(address, handler, bind_and_activate)
        self._stop_requested = threading.Event()
        self._stopped = threading.Event()
        self._stopped.set()  # not serving yet

    def serve_forever(self, poll_interval: float | None = None) -> None:
        """Handle requests until `shutdown` (`poll_interval` is ignored: shutdown wakes the loop)."""
        self._stopped.clear()
        try:
            with selectors.DefaultSelector() as selector:
                selector.register(self, selectors.EVENT_READ)
                selector.register(self._wake_receiver, selectors.EVENT_READ)
                while not self._stop_requested.is_set():
                    ready = {key.fileobj for key, _ in selector.select()}
                    if self._stop_requested.is_set():
                        break
                    if self._wake_receiver in ready:
                        self._wake_receiver.recv(64)  # a stale wake-up from an earlier shutdown
                    if self in ready:
                        self._handle_request_noblock()  # type: ignore[attr-defined]  # the stdlib loop's own step
                    self.service_actions()
        finally:
            self._stop_requested.clear()
            self._stopped.set()

    def shutdown(self) -> None:
        """Stop serve_forever (running in another thread) and wait until it has returned."""
        self._stop_requested.set()  # seen first thing by a serve_forever that has not started yet
        self._wake_sender.send(b"x")
        self._stopped.wait()

    def server_close(self) -> None:
        super().server_close()
        self._wake_receiver.close()
        self._wake_sender.close()

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hung up before its answer (a plan stopped by invalid manifests abandons the page in
        # flight) is no fault of the server's: no traceback for it, which would land in the caller's stderr.
        if isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: clients reuse one connection
    disable_nagle_algorithm = True  # else each keep-alive answer waits ~40 ms for a delayed ACK
    emulator: EmulatorServer
    expected_key: str | None
    required_headers: dict[str, str]
    _counted_in_flight = False  # whether the request being handled is counted in emulator.in_flight

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass  # quiet: a request log would hold headers

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def _dispatch(self, method: str) -> None:
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        emulator = self.emulator
        emulator.requests.append(
            RecordedRequest(method, url.path, query, {k.lower(): v for k, v in self.headers.items()})
        )
        body: bytes | Upload
        if knowledge.is_upload(method, url.path):  # streamed: uploads may be large
            body = knowledge.read_upload(self.rfile, self.headers, limit=emulator.knowledge.max_file_bytes,
                                         marker=emulator.knowledge.fail_marker)
        else:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with emulator._count_lock:
            emulator.in_flight += 1
            emulator.max_in_flight = max(emulator.max_in_flight, emulator.in_flight)
        self._counted_in_flight = True
        try:
            self._serve(method, url.path, query, body)
        finally:
            self._leave_flight()

    def _leave_flight(self) -> None:
        """This request no longer counts as in flight (once per request).

        Called before the answer is written: a client that has its answer may send its next
        request at once, on another connection, and must not find this one still counted.
        """
        if self._counted_in_flight:
            self._counted_in_flight = False
            with self.emulator._count_lock:
                self.emulator.in_flight -= 1

    def _serve(self, method: str, path: str, query: dict[str, str], body: bytes | Upload) -> None:
        faults = self.emulator.faults
        if faults.latency:
            time.sleep(faults.latency)
        if faults.roll(faults.error_rate):
            self._send_fault()
            return
        try:
            status, payload = self._route(method, path, query, body)
        except EmulatorError as exc:
            status, payload = exc.status, exc.body()
        operation = _operation(method, path)
        creating = status == 200 and (path.rstrip("/") in CREATE_PATHS and method == "POST"
                                      or operation == "agents.create_version")
        if creating and faults.roll(faults.drop_create_rate):
            self._drop_connection()
        elif status == 200 and faults.take_drop(operation):
            self._drop_connection()
        elif faults.roll(faults.malformed_rate):
            self._send_malformed()
        elif isinstance(payload, RawBody):
            self._send_raw(status, payload.data, payload.content_type)
        else:
            self._send(status, payload)

    def _send_fault(self) -> None:
        faults = self.emulator.faults
        if faults.choice():
            wait_ms = faults.retry_after_ms
            error = EmulatorError(429, "Rate limit reached for requests. Please try again shortly.",
                                  code="rate_limit_exceeded", type="requests")
            self._send(429, error.body(), {
                "retry-after": str(max(1, math.ceil(wait_ms / 1000))),
                "retry-after-ms": str(wait_ms),
                "x-ratelimit-reset-requests": f"{wait_ms}ms",
            })
        else:
            error = EmulatorError(500, "The server had an error while processing your request. Sorry about that!",
                                  type="server_error")
            self._send(500, error.body())

    def _send_malformed(self) -> None:
        if self.emulator.faults.choice():
            self._send_raw(200, b'{"id": "asst_', "application/json")
        else:
            self._send_raw(502, b"<html><body><h1>502 Bad Gateway</h1></body></html>", "text/html")

    def _drop_connection(self) -> None:
        # The create is stored; the answer is never sent (as when a proxy times out).
        self._leave_flight()
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _route(self, method: str, path: str, query: dict[str, str], body: bytes | Upload) -> tuple[int, Any]:
        if path == AGENTS_PATH or path.startswith(AGENTS_PATH + "/"):
            assert isinstance(body, bytes)  # only the knowledge endpoints take uploads
            return 200, self._serve_agents(method, path, query, body)
        project = FOUNDRY_PROJECT.match(path)
        if project:
            served = self._serve_foundry(method, path, path[project.end():], query, body)
            if served is not None:
                return served
        azure = path.startswith(AZURE_PREFIX + "/")
        prefix = project.group(0) if project else AZURE_PREFIX if azure else API_PREFIX
        if path.startswith(prefix) and knowledge.serves(path[len(prefix):]):
            if project:
                self._check_foundry(method, path, query)
            self._check_headers(azure, query, foundry=bool(project), beta=None)
            return self.emulator.knowledge.route(method, path[len(prefix):], query, self._knowledge_body(method, path,
                                                                                                      body))
        if not path.startswith(prefix + "/assistants"):
            raise EmulatorError(404, f"Invalid URL ({method} {path})", code="unknown_url")
        if not self.emulator.serves_assistants:
            raise EmulatorError(404, f"Invalid URL ({method} {path})", code="unknown_url")
        if project:
            self._check_foundry(method, path, query)
        self._check_headers(azure, query, foundry=bool(project))
        assert isinstance(body, bytes)
        store = self.emulator.store
        parts = path[len(prefix):].strip("/").split("/")
        if len(parts) == 1 and method == "GET":
            return 200, store.list(
                limit=_int(query.get("limit", "20"), "limit"),
                order=query.get("order", "desc"),
                after=query.get("after"),
                before=query.get("before"),
            )
        if len(parts) == 1 and method == "POST":
            return 200, store.create(json_body(body))
        if len(parts) == 2 and method == "GET":
            return 200, store.retrieve(parts[1])
        if len(parts) == 2 and method == "POST":
            return 200, store.modify(parts[1], json_body(body))
        if len(parts) == 2 and method == "DELETE":
            return 200, store.delete(parts[1])
        raise EmulatorError(404, f"Invalid URL ({method} {path})", code="unknown_url")

    def _serve_foundry(self, method: str, path: str, rest: str, query: dict[str, str],
                       body: bytes | Upload) -> tuple[int, Any] | None:
        """Foundry's agents (`{project}/agents`) and its OpenAI-compatible knowledge surface
        (`{project}/openai/v1/files`, `…/vector_stores`), or None for the classic paths."""
        if foundry_agents.serves(rest):
            self._check_foundry(method, path, query, versions=foundry_agents.API_VERSIONS)
            self._check_headers(False, query, foundry=True, beta=None)
            assert isinstance(body, bytes)  # only the knowledge endpoints take uploads
            payload = json_body(body) if method == "POST" else None
            features = foundry_agents.features_of(self.headers.get(foundry_agents.FEATURES_HEADER))
            return 200, foundry_agents.route(self.emulator.foundry_agents, method, rest, query, payload, features)
        if rest.startswith(FOUNDRY_OPENAI + "/") and knowledge.serves(rest[len(FOUNDRY_OPENAI):]):
            self.emulator.tokens.check(self._bearer(), method, path)  # an OpenAI-style path: no api-version
            self._check_headers(False, query, foundry=True, beta=None)
            return self.emulator.knowledge.route(method, rest[len(FOUNDRY_OPENAI):], query,
                                                 self._knowledge_body(method, path, body))
        return None

    def _knowledge_body(self, method: str, path: str, body: bytes | Upload) -> bytes | Upload:
        """`body`, if this emulator serves files and vector stores (else the 404 of an unknown URL)."""
        if not self.emulator.serves_knowledge:
            raise EmulatorError(404, f"Invalid URL ({method} {path})", code="unknown_url")
        return body

    def _serve_agents(self, method: str, path: str, query: dict[str, str], body: bytes) -> dict[str, Any]:
        if not self.emulator.serves_agents:
            raise EmulatorError(404, f"Invalid URL ({method} {path})", code="unknown_url")
        self._check_headers(False, query, beta=(agents.BETA_HEADER, "Agents"))
        parts = path[len(API_PREFIX):].strip("/").split("/")
        return agents.serve(self.emulator.agents, method, parts, query, json_body(body) if method == "POST" else None)

    def _check_headers(self, azure: bool, query: dict[str, str], *, foundry: bool = False,
                       beta: tuple[str, str] | None = ("assistants=v2", "Assistants")) -> None:
        if azure:
            self._check_azure(query)
        elif foundry:
            pass  # checked by _check_foundry
        else:
            self._check_openai()
        for name, value in self.required_headers.items():
            if self.headers.get(name) != value:
                # The value is a secret: say which header, never what was received.
                raise EmulatorError(401, f"Missing or invalid header {name!r}.", code="invalid_header")
        if beta is not None and self.headers.get("OpenAI-Beta") != beta[0]:
            header, api = beta
            raise EmulatorError(
                400, f"You must provide the 'OpenAI-Beta' header to access the {api} API. Please try again "
                f"by setting the header 'OpenAI-Beta: {header}'.", code="invalid_beta")

    def _check_openai(self) -> None:
        key = self._bearer()
        if not key and self.required_headers and self.expected_key is None:
            return  # a gateway that authenticates with its own headers (checked next) needs no bearer key
        if not key:
            raise EmulatorError(
                401, "You didn't provide an API key. You need to provide your API key in an Authorization "
                "header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).")
        if self.expected_key is not None and key != self.expected_key:
            # Unlike the real API, no part of the key is echoed back.
            raise EmulatorError(401, "Incorrect API key provided.", code="invalid_api_key")

    def _check_azure(self, query: dict[str, str]) -> None:
        if not query.get("api-version"):
            raise EmulatorError(400, "The api-version query parameter (?api-version=) is required for all requests.",
                                code="MissingApiVersionParameter")
        key = self.headers.get("api-key", "").strip() or self._bearer()
        if not key or (self.expected_key is not None and key != self.expected_key):
            raise EmulatorError(401, "Access denied due to invalid subscription key or wrong API endpoint. "
                                     "Make sure to provide a valid key for an active subscription and use a "
                                     "correct regional API endpoint for your resource.", code="401")

    def _check_foundry(self, method: str, path: str, query: dict[str, str],
                       versions: tuple[str, ...] | None = None) -> None:
        version = query.get("api-version")
        if not version:
            raise EmulatorError(400, "The api-version query parameter (?api-version=) is required for all requests.",
                                code="MissingApiVersionParameter")
        if versions is not None and version not in versions:
            raise EmulatorError(400, f"The api-version '{version[:40]}' is not supported. Supported versions: "
                                     f"{', '.join(versions)}.", code="UnsupportedApiVersion")
        self.emulator.tokens.check(self._bearer(), method, path)

    def _bearer(self) -> str:
        scheme, _, key = self.headers.get("Authorization", "").partition(" ")
        return key.strip() if scheme.lower() == "bearer" else ""

    def _send(self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        self._send_raw(status, json.dumps(payload).encode(), "application/json", headers)

    def _send_raw(self, status: int, data: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
        self._leave_flight()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)


def _operation(method: str, path: str) -> str | None:
    """The SDK's name of a write, for faults that drop its answer (see Faults.drop_answers)."""
    project = FOUNDRY_PROJECT.match(path)
    if project and foundry_agents.serves(path[project.end():]):
        return foundry_agents.operation(method, path[project.end():])
    return knowledge.operation(method, path)


def _int(value: str, name: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise EmulatorError(400, f"Invalid '{name}': expected an integer, got {value!r}.", param=name) from None
