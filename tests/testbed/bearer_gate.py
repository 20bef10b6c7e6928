"""Radicale behind a Bearer check, as Google's CalDAV is: a loopback reverse proxy that asks
the authorization server about each request's token (RFC 7662 introspection, as a resource
server does) and passes an active one on to Radicale as that user's Basic login; any other
request gets 401."""

from __future__ import annotations

import base64
import http.client
import threading
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Request, Response

from tests.testbed.oauth import Introspection

_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "upgrade", "trailer"}


class BearerGate:
    """The proxy on a free loopback port, served from a thread."""

    def __init__(
        self,
        introspection: Introspection,
        radicale_port: int,
        password_of: Callable[[str], str | None],
    ) -> None:
        self.introspection = introspection
        self.radicale_port = radicale_port
        self.password_of = password_of
        self.refused = 0
        self.passed: list[str] = []  # the tokens let through, in order
        self._httpd: BaseWSGIServer = make_server("127.0.0.1", 0, self._app, threaded=True)
        self.port = self._httpd.server_port
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def url(self, path: str = "/") -> str:
        """`path` at the gate."""
        return f"http://127.0.0.1:{self.port}{path}"

    def _user(self, request: Request) -> tuple[str, str] | None:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            return None
        token = header.removeprefix("Bearer ").strip()
        user = self.introspection.lookup(token)
        password = self.password_of(user) if user else None
        return (token, f"{user}:{password}") if password else None

    def _app(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        user = self._user(request)
        if user is None:
            self.refused += 1
            answer = Response("bearer token refused", 401, {"WWW-Authenticate": "Bearer"})
            return answer(environ, start_response)
        self.passed.append(user[0])
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP}
        headers["Authorization"] = "Basic " + base64.b64encode(user[1].encode()).decode()
        headers["Host"] = f"127.0.0.1:{self.radicale_port}"
        connection = http.client.HTTPConnection("127.0.0.1", self.radicale_port, timeout=30)
        try:
            connection.request(
                request.method, request.full_path.rstrip("?"), request.get_data(), headers
            )
            reply = connection.getresponse()
            body = reply.read()
            kept = [
                (k, v)
                for k, v in reply.getheaders()
                if k.lower() not in _HOP_BY_HOP | {"content-length"}
            ]
        finally:
            connection.close()
        return Response(body, reply.status, kept)(environ, start_response)

    def start(self) -> None:
        """Serve in a daemon thread."""
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(5)
