"""Microsoft Entra ID bearer tokens for Azure AI Foundry: where they come from, when they are renewed.

A `TokenProvider` hands out ``(token, expires_on)`` pairs. `BearerTokens` caches one
token for every thread of a run and asks its provider for a new one shortly before
the current one expires; `BearerAuth` puts it on each request and, when the server
answers 401 anyway, asks for one fresh token and resends once (never in a loop).

Tokens are secrets: no message, log line or plan file holds one. Each new token is
reported to `on_new_secret` (when given), so a redactor can learn it.

azure-identity is an optional extra (``pip install 'assistants-sync[azure]'``): it is
imported only when a Foundry endpoint signs in without ``AZURE_AI_TOKEN``.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import math
import threading
import time
from collections.abc import Callable, Generator, Mapping
from typing import Any, Protocol

import httpx

from ..errors import ConfigError

log = logging.getLogger(__name__)

SCOPE = "https://ai.azure.com/.default"
INSTALL_COMMAND = "pip install 'assistants-sync[azure]'"
# Renew this long before a token expires: a request sent just before expiry may arrive just after.
REFRESH_MARGIN = 300.0


def wall_clock() -> float:
    """The wall clock token expiry is measured by (tests replace it with a fake one)."""
    return time.time()


class SignInError(ConfigError):
    """No token could be had for the Foundry endpoint (extra missing, no credential worked)."""


class TokenProvider(Protocol):
    """Hands out a bearer token and when it expires (seconds since the epoch; math.inf if unknown)."""

    def get_token(self) -> tuple[str, float]: ...


class TokenCredential(Protocol):
    """The part of azure-core's TokenCredential used here: get_token(scope) -> AccessToken."""

    def get_token(self, *scopes: str, **kwargs: Any) -> Any: ...


class StaticToken:
    """A token fetched by someone else (AZURE_AI_TOKEN): used as is, never renewed."""

    def __init__(self, token: str, *, source: str = "AZURE_AI_TOKEN") -> None:
        self._token = token
        self._source = source

    def __repr__(self) -> str:
        return f"StaticToken(source={self._source!r})"

    def get_token(self) -> tuple[str, float]:
        expires_on = jwt_expiry(self._token)
        if expires_on is not None and expires_on <= wall_clock():
            raise SignInError(
                f"{self._source} expired at {time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime(expires_on))}: "
                f"fetch a new one (az account get-access-token --scope {SCOPE}), or unset it to sign in "
                f"with azure-identity, which renews tokens by itself ({INSTALL_COMMAND})")
        return self._token, expires_on if expires_on is not None else math.inf


class CredentialTokens:
    """Tokens from an azure-identity credential (DefaultAzureCredential, or any TokenCredential)."""

    def __init__(self, credential: TokenCredential, scope: str = SCOPE) -> None:
        self._credential = credential
        self._scope = scope

    def __repr__(self) -> str:
        return f"CredentialTokens({type(self._credential).__name__}, scope={self._scope!r})"

    def get_token(self) -> tuple[str, float]:
        try:
            access = self._credential.get_token(self._scope)
        except Exception as exc:
            if not type(exc).__module__.startswith("azure."):
                raise  # not a sign-in failure: a bug
            raise SignInError(_sign_in_failure(exc, self._scope)) from None
        return str(access.token), float(access.expires_on)


def default_credential() -> TokenCredential:
    """azure-identity's DefaultAzureCredential, or SignInError saying how to install it."""
    try:
        from azure.identity import DefaultAzureCredential
    except ImportError:
        raise SignInError(
            "--provider foundry signs in with Microsoft Entra ID through the azure-identity package, "
            f"which is not installed: run  {INSTALL_COMMAND}  (or set AZURE_AI_TOKEN to a token for "
            f"the scope {SCOPE})") from None
    # azure-identity logs each failed credential as a warning; the error below already lists them.
    logging.getLogger("azure.identity").addHandler(logging.NullHandler())
    try:
        return DefaultAzureCredential()  # type: ignore[no-any-return]
    except ValueError as exc:  # e.g. an unknown AZURE_TOKEN_CREDENTIALS value
        raise SignInError(f"azure-identity: {exc}") from None


def token_provider_from(environ: Mapping[str, str]) -> TokenProvider:
    """AZURE_AI_TOKEN when set, else azure-identity's default credential chain."""
    token = environ.get("AZURE_AI_TOKEN", "").strip()
    if token:
        return StaticToken(token)
    return CredentialTokens(default_credential())


