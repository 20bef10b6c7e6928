"""A real OAuth2 authorization server on loopback, built on Authlib's server side (Flask).

Authorization code with PKCE (required), refresh with rotation, the device grant (RFC
8628), revocation (RFC 7009) and introspection (RFC 7662, for Dovecot's `passdb
oauth2`, authenticated as its own resource client). The consent pages have Allow and
Deny buttons for the browser in tests; token lifetimes are set per test, and the token
endpoint can be taken down. `registry.lookup` is the test SMTP server's check.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from typing import Any

import requests
from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6750 import BearerTokenGenerator
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc7662 import IntrospectionEndpoint
from authlib.oauth2.rfc8628 import DeviceAuthorizationEndpoint, DeviceCodeGrant
from flask import Flask, Response, redirect, request
from werkzeug.serving import BaseWSGIServer, make_server

from tests.testbed.oauth_models import Client, Code, Records, Token

CLIENT_ID = "decliner-test"
DOVECOT_CLIENT = ("dovecot", "dovecot-introspection-secret")
_PAGE = """<!doctype html><meta charset=utf-8><title>{title}</title>
<h1>{title}</h1><p>{text}</p>
<form method=post>{hidden}
<button id=allow name=decision value=allow>Allow</button>
<button id=deny name=decision value=deny>Deny</button></form>"""


def _records(server: AuthorizationServer) -> Records:
    records: Records = server.records
    return records


class _CodeGrant(grants.AuthorizationCodeGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = ("none",)

    def save_authorization_code(self, code: str, req: Any) -> None:
        records = _records(self.server)
        with records.lock:
            records.codes[code] = Code(
                code,
                req.client.client_id,
                req.payload.redirect_uri,
                req.payload.scope,
                req.user,
                req.payload.data.get("code_challenge"),
                req.payload.data.get("code_challenge_method"),
            )

    def query_authorization_code(self, code: str, client: Client) -> Code | None:
        found = _records(self.server).codes.get(code)
        return found if found and found.client_id == client.client_id else None

    def delete_authorization_code(self, authorization_code: Code) -> None:
        _records(self.server).codes.pop(authorization_code.code, None)

    def authenticate_user(self, authorization_code: Code) -> str:
        return authorization_code.user


class _RefreshGrant(grants.RefreshTokenGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = ("none",)
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token: str) -> Token | None:
        records = _records(self.server)
        with records.lock:
            found = records.by_refresh.get(refresh_token)
            if found is None or not found.refresh_usable():
                return None
            found.spent = True
            return found

    def authenticate_user(self, refresh_token: Token) -> str:
        return refresh_token.user

    def revoke_old_credential(self, refresh_token: Token) -> None:
        return  # kept until its successor is spent (oauth_models: the grace rule)


class _DeviceGrant(DeviceCodeGrant):  # type: ignore[misc]
    def query_device_credential(self, device_code: str) -> Any:
        return _records(self.server).device(device_code)

    def query_user_grant(self, user_code: str) -> tuple[str, bool] | None:
        return _records(self.server).device_grants.get(user_code)

    def should_slow_down(self, credential: Any) -> bool:
        return False


class _Device(DeviceAuthorizationEndpoint):  # type: ignore[misc]
    INTERVAL = 1

    def get_verification_uri(self) -> str:
        return self.server.base_url + "/device/verify"  # type: ignore[no-any-return]

    def save_device_credential(self, client_id: str, scope: str, data: dict[str, Any]) -> None:
        records = _records(self.server)
        with records.lock:
            records.devices[data["device_code"]] = {
                **data,
                "client_id": client_id,
                "scope": scope,
                "expires_at": time.time() + data["expires_in"],
            }


class _Revocation(RevocationEndpoint):  # type: ignore[misc]
    CLIENT_AUTH_METHODS = ("none", "client_secret_basic")

    def query_token(self, token_string: str, token_type_hint: str | None) -> Token | None:
        records = _records(self.server)
        return records.by_refresh.get(token_string) or records.by_access.get(token_string)

    def revoke_token(self, token: Token, req: Any) -> None:
        _records(self.server).revoke_user(token.user)


class _Introspection(IntrospectionEndpoint):  # type: ignore[misc]
    CLIENT_AUTH_METHODS = ("client_secret_basic",)

    def query_token(self, token_string: str, token_type_hint: str | None) -> Token | None:
        records = _records(self.server)
        with records.lock:
            records.introspected.append(token_string)
        return records.by_access.get(token_string)

    def check_permission(self, token: Token, client: Client, req: Any) -> bool:
        return bool(client.client_secret)

    def introspect_token(self, token: Token) -> dict[str, Any]:
        return {
            "active": True,
            "client_id": token.client_id,
            "token_type": "Bearer",
            "scope": token.scope,
            "email": token.user,
            "username": token.user,
            "iat": int(token.issued_at),
            "exp": int(token.issued_at + token.expires_in),
        }


class Introspection:
    """A resource server's check of a bearer token, as Dovecot's: RFC 7662 introspection at
    the authorization server, authenticated as the resource client."""

    def __init__(self, url: str) -> None:
        self.url = url

    def lookup(self, token: str) -> str | None:
        """The address an active token belongs to, else None."""
        answer = requests.post(self.url, data={"token": token}, auth=DOVECOT_CLIENT, timeout=10)
        found: dict[str, Any] = answer.json()
        return str(found["email"]) if found.get("active") else None


class OAuthServer:
    """The authorization server on a free loopback port, served from a thread."""

    host = "127.0.0.1"

    def __init__(self) -> None:
        self.records = Records()
        self.registry = self.records
        self.user = "jane@example.com"  # who is signed in at the provider, in the browser
        self.lifetime = 3600.0
        self.down = False
        self.port = 0
        for client in (Client(CLIENT_ID), Client(*DOVECOT_CLIENT)):
            self.records.clients[client.client_id] = client
        self.app = self._app()
        self._httpd: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        """Where the server answers."""
        return f"http://{self.host}:{self.port}"

    @property
    def introspection_url(self) -> str:
        """The RFC 7662 endpoint, with Dovecot's client credentials in it."""
        user, secret = DOVECOT_CLIENT
        return f"http://{user}:{secret}@{self.host}:{self.port}/introspect"

    def introspection(self) -> Introspection:
        """How the test SMTP server and the CalDAV gate check a bearer token."""
        return Introspection(f"{self.base_url}/introspect")

    @property
    def requests(self) -> list[str]:
        """Tokens introspected, in order (for asserting Dovecot asked)."""
        return self.records.introspected

    def issue(self, address: str) -> str:
        """Mint a valid access token for `address` directly."""
        return self.records.issue(address)

    def revoke(self, token: str) -> None:
        """Invalidate `token`."""
        self.records.revoke(token)

    def config_table(self, name: str = "testidp") -> str:
        """The `[oauth2.NAME]` table a config needs to sign in here."""
        return (
            f'[oauth2.{name}]\nclient_id = "{CLIENT_ID}"\n'
            f'authorize_url = "{self.base_url}/authorize"\ntoken_url = "{self.base_url}/token"\n'
            f'device_url = "{self.base_url}/device"\nscopes = ["mail", "calendar"]\n'
        )

    def _app(self) -> Flask:
        app = Flask("decliner-test-idp")
        records = self.records
        server = AuthorizationServer(
            app, query_client=records.clients.get, save_token=self._save_token
        )
        server.records = records
        server.base_url = ""  # set at start()
        self.authz = server
        server.register_token_generator(
            "default",
            BearerTokenGenerator(
                lambda **_: "at-CANARY-" + secrets.token_urlsafe(24),
                lambda **_: "rt-CANARY-" + secrets.token_urlsafe(24),
                lambda client, grant_type: int(self.lifetime) or 1,
            ),
        )
        server.register_grant(_CodeGrant, [CodeChallenge(required=True)])
        server.register_grant(_RefreshGrant)
        server.register_grant(_DeviceGrant)
        for endpoint in (_Revocation, _Introspection, _Device):
            server.register_endpoint(endpoint)

        @app.route("/authorize", methods=["GET", "POST"])
        def authorize() -> Any:
            grant = server.get_consent_grant(end_user=self.user)
            if request.method == "GET":
                return _PAGE.format(
                    title="Sign in to decliner-test",
                    text=f"Allow {grant.client.client_id} to use mail as {self.user}?",
                    hidden="",
                )
            allowed = request.form.get("decision") == "allow"
            return server.create_authorization_response(
                grant=grant, grant_user=self.user if allowed else None
            )

        @app.route("/token", methods=["POST"])
        def token() -> Any:
            if self.down:
                return Response("token endpoint down for maintenance", status=503)
            return server.create_token_response()

        @app.route("/device", methods=["POST"])
        def device() -> Any:
            return server.create_endpoint_response("device_authorization")

        @app.route("/device/verify", methods=["GET", "POST"])
        def verify() -> Any:
            code = request.values.get("user_code", "")
            if request.method == "GET":
                hidden = f"<input type=hidden name=user_code value={code}>"
                return _PAGE.format(title="Device sign-in", text=f"Code {code}", hidden=hidden)
            with records.lock:
                records.device_grants[code] = (self.user, request.form.get("decision") == "allow")
            return redirect("/device/done")

        @app.route("/device/done")
        def device_done() -> str:
            return "Done. Go back to your device."

        @app.route("/revoke", methods=["POST"])
        def revoke() -> Any:
            return server.create_endpoint_response("revocation")

        @app.route("/introspect", methods=["POST"])
        def introspect() -> Any:
            return server.create_endpoint_response("introspection")

        return app

    def _save_token(self, data: dict[str, Any], req: Any) -> None:
        user = req.user
        parent = getattr(req, "refresh_token", None)
        token = Token(
            data["access_token"],
            data.get("refresh_token"),
            req.client.client_id,
            data.get("scope", ""),
            user,
            time.time(),
            float(data["expires_in"]),
        )
        if isinstance(parent, Token):
            token.parent = parent
            parent.children.append(token)
        self.records.add_token(token)

    def start(self) -> None:
        """Bind and serve in a daemon thread."""
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request
        self._httpd = make_server(self.host, 0, self.app, threaded=True)
        self.port = self._httpd.server_port
        self.authz.base_url = self.base_url
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, name="oauth-server", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and close the socket."""
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
