"""Entra ID stand-ins for the emulator's Foundry shape: tokens it mints and checks, a fake clock.

Tokens are real JWTs (HS256, signed with a key only this `TokenAuthority` knows) carrying
`aud`, `oid` and `exp`, so a client can read their expiry as it reads Entra's. The
authority refuses tokens it did not sign, for another audience, or past `exp` by its
clock. With a `ManualClock` and `seconds_per_request`, every request served moves time
on, so "the token expires after N requests" holds exactly, whatever the timing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

from .store import EmulatorError

AUDIENCE = "https://ai.azure.com"
REQUIRED_ROLE = "Azure AI User"


class ManualClock:
    """Fake time that moves only when told (or when the emulator ticks it per request)."""

    def __init__(self, start: float = 1_900_000_000.0) -> None:
        self._now = start
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += seconds


class AccessToken(NamedTuple):
    """The shape of azure-core's AccessToken."""

    token: str
    expires_on: int


class TokenAuthority:
    """Mints and checks the emulator's bearer tokens for the Foundry project paths.

    `denied` principals get Foundry's PermissionDenied answer (`denied_status`, 401 like
    the real service) naming the data action they lack. `minted` holds every token
    issued, so tests can look for them in output.
    """

    def __init__(self, *, clock: Callable[[], float] | None = None, seconds_per_request: float = 0.0,
                 audience: str = AUDIENCE, denied: Iterable[str] = (), denied_status: int = 401) -> None:
        self.clock: Callable[[], float] = clock or time.time
        self.seconds_per_request = seconds_per_request
        self.audience = audience
        self.denied = set(denied)
        self.denied_status = denied_status
        self.minted: list[str] = []
        self.refusals: list[str] = []  # why each refused token was refused ("expired", ...)
        self._key = secrets.token_bytes(32)
        self._lock = threading.Lock()

    def mint(self, *, lifetime: float = 3600.0, principal: str = "emulator-principal",
             audience: str | None = None) -> AccessToken:
        """A signed token valid for `lifetime` seconds of this authority's clock."""
        expires_on = int(self.clock() + lifetime)
        header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
        with self._lock:
            serial = len(self.minted)
            claims = {"aud": audience or self.audience, "oid": principal, "exp": expires_on, "jti": str(serial)}
            body = f"{header}.{_b64(json.dumps(claims).encode())}"
            token = f"{body}.{_b64(self._sign(body))}"
            self.minted.append(token)
        return AccessToken(token, expires_on)

    def credential(self, *, lifetime: float = 3600.0, principal: str = "emulator-principal",
                   reported_lifetime: float | None = None) -> EmulatorCredential:
        """A TokenCredential (azure-core's shape) minting a fresh token on every get_token call."""
        return EmulatorCredential(self, lifetime=lifetime, principal=principal, reported_lifetime=reported_lifetime)

    def check(self, token: str, method: str, path: str) -> None:
        """Raise the service's 401/403 unless `token` is ours, for Foundry, unexpired and allowed."""
        if self.seconds_per_request and isinstance(self.clock, ManualClock):
            self.clock.advance(self.seconds_per_request)
        claims = self._claims(token)
        if claims is None:
            self._refuse("invalid")
        elif claims.get("aud") != self.audience:
            self._refuse("audience")
        elif not isinstance(claims.get("exp"), int) or claims["exp"] <= self.clock():
            self._refuse("expired")
        elif claims.get("oid") in self.denied:
            action = "read" if method == "GET" else ("delete" if method == "DELETE" else "write")
            raise EmulatorError(
                self.denied_status,
                f"The principal `{claims['oid']}` lacks the required data action "
                f"`Microsoft.CognitiveServices/accounts/AIServices/agents/{action}` to perform "
                f"`{method} /api/projects/{{projectName}}/{_route_template(path)}` operation. For instructions "
                f"on granting the necessary permissions, see https://aka.ms/FoundryPermissions.",
                code="PermissionDenied")

    def _refuse(self, why: str) -> None:
        with self._lock:
            self.refusals.append(why)
        raise EmulatorError(401, f"Access token is missing, invalid, audience is incorrect ({self.audience}), "
                                 "or have expired.", code="401")

    def _claims(self, token: str) -> dict[str, Any] | None:
        parts = token.split(".")
        if len(parts) != 3:
            return None
        body = f"{parts[0]}.{parts[1]}"
        try:
            if not hmac.compare_digest(_unb64(parts[2]), self._sign(body)):
                return None
            claims = json.loads(_unb64(parts[1]))
        except ValueError:
            return None
        return claims if isinstance(claims, dict) else None

    def _sign(self, body: str) -> bytes:
        return hmac.new(self._key, body.encode(), hashlib.sha256).digest()


class EmulatorCredential:
    """A test credential with azure-core's get_token(*scopes) -> AccessToken, backed by a TokenAuthority.

    `reported_lifetime` makes it claim a longer life than the token really has (a stale
    cache, a revoked token, clock skew): the client then learns of the expiry from a 401.
    """

    def __init__(self, authority: TokenAuthority, *, lifetime: float, principal: str,
                 reported_lifetime: float | None = None) -> None:
        self.authority = authority
        self.lifetime = lifetime
        self.principal = principal
        self.reported_lifetime = reported_lifetime
        self.calls = 0

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        self.calls += 1
        audience = scopes[0].removesuffix("/.default") if scopes else ""
        token = self.authority.mint(lifetime=self.lifetime, principal=self.principal, audience=audience)
        if self.reported_lifetime is None:
            return token
        return AccessToken(token.token, int(self.authority.clock() + self.reported_lifetime))


_TEMPLATE_NAMES = {"assistants": "assistantId", "agents": "agentName", "versions": "agentVersion",
                   "files": "fileId", "vector_stores": "vectorStoreId", "file_batches": "batchId"}


def _route_template(path: str) -> str:
    """`/api/projects/p/agents/a/versions/2` -> `agents/{agentName}/versions/{agentVersion}`."""
    parts = path.strip("/").split("/")[3:]  # after api/projects/NAME
    return "/".join(part if index % 2 == 0 or parts[index - 1] not in _TEMPLATE_NAMES
                    else "{" + _TEMPLATE_NAMES[parts[index - 1]] + "}" for index, part in enumerate(parts))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError) as exc:
        raise ValueError(str(exc)) from None
