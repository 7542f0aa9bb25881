"""AssistantsClient: the Assistants endpoints over httpx, and nothing else.

The transport is injectable (``transport=``) so tests can run it against the
emulator over loopback or against an ``httpx.MockTransport``. Every failure becomes a
`RemoteError` whose message has the status, the API's own ``error.message`` and what
to do next, and never the key or any header value.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from .errors import ApiError, BadResponseError, ConfigError, RemoteError

DEFAULT_BASE_URL = "https://api.openai.com/v1"
PAGE_SIZE = 100
# A listing longer than this many pages is taken to be a server that never says has_more=false.
MAX_PAGES = 10_000


@dataclass(frozen=True)
class Endpoint:
    """Where and how to reach an Assistants API. The key is kept out of repr()."""

    base_url: str = DEFAULT_BASE_URL
    api_key: str = field(default="", repr=False)
    organization: str | None = None
    project: str | None = None

    def __post_init__(self) -> None:
        parts = urlsplit(self.base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigError(f"invalid base URL {self.display_url!r}: it must start with http:// or https://")

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
            f" {name}={value}" for name, value in (("organization", self.organization), ("project", self.project)) if value
        )
        return self.display_url + scope

    def headers(self) -> dict[str, str]:
        headers = {"OpenAI-Beta": "assistants=v2", "Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        if self.organization:
            headers["OpenAI-Organization"] = self.organization
        if self.project:
            headers["OpenAI-Project"] = self.project
        return headers


class AssistantsClient:
    """List, create, modify and delete assistants on one endpoint."""

    def __init__(
        self,
        endpoint: Endpoint,
        *,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 60.0,
    ) -> None:
        self.endpoint = endpoint
        self._http = httpx.Client(
            base_url=endpoint.base_url.rstrip("/") + "/",
            headers=endpoint.headers(),
            transport=transport,
            timeout=timeout,
        )

    def __enter__(self) -> AssistantsClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def list_assistants(self) -> list[dict[str, Any]]:
        """Every assistant, oldest first, following the cursor 100 at a time."""
        assistants: list[dict[str, Any]] = []
        params: dict[str, Any] = {"limit": PAGE_SIZE, "order": "asc"}
        seen_cursors: set[str] = set()
        for _ in range(MAX_PAGES):
            page = self._request("GET", "assistants", "listing assistants", params=params)
            data = page.get("data")
            if not isinstance(data, list) or not all(isinstance(a, dict) and isinstance(a.get("id"), str) for a in data):
                raise BadResponseError(f"listing assistants: the answer from {self.endpoint.display_url} has no valid 'data' list")
            assistants.extend(data)
            if not page.get("has_more") or not data:
                return assistants
            cursor = data[-1]["id"]
            if cursor in seen_cursors:
                raise BadResponseError(
                    f"listing assistants: the server returned the page after {cursor!r} twice; "
                    "its pagination is broken, so the listing cannot be trusted"
                )
            seen_cursors.add(cursor)
            params = {**params, "after": cursor}
        raise BadResponseError(f"listing assistants: more than {MAX_PAGES} pages; the server never said has_more=false")

    def create_assistant(self, body: dict[str, Any]) -> dict[str, Any]:
        return self._request("POST", "assistants", "creating an assistant", json_body=body)

    def modify_assistant(self, assistant_id: str, body: dict[str, Any]) -> dict[str, Any]:
        return self._request("POST", f"assistants/{assistant_id}", f"modifying {assistant_id}", json_body=body)

    def delete_assistant(self, assistant_id: str) -> dict[str, Any]:
        return self._request("DELETE", f"assistants/{assistant_id}", f"deleting {assistant_id}")

    def _request(
        self,
        method: str,
        path: str,
        operation: str,
        *,
        params: dict[str, Any] | None = None,
        json_body: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        content = json.dumps(json_body).encode() if json_body is not None else None
        try:
            response = self._http.request(method, path, params=params, content=content)
        except httpx.TimeoutException as exc:
            raise RemoteError(f"{operation}: {self.endpoint.display_url} did not answer in time ({type(exc).__name__})") from exc
        except httpx.HTTPError as exc:
            raise RemoteError(
                f"{operation}: cannot reach {self.endpoint.display_url} ({type(exc).__name__}: {exc}); "
                "check the base URL and your network"
            ) from exc
        if response.status_code >= 400:
            raise _api_error(response, operation, listing=(method == "GET"))
        try:
            payload = response.json()
        except ValueError as exc:
            raise BadResponseError(
                f"{operation}: {self.endpoint.display_url} answered HTTP {response.status_code} with "
                f"{_describe_body(response)}, not JSON; is the base URL an Assistants API?"
            ) from exc
        if not isinstance(payload, dict):
            raise BadResponseError(f"{operation}: expected a JSON object, got {type(payload).__name__}")
        return payload


def _api_error(response: httpx.Response, operation: str, *, listing: bool) -> ApiError:
    status = response.status_code
    try:
        message = str(response.json()["error"]["message"])
    except (ValueError, KeyError, TypeError):
        message = f"(no API error message; the body was {_describe_body(response)})"
    return ApiError(status, message, operation=operation, hint=_hint(status, listing))


def _hint(status: int, listing: bool) -> str:
    if status == 401:
        return "Check the API key (OPENAI_API_KEY): it is missing, wrong or revoked."
    if status == 403:
        return "The key is valid but may not use assistants here; check its permissions, organization and project."
    if status == 404 and listing:
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


def _describe_body(response: httpx.Response) -> str:
    kind = response.headers.get("content-type", "no content type").split(";")[0]
    return f"{len(response.content)} bytes of {kind}"
