"""A tiny OAuth2 token-introspection server (RFC 7662 style) for Dovecot and the SMTP bed."""

from __future__ import annotations

import json
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


class TokenRegistry:
    """Thread-safe map of access token -> email address."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tokens: dict[str, str] = {}

    def issue(self, address: str) -> str:
        """Mint a new valid token for `address`."""
        token = "tok-" + secrets.token_urlsafe(24)
        with self._lock:
            self._tokens[token] = address
        return token

    def revoke(self, token: str) -> None:
        """Make `token` invalid from now on."""
        with self._lock:
            self._tokens.pop(token, None)

    def lookup(self, token: str) -> str | None:
        """Return the address a valid token belongs to, else None."""
        with self._lock:
            return self._tokens.get(token)


class _Handler(BaseHTTPRequestHandler):
    server: _IntrospectionHTTPServer

    def _token(self, body: bytes) -> str:
        auth = self.headers.get("Authorization", "")
        if auth.lower().startswith("bearer "):
            return auth[7:].strip()
        query = parse_qs(urlsplit(self.path).query)
        form = parse_qs(body.decode("utf-8", "replace"))
        for source in (form, query):
            for key in ("token", "access_token"):
                if source.get(key):
                    return source[key][0]
        return ""

    def _answer(self, body: bytes) -> None:
        token = self._token(body)
        self.server.requests.append(token)
        address = self.server.registry.lookup(token)
        payload: dict[str, object] = (
            {"active": True, "email": address, "token_type": "Bearer"}
            if address
            else {"active": False}
        )
        data = json.dumps(payload).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        self._answer(b"")

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self._answer(self.rfile.read(length))

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 -- the base's name
        pass


class _IntrospectionHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, registry: TokenRegistry) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.registry = registry
        self.requests: list[str] = []


class OAuthServer:
    """Token-introspection endpoint on a free loopback port, run in a thread."""

    host = "127.0.0.1"

    def __init__(self) -> None:
        self.registry = TokenRegistry()
        self._httpd: _IntrospectionHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    @property
    def introspection_url(self) -> str:
        """URL Dovecot POSTs `token=...` to."""
        return f"http://{self.host}:{self.port}/introspect"

    @property
    def requests(self) -> list[str]:
        """Tokens seen by the endpoint, in order (for asserting Dovecot asked)."""
        return self._httpd.requests if self._httpd else []

    def issue(self, address: str) -> str:
        """Mint a valid token for `address`."""
        return self.registry.issue(address)

    def revoke(self, token: str) -> None:
        """Invalidate `token`."""
        self.registry.revoke(token)

    def start(self) -> None:
        """Bind and serve in a daemon thread."""
        self._httpd = _IntrospectionHTTPServer(self.registry)
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, name="oauth-introspection", daemon=True
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
