"""Logging to stderr, for a terminal or for journald, with registered secrets redacted.

Under systemd (``$JOURNAL_STREAM`` names our stderr) every line starts with its syslog
priority, ``<6>``, and carries no timestamp: journald parses the prefix into the
record's PRIORITY and stamps the time itself, and a traceback's lines keep their level
because each gets the prefix. Elsewhere lines read ``12:04:05 WARNING message``.

Library loggers stay at WARNING below ``-vvv``: imapclient's debug output is the IMAP
protocol itself. Secrets registered with `redact` are replaced by ``***`` in the final
text of every record (message, arguments, traceback), including their quoted, ``repr``
and base64 forms, as they would appear in a protocol trace or an AUTH exchange. That is
a second line of defence: code must still never log a secret.
"""

from __future__ import annotations

import base64
import logging
import os
import sys
import threading
from collections.abc import Mapping
from typing import TextIO

__all__ = ["LIBRARIES", "redact", "scrub", "setup"]

# Loggers of the libraries we drive, quiet unless asked for with -vvv.
LIBRARIES = ("imapclient", "aiosmtplib", "aiosmtpd", "apscheduler", "asyncio")

MASK = "***"

_lock = threading.Lock()
_forms: tuple[str, ...] = ()  # longest first, so a longer form is masked before a part of it


def redact(secret: str) -> None:
    """Mask `secret` (and its encoded forms) in every log line and `scrub`bed text from now on."""
    global _forms  # noqa: PLW0603 -- one registry per process, like logging's own
    if not secret.strip():
        return
    raw = secret.encode("utf-8", "surrogateescape")
    forms = {
        secret,
        secret.replace("\\", "\\\\").replace('"', '\\"'),  # an IMAP or JSON quoted string
        repr(secret)[1:-1],
        repr(raw)[2:-1],
        *_base64_forms(raw),
    }
    with _lock:
        _forms = tuple(sorted(set(_forms) | forms, key=len, reverse=True))


def _base64_forms(raw: bytes) -> set[str]:
    """The base64 text that only `raw` determines, wherever it sits in an encoded blob.

    AUTH PLAIN and XOAUTH2 encode the secret after other bytes: for each of the three
    alignments, keep the characters that depend on secret bits alone, plus the variant
    where the secret ends the blob (its last group and padding are then fixed too).
    """
    forms = set()
    for pad in range(3):
        encoded = base64.b64encode(b"\0" * pad + raw).decode("ascii")
        start = (0, 2, 3)[pad]  # characters mixing bits of the bytes before the secret
        whole, rest = divmod(pad + len(raw), 3)
        inner = encoded[start : whole * 4 + rest]
        for form in (inner, encoded[start:]):
            if len(form) >= 4:  # shorter runs would mask random text, and reveal little
                forms.add(form)
    return forms


def scrub(text: str) -> str:
    """`text` with every registered secret replaced by ``***``."""
    for form in _forms:
        if form in text:
            text = text.replace(form, MASK)
    return text


class _Redact(logging.Filter):
    """Renders a record's message and traceback once, scrubbed, before any formatter sees it."""

    def __init__(self, formatter: logging.Formatter) -> None:
        super().__init__()
        self._formatter = formatter

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 -- a bad format string must not take down the caller
            message = f"{record.msg!s} {record.args!r}"
        record.msg, record.args = scrub(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = scrub(record.exc_text)
        if record.stack_info:
            record.stack_info = scrub(record.stack_info)
        return True


class _Formatter(logging.Formatter):
    def __init__(self, *, journal: bool) -> None:
        super().__init__("%(message)s", datefmt="%H:%M:%S")
        self._journal = journal

    def format(self, record: logging.LogRecord) -> str:
        text = scrub(super().format(record))
        if not (record.name == "decliner" or record.name.startswith("decliner.")):
            text = f"{record.name}: {text}"
        if self._journal:
            prefix = f"<{syslog_priority(record.levelno)}>"
            return "\n".join(prefix + line for line in text.splitlines() or [""])
        return f"{self.formatTime(record, self.datefmt)} {record.levelname} {text}"


def syslog_priority(level: int) -> int:
    """The syslog priority journald reads from a ``<N>`` prefix."""
    if level >= logging.CRITICAL:
        return 2
    if level >= logging.ERROR:
        return 3
    if level >= logging.WARNING:
        return 4
    return 6 if level >= logging.INFO else 7


def journal_stream(stream: TextIO, env: Mapping[str, str] | None = None) -> bool:
    """Whether `stream` is the journald stream systemd connected (``$JOURNAL_STREAM``).

    The variable is inherited by children whose stderr may be redirected elsewhere, so it
    counts only when its ``device:inode`` is `stream`'s, as systemd.exec(5) advises.
    """
    env = os.environ if env is None else env
    device, colon, inode = env.get("JOURNAL_STREAM", "").partition(":")
    if not colon:
        return False
    try:
        st = os.fstat(stream.fileno())
        return (int(device), int(inode)) == (st.st_dev, st.st_ino)
    except (OSError, ValueError):  # io.UnsupportedOperation (a StringIO) is both
        return False


def setup(
    verbosity: int = 0,
    *,
    quiet: bool = False,
    debug: bool = False,
    stream: TextIO | None = None,
    env: Mapping[str, str] | None = None,
) -> None:
    """Send log records to `stream` (stderr), replacing any handler an earlier call added.

    Levels: WARNING by default and with `quiet`; INFO with ``-v``; DEBUG with ``-vv`` or
    `debug`. The `LIBRARIES` stay at WARNING below ``-vvv`` (and always with `quiet`).
    """
    stream = sys.stderr if stream is None else stream
    if quiet:
        level = logging.WARNING
    elif debug or verbosity >= 2:
        level = logging.DEBUG
    else:
        level = logging.INFO if verbosity == 1 else logging.WARNING

    formatter = _Formatter(journal=journal_stream(stream, env))
    handler = logging.StreamHandler(stream)
    handler.set_name("decliner")
    handler.setFormatter(formatter)
    handler.addFilter(_Redact(formatter))

    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == "decliner"]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    logging.getLogger("decliner").setLevel(level)
    chatty = verbosity >= 3 and not quiet
    for name in LIBRARIES:
        logging.getLogger(name).setLevel(logging.NOTSET if chatty else logging.WARNING)
    logging.captureWarnings(True)  # noqa: FBT003 -- the standard library's own signature
