"""AssistantsClient: the Assistants endpoints over httpx, and nothing else.

The transport is injectable (``transport=``) so tests can run it against the
emulator over loopback or against an ``httpx.MockTransport``. Every failure becomes a
`RemoteError` whose message has the status, the API's own ``error.message`` and what
to do next, and never the key or any header value: whatever the server says passes
through the client's `Redactor` first (servers and gateways do echo keys).
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import logging
import os
import re
import ssl
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit, urlunsplit

import httpx

from ..defaults import DEFAULT_BASE_URL
from ..errors import AmbiguousRequestError, ApiError, BadResponseError, ConfigError, RemoteError
from ..foundry_shapes import FOUNDRY_AGENTS_COLLECTION  # Foundry's agents, at {project}/agents
from ..redact import Redactor
from .retry import RETRYABLE_STATUSES, ListingCancelled, RateLimiter, RetryPolicy, server_wait

if TYPE_CHECKING:
    from .auth import BearerTokens

log = logging.getLogger(__name__)

PAGE_SIZE = 100
# A listing longer than this many pages is taken to be a server that never says has_more=false.
MAX_PAGES = 10_000
FOUNDRY_API_VERSION = "v1"
FOUNDRY_ENDPOINT_SHAPE = "https://ACCOUNT.services.ai.azure.com/api/projects/PROJECT"
_PROJECT_PATH = re.compile(r"^/api/projects/[^/]+$")


# The beta header of the Assistants API, sent unless a kind names another (kinds.base.Kind.beta).
ASSISTANTS_BETA = "assistants=v2"
# Foundry's OpenAI-compatible surface under a project: what azure-ai-projects' get_openai_client() targets.
FOUNDRY_OPENAI_PATH = "/openai/v1"


@dataclass(frozen=True)
class Route:
    """Where an endpoint serves a collection that is not at its base URL: another base, another query,
    and the collection's name there (a kind's `path` names the collection, the endpoint says where it is)."""

    base_url: str
    api_version: str | None = None
    collection: str | None = None  # the collection's path segment at `base_url`; None: the kind's own

    def query(self) -> dict[str, str]:
        return {"api-version": self.api_version} if self.api_version else {}


# Collections only some endpoints serve: a kind whose path starts with one of these is
# unserved (listed as a 404, never sent) unless the endpoint routes it.
NOT_SERVED: dict[str, Route | None] = {FOUNDRY_AGENTS_COLLECTION: None}
# Why a collection an endpoint routes to None is not served there (shown instead of a 404 never received).
UNSERVED_WHY = {
    FOUNDRY_AGENTS_COLLECTION: "only a Microsoft Foundry project serves them (--provider foundry)",
    "agents": "a Foundry project serves no OpenAI Agents API ({project}/agents holds Foundry's own, "
              "versioned agents: kind: foundry_agent)",
}


@dataclass(frozen=True)
class Endpoint:
    """Where and how to reach an Assistants API.

    `api_key` and every value of `extra_headers` are secrets: they are sent and never
    shown (not in repr, errors, logs or plan files). `auth_header` is "authorization"
    (a bearer token: OpenAI, gateways, Azure Entra tokens) or "api-key" (Azure keys).
    `tokens` (Foundry) supplies renewable Entra tokens instead of a fixed key.
    """

    base_url: str = DEFAULT_BASE_URL
    api_key: str = field(default="", repr=False)
    organization: str | None = None
    project: str | None = None
    provider: str = "openai"
    auth_header: str = "authorization"
    api_version: str | None = None  # sent as ?api-version= on every request (Azure)
    extra_headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    tokens: BearerTokens | None = field(default=None, repr=False, compare=False)
    # Collections served elsewhere than at base_url (by the first segment of a kind's path), or
    # not at all (None): Foundry keeps files and vector stores on its OpenAI-compatible surface.
    routes: Mapping[str, Route | None] = field(default_factory=lambda: dict(NOT_SERVED), repr=False)

    def __post_init__(self) -> None:
        parts = urlsplit(self.base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigError(f"invalid base URL {self.display_url!r}: it must start with http:// or https://")

    @classmethod
    def azure(cls, endpoint: str, *, api_version: str, api_key: str = "", ad_token: str = "",
              extra_headers: Mapping[str, str] | None = None) -> Endpoint:
        """Azure OpenAI: {endpoint}/openai/assistants?api-version=..., an api-key or an Entra token."""
        if not api_version:
            raise ConfigError("Azure needs an API version: set OPENAI_API_VERSION (e.g. 2024-05-01-preview)")
        if not (api_key or ad_token):
            raise ConfigError("Azure needs AZURE_OPENAI_API_KEY (sent as api-key) or AZURE_OPENAI_AD_TOKEN "
                              "(sent as a bearer token)")
        return cls(
            base_url=endpoint.rstrip("/") + "/openai",
            api_key=api_key or ad_token,
            provider="azure",
            auth_header="api-key" if api_key else "authorization",
            api_version=api_version,
            extra_headers=dict(extra_headers or {}),
        )

    @classmethod
    def foundry(cls, endpoint: str, *, tokens: BearerTokens, api_version: str = FOUNDRY_API_VERSION,
                extra_headers: Mapping[str, str] | None = None) -> Endpoint:
        """Microsoft Foundry: {project endpoint}/assistants?api-version=v1 (classic agents) and
        {project}/agents?api-version=v1 (agents), files and vector stores at {project}/openai/v1/...
        (no api-version), all with Entra ID bearer tokens."""
        project = check_project_endpoint(endpoint)
        version = api_version or FOUNDRY_API_VERSION
        knowledge = Route(project + FOUNDRY_OPENAI_PATH)
        return cls(
            base_url=project,
            provider="foundry",
            api_version=version,
            extra_headers=dict(extra_headers or {}),
            tokens=tokens,
            routes={
                "files": knowledge,
                "vector_stores": knowledge,
                # GA at v1 only: --api-version (for the classic paths) never reaches it.
                FOUNDRY_AGENTS_COLLECTION: Route(project, FOUNDRY_API_VERSION, collection="agents"),
                # OpenAI's Agents API (beta) is not Foundry's: {project}/agents holds Foundry's own agents.
                "agents": None,
            },
        )

    def locate(self, path: str) -> tuple[str, str, dict[str, str]] | None:
        """(base URL, path there, query) of a request to `path` (relative to the base URL), or None
        when this endpoint does not serve that collection."""
        collection, slash, rest = path.partition("/")
        if collection not in self.routes:
            return self.base_url, path, self.query()
        route = self.routes[collection]
        if route is None:
            return None
        return route.base_url, (route.collection or collection) + slash + rest, route.query()

    @property
    def display_url(self) -> str:
        """The base URL without credentials, query or trailing slash: safe to print and save."""
        parts = urlsplit(self.base_url)
        host = parts.hostname or ""
        netloc = f"{host}:{parts.port}" if parts.port else host
        return urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", ""))

    @property
    def identity(self) -> str:
        """What a saved plan records to recognise the endpoint (no secrets)."""
        scope = "".join(
            f" {name}={value}"
            for name, value in (("organization", self.organization), ("project", self.project),
                                ("api-version", self.api_version))
            if value
        )
        return self.display_url + scope

    def plain_http_warning(self) -> str | None:
        """A warning when a secret would travel unencrypted to another machine."""
        parts = urlsplit(self.base_url)
        has_secret = bool(self.api_key or self.extra_headers or self.tokens)
        if parts.scheme != "http" or not has_secret or _is_loopback(parts.hostname or ""):
            return None
        return (f"Warning: sending the API key over plain http:// to {parts.hostname}; "
                "anyone on the network path can read it. Use https://.")

    @property
    def secrets(self) -> tuple[str, ...]:
        """What must never be shown: the key and every extra header value."""
        return tuple(value for value in (self.api_key, *self.extra_headers.values()) if value)

    def headers(self) -> dict[str, str]:
        headers = {"OpenAI-Beta": ASSISTANTS_BETA}  # Content-Type per request: JSON, or an upload's multipart
        if self.api_key:
            if self.auth_header == "api-key":
                headers["api-key"] = self.api_key
            else:
                headers["Authorization"] = f"Bearer {self.api_key}"
        if self.organization:
            headers["OpenAI-Organization"] = self.organization
        if self.project:
            headers["OpenAI-Project"] = self.project
        headers.update(self.extra_headers)
        return headers

    def query(self) -> dict[str, str]:
        """Query parameters every request carries."""
        return {"api-version": self.api_version} if self.api_version else {}


@dataclass
class RequestStats:
    """Requests sent and retried by one client (thread-safe counters)."""

    requests: int = 0
    retries: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def count(self, *, retry: bool) -> None:
        with self._lock:
            self.requests += 1
            self.retries += int(retry)


@dataclass
class EndpointContact:
    """What the endpoint has shown so far in a run, shared by every client of that run."""

    answered: bool = False  # any HTTP answer yet: connect errors are transient from then on
    answered_json: bool = False  # a JSON answer yet: a later non-JSON one is not a wrong base URL


class AssistantsClient:
    """List, create, modify and delete assistants on one endpoint, retrying what is safe to retry.

    Thread-safe: one client serves all workers of a parallel apply, sharing one
    connection pool, one `RateLimiter` and one `stop` event (set on Ctrl-C, it ends
    retry waits at once). `redactor` masks the endpoint's secrets out of every message
    taken from a server; pass the caller's to have it learn them too.

    Until the endpoint has answered once, a refused connection or an unknown host is a
    wrong address, not a transient fault: it fails at once. After that it is retried.
    """

    def __init__(
        self,
        endpoint: Endpoint,
        *,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 60.0,
        retry: RetryPolicy | None = None,
        limiter: RateLimiter | None = None,
        stop: threading.Event | None = None,
        max_pages: int = MAX_PAGES,
        redactor: Redactor | None = None,
        contact: EndpointContact | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.redactor = redactor if redactor is not None else Redactor()
        for secret in endpoint.secrets:
            self.redactor.add(secret)
        if endpoint.tokens is not None:  # bearer tokens arrive during the run: each is masked from then on
            endpoint.tokens.on_new_secret = self.redactor.add
        self.contact = contact or EndpointContact()
        self.max_pages = max_pages
        self.retry = retry or RetryPolicy()
        self.limiter = limiter or RateLimiter()
        self.stop = stop or threading.Event()
        self.stats = RequestStats()
        # Called before each request that writes (raising stops it unsent): the lease's check that this run
        # still holds its stack's lock.
        self.before_write: Callable[[], None] | None = None
        self._transport = transport
        self._timeout = min(timeout, self.retry.deadline)
        # One small httpx client per thread: a worker needs one keep-alive connection, and
        # a pool shared by many workers rescans every connection for every request.
        self._local = threading.local()
        self._opened: list[httpx.Client] = []
        self._opened_lock = threading.Lock()
        self._auth: httpx.Auth | None = None
        if endpoint.tokens is not None:  # one token cache for every thread's HTTP client
            from .auth import BearerAuth

            self._auth = BearerAuth(endpoint.tokens)

    def sibling(self) -> AssistantsClient:
        """Another client of the same run: same endpoint, retries, rate limiter, redactor and
        first-contact knowledge, but its own connections and stop event (so it still works
        after Ctrl-C has stopped this one)."""
        return AssistantsClient(self.endpoint, transport=self._transport, timeout=self._timeout, retry=self.retry,
                                limiter=self.limiter, max_pages=self.max_pages, redactor=self.redactor,
                                contact=self.contact)

    def __enter__(self) -> AssistantsClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        with self._opened_lock:
            opened, self._opened = self._opened, []
        for http in opened:
            http.close()

    def _http(self, base_url: str, query: dict[str, str]) -> httpx.Client:
        """This thread's client for `base_url` (an endpoint may serve collections at more than one)."""
        clients: dict[tuple[str, str], httpx.Client] | None = getattr(self._local, "http", None)
        if clients is None:
            clients = self._local.http = {}
        key = (base_url, json.dumps(query))
        http = clients.get(key)
        if http is None or http.is_closed:
            with self._opened_lock:
                transport = self._transport or httpx.HTTPTransport(
                    verify=tls_context(), limits=httpx.Limits(max_connections=2, max_keepalive_connections=2)
                )
                options: dict[str, Any] = {"params": query} if query else {}
                if self._auth is not None:
                    options["auth"] = self._auth
                http = httpx.Client(
                    base_url=base_url.rstrip("/") + "/",
                    headers=self.endpoint.headers(),
                    transport=transport,
                    timeout=self._timeout,
                    **options,  # only when there is a query: merging even an empty one costs per request
                )
                self._opened.append(http)
            clients[key] = http
        return http

    def list_objects(self, path: str, noun: str, *, beta: str = ASSISTANTS_BETA,
                     params: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
        """Every object of the collection at `path` (`noun`: its plural, for messages), oldest first,
        following the cursor 100 at a time; `params` adds to the query (a filter)."""
        objects: list[dict[str, Any]] = []
        for page in self.list_pages(path, noun, beta=beta, params=params):
            objects.extend(page)
        return objects

    def list_pages(self, path: str, noun: str, *, beta: str = ASSISTANTS_BETA, params: Mapping[str, str] | None = None,
                   cancelled: threading.Event | None = None, watch: RequestWatch | None = None
                   ) -> Iterator[list[dict[str, Any]]]:
        """The pages of `list_objects`, each as it arrives: the next one is requested only when the caller asks
        for it, and none (nor a retry) once `cancelled` is set (ListingCancelled). `watch` is told of each
        request on the wire and of each answer's arrival (on a real connection; never with a mock transport)."""
        query: dict[str, Any] = {"limit": PAGE_SIZE, "order": "asc", **(params or {})}
        seen_cursors: set[str] = set()
        for _ in range(self.max_pages):
            page = self._request("GET", path, f"listing {noun}", params=query, beta=beta, cancelled=cancelled,
                                 watch=watch)
            data = page.get("data")
            if not isinstance(data, list) or not all(isinstance(a, dict) and isinstance(a.get("id"), str) for a in data):
                raise BadResponseError(f"listing {noun}: the answer from {self.endpoint.display_url} has no valid 'data' list")
            more = bool(page.get("has_more")) and bool(data)
            if more:
                cursor = data[-1]["id"]
                if cursor in seen_cursors:
                    raise BadResponseError(
                        f"listing {noun}: the server returned the page after {cursor!r} twice; "
                        "its pagination is broken, so the listing cannot be trusted"
                    )
                seen_cursors.add(cursor)
            yield data
            if not more:
                return
            query = {**query, "after": cursor}
        raise BadResponseError(
            f"listing {noun}: more than {self.max_pages} pages; the server never said has_more=false"
        )

    def create_object(self, path: str, noun: str, body: dict[str, Any], *,
                      beta: str = ASSISTANTS_BETA) -> dict[str, Any]:
        """Create; raises AmbiguousRequestError when the answer was lost (it may exist now)."""
        article = "an" if noun[:1] in "aeiou" else "a"
        created = self._request("POST", path, f"creating {article} {noun}", json_body=body, idempotent=False,
                                beta=beta)
        if not isinstance(created.get("id"), str):
            raise BadResponseError(f"creating {article} {noun}: the answer has no {noun} id")
        return created

    def modify_object(self, path: str, object_id: str, body: dict[str, Any], *,
                      beta: str = ASSISTANTS_BETA) -> dict[str, Any]:
        return self._request("POST", f"{path}/{object_id}", f"modifying {object_id}", json_body=body, beta=beta)

    def delete_object(self, path: str, object_id: str, *, beta: str = ASSISTANTS_BETA) -> dict[str, Any]:
        return self._request("DELETE", f"{path}/{object_id}", f"deleting {object_id}", beta=beta)

    def get_object(self, path: str, operation: str, *, beta: str = ASSISTANTS_BETA) -> dict[str, Any]:
        """GET one object (`operation` names it for messages, e.g. "reading batch vsfb_1")."""
        return self._request("GET", path, operation, beta=beta)

    def post_object(self, path: str, operation: str, body: dict[str, Any], *, beta: str = ASSISTANTS_BETA,
                    idempotent: bool = True) -> dict[str, Any]:
        """POST `body` to `path`; not `idempotent`: AmbiguousRequestError when the answer was lost."""
        return self._request("POST", path, operation, json_body=body, idempotent=idempotent, beta=beta)

    def upload_file(self, path: str, source: str, filename: str, fields: Mapping[str, str]) -> dict[str, Any]:
        """Upload the local file `source` as `filename` (multipart, streamed from disk, reopened for a retry).

        Not idempotent: AmbiguousRequestError when the answer was lost (the file may exist now).
        """
        created = self._request("POST", path, f"uploading {filename}", upload=(source, filename, dict(fields)),
                                idempotent=False)
        if not isinstance(created.get("id"), str):
            raise BadResponseError(f"uploading {filename}: the answer has no file id")
        return created

    def download(self, path: str, operation: str, destination: str) -> dict[str, Any]:
        """GET the bytes at `path` (a file's content) into the local file `destination`, streamed in chunks.

        Returns ``{"sha256": hex digest, "bytes": size}`` of what was written; a retry writes it anew.
        """
        return self._request("GET", path, operation, download=destination)

    def _request(
        self,
        method: str,
        path: str,
        operation: str,
        *,
        params: dict[str, Any] | None = None,
        json_body: dict[str, Any] | None = None,
        idempotent: bool = True,
        beta: str = ASSISTANTS_BETA,
        upload: tuple[str, str, dict[str, str]] | None = None,
        download: str | None = None,
        cancelled: threading.Event | None = None,
        watch: RequestWatch | None = None,
    ) -> dict[str, Any]:
        """One API call with retries (`upload`: a local file sent as multipart, see `upload_file`;
        `download`: the answer's bytes written to this local file, see `download`).

        Retried: 408, 409, 429, 5xx, timeouts and dropped connections, within
        `self.retry`. A non-idempotent request is retried only when it surely did not
        reach the server (connect errors, 408/409/429); otherwise AmbiguousRequestError.
        """
        if self.endpoint.locate(path) is None:  # answered as the 404 of an unserved collection, never sent
            collection = path.partition("/")[0]
            raise ApiError(404, UNSERVED_WHY.get(collection, f"this endpoint does not serve {collection}"),
                           operation=operation, sent=False)
        if method != "GET" and self.before_write is not None:
            self.before_write()
        content = json.dumps(json_body).encode() if json_body is not None else None
        started = time.monotonic()
        attempt = 0
        while True:
            attempt += 1
            if cancelled is not None and cancelled.is_set():
                raise ListingCancelled(f"{operation}: not sent, the listing was cancelled")
            if not self.limiter.wait(self.stop):
                raise RemoteError(f"{operation}: interrupted before it was sent")
            self.stats.count(retry=attempt > 1)
            try:
                failure, wait, ambiguous = self._attempt(method, path, operation, params, content, attempt, beta,
                                                         upload, download, watch)
            except BadResponseError as exc:
                # Not retried: a malformed answer usually means a wrong base URL. For a
                # create it means the assistant may exist without our knowing its id.
                if idempotent:
                    raise
                raise AmbiguousRequestError(f"{exc}; the object may have been created") from exc
            if isinstance(failure, dict):
                return failure
            if ambiguous and not idempotent:
                raise AmbiguousRequestError(f"{operation}: {failure}; the server may have carried it out") from (
                    failure if isinstance(failure, Exception) else None)
            delay = wait if wait is not None else self.retry.backoff(attempt - 1)
            elapsed = time.monotonic() - started
            if attempt >= self.retry.max_attempts or elapsed + delay > self.retry.deadline:
                raise _final_error(failure, operation, attempt, elapsed, delay, self.retry)
            log.debug("%s: attempt %d failed (%s); retrying in %.2fs", operation, attempt, failure, delay)
            if _wait_either(self.stop, cancelled, delay):
                raise _final_error(failure, operation, attempt, elapsed, 0, self.retry, interrupted=True)

    def _attempt(
        self, method: str, path: str, operation: str, params: dict[str, Any] | None, content: bytes | None,
        attempt: int, beta: str = ASSISTANTS_BETA, upload: tuple[str, str, dict[str, str]] | None = None,
        download: str | None = None, watch: RequestWatch | None = None,
    ) -> tuple[Any, float | None, bool]:
        """(answer dict, None, False) on success, else (failure, server wait, ambiguous)."""
        sent = time.monotonic()
        try:
            # The beta header names the API of the kind asked for (a kind's `beta`); the
            # endpoint's own extra headers still win, as they do for every other header.
            headers = {} if beta == ASSISTANTS_BETA or "OpenAI-Beta" in self.endpoint.extra_headers else {
                "OpenAI-Beta": beta}
            if content is not None:
                headers["Content-Type"] = "application/json"
            located = self.endpoint.locate(path)
            assert located is not None  # refused by _request
            base_url, path, query = located
            http = self._http(base_url, query)
            if download is not None:
                response, written = _streamed(http, method, path, params, headers, download)
            elif upload is None:
                # httpcore's trace says when the request is on the wire, and when its answer has arrived.
                extensions = {"trace": _traced(watch)} if watch is not None else None
                response = http.request(method, path, params=params, content=content, headers=headers,
                                        extensions=extensions)
            else:
                source, filename, fields = upload
                with open(source, "rb") as stream:  # httpx sends a file field in chunks, never whole
                    response = http.request(method, path, params=params, headers=headers,
                                                  files={"file": (filename, stream)}, data=fields)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            log.debug("%s %s: %s", method, _url_of(exc, path), type(exc).__name__)
            unreached = _Unreached(self.endpoint.display_url, exc, self.redactor)
            if isinstance(exc, httpx.ConnectError) and not self.contact.answered:
                # Refused, or an unknown host, at first contact: a wrong address, not a passing fault.
                raise RemoteError(f"{operation}: {unreached}") from None
            return unreached, None, False
        except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError) as exc:
            log.debug("%s %s: %s", method, _url_of(exc, path), type(exc).__name__)
            return _Lost(self.endpoint.display_url, exc), None, True
        self.contact.answered = True
        if log.isEnabledFor(logging.DEBUG):
            # The whole URL, query included (?api-version=, the page cursor after=); the -v log stream is masked.
            log.debug("%s %s -> %d in %.0f ms (attempt %d)", method, response.url, response.status_code,
                      (time.monotonic() - sent) * 1000, attempt)
        if response.status_code in RETRYABLE_STATUSES:
            wait = server_wait(response.headers)
            if response.status_code == 429:
                self.limiter.pause(wait if wait is not None else self.retry.backoff(attempt - 1))
            error = _api_error(response, operation, listing=(method == "GET"), provider=self.endpoint.provider,
                               redactor=self.redactor)
            return error, wait, response.status_code >= 500
        if response.status_code >= 400:
            raise _api_error(response, operation, listing=(method == "GET"), provider=self.endpoint.provider,
                             redactor=self.redactor)
        if download is not None:
            return written, None, False
        try:
            payload = response.json()
        except ValueError:
            raise BadResponseError(self._not_json(operation, response)) from None
        if not isinstance(payload, dict):
            raise BadResponseError(f"{operation}: expected a JSON object, got {type(payload).__name__}")
        self.contact.answered_json = True
        return payload, None, False

    def _not_json(self, operation: str, response: httpx.Response) -> str:
        """Why an answer is unusable: what came back, and a hint only when no answer was ever JSON."""
        said = (f"{operation}: {self.endpoint.display_url} answered HTTP {response.status_code} with "
                f"{_describe_body(response)}, not JSON")
        if not self.contact.answered_json:
            return f"{said}; is the base URL an Assistants API?"
        return f"{said}: {_excerpt(response, self.redactor)}"