class BearerTokens:
    """One cached token shared by every thread of a run, renewed before it expires.

    `current()` returns a token that is not about to expire; `renew(rejected)` gets a
    fresh one after the server refused `rejected` (once per rejected token, however
    many threads saw the 401). Each new token is passed to `on_new_secret`.
    """

    def __init__(self, provider: TokenProvider, *, margin: float = REFRESH_MARGIN,
                 on_new_secret: Callable[[str], None] | None = None,
                 clock: Callable[[], float] | None = None) -> None:
        self._provider = provider
        self._margin = margin
        self.on_new_secret = on_new_secret  # set later by the client that uses these tokens, to mask them
        self._clock = clock or wall_clock  # looked up now, so a test's fake clock applies
        self._lock = threading.Lock()
        self._token: str | None = None
        self._renew_at = -math.inf
        self.fetched = 0  # tokens obtained so far (for tests and debugging; never the tokens)

    def __repr__(self) -> str:
        return f"BearerTokens({self._provider!r}, fetched={self.fetched})"

    def current(self) -> str:
        """A token that is not about to expire, fetched only when needed."""
        with self._lock:
            if self._token is None or self._clock() >= self._renew_at:
                self._fetch()
            assert self._token is not None
            return self._token

    def renew(self, rejected: str) -> str | None:
        """A fresh token after `rejected` got a 401, or None when the provider has only that one."""
        with self._lock:
            if self._token != rejected:
                return self._token  # another thread already renewed it
            self._fetch()
            return self._token if self._token != rejected else None

    def _fetch(self) -> None:
        token, expires_on = self._provider.get_token()
        now = self._clock()
        # Renew `margin` early, but a token that arrives with less than that left (a
        # credential's own cache) is kept for half its remaining life, not refetched per request.
        self._renew_at = max(expires_on - self._margin, now + (expires_on - now) / 2)
        if token != self._token:
            self.fetched += 1
            if self.on_new_secret is not None:
                self.on_new_secret(token)
        self._token = token
        log.debug("signed in: new bearer token valid for %.0f s", expires_on - now)


class BearerAuth(httpx.Auth):
    """httpx auth: the current token on every request; after a 401, one fresh token and one resend."""

    requires_response_body = True  # to tell a missing role (no new token helps) from a stale token

    def __init__(self, tokens: BearerTokens) -> None:
        self.tokens = tokens

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        token = self.tokens.current()
        request.headers["Authorization"] = f"Bearer {token}"
        response = yield request
        if response.status_code != 401 or is_permission_denied(response):
            return
        fresh = self.tokens.renew(token)
        if fresh is None:
            return  # the provider has no other token: the 401 stands
        log.debug("%s %s: 401 with the cached token; resending once with a fresh one",
                  request.method, request.url.copy_with(query=None))
        request.headers["Authorization"] = f"Bearer {fresh}"
        yield request


def is_permission_denied(response: httpx.Response) -> bool:
    """Foundry's answer when the identity lacks a role (401 or 403 with code PermissionDenied)."""
    try:
        error = response.json()["error"]
        return str(error.get("code", "")) == "PermissionDenied"
    except (ValueError, KeyError, TypeError, AttributeError):
        return False


def jwt_expiry(token: str) -> float | None:
    """The `exp` claim of a JWT (read, not verified: only to know when to stop using it)."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, binascii.Error):
        return None
    exp = payload.get("exp") if isinstance(payload, dict) else None
    return float(exp) if isinstance(exp, int | float) and not isinstance(exp, bool) else None


def _sign_in_failure(exc: Exception, scope: str) -> str:
    # azure-identity's messages list each credential tried and why it was unavailable.
    detail = str(getattr(exc, "message", None) or exc).strip()
    return (f"signing in to Microsoft Entra ID for {scope} failed ({type(exc).__name__}):\n{detail}\n"
            "Sign in one of these ways: `az login` (Azure CLI); a service principal in AZURE_TENANT_ID, "
            "AZURE_CLIENT_ID and AZURE_CLIENT_SECRET; workload identity (AZURE_FEDERATED_TOKEN_FILE); a "
            "managed identity; or a token you fetched yourself in AZURE_AI_TOKEN.")
