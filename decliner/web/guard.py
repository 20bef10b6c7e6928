"""Who may use the review page (SPEC 21): the secret, the one-time tickets, CSRF, Host.

The secret is 32 random bytes kept in ``web-secret`` beside the state db (mode 0600);
the browser holds it in an HttpOnly, SameSite=Strict cookie. A browser gets it once,
through a ticket: ``decliner web --open`` writes a random ticket's hash into
``web-tickets/`` and opens ``/login?ticket=...``; the first request that names it
deletes the file (so a second one finds nothing), gets the cookie and is redirected to
a URL without the ticket. Tickets live in files, not in memory, so that a ``--open``
beside a page already served (by systemd's socket) hands one to that page too.

Hand-written because it is a few lines over `secrets` and `hmac`, and the libraries
for it (Flask-Login, Flask-WTF) bring sessions and forms this page does not need.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from decliner import logs
from decliner.errors import RuntimeFailure

SECRET_FILE = "web-secret"  # noqa: S105 -- the file's name, not a secret
TICKETS = "web-tickets"
TICKET_LIFETIME = 120.0  # seconds a ticket may wait for its browser
LOOPBACK_NAMES = ("127.0.0.1", "localhost")

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self';"
    " form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)


@dataclass(frozen=True)
class Guard:
    """The page's secret, where its tickets are kept, and the port it is served on."""

    secret: str
    tickets: Path
    port: int

    @property
    def cookie_name(self) -> str:
        """Cookies are per host, not per port: the name keeps pages on two ports apart."""
        return f"decliner_{self.port}"

    def host_allowed(self, host: str | None) -> bool:
        """Whether a Host header names this page on the loopback (DNS rebinding defence)."""
        return host in {f"{name}:{self.port}" for name in LOOPBACK_NAMES}

    def origin_allowed(self, origin: str | None) -> bool:
        """Whether an Origin header (absent on some same-origin requests) is this page."""
        return origin is None or origin in {f"http://{name}:{self.port}" for name in LOOPBACK_NAMES}

    def signed_in(self, cookie: str | None) -> bool:
        """Whether the browser's cookie holds the secret."""
        return cookie is not None and hmac.compare_digest(cookie, self.secret)

    @property
    def csrf_token(self) -> str:
        """The token every form carries: derived from the secret, never the secret itself."""
        return hmac.new(self.secret.encode(), b"csrf", hashlib.sha256).hexdigest()

    def csrf_ok(self, token: str | None) -> bool:
        """Whether a POST carries this page's CSRF token."""
        return token is not None and hmac.compare_digest(token, self.csrf_token)

    def redeem(self, ticket: str, *, now: float | None = None) -> bool:
        """Use up a ticket: True once for a fresh one, False ever after or when stale."""
        if not ticket or len(ticket) > 128:
            return False
        path = self.tickets / _ticket_name(ticket)
        try:
            written = path.stat().st_mtime
            path.unlink()  # the first unlink wins; a concurrent second one fails
        except FileNotFoundError:
            return False
        return (time.time() if now is None else now) - written <= TICKET_LIFETIME


def load(state_dir: Path, port: int) -> Guard:
    """The guard of a page on `port`, with the secret in `state_dir` (created 0600 once)."""
    secret = _secret(state_dir)
    logs.redact(secret)
    return Guard(secret, state_dir / TICKETS, port)


def issue_ticket(state_dir: Path) -> str:
    """A new one-time ticket for `/login?ticket=`, its hash kept in the state dir (0700)."""
    folder = state_dir / TICKETS
    _private_dir(folder)
    _sweep(folder)
    ticket = secrets.token_urlsafe(32)
    logs.redact(ticket)
    fd = os.open(folder / _ticket_name(ticket), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(fd)
    return ticket


def _ticket_name(ticket: str) -> str:
    return hashlib.sha256(ticket.encode()).hexdigest()


def _secret(state_dir: Path) -> str:
    _private_dir(state_dir)
    path = state_dir / SECRET_FILE
    with contextlib.suppress(FileExistsError):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as out:
            out.write(secrets.token_urlsafe(32) + "\n")
    if path.stat().st_mode & 0o077:
        path.chmod(0o600)
    text = path.read_text(encoding="ascii").strip()
    if len(text) < 32:
        raise RuntimeFailure(f"{path}: the page's secret is too short; delete the file")
    return text


def _private_dir(path: Path) -> None:
    path.mkdir(mode=0o700, parents=True, exist_ok=True)


def _sweep(folder: Path) -> None:
    """Forget tickets that no browser used in time."""
    limit = time.time() - TICKET_LIFETIME
    for stale in folder.iterdir():
        with contextlib.suppress(FileNotFoundError):
            if stale.stat().st_mtime < limit:
                stale.unlink()
