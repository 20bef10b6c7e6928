"""`decliner login` and `logout`: get the first tokens, or give them back.

The browser sign-in is the authorization code grant with PKCE (S256) and `state`,
redirected to a listener on 127.0.0.1 at a free port (RFC 8252, section 7.3); Authlib
builds the URL, checks `state` and swaps the code. `--device` is the device grant (RFC
8628) for a machine without a browser. The listener and the device request are the
only parts written here: Authlib's client has neither.
"""

from __future__ import annotations

import time
import webbrowser
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from decliner.auth import advice, providers, tokens
from decliner.auth.providers import Provider
from decliner.auth.store import Tokens
from decliner.config import Config
from decliner.errors import ConnectionFailure, RuntimeFailure, UserError

WAIT_SECONDS = 600.0
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
_DONE_PAGE = (
    b"<!doctype html><meta charset=utf-8><title>decliner</title>"
    b"<p>%s You can close this tab and go back to the terminal.</p>"
)

Say = Callable[[str], None]


@dataclass(frozen=True)
class Options:
    """How to sign in: the device grant, whether to open a browser, how long to wait."""

    device: bool = False
    browser: bool = True
    wait: float = WAIT_SECONDS


def login(config: Config, say: Say, options: Options = Options()) -> list[str]:
    """Sign in to each provider the config names; what was done, one line each."""
    names = providers.names(config)
    if not names:
        raise UserError(
            f"{config.source}: no oauth2 = ... in [imap], [smtp] or [calendar]; nothing to sign in to"
        )
    done = []
    for name in names:
        provider = providers.provider(config, name)
        if options.device:
            answer = _device(provider, say, options)
        else:
            answer = _browser(provider, say, options)
        now = time.time()
        refresh = answer.get("refresh_token")
        if not refresh:
            raise RuntimeFailure(
                f"sign-in at {name}: the provider gave no refresh token"
                " (Microsoft needs the offline_access scope)"
            )
        # What the user granted (Google lets them untick a scope), else what was asked.
        scopes = tuple(str(answer.get("scope") or "").split()) or provider.all_scopes
        granted = Tokens(str(refresh), {}, now, scopes)
        first = tokens.merge(provider, granted, answer, _first_use(provider), now)
        store = tokens.token_file(config, name)
        with store.locked():  # not between a running daemon's refresh and its write
            store.save(first)
        done.append(f"signed in to {name} for {', '.join(provider.scopes)}")
    return done


def _first_use(provider: Provider) -> str:
    return next(iter(provider.scopes), "imap")


def logout(config: Config) -> list[str]:
    """Revoke (where the provider can) and delete the stored tokens of each provider."""
    done = []
    for name in providers.names(config):
        provider = providers.provider(config, name)
        store = tokens.token_file(config, name)
        stored = store.load()
        if stored is None:
            done.append(f"{name}: not signed in")
            continue
        note = "deleted the stored tokens"
        if provider.revoke_url:
            note = revoke(provider, stored.refresh_token)
        else:
            note += "; remove the app's access in your account's settings to revoke it too"
        store.delete()
        done.append(f"{name}: {note}")
    return done


def revoke(provider: Provider, refresh_token: str) -> str:
    """Ask the provider to end the sign-in (RFC 7009); what came of it."""

    def request(client: Any) -> None:
        reply = client.revoke_token(
            provider.revoke_url,
            token=refresh_token,
            token_type_hint="refresh_token",  # noqa: S106 -- RFC 7009's hint, not a password
        )
        reply.raise_for_status()

    try:
        tokens.call(provider, request)
    except RuntimeFailure as exc:
        return f"deleted the stored tokens; revoking failed ({exc})"
    return "revoked the sign-in and deleted the stored tokens"


def _browser(provider: Provider, say: Say, options: Options) -> dict[str, Any]:
    """The authorization code grant with PKCE through a loopback redirect."""
    from authlib.common.security import generate_token

    listener = _Listener(provider.redirect_host)
    redirect = f"http://{provider.redirect_host}:{listener.port}/"
    verifier = generate_token(64)
    try:
        with tokens.session(
            provider,
            scope=" ".join(provider.all_scopes),
            redirect_uri=redirect,
            code_challenge_method="S256",
        ) as client:
            url, state = client.create_authorization_url(
                provider.authorize_url, code_verifier=verifier, **dict(provider.extra_authorize)
            )
        say(f"Open this address to sign in to {provider.name}:\n\n  {url}\n")
        if options.browser and webbrowser.open(url):
            say("(opened in your browser)")
        response = listener.wait(options.wait)
    finally:
        listener.close()
    query = parse_qs(urlsplit(response).query)
    if query.get("state", [""])[0] != state:
        raise RuntimeFailure(
            f"sign-in at {provider.name}: the answer's state does not match; not used"
        )
    if "error" in query:
        text = advice.explain(query["error"][0], query.get("error_description", [""])[0])
        raise RuntimeFailure(f"sign-in at {provider.name}: {text}")
    return dict(
        tokens.call(
            provider,
            lambda s: s.fetch_token(
                provider.token_url,
                authorization_response=response,
                code_verifier=verifier,
                state=state,
            ),
            redirect_uri=redirect,
        )
    )