_tls_contexts: dict[tuple[str | None, str | None], ssl.SSLContext] = {}
_tls_lock = threading.Lock()


def tls_context() -> ssl.SSLContext:
    """The TLS context every client of this process verifies servers with (httpx's default, which honours
    SSL_CERT_FILE and SSL_CERT_DIR): built once for each value of those, since loading the CA certificates takes
    tens of milliseconds of CPU, which a process planning many stacks (or a test suite) would pay per client."""
    where = (os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR"))
    with _tls_lock:
        context = _tls_contexts.get(where)
        if context is None:
            context = _tls_contexts[where] = httpx.create_ssl_context()
        return context


def _streamed(http: httpx.Client, method: str, path: str, params: dict[str, Any] | None, headers: dict[str, str],
              destination: str) -> tuple[httpx.Response, dict[str, Any]]:
    """Send a request whose answer's bytes go to `destination` (only a success's): the response (read whole
    when it is an error, for its message) and the digest and size written."""
    digest, size = hashlib.sha256(), 0
    with http.stream(method, path, params=params, headers=headers) as response:
        if response.status_code >= 400:
            response.read()
            return response, {}
        with open(destination, "wb") as stream:
            for chunk in response.iter_bytes(_DOWNLOAD_CHUNK):
                digest.update(chunk)
                size += len(chunk)
                stream.write(chunk)
    return response, {"sha256": digest.hexdigest(), "bytes": size}


_DOWNLOAD_CHUNK = 1024 * 1024


class RequestWatch(Protocol):
    """Told of a request's progress on the wire (`list_pages`)."""

    def sent(self) -> None:
        """The request is on the wire: only its answer is awaited."""

    def answered(self) -> None:
        """The answer's headers have arrived: its body is read and handled next."""


def _traced(watch: RequestWatch) -> Callable[[str, dict[str, Any]], None]:
    """An httpcore trace callback telling `watch` when the answer's headers start to be awaited, and arrive."""

    def trace(event: str, info: dict[str, Any]) -> None:
        if event.endswith("receive_response_headers.started"):
            watch.sent()
        elif event.endswith("receive_response_headers.complete"):
            watch.answered()

    return trace


def _wait_either(stop: threading.Event, cancelled: threading.Event | None, seconds: float) -> bool:
    """Wait up to `seconds`; True as soon as `stop` (or `cancelled`) is set."""
    if cancelled is None:
        return stop.wait(seconds)
    deadline = time.monotonic() + seconds
    while not (stop.is_set() or cancelled.is_set()):
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        cancelled.wait(min(left, 0.05))  # two events cannot be waited on at once: look at `stop` often
    return True


class _Unreached(RemoteError):
    def __init__(self, url: str, exc: Exception, redactor: Redactor) -> None:
        super().__init__(redactor.mask(
            f"cannot reach {url} ({type(exc).__name__}: {exc}); check the base URL and your network"))


class _Lost(RemoteError):
    def __init__(self, url: str, exc: Exception) -> None:
        kind = "did not answer in time" if isinstance(exc, httpx.TimeoutException) else "dropped the connection"
        super().__init__(f"{url} {kind} ({type(exc).__name__})")


def _final_error(
    failure: Exception, operation: str, attempts: int, elapsed: float, delay: float, policy: RetryPolicy,
    *, interrupted: bool = False,
) -> RemoteError:
    if interrupted:
        why = "interrupted while waiting to retry"
    elif attempts >= policy.max_attempts:
        why = f"gave up after {attempts} attempts in {elapsed:.1f}s"
    else:
        why = (f"gave up after {attempts} attempt{'s' if attempts != 1 else ''} in {elapsed:.1f}s: "
               f"the next retry (in {delay:.1f}s) would pass the {policy.deadline:.0f}s deadline")
    if isinstance(failure, ApiError):
        return ApiError(failure.status, failure.api_message, operation=f"{operation} ({why})", hint=failure.hint)
    return RemoteError(f"{operation}: {failure} ({why})")


def _api_error(response: httpx.Response, operation: str, *, listing: bool, provider: str = "openai",
               redactor: Redactor) -> ApiError:
    status = response.status_code
    try:
        message = redactor.mask(str(response.json()["error"]["message"]))
    except (ValueError, KeyError, TypeError):
        message = f"(no API error message; the body was {_describe_body(response)})"
    denied = provider == "foundry" and _is_permission_denied(response)
    return ApiError(status, message, operation=operation, hint=_hint(status, listing, provider, denied))


def _is_permission_denied(response: httpx.Response) -> bool:
    from .auth import is_permission_denied

    return is_permission_denied(response)


def _foundry_hint(status: int, listing: bool, permission_denied: bool) -> str | None:
    if permission_denied or status == 403:
        return ("The signed-in identity lacks a role on this Foundry project: ask an Owner to grant it "
                "\"Azure AI User\" on the project (or its Foundry resource), e.g. az role assignment create "
                "--role \"Azure AI User\" --assignee <principal id> --scope <project resource id>; "
                "then run again (see https://aka.ms/FoundryPermissions).")
    if status == 401:
        return ("The Entra ID token was refused (a renewable one also after one fresh token): check that it "
                "is for https://ai.azure.com/.default and the project's tenant (AZURE_TENANT_ID), or that "
                "AZURE_AI_TOKEN is current.")
    if status == 404 and listing:
        return (f"Check the project endpoint (AZURE_AI_PROJECT_ENDPOINT, shape {FOUNDRY_ENDPOINT_SHAPE}) "
                "and the API version (default v1).")
    return None


def check_project_endpoint(url: str) -> str:
    """The Foundry project endpoint without trailing slash, or ConfigError showing the expected shape."""
    parts = urlsplit(url.strip())
    host = parts.hostname or ""
    shown = urlunsplit((parts.scheme, parts.netloc.rpartition("@")[2], parts.path, "", ""))
    if parts.scheme in ("http", "https") and host and _PROJECT_PATH.match(parts.path.rstrip("/")) \
            and not parts.query:
        return urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), "", ""))
    why = ""
    if host.endswith(".openai.azure.com") or host.endswith(".cognitiveservices.azure.com"):
        why = (" That is an Azure OpenAI resource endpoint: Foundry agents live under a project "
               "(Foundry portal: your project, Overview, Endpoint); for an Azure OpenAI-style server use "
               "--provider azure.")
    elif parts.query:
        why = " Leave out the query (?...): the API version is set with --api-version (default v1)."
    elif parts.path.rstrip("/").endswith("/assistants"):
        why = " Leave out /assistants: it is added to every request."
    elif host.endswith(".services.ai.azure.com") and not parts.path.strip("/"):
        why = " The project path /api/projects/PROJECT is missing."
    elif ";" in url:
        why = (" That looks like a hub-based project's connection string, which this provider does not "
               "use; take the project endpoint from the Foundry portal.")
    shown = shown if parts.scheme else url.split("?")[0]
    raise ConfigError(f"{shown} is not an Azure AI Foundry project endpoint; expected {FOUNDRY_ENDPOINT_SHAPE}.{why}")


