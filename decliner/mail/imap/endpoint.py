"""Where the IMAP server is, as plain values, and how its errors are worded: shared by the
full pass's client (`connection.py`) and the quiet check (`examine.py`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


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
