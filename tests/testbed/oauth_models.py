"""The test authorization server's records: clients, codes, tokens, device codes.

Plain objects implementing Authlib's mixins, kept in memory behind one lock. Refresh
tokens rotate with a grace rule as Microsoft's and Okta's do: the previous refresh token
stays good until its successor has been spent once (so a client killed between the
refresh and storing the new token can try again with the old one), never after.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

from authlib.oauth2.rfc6749 import AuthorizationCodeMixin, ClientMixin, TokenMixin
from authlib.oauth2.rfc8628 import DeviceCredentialDict

LONG_LIFETIME = 24 * 3600


@dataclass
class Client(ClientMixin):  # type: ignore[misc]
    """A registered client: decliner's public desktop client, or Dovecot's resource client."""

    client_id: str
    client_secret: str = ""
    scope: str = "mail calendar"

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str:
        return "http://127.0.0.1/"

    def get_allowed_scope(self, scope: str) -> str:
        allowed = set(self.scope.split())
        return " ".join(s for s in (scope or "").split() if s in allowed)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        # RFC 8252 7.3: any port on the loopback address.
        return redirect_uri.startswith("http://127.0.0.1:")

    def check_client_secret(self, client_secret: str) -> bool:
        return bool(self.client_secret) and secrets.compare_digest(
            client_secret, self.client_secret
        )

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method == ("client_secret_basic" if self.client_secret else "none")

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code" and not self.client_secret

    def check_grant_type(self, grant_type: str) -> bool:
        return not self.client_secret


@dataclass
class Code(AuthorizationCodeMixin):  # type: ignore[misc]
    """An authorization code, with its PKCE challenge."""

    code: str
    client_id: str
    redirect_uri: str
    scope: str
    user: str
    code_challenge: str
    code_challenge_method: str

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope


@dataclass
class Token(TokenMixin):  # type: ignore[misc]
    """An access token and the refresh token issued with it."""

    access_token: str
    refresh_token: str | None
    client_id: str
    scope: str
    user: str
    issued_at: float
    expires_in: float
    revoked: bool = False
    spent: bool = False
    parent: Token | None = None
    children: list[Token] = field(default_factory=list)

    def check_client(self, client: Client) -> bool:
        return self.client_id == client.client_id or bool(client.client_secret)

    def get_scope(self) -> str:
        return self.scope

    def get_expires_in(self) -> int:
        return int(self.expires_in)

    def is_expired(self) -> bool:
        return time.time() >= self.issued_at + self.expires_in

    def is_revoked(self) -> bool:
        return self.revoked

    def get_user(self) -> str:
        return self.user

    def get_client(self) -> Client:
        raise NotImplementedError

    def refresh_usable(self) -> bool:
        """Not revoked, and no successor of it has been spent yet."""
        return not self.revoked and not any(child.spent for child in self.children)


class TokenCheck(Protocol):
    """How a resource server (the test SMTP server) asks whether a bearer token is good."""

    def lookup(self, access_token: str) -> str | None:
        """The address an active token belongs to, else None."""
        ...


class Records:
    """Every record of the server, behind one lock (Flask serves in threads)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.clients: dict[str, Client] = {}
        self.codes: dict[str, Code] = {}
        self.by_access: dict[str, Token] = {}
        self.by_refresh: dict[str, Token] = {}
        self.devices: dict[str, dict[str, Any]] = {}
        self.device_grants: dict[str, tuple[str, bool]] = {}
        self.introspected: list[str] = []

    def add_token(self, token: Token) -> None:
        """Keep a newly issued token, found by either of its values."""
        with self.lock:
            self.by_access[token.access_token] = token
            if token.refresh_token:
                self.by_refresh[token.refresh_token] = token

    def issue(self, address: str, client_id: str = "decliner-test") -> str:
        """An access token for `address` minted directly (no grant), valid for a day."""
        token = Token(
            "at-" + secrets.token_urlsafe(24),
            None,
            client_id,
            "mail",
            address,
            time.time(),
            LONG_LIFETIME,
        )
        self.add_token(token)
        return token.access_token

    def lookup(self, access_token: str) -> str | None:
        """The address an active access token belongs to, else None (the SMTP bed's check)."""
        with self.lock:
            token = self.by_access.get(access_token)
        if token is None or token.is_expired() or token.revoked:
            return None
        return token.user

    def revoke(self, value: str) -> None:
        """Make the access or refresh token `value` invalid from now on."""
        with self.lock:
            for found in (self.by_access.get(value), self.by_refresh.get(value)):
                if found is not None:
                    found.revoked = True

    def revoke_user(self, address: str) -> None:
        """The user withdrew consent: every token of theirs stops working."""
        with self.lock:
            for token in self.by_access.values():
                if token.user == address:
                    token.revoked = True

    def device(self, device_code: str) -> DeviceCredentialDict | None:
        """The device credential of `device_code`, if issued."""
        with self.lock:
            data = self.devices.get(device_code)
        return DeviceCredentialDict(data) if data else None