def _device(provider: Provider, say: Say, options: Options) -> dict[str, Any]:
    """The device grant: a code the user types in on another device, then polling."""
    if not provider.device_url:
        raise UserError(
            f"[oauth2.{provider.name}].device_url: not given, so --device cannot be used"
        )
    if provider.name == "google":
        raise UserError(
            "Google does not allow the mail scope with the device grant: run `decliner login"
            " --no-browser` and open the address on another machine through an SSH tunnel"
            " to the printed port (README: Sign in with Google or Microsoft)"
        )
    scope = " ".join(provider.all_scopes)
    start = tokens.call(provider, lambda s: _device_start(s, provider, scope))
    say(
        f"On any device, open {start['verification_uri']} and enter the code"
        f" {start['user_code']} to sign in to {provider.name}."
    )
    interval = float(start.get("interval") or 5)
    deadline = time.monotonic() + min(float(start.get("expires_in") or 900), options.wait)
    while time.monotonic() < deadline:
        time.sleep(interval)
        answer = tokens.call(
            provider, lambda s: _device_poll(s, provider, str(start["device_code"]))
        )
        if answer.get("error") == "authorization_pending":
            continue
        if answer.get("error") == "slow_down":
            interval += 5
            continue
        if "error" in answer:
            text = advice.explain(str(answer["error"]), str(answer.get("error_description", "")))
            raise RuntimeFailure(f"sign-in at {provider.name}: {text}")
        return dict(answer)
    raise RuntimeFailure(f"sign-in at {provider.name}: {advice.explain('expired_token', '')}")


def _device_start(client: Any, provider: Provider, scope: str) -> dict[str, Any]:
    data = {"client_id": provider.client_id, "scope": scope}
    if provider.client_secret:
        data["client_secret"] = provider.client_secret
    reply = client.post(provider.device_url, data=data, withhold_token=True)
    body = _json(reply, provider.device_url)
    if "error" in body:
        text = advice.explain(str(body["error"]), str(body.get("error_description", "")))
        raise RuntimeFailure(f"sign-in at {provider.name}: {text}")
    if not {"device_code", "user_code", "verification_uri"} <= set(body):
        raise RuntimeFailure(f"{provider.device_url}: not a device authorization answer")
    return body


def _device_poll(client: Any, provider: Provider, device_code: str) -> dict[str, Any]:
    data = {"grant_type": DEVICE_GRANT, "device_code": device_code, "client_id": provider.client_id}
    if provider.client_secret:
        data["client_secret"] = provider.client_secret
    return _json(
        client.post(provider.token_url, data=data, withhold_token=True), provider.token_url
    )


def _json(reply: Any, url: str) -> dict[str, Any]:
    if reply.status_code >= 500:
        raise ConnectionFailure(f"{url}: answered HTTP {reply.status_code}")
    try:
        body = reply.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise RuntimeFailure(f"{url}: answered HTTP {reply.status_code} without JSON")
    return body


class _Listener:
    """The loopback redirect target: answers one redirect carrying `code` or `error`."""

    def __init__(self, host: str) -> None:
        self.received = ""
        listener = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                query = parse_qs(urlsplit(self.path).query)
                if "code" not in query and "error" not in query:
                    self.send_error(404)
                    return
                listener.received = f"http://{host}:{listener.port}{self.path}"
                word = b"Signed in." if "code" in query else b"Sign-in was not completed."
                page = _DONE_PAGE % word
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(page)))
                self.end_headers()
                self.wfile.write(page)

            def log_message(self, *_args: object) -> None:
                return  # the query holds the code: never logged

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.port = int(self.server.server_address[1])

    def wait(self, seconds: float) -> str:
        """The redirect's URL, once the browser has come back; an error after `seconds`."""
        deadline = time.monotonic() + seconds
        while not self.received:
            left = deadline - time.monotonic()
            if left <= 0:
                raise RuntimeFailure(
                    f"sign-in: the browser did not come back to 127.0.0.1:{self.port} within"
                    f" {seconds:.0f}s; if the provider's page showed an error (such as"
                    " redirect_uri_mismatch or an administrator's approval needed), README"
                    " 'Sign in with Google or Microsoft' says how to set up the client"
                )
            self.server.timeout = min(left, 1.0)
            self.server.handle_request()
        return self.received

    def close(self) -> None:
        """Stop listening."""
        self.server.server_close()
