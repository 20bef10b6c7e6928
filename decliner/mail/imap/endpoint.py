"""Where the IMAP server is, as plain values, and how its errors are worded: shared by the
full pass's client (`connection.py`) and the quiet check (`examine.py`)."""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path

from decliner import tls
from decliner.errors import AuthFailure, ConnectionFailure, TLSFailure


@dataclass(frozen=True)
class Endpoint:
    """Where and how to reach the IMAP server: `[imap]` resolved to plain values."""

    host: str
    port: int
    security: str  # "tls", "starttls" or "plain"
    ca_file: Path | None
    timeout: float  # seconds

    @property
    def where(self) -> str:
        """The server as errors name it."""
        return f"IMAP {self.host}:{self.port}"


def text_of(exc: BaseException) -> str:
    """A library error's text on one line, without the bytes literal imaplib wraps it in."""
    text = str(exc)
    if text.startswith(("b'", 'b"')):
        text = text[2:-1]
    return " ".join(text.split())[:300]


def refused(server: Endpoint, user: str, exc: BaseException) -> AuthFailure:
    """A login the server refused, naming the server and the user, never the secret."""
    return AuthFailure(f"{server.where}: login as {user} refused: {text_of(exc)}")


def network_failure(server: Endpoint, exc: OSError) -> TLSFailure | ConnectionFailure:
    """A TLS, timeout or socket error on the way to `server`, in decliner's words."""
    if isinstance(exc, ssl.SSLError):
        return TLSFailure(f"{server.where}: {tls.describe(exc)}")
    if isinstance(exc, TimeoutError):
        return ConnectionFailure(
            f"{server.where}: no answer within {server.timeout:.0f}s", timed_out=True
        )
    return ConnectionFailure(f"{server.where}: {exc.strerror or exc}")