def _hint(status: int, listing: bool, provider: str = "openai", permission_denied: bool = False) -> str:
    if provider == "foundry":
        hint = _foundry_hint(status, listing, permission_denied)
        if hint is not None:
            return hint
    azure = provider == "azure"
    if status == 401:
        if azure:
            return ("Check AZURE_OPENAI_API_KEY or AZURE_OPENAI_AD_TOKEN, and that AZURE_OPENAI_ENDPOINT is "
                    "the resource the key belongs to.")
        return "Check the API key (OPENAI_API_KEY) and any --header credentials: missing, wrong or revoked."
    if status == 403:
        return "The key is valid but may not use assistants here; check its permissions, organization and project."
    if status == 404 and listing:
        if azure:
            return "Check AZURE_OPENAI_ENDPOINT (https://NAME.openai.azure.com) and OPENAI_API_VERSION."
        return "Check the base URL (--base-url / OPENAI_BASE_URL): it should end in /v1 or the server's equivalent."
    if status == 404:
        return "The assistant no longer exists (deleted outside assistants-sync?); run plan again."
    if status == 400:
        return "The request was rejected as invalid; the message above names the field."
    if status == 429:
        return "Rate limited or out of quota; wait and run again."
    if status >= 500:
        return "The server failed; run again later. Running apply again converges."
    return ""


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _url_of(exc: httpx.HTTPError, path: str) -> str:
    """The URL of the request that failed, query included; the path when httpx does not know it."""
    try:
        return str(exc.request.url)
    except RuntimeError:
        return path


def _describe_body(response: httpx.Response) -> str:
    kind = response.headers.get("content-type", "no content type").split(";")[0]
    return f"{len(response.content)} bytes of {kind}"


def _excerpt(response: httpx.Response, redactor: Redactor, limit: int = 80) -> str:
    """The start of a body, on one line and masked, to show what came back."""
    text = " ".join(response.content[: limit * 4].decode("utf-8", errors="replace").split())
    text = redactor.mask(text)
    return repr(text[:limit] + ("..." if len(text) > limit else ""))
